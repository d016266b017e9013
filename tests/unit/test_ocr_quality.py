"""Photo quality checks, tuned on synthetic cards drawn here: each defect names itself."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from ocr.quality import check_quality

BACKGROUND = (70, 72, 78)


def card_photo(
    frame: tuple[int, int] = (1600, 1200),
    box: tuple[int, int, int, int] = (200, 220, 1400, 980),
    background: tuple[int, int, int] = BACKGROUND,
    paper: tuple[int, int, int] = (232, 228, 218),
    ink: tuple[int, int, int] = (35, 35, 40),
    *,
    glyphs: bool = False,
) -> Image.Image:
    """A card-like rectangle with a portrait and lines of text on a table.

    The text is solid blocks, or with ``glyphs`` characters drawn in strokes as print is.
    """
    im = Image.new("RGB", frame, background)
    draw = ImageDraw.Draw(im)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.rounded_rectangle(box, radius=max(4, w // 30), fill=paper)
    draw.rectangle(
        (x0 + w * 0.68, y0 + h * 0.15, x0 + w * 0.93, y0 + h * 0.75), fill=(150, 140, 135)
    )
    rng = random.Random(7)
    line = max(2, h // 28)
    y = y0 + h * 0.12
    while y < y1 - h * 0.12:
        x = x0 + w * 0.06
        end = x0 + w * (0.62 if y < y0 + h * 0.8 else 0.9)
        while x < end:
            width = rng.randint(line, line * 2)
            if not glyphs:
                draw.rectangle((x, y, min(x + width, end), y + line), fill=ink)
            elif x + line <= end:
                _glyph(draw, x, y, line, ink, across=rng.random() < 0.5)
            x += width + rng.randint(line // 2, line)
        y += line * 2.6
    return im


def _glyph(
    draw: ImageDraw.ImageDraw,
    x: float,
    y: float,
    size: int,
    ink: tuple[int, int, int],
    *,
    across: bool,
) -> None:
    """A character of strokes: a box with one stroke across or down its middle (日, 中)."""
    stroke = max(1, size // 8)
    draw.rectangle((x, y, x + size, y + size), outline=ink, width=stroke)
    middle = (
        (x, y + size / 2, x + size, y + size / 2)
        if across
        else (x + size / 2, y, x + size / 2, y + size)
    )
    draw.line(middle, fill=ink, width=stroke)


def codes(image: Image.Image, **kwargs: bool) -> list[str]:
    return [finding.code for finding in check_quality(image, **kwargs)]


@pytest.fixture(scope="module")
def good() -> Image.Image:
    return card_photo()


def test_a_sharp_well_lit_card_filling_the_frame_passes(good: Image.Image) -> None:
    assert codes(good) == []


def test_a_slightly_tilted_card_still_passes(good: Image.Image) -> None:
    assert codes(good.rotate(12, fillcolor=BACKGROUND)) == []


def test_a_light_card_on_a_white_table_is_not_mistaken_for_a_cut_off_one() -> None:
    assert codes(card_photo(background=(245, 245, 245))) == []


def test_a_dark_document_on_a_light_table_is_found_as_one_object() -> None:
    dark = card_photo(background=(235, 235, 235), paper=(40, 60, 110), ink=(200, 200, 200))
    assert codes(dark) == []


def test_a_tight_crop_of_the_card_passes(good: Image.Image) -> None:
    assert codes(good.crop((200, 220, 1400, 980))) == []


def test_a_thumbnail_is_too_small(good: Image.Image) -> None:
    # What else is wrong (every edge looks soft at this size) comes after.
    assert codes(good.resize((280, 210), Image.Resampling.LANCZOS))[:1] == ["TOO_SMALL"]


@pytest.mark.parametrize("long_side", [1280, 800])
def test_a_photo_at_wechats_compressed_sizes_is_not_refused(
    good: Image.Image, long_side: int
) -> None:
    small = good.copy()
    small.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    assert codes(small) == []


@pytest.mark.parametrize("radius", [1, 2])
def test_a_little_softness_is_tolerated(good: Image.Image, radius: int) -> None:
    assert codes(good.filter(ImageFilter.GaussianBlur(radius))) == []


@pytest.mark.parametrize("radius", [4, 8])
def test_a_defocused_photo_is_blurry(good: Image.Image, radius: int) -> None:
    assert codes(good.filter(ImageFilter.GaussianBlur(radius))) == ["BLURRY"]


def test_blur_is_judged_relative_to_the_frame_not_in_raw_pixels(good: Image.Image) -> None:
    big = good.resize((3200, 2400), Image.Resampling.LANCZOS).filter(ImageFilter.GaussianBlur(3))
    assert codes(big) == []  # 3 px at double size is 1.5 px at the size above


def test_a_featureless_frame_is_blurry() -> None:
    assert "BLURRY" in codes(Image.new("RGB", (1600, 1200), (128, 128, 128)))


def test_a_dark_photo_is_too_dark_and_not_also_blurry(good: Image.Image) -> None:
    assert codes(ImageEnhance.Brightness(good).enhance(0.3)) == ["TOO_DARK"]


def test_a_washed_out_photo_is_overexposed(good: Image.Image) -> None:
    # Blown out: the paper clips and the ink fades into light grey with it.
    assert codes(good.point(lambda v: min(255, 190 + v // 3))) == ["OVEREXPOSED"]


@pytest.mark.parametrize("gain", [1.0, 1.1, 1.25])
def test_a_card_on_white_paper_is_not_overexposed(gain: float) -> None:
    # White paper clips to 255 around the card, the card is light too: the print is still
    # dark, so nothing is lost however bright the frame is.
    on_paper = card_photo(background=(252, 252, 250), paper=(240, 242, 244))
    assert codes(ImageEnhance.Brightness(on_paper).enhance(gain)) == []


def test_a_bright_photo_with_dark_print_is_not_overexposed(good: Image.Image) -> None:
    assert codes(ImageEnhance.Brightness(good).enhance(1.8)) == []


def test_a_white_spot_on_the_card_is_glare(good: Image.Image) -> None:
    shiny = good.copy()
    ImageDraw.Draw(shiny).ellipse((700, 450, 950, 650), fill=(255, 255, 255))
    assert codes(shiny.filter(ImageFilter.GaussianBlur(1))) == ["GLARE"]


def test_a_few_clipped_pixels_are_not_glare(good: Image.Image) -> None:
    specks = good.copy()
    draw = ImageDraw.Draw(specks)
    for x in range(300, 1300, 100):
        draw.rectangle((x, 900, x + 3, 903), fill=(255, 255, 255))
    assert codes(specks) == []


@pytest.mark.parametrize(
    "crop", [(600, 500, 1600, 1200), (0, 0, 1100, 800)], ids=["bottom-right", "top-left"]
)
def test_a_card_running_off_two_sides_is_cut_off(
    good: Image.Image, crop: tuple[int, int, int, int]
) -> None:
    assert codes(good.crop(crop)) == ["CUT_OFF"]


def test_a_card_shot_so_close_that_only_print_shows_is_cut_off(good: Image.Image) -> None:
    close = good.crop((300, 320, 1300, 880)).resize((1600, 900), Image.Resampling.LANCZOS)
    assert codes(close) == ["CUT_OFF"]


def test_a_small_card_in_a_big_frame_is_not_filling() -> None:
    assert codes(card_photo(box=(600, 450, 1100, 765))) == ["NOT_FILLING"]


def test_a_scanned_page_skips_the_framing_checks(good: Image.Image) -> None:
    page = good.crop((600, 500, 1600, 1200))
    assert codes(page, scanned=True) == []


def test_findings_carry_chinese_messages_saying_what_to_do(good: Image.Image) -> None:
    findings = check_quality(ImageEnhance.Brightness(good).enhance(0.3).resize((280, 210)))
    assert [f.code for f in findings][:1] == ["TOO_SMALL"]
    assert all("请" in f.message for f in findings)


def test_any_image_mode_is_accepted(good: Image.Image) -> None:
    assert codes(good.convert("L")) == []
    assert codes(good.convert("RGBA")) == []
