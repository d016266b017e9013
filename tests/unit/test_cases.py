"""The case state machine: roles, states, the one-time notice, Art. 32, and the paused clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.domain.actors import Actor, Authority, Role, enterprise, person
from app.domain.case_states import RULES, TERMINAL, Action, State
from app.domain.cases import CHINA, Case, MaterialRef, MatterTerms, Slot
from app.domain.catalog import Remedies
from app.domain.errors import InvalidTransition, NotPermitted, ValidationFailed
from app.domain.legal_clock import Period
from app.domain.notices import Correction, CorrectionNotice
from app.domain.workdays import WorkCalendar

CITIZEN = Actor("u1", Role.APPLICANT)
OTHER = Actor("u2", Role.APPLICANT)
REVIEWER = Actor("r1", Role.REVIEWER, department="scjg")
FOREIGN_REVIEWER = Actor("r2", Role.REVIEWER, department="jtys")
SYSTEM = Actor("system", Role.SYSTEM)
COURIER = Actor("c1", Role.COURIER)
FIRM = enterprise("91350100M000100Y43")
AGENT = Actor("a1", Role.APPLICANT, authorities=(Authority(FIRM),))
# Mon-Fri working days, no holidays: keeps the arithmetic in these tests obvious.
WEEKDAYS = WorkCalendar(overrides={}, statutory=lambda d: d.weekday() < 5)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA)


MON = date(2026, 11, 2)


def terms(*, fee: int = 0, originals: bool = False) -> MatterTerms:
    return MatterTerms(
        code="M1",
        version=1,
        name="营业执照换发",
        department="scjg",
        limit_days=10,
        fee_fen=fee,
        originals_required=originals,
        slots=(
            Slot("licence", "营业执照", True),
            Slot("id_front", "身份证人像面", True),
            Slot("extra", "其他材料", False),
        ),
    )


def ref(name: str = "a") -> MaterialRef:
    return MaterialRef(f"cases/x/{name}.jpg", "image/jpeg", 10, "0" * 64)


def complete_case(**kw: object) -> Case:
    case = Case.open("BC1", terms(**kw), CITIZEN, at(MON))  # type: ignore[arg-type]
    case.attach("licence", ref(), CITIZEN, at(MON))
    case.attach("id_front", ref(), CITIZEN, at(MON))
    return case


def submitted(**kw: object) -> Case:
    case = complete_case(**kw)
    case.submit(CITIZEN, at(MON))
    return case


def test_submitting_without_every_required_material_names_what_is_missing() -> None:
    case = Case.open("BC1", terms(), CITIZEN, at(MON))
    case.attach("licence", ref(), CITIZEN, at(MON))
    with pytest.raises(ValidationFailed, match="身份证人像面"):
        case.submit(CITIZEN, at(MON))
    assert case.state is State.DRAFT


def test_optional_materials_are_not_required_for_submission() -> None:
    case = submitted()
    assert case.state is State.SUBMITTED
    assert case.submitted_on == MON


def test_only_the_owner_may_attach_or_submit() -> None:
    case = complete_case()
    with pytest.raises(NotPermitted):
        case.attach("licence", ref(), OTHER, at(MON))
    with pytest.raises(NotPermitted):
        case.submit(OTHER, at(MON))


def test_an_unknown_slot_is_refused() -> None:
    case = Case.open("BC1", terms(), CITIZEN, at(MON))
    with pytest.raises(ValidationFailed):
        case.attach("passport", ref(), CITIZEN, at(MON))


def test_an_enterprise_case_belongs_to_whoever_the_enterprise_authorises_today() -> None:
    case = Case.open("BC1", terms(), AGENT, at(MON), on_behalf_of=FIRM)
    colleague = Actor("a2", Role.APPLICANT, authorities=(Authority(FIRM),))
    stranger = Actor(
        "a3", Role.APPLICANT, authorities=(Authority(enterprise("91110000100000000X")),)
    )
    revoked = Actor("a1", Role.APPLICANT)  # the opener, once the enterprise took the grant back
    assert case.enterprise_uscc == "91350100M000100Y43" and case.applicant_id == "a1"
    assert case.may_view(colleague)
    assert not case.may_view(stranger)
    assert not case.may_view(revoked)
    with pytest.raises(NotPermitted):
        case.attach("licence", ref(), revoked, at(MON))
    assert [e.on_behalf_of for e in case.new_events] == [FIRM]  # who acted, and for whom


def test_an_agent_acts_only_within_the_matters_granted() -> None:
    scoped = Actor("a4", Role.APPLICANT, authorities=(Authority(FIRM, frozenset({"OTHER"})),))
    with pytest.raises(NotPermitted):
        Case.open("BC1", terms(), scoped, at(MON), on_behalf_of=FIRM)
    case = Case.open("BC1", terms(), AGENT, at(MON), on_behalf_of=FIRM)
    assert not case.may_view(scoped)


def test_nobody_opens_a_case_for_an_enterprise_without_its_authority() -> None:
    with pytest.raises(NotPermitted):
        Case.open("BC1", terms(), CITIZEN, at(MON), on_behalf_of=FIRM)


def test_a_case_applied_for_a_family_member_belongs_to_them() -> None:
    elder = "p-elder"
    son = Actor("p-son", Role.APPLICANT, authorities=(Authority(person(elder)),))
    case = Case.open("BC1", terms(), son, at(MON), on_behalf_of=person(elder))
    assert (case.applicant_id, case.handler_id) == (elder, "p-son")
    assert case.may_view(Actor(elder, Role.APPLICANT))  # the principal sees their own case
    assert case.may_view(son)
    assert not case.may_view(Actor("p-son", Role.APPLICANT))  # authority gone, access gone
    assert case.new_events[0].on_behalf_of == person(elder)


def test_reviewers_see_only_their_departments_cases() -> None:
    case = submitted()
    assert case.may_view(REVIEWER)
    assert not case.may_view(FOREIGN_REVIEWER)
    assert not case.may_view(OTHER)
    with pytest.raises(NotPermitted):
        case.approve(FOREIGN_REVIEWER, at(MON))


def test_an_applicant_cannot_approve_their_own_case() -> None:
    case = submitted()
    with pytest.raises(NotPermitted):
        case.approve(CITIZEN, at(MON))
    assert case.state is State.SUBMITTED


def test_an_illegal_transition_raises_and_changes_nothing() -> None:
    case = submitted()
    events = case.seq
    with pytest.raises(InvalidTransition):
        case.act(Action.CONFIRM_DELIVERY, SYSTEM, at(MON))
    assert case.state is State.SUBMITTED
    assert case.seq == events


REMEDY = Remedies(review="福州市人民政府", court="有管辖权的人民法院").text()


def test_every_transition_records_actor_time_and_reason() -> None:
    case = submitted()
    case.reject(
        "材料不符合法定条件",
        "《市场主体登记管理条例》第二十六条",
        REVIEWER,
        at(MON, 15),
        remedy=REMEDY,
    )
    accepted, event = case.new_events[-2:]  # a decision on the spot accepts first (Art. 32)
    assert (accepted.action, accepted.detail) == ("accept", {"with_decision": True})
    assert (event.from_state, event.to_state) == (State.ACCEPTED, State.REJECTED)
    assert event.actor_id == "r1" and event.actor_role is Role.REVIEWER
    assert event.at == at(MON, 15)
    assert event.reason == "材料不符合法定条件"


def test_a_refusal_must_state_reason_and_legal_basis_art_38() -> None:
    case = submitted()
    with pytest.raises(ValidationFailed):
        case.reject("不符合", " ", REVIEWER, at(MON), remedy=REMEDY)


def test_a_refusal_tells_reason_basis_and_the_right_to_review_or_sue_art_38() -> None:
    case = submitted()
    case.reject(
        "经营场所不符合要求",
        "《食品经营许可管理办法》第十一条",
        REVIEWER,
        at(MON, 3),
        remedy=REMEDY,
    )
    text = case.refusal_text()
    assert "不予许可" in text and "经营场所不符合要求" in text and "第十一条" in text
    assert "六十日内向福州市人民政府申请行政复议" in text  # 行政复议法 Art. 20
    assert "六个月内" in text and "提起行政诉讼" in text  # 行政诉讼法 Art. 46
    assert case.decision is not None
    assert case.decision["decided_on"] == at(MON, 3).astimezone(CHINA).date().isoformat()


def test_terminal_states_allow_nothing_more() -> None:
    case = submitted()
    case.act(Action.WITHDRAW, CITIZEN, at(MON))
    for action in (Action.START_REVIEW, Action.WITHDRAW, Action.CLOSE):
        with pytest.raises((InvalidTransition, NotPermitted)):
            case.act(action, REVIEWER if action is Action.START_REVIEW else CITIZEN, at(MON))
    assert case.state in TERMINAL


def test_every_rule_targets_a_declared_state_and_names_roles() -> None:
    for action, rule in RULES.items():
        assert rule.roles, action
        assert rule.sources, action


def test_return_notice_lists_every_correction_at_once_art_32() -> None:
    case = submitted()
    notice = CorrectionNotice(
        (
            Correction("licence", ("blurry",)),
            Correction("id_front", ("expired", "incomplete"), "请拍摄有效期内的身份证"),
        )
    )
    case.return_for_correction(notice, REVIEWER, at(MON))
    text = notice.render(case.number, case.terms.name, {s.id: s.name for s in case.terms.slots})
    assert "1. 营业执照：照片模糊" in text
    assert "2. 身份证人像面：证件已过有效期；材料不完整或被遮挡" in text
    assert "请拍摄有效期内的身份证" in text
    assert case.state is State.RETURNED


def test_a_second_notice_cannot_raise_new_problems_about_unchanged_materials_art_32() -> None:
    case = submitted()
    case.return_for_correction(
        CorrectionNotice((Correction("licence", ("blurry",)),)), REVIEWER, at(MON)
    )
    case.attach("licence", ref("b"), CITIZEN, at(MON + timedelta(days=1)))
    case.resubmit(CITIZEN, at(MON + timedelta(days=1)))
    late = CorrectionNotice((Correction("id_front", ("expired",)),))
    with pytest.raises(ValidationFailed, match="一次性告知"):
        case.return_for_correction(late, REVIEWER, at(MON + timedelta(days=2)))
    # The replaced licence may still be found wanting.
    again = CorrectionNotice((Correction("licence", ("mismatch",)),))
    case.return_for_correction(again, REVIEWER, at(MON + timedelta(days=2)))
    assert case.state is State.RETURNED


def test_an_empty_notice_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        CorrectionNotice(())
    with pytest.raises(ValidationFailed):
        Correction("licence", ("no_such_code",))


def test_a_correction_notice_stops_no_clock_the_new_materials_open_a_new_window_art_32() -> None:
    case = submitted()
    case.return_for_correction(
        CorrectionNotice((Correction("licence", ("blurry",)),)),
        REVIEWER,
        at(MON + timedelta(days=1)),
    )
    assert case.legal_clock() is None  # the applicant's turn: no limit runs on the office
    case.attach("licence", ref("b"), CITIZEN, at(MON + timedelta(days=4)))
    case.resubmit(CITIZEN, at(MON + timedelta(days=4)))
    clock = case.legal_clock()
    assert clock is not None and clock.period is Period.ACCEPTANCE
    assert clock.started == MON + timedelta(days=4) and clock.limit_days == 5
    assert case.pauses == []  # nothing the law does not name is left out of any count


def test_acceptance_starts_the_decision_clock_art_42() -> None:
    case = submitted()
    case.accept(REVIEWER, at(MON + timedelta(days=2)))
    assert case.state is State.ACCEPTED and case.accepted_on == MON + timedelta(days=2)
    clock = case.legal_clock()
    assert clock is not None and clock.period is Period.DECISION
    assert (clock.started, clock.limit_days) == (MON + timedelta(days=2), case.terms.limit_days)
    with pytest.raises(InvalidTransition):  # after acceptance no correction notice (Art. 32)
        case.return_for_correction(
            CorrectionNotice((Correction("licence", ("blurry",)),)), REVIEWER, at(MON)
        )


def test_a_refusal_to_accept_is_a_decision_with_reason_basis_and_remedy_art_32() -> None:
    case = submitted()
    with pytest.raises(ValidationFailed):
        case.refuse_acceptance("不属于本机关职权范围", "", REVIEWER, at(MON), remedy=REMEDY)
    case.refuse_acceptance(
        "申请事项依法不属于本机关职权范围，请向区市场监督管理局申请",
        "《中华人民共和国行政许可法》第三十二条第一款第二项",
        REVIEWER,
        at(MON),
        remedy=REMEDY,
    )
    assert case.state is State.NOT_ACCEPTED and case.state in TERMINAL
    assert case.refusal_text().startswith("【不予受理决定】")
    assert "区市场监督管理局" in case.refusal_text() and "申请行政复议" in case.refusal_text()


def test_the_limit_is_extended_once_by_ten_days_with_the_heads_approval_art_42() -> None:
    case = submitted()
    case.accept(REVIEWER, at(MON))
    limit = case.terms.limit_days
    with pytest.raises(ValidationFailed):
        case.extend("", "需要现场核查", REVIEWER, at(MON), WEEKDAYS)
    case.extend(
        "局长 王某", "需要现场核查经营场所", REVIEWER, at(MON + timedelta(days=1)), WEEKDAYS
    )
    clock = case.legal_clock()
    assert clock is not None and clock.limit_days == limit + 10
    assert case.extension is not None and case.extension["approved_by"] == "局长 王某"
    assert case.new_events[-1].action == "extend" and case.new_events[-1].reason
    with pytest.raises(InvalidTransition, match="只能延长一次"):
        case.extend("局长 王某", "再延一次", REVIEWER, at(MON + timedelta(days=1)), WEEKDAYS)


def test_no_extension_once_the_limit_has_run_out_art_42() -> None:
    case = submitted()
    case.accept(REVIEWER, at(MON))
    late = at(MON + timedelta(days=7 * 8))  # far past any committed limit
    with pytest.raises(InvalidTransition, match="已经届满"):
        case.extend("局长 王某", "需要现场核查", REVIEWER, late, WEEKDAYS)


def test_only_the_periods_art_45_names_stop_the_clock_and_each_says_so() -> None:
    case = submitted()
    case.accept(REVIEWER, at(MON))
    with pytest.raises(ValidationFailed, match="第四十五条"):
        case.pause_for("等待缴费", 5, REVIEWER, at(MON))
    case.pause_for("专家评审", 10, REVIEWER, at(MON + timedelta(days=1)))
    assert case.paused and "专家评审，预计 10 天" in case.pauses[-1].reason
    case.resume(REVIEWER, at(MON + timedelta(days=8)))
    assert not case.paused
    assert case.pauses[-1].end == MON + timedelta(days=8)
    clock = case.legal_clock()
    assert clock is not None and clock.used(WEEKDAYS, MON + timedelta(days=8)) == 1


def test_no_notice_within_five_working_days_means_deemed_accepted_art_32() -> None:
    case = submitted()  # Monday 2 Nov; five working days end Monday 9 Nov
    with pytest.raises(InvalidTransition):
        case.deem_accepted(WEEKDAYS, at(date(2026, 11, 9), 23))
    case.deem_accepted(WEEKDAYS, at(date(2026, 11, 10)))
    assert case.state is State.DEEMED_ACCEPTED
    assert case.accepted_on == date(2026, 11, 2)  # accepted as of the day of receipt
    with pytest.raises(InvalidTransition):
        case.return_for_correction(
            CorrectionNotice((Correction("licence", ("blurry",)),)),
            REVIEWER,
            at(date(2026, 11, 10)),
        )
    case.approve(REVIEWER, at(date(2026, 11, 10)))
    assert case.state is State.APPROVED


def test_approval_of_a_charged_matter_waits_for_payment_then_pickup() -> None:
    case = submitted(fee=1000, originals=True)
    case.approve(REVIEWER, at(MON))
    assert case.state is State.AWAITING_PAYMENT
    with pytest.raises(InvalidTransition):
        case.act(Action.ISSUE_CERTIFICATE, REVIEWER, at(MON))
    case.confirm_payment(SYSTEM, at(MON + timedelta(days=1)))
    assert case.state is State.AWAITING_PICKUP
    # Art. 44: ten working days from the grant to issue the certificate, payment or not.
    clock = case.legal_clock()
    assert clock is not None and clock.period is Period.ISSUING
    assert (clock.started, clock.limit_days) == (MON, 10)


def test_a_free_matter_without_originals_goes_straight_to_issuing() -> None:
    case = submitted()
    case.approve(REVIEWER, at(MON))
    case.act(Action.ISSUE_CERTIFICATE, REVIEWER, at(MON))
    case.act(Action.DISPATCH_DELIVERY, COURIER, at(MON))
    case.act(Action.CONFIRM_DELIVERY, COURIER, at(MON))
    case.act(Action.CLOSE, CITIZEN, at(MON))
    assert case.state is State.CLOSED


def test_originals_in_transit_stop_no_clock_no_law_leaves_the_post_out() -> None:
    case = submitted(originals=True)
    case.approve(REVIEWER, at(MON))
    assert case.state is State.AWAITING_PICKUP
    case.act(Action.COLLECT_ORIGINALS, COURIER, at(MON + timedelta(days=1)))
    assert not case.paused
    case.act(Action.RECEIVE_ORIGINALS, REVIEWER, at(MON + timedelta(days=3)))
    case.act(Action.ISSUE_CERTIFICATE, REVIEWER, at(MON + timedelta(days=3)))
    assert case.state is State.CERTIFICATE_ISSUED and case.legal_clock() is None


def test_materials_cannot_change_once_submitted() -> None:
    case = submitted()
    with pytest.raises(InvalidTransition):
        case.attach("licence", ref("c"), CITIZEN, at(MON))


def test_a_chat_photo_fills_required_gaps_first_then_optional_ones() -> None:
    case = Case.open("BC1", terms(), CITIZEN, at(MON))
    assert case.next_slot_for_photo() == case.terms.slot("licence")
    case.attach("licence", ref(), CITIZEN, at(MON))
    case.attach("id_front", ref(), CITIZEN, at(MON))
    assert case.next_slot_for_photo() == case.terms.slot("extra")
    case.attach("extra", ref(), CITIZEN, at(MON))
    assert case.next_slot_for_photo() is None


def test_while_returned_photos_replace_only_what_the_notice_named() -> None:
    case = submitted()
    notice = CorrectionNotice(
        (Correction("id_front", ("blurry",)), Correction(None, ("other",), "请补充提交户口簿"))
    )
    case.return_for_correction(notice, REVIEWER, at(MON))
    # What the notice asks for beyond the checklist can be uploaded too, in a slot of its own.
    assert [s.id for s in case.slots_to_correct()] == ["id_front", "supplement-1"]
    assert case.slot("supplement-1").name == "补充材料：请补充提交户口簿"
    case.attach("id_front", ref("new"), CITIZEN, at(MON))
    assert case.next_slot_for_photo() == case.slot("supplement-1")
    case.attach("supplement-1", ref("hukou"), CITIZEN, at(MON))
    assert case.slots_to_correct() == [] and case.next_slot_for_photo() is None
    case.resubmit(CITIZEN, at(MON))  # nothing else was asked: the case goes back to review


def test_a_delivered_case_is_rated_once_and_rating_closes_it() -> None:
    case = submitted()
    case.approve(REVIEWER, at(MON))
    case.act(Action.ISSUE_CERTIFICATE, REVIEWER, at(MON))
    case.act(Action.DISPATCH_DELIVERY, COURIER, at(MON))
    case.act(Action.CONFIRM_DELIVERY, COURIER, at(MON))
    with pytest.raises(NotPermitted):
        case.rate("满意", "", OTHER, at(MON))
    with pytest.raises(ValidationFailed):
        case.rate("还行", "", CITIZEN, at(MON))
    case.rate("非常满意", "不用跑腿，很方便", CITIZEN, at(MON))
    assert case.state is State.CLOSED
    assert case.rating is not None and case.rating["level"] == "非常满意"
    with pytest.raises(InvalidTransition):
        case.rate("不满意", "", CITIZEN, at(MON))


def test_a_case_still_under_review_cannot_be_rated() -> None:
    case = submitted()
    with pytest.raises(InvalidTransition, match="办结后才能评价"):
        case.rate("满意", "", CITIZEN, at(MON))
