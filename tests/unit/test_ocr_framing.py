"""Is the whole document in the frame? Synthetic scenes first, then fixed corpus photos.

The corpus photos (``ocr.corpus.sets``, seed 2026, the benchmark's) are ones the pre-check
once judged wrong: genuine photos on white paper or against a light wall told 证件未完整拍摄,
and cut-off photos whose print stops short of the cut (a driving licence's supplementary page,
a residence permit) let through.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocr.corpus.sets import catch_shot, genuine_shot
from ocr.corpus.sheet import FONT_PATH
from ocr.intake import load_image
from ocr.quality import check_quality
from tests.unit.test_ocr_quality import card_photo

needs_fonts = pytest.mark.skipif(not FONT_PATH.is_file(), reason="fonts-noto-cjk is missing")


def codes(image: Image.Image) -> list[str]:
    return [finding.code for finding in check_quality(image)]


def lamp_to_one_side(image: Image.Image, darkest: float) -> Image.Image:
    """Light falling off across the frame from left to right, down to ``darkest``."""
    pixels = np.asarray(image, dtype=np.float32)
    gain = np.linspace(1.0, darkest, pixels.shape[1], dtype=np.float32)
    return Image.fromarray(np.clip(pixels * gain[None, :, None], 0, 255).astype(np.uint8))


def test_a_light_card_on_white_paper_near_the_frame_under_a_lamp_is_not_cut_off() -> None:
    # The paper is lighter than the card on one side of the frame and darker on the other:
    # which pixels are light says nothing about where the card ends; its edges do.
    on_paper = card_photo(
        box=(40, 150, 1540, 1130), background=(255, 255, 255), paper=(236, 240, 238), glyphs=True
    )
    assert codes(lamp_to_one_side(on_paper, 0.7)) == []


def test_a_card_against_a_wall_as_light_as_itself_is_not_cut_off() -> None:
    wall = card_photo(background=(226, 224, 220), paper=(232, 228, 218), glyphs=True)
    assert codes(wall) == []


def test_a_card_whose_print_stops_short_of_the_cut_is_cut_off() -> None:
    # Print only in the top left; the frame cuts the blank bottom right: the card's own edges
    # run into two sides of the frame.
    card = card_photo(glyphs=True)
    ImageDraw.Draw(card).rectangle((500, 500, 1380, 960), fill=(232, 228, 218))
    assert codes(card.crop((0, 0, 1150, 850))) == ["CUT_OFF"]


def test_the_edges_of_a_table_in_the_background_are_not_the_document() -> None:
    # The table's far edge runs across the frame; a chair's leg stops at it.
    table = card_photo(background=(70, 72, 78), glyphs=True)
    ImageDraw.Draw(table).rectangle((1480, 0, 1600, 1200), fill=(40, 36, 34))
    ImageDraw.Draw(table).rectangle((0, 0, 1600, 120), fill=(150, 140, 130))
    assert codes(table) == []


def test_a_card_so_close_that_its_text_rows_run_off_every_side_is_cut_off() -> None:
    close = card_photo(glyphs=True).crop((300, 320, 1300, 880))
    assert codes(close.resize((1600, 900), Image.Resampling.LANCZOS)) == ["CUT_OFF"]


def quality_of(data: bytes) -> list[str]:
    return codes(load_image(data).image)


@needs_fonts
@pytest.mark.parametrize(
    ("condition", "size", "index", "layout"),
    [
        ("white_paper", 1280, 31, "driving_licence"),
        ("white_paper", 1280, 36, "id_card_front"),
        ("white_paper", 800, 11, "licence_landscape"),
        ("hand", 1280, 29, "licence_landscape"),
        ("hand", 800, 1, "id_card_back"),
    ],
)
def test_a_genuine_photo_once_taken_for_cut_off_is_not(
    condition: str, size: int, index: int, layout: str
) -> None:
    shot = genuine_shot(2026, index, condition, size)
    assert shot.layout == layout
    assert "CUT_OFF" not in quality_of(shot.data)


@needs_fonts
@pytest.mark.parametrize(
    ("index", "layout"),
    [
        (13, "driving_licence_page2"),
        (29, "driving_licence_page2"),
        (37, "driving_licence_page2"),
        (31, "residence_permit"),
        (1, "id_card_back"),
    ],
)
def test_a_cut_off_photo_whose_print_stops_short_of_the_cut_is_caught(
    index: int, layout: str
) -> None:
    shot = catch_shot(2026, index, "blurred_or_cut_off")
    assert (shot.layout, shot.spoiled) == (layout, "cut off")
    assert "CUT_OFF" in quality_of(shot.data)


@pytest.mark.parametrize("size", [(1, 1), (2, 50), (50, 2), (9, 9)])
def test_a_sliver_of_a_picture_is_too_small_and_nothing_breaks(size: tuple[int, int]) -> None:
    assert codes(Image.new("RGB", size, (200, 200, 200)))[:1] == ["TOO_SMALL"]
