"""Fixed photos of each condition through the real pre-check, as an applicant meets it.

Each sample is one corpus photo (``ocr.corpus.sets``, seed 2026) that once went wrong: the
verdict and the values read are what the applicant and the reviewer see. The default engine
reads them in this process, as the service's OCR worker does.
"""

from __future__ import annotations

import pytest

from ocr.corpus.sets import TODAY, catch_shot, genuine_shot
from ocr.corpus.sheet import FONT_PATH
from ocr.precheck import DEFAULT_ENGINE, precheck
from ocr.rules import FIX, PASS, Expectation, judge

pytestmark = pytest.mark.skipif(not FONT_PATH.is_file(), reason="fonts-noto-cjk is not installed")


def test_an_id_card_on_white_paper_passes_without_a_retake() -> None:
    shot = genuine_shot(2026, 0, "white_paper", 1280)
    verdict = precheck(DEFAULT_ENGINE, shot.data, shot.expect)
    assert verdict.status == PASS, verdict.findings
    assert verdict.fields["id_number"] == shot.truth["id_number"]


@pytest.mark.parametrize(("index", "field"), [(0, "id_number"), (2, "uscc")])
def test_a_wechat_photo_of_800_px_is_read_not_refused(index: int, field: str) -> None:
    shot = genuine_shot(2026, index, "desk", 800)
    verdict = precheck(DEFAULT_ENGINE, shot.data, shot.expect)
    assert verdict.status == PASS, verdict.findings
    assert verdict.fields[field] == shot.truth[field]


def test_a_driving_licence_is_the_certificate_asked_for_and_not_an_id_card() -> None:
    shot = genuine_shot(2026, 4, "desk", 1280)
    assert shot.layout == "driving_licence"
    verdict = precheck(DEFAULT_ENGINE, shot.data, shot.expect)
    assert (verdict.status, verdict.document) == (PASS, "driving_licence"), verdict.findings
    assert verdict.fields["certificate_number"] == shot.truth["certificate_number"]
    assert verdict.fields["holder_name"] == shot.truth["holder_name"]
    # Sent for an ID card slot instead, the same reading is the wrong document.
    as_id_card = judge(Expectation("id_card_front", TODAY), [], verdict.kind, {})
    assert [f.code for f in as_id_card.findings] == ["WRONG_KIND"]


def test_the_company_name_comes_from_its_own_row_of_a_tilted_licence() -> None:
    # The title's box reached down to the 名 of 名称: the title was taken for the name.
    shot = genuine_shot(2026, 11, "hand", 800)
    assert shot.layout == "licence_landscape"
    verdict = precheck(DEFAULT_ENGINE, shot.data, shot.expect)
    assert verdict.fields.get("company_name") == shot.truth["company_name"]
    assert verdict.status == PASS, verdict.findings


def test_a_light_document_on_white_paper_near_the_frame_is_not_called_cut_off() -> None:
    # The paper around it is as light as the licence; its edges end inside the frame.
    shot = genuine_shot(2026, 31, "white_paper", 1280)
    assert shot.layout == "driving_licence"
    verdict = precheck(DEFAULT_ENGINE, shot.data, shot.expect)
    assert verdict.status == PASS, verdict.findings
    assert verdict.fields["certificate_number"] == shot.truth["certificate_number"]


def test_a_supplementary_page_cut_off_through_its_blank_record_box_is_asked_again() -> None:
    shot = catch_shot(2026, 13, "blurred_or_cut_off")
    assert (shot.layout, shot.spoiled) == ("driving_licence_page2", "cut off")
    verdict = precheck(DEFAULT_ENGINE, shot.data, shot.expect)
    assert verdict.status == FIX
    assert [f.message for f in verdict.findings if f.code == "CUT_OFF"] == [
        "证件未完整拍摄，请让证件四角都在画面内"
    ]
