"""Machine verdicts on the case: kept for the current photo only, merged into the one notice."""

from __future__ import annotations

import pytest

from app.domain.case_states import State
from app.domain.errors import ValidationFailed
from app.domain.notices import Correction
from app.domain.prechecks import FIX, PASS, REVIEW, MachineFinding, Precheck
from tests.unit.test_cases import CITIZEN, MON, REVIEWER, at, complete_case, ref

BLURRY = MachineFinding("BLURRY", "照片模糊，请对焦后重新拍摄")
EXPIRED = MachineFinding("EXPIRED", "证件已于2020-01-01过期，请使用有效期内的证件", "valid_to")


def verdict(status: str, *findings: MachineFinding, key: str = "cases/x/a.jpg") -> Precheck:
    return Precheck(key, status, "business_licence", findings, at(MON))


def test_a_verdict_on_a_replaced_photo_is_dropped() -> None:
    case = complete_case()
    case.attach("licence", ref("newer"), CITIZEN, at(MON))
    assert not case.record_precheck("licence", verdict(FIX, BLURRY))
    assert case.prechecks == {}
    assert case.record_precheck("licence", verdict(PASS, key="cases/x/newer.jpg"))
    assert case.prechecks["licence"].status == PASS


def test_a_new_photo_clears_the_old_verdict_and_its_finding() -> None:
    case = complete_case()
    case.record_precheck("licence", verdict(FIX, BLURRY))
    assert set(case.open_findings()) == {"licence"}
    case.attach("licence", ref("retake"), CITIZEN, at(MON))
    assert case.open_findings() == {}


def test_chat_photos_fill_gaps_before_retakes() -> None:
    case = complete_case()
    case.record_precheck("licence", verdict(FIX, BLURRY))
    slot = case.next_slot_for_photo()
    assert slot is not None and slot.id == "licence"  # required slots are full: retake next
    case.attach("licence", ref("retake"), CITIZEN, at(MON))
    slot = case.next_slot_for_photo()
    assert slot is not None and slot.id == "extra"


def test_the_notice_merges_open_machine_findings_with_the_reviewers_items_per_material() -> None:
    case = complete_case()
    case.record_precheck("licence", verdict(FIX, EXPIRED))
    case.submit(CITIZEN, at(MON))
    notice = case.compose_notice(
        [Correction("id_front", ("blurry",)), Correction("licence", ("unsigned",))]
    )
    assert [i.slot_id for i in notice.items] == ["licence", "id_front"]  # checklist order
    licence = notice.items[0]
    assert licence.problems() == ["缺少签名或盖章", EXPIRED.message]
    case.return_for_correction(notice, REVIEWER, at(MON))
    text = case.notice_text(1)
    assert text.startswith("【补正告知书 第1号】") and EXPIRED.message in text


def test_machine_findings_alone_make_a_notice_and_the_reviewer_may_overrule_them() -> None:
    case = complete_case()
    case.record_precheck("licence", verdict(FIX, EXPIRED))
    case.submit(CITIZEN, at(MON))
    assert [i.slot_id for i in case.compose_notice([]).items] == ["licence"]
    with pytest.raises(ValidationFailed):
        case.compose_notice([], dismissed=frozenset({"licence"}))  # nothing left to tell


def test_a_later_notice_takes_machine_findings_only_for_what_it_may_still_name() -> None:
    case = complete_case()
    case.submit(CITIZEN, at(MON))
    case.return_for_correction(
        case.compose_notice([Correction("id_front", ("blurry",))]), REVIEWER, at(MON)
    )
    case.attach("id_front", ref("b"), CITIZEN, at(MON))
    case.record_precheck("id_front", verdict(FIX, BLURRY, key="cases/x/b.jpg"))
    case.resubmit(CITIZEN, at(MON))
    # The licence was never named nor replaced: a finding on it now would break Art. 32.
    case.prechecks["licence"] = verdict(FIX, EXPIRED)
    notice = case.compose_notice([])
    assert [i.slot_id for i in notice.items] == ["id_front"]
    case.return_for_correction(notice, REVIEWER, at(MON))
    assert case.state is State.RETURNED and len(case.notices) == 2


def test_the_chat_message_says_what_to_do_for_each_status() -> None:
    fix = verdict(FIX, BLURRY, EXPIRED)
    text = fix.message("营业执照", "BC1", next_photo_replaces=True)
    assert "1. 照片模糊" in text and "2. 证件已于" in text and "直接发送新照片" in text
    later = fix.message("营业执照", "BC1", next_photo_replaces=False)
    assert "请先发送其余材料" in later
    assert "预审通过" in verdict(PASS).message("营业执照", "BC1", next_photo_replaces=False)
    review = verdict(REVIEW).message("营业执照", "BC1", next_photo_replaces=False)
    assert "人工审核" in review and "您无需操作" in review
