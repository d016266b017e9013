"""The case aggregate: materials, transitions with role and state checks, the paused legal clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.domain.actors import SYSTEM, Actor, Role, enterprise, person
from app.domain.case_decisions import DepartmentDecisions
from app.domain.case_states import (
    DECIDING,
    FINISHED,
    LABELS_ZH,
    RULES,
    TERMINAL,
    Action,
    State,
)
from app.domain.china_time import CHINA, china_date
from app.domain.errors import InvalidTransition, NotPermitted, ValidationFailed
from app.domain.notices import Correction, CorrectionNotice
from app.domain.prechecks import FIX, Precheck
from app.domain.workdays import Pause

# 好差评 levels, best first; the last two call for a follow-up.
RATINGS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
RATEABLE = frozenset(
    {State.CERTIFICATE_ISSUED, State.DELIVERED, State.CLOSED, State.REJECTED, State.NOT_ACCEPTED}
)
RATING_COMMENT_MAX = 500  # characters of the optional comment kept with a rating


@dataclass(frozen=True)
class Slot:
    """One checklist material as the case keeps it, with the pre-check's rules for it."""

    id: str
    name: str
    required: bool
    expected_kind: str = "other"
    sample: str | None = None
    belongs_to_applicant: bool = True
    must_be_valid: bool = True
    min_valid_days: int = 0
    reusable: bool = False  # may be kept in and taken from the personal document space


@dataclass(frozen=True)
class FeeLine:
    """One published fee item (清单之外无收费): what is charged, how much, on what basis."""

    name: str
    amount_fen: int
    basis: str


@dataclass(frozen=True)
class MatterTerms:
    """The part of a matter a case keeps, frozen at creation, so catalog edits never move a case."""

    code: str
    version: int
    name: str
    department: str
    limit_days: int
    fee_fen: int
    originals_required: bool
    slots: tuple[Slot, ...]
    result: str = ""  # what the applicant receives, e.g. 老年人优待证
    result_valid_years: int | None = None
    fees: tuple[FeeLine, ...] = ()  # the catalog's items; fee_fen is their total
    pay_before_review: bool = False  # the fee is asked at submission instead of after approval

    def slot(self, slot_id: str) -> Slot:
        for slot in self.slots:
            if slot.id == slot_id:
                return slot
        raise ValidationFailed(f"该事项没有名为“{slot_id}”的材料项，请按材料清单提交")


@dataclass(frozen=True)
class MaterialRef:
    """A stored copy of one material: where the bytes are and what they are."""

    object_key: str
    content_type: str
    size: int
    sha256: str
    source: str = "upload"  # upload | chat | space


@dataclass(frozen=True)
class CaseEvent:
    seq: int
    action: str
    from_state: State | None
    to_state: State
    actor_id: str
    actor_role: Role
    at: datetime
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # The enterprise or person the actor acted for, when not for themselves.
    on_behalf_of: str | None = None


@dataclass
class Case(DepartmentDecisions):
    number: str
    terms: MatterTerms
    applicant_id: str
    enterprise_uscc: str | None
    state: State
    created_at: datetime
    version: int = 0  # the store's version; 0 until first saved
    submitted_on: date | None = None  # materials first received (收件)
    window_start: date | None = None  # latest (re)submission: the Art. 32 five-day window
    accepted_on: date | None = None  # 受理 (or deemed so, as of receipt): Art. 42 runs from it
    decided_on: date | None = None  # 准予 or 不予许可: Art. 44 runs from a grant
    extension: dict[str, str] | None = None  # Art. 42: who approved ten more days, and why
    due_on: date | None = None  # the last day of the limit that ran last, kept once it stops
    materials: dict[str, MaterialRef] = field(default_factory=dict)
    pauses: list[Pause] = field(default_factory=list)
    notices: list[CorrectionNotice] = field(default_factory=list)
    changed_since_notice: set[str] = field(default_factory=set)
    prechecks: dict[str, Precheck] = field(default_factory=dict)
    decision: dict[str, str] | None = None
    finished_on: date | None = None  # the day the legal clock stopped (see FINISHED)
    rating: dict[str, str] | None = None
    handler_id: str | None = None  # who applies for the person ``applicant_id`` (代办)
    # Materials a notice asked for beyond the checklist (its 申请事项 item): one per notice.
    supplements: list[Slot] = field(default_factory=list)
    fee_paid: bool = False  # the catalog fee has been received (refunds do not reset it)
    seq: int = 0
    new_events: list[CaseEvent] = field(default_factory=list)

    # -- creation and materials -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        number: str,
        terms: MatterTerms,
        actor: Actor,
        at: datetime,
        *,
        on_behalf_of: str | None = None,
    ) -> Case:
        """Open for the actor themselves, or for the enterprise or person they act for.

        An enterprise's case keeps the person who opened it; a person's case opened by a
        family member belongs to that person, the family member its handler.
        """
        if actor.role is not Role.APPLICANT:
            raise NotPermitted("只有实名认证的申请人可以发起办件")
        principal = on_behalf_of or person(actor.id)
        if not actor.may_act_for(principal, terms.code):
            raise NotPermitted("您没有代其办理该事项的授权，请先取得授权")
        kind, _, ref = principal.partition(":")
        case = cls(
            number=number,
            terms=terms,
            applicant_id=ref if kind == "person" else actor.id,
            enterprise_uscc=ref if kind == "enterprise" else None,
            handler_id=actor.id if kind == "person" and ref != actor.id else None,
            state=State.DRAFT,
            created_at=at,
        )
        case._record("create", None, State.DRAFT, actor, at)
        return case

    @property
    def principal(self) -> str:
        """Whom the case is for: the enterprise, or the person (the same string names a space)."""
        if self.enterprise_uscc:
            return enterprise(self.enterprise_uscc)
        return person(self.applicant_id)

    def is_owner(self, actor: Actor) -> bool:
        """The applicant, or someone with a live authority for the case's principal and matter."""
        return actor.may_act_for(self.principal, self.terms.code)

    def may_view(self, actor: Actor) -> bool:
        if actor.role in {Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM}:
            return True
        if actor.role is Role.REVIEWER:
            return actor.department == self.terms.department
        return self.is_owner(actor)

    def attach(self, slot_id: str, ref: MaterialRef, actor: Actor, at: datetime) -> None:
        if not self.is_owner(actor):
            raise NotPermitted("只有申请人本人可以上传该办件的材料")
        if self.state not in {State.DRAFT, State.RETURNED}:
            raise InvalidTransition(f"办件当前状态为“{LABELS_ZH[self.state]}”，不能再更换材料")
        slot = self.slot(slot_id)
        self.materials[slot_id] = ref
        self.prechecks.pop(slot_id, None)  # the verdict was on the photo this one replaces
        if self.state is State.RETURNED:
            self.changed_since_notice.add(slot_id)
        self._record("attach", self.state, self.state, actor, at, detail={"slot": slot.id})

    @property
    def slots(self) -> tuple[Slot, ...]:
        """The checklist, then what correction notices asked for beyond it."""
        return (*self.terms.slots, *self.supplements)

    def slot(self, slot_id: str) -> Slot:
        for slot in self.supplements:
            if slot.id == slot_id:
                return slot
        return self.terms.slot(slot_id)

    def missing_materials(self) -> list[Slot]:
        return [s for s in self.slots if s.required and s.id not in self.materials]

    def slots_to_correct(self) -> list[Slot]:
        """While returned: the materials the last notice named that are not replaced yet."""
        if self.state is not State.RETURNED or not self.notices:
            return []
        named = self.notices[-1].slot_ids() | {_supplement_id(len(self.notices))}
        return [s for s in self.slots if s.id in named - self.changed_since_notice]

    def slots_to_retake(self) -> list[Slot]:
        """Materials whose current photo the pre-check asked the applicant to replace."""
        return [s for s in self.slots if s.id in self.open_findings()]

    def next_slot_for_photo(self) -> Slot | None:
        """Where a photo sent without naming a slot goes: a correction, a gap, then a retake.

        Gaps before retakes: an applicant who thinks the machine wrong can go on with the
        checklist, and a photo is never filed over one they meant to keep.
        """
        if self.state is State.RETURNED:
            return next(iter(self.slots_to_correct()), None)
        if self.state is State.DRAFT:
            empty = [s for s in self.slots if s.id not in self.materials]
            return next(iter(self.missing_materials() or self.slots_to_retake() or empty), None)
        return None

    def what_next(self) -> str:
        """What the applicant should do now, true of the case at this moment (the tail of every
        reply about a material): what is still missing, what the pre-check asks to retake, or
        that it can be submitted."""
        if self.state not in {State.DRAFT, State.RETURNED}:
            return ""
        nxt = self.next_slot_for_photo()
        still = (
            self.slots_to_correct() if self.state is State.RETURNED else self.missing_materials()
        )
        if nxt is not None and still:
            names = "、".join(s.name for s in still)
            return f"还需要：{names}。请继续拍照发送：{nxt.name}"
        retake = self.slots_to_retake()
        if retake:
            names = "、".join(s.name for s in retake)
            return (
                f"必交材料已齐全，但{names}的预审提示需要重新拍摄：直接发送新照片即可替换；"
                "如确认无误，也可回复“提交”，由工作人员审核。"
            )
        return "材料已齐全，回复“提交”即可提交申请。"

    # -- machine pre-check -------------------------------------------------------------------

    def record_precheck(self, slot_id: str, precheck: Precheck) -> bool:
        """Keep the verdict on the slot's current photo; False when that photo was replaced.

        A verdict is not a change of the case: it records no event and, stored beside the
        case, never moves its version, so a reviewer's decision is not refused because a
        machine finished reading a photo meanwhile.
        """
        ref = self.materials.get(slot_id)
        if ref is None or ref.object_key != precheck.object_key:
            return False
        self.prechecks[slot_id] = precheck
        return True

    def open_findings(self) -> dict[str, Precheck]:
        """Verdicts asking for a fix on photos still in place, by slot."""
        return {
            slot_id: check
            for slot_id, check in self.prechecks.items()
            if check.status == FIX
            and slot_id in self.materials
            and self.materials[slot_id].object_key == check.object_key
        }

    def compose_notice(
        self, items: list[Correction], *, dismissed: frozenset[str] = frozenset()
    ) -> CorrectionNotice:
        """The reviewer's corrections with every open machine finding merged in, per material.

        ``dismissed`` names the materials whose machine findings the reviewer overruled. On a
        later notice, machine findings join only for materials that notice may still name.
        """
        by_slot = {item.slot_id: item for item in items}
        allowed = None
        if self.notices:
            allowed = self.notices[-1].slot_ids() | self.changed_since_notice
        for slot_id, check in self.open_findings().items():
            if slot_id in dismissed or (allowed is not None and slot_id not in allowed):
                continue
            item = by_slot.get(slot_id)
            defects, remark = (item.defects, item.remark) if item else ((), "")
            by_slot[slot_id] = Correction(slot_id, defects, remark, check.findings)
        order = {s.id: n for n, s in enumerate(self.slots)}
        ordered = sorted(by_slot.values(), key=lambda i: order.get(i.slot_id or "", len(order)))
        return CorrectionNotice(tuple(ordered))

    def notice_text(self, number: int, *, link: str | None = None) -> str:
        """Notice ``number`` (1-based) as the applicant reads it."""
        names = {s.id: s.name for s in self.slots}
        samples = {s.id: s.sample for s in self.slots if s.sample}
        notice = self.notices[number - 1]
        return notice.render(
            self.number, self.terms.name, names, number=number, samples=samples, link=link
        )

    # -- transitions --------------------------------------------------------------------------

    def submit(self, actor: Actor, at: datetime) -> None:
        self._require_complete()
        self._apply(Action.SUBMIT, actor, at)
        self.submitted_on = self.window_start = china_date(at)
        if self.terms.pay_before_review and self.payment_due:
            self._apply(Action.REQUEST_PAYMENT, SYSTEM, at)

    def resubmit(self, actor: Actor, at: datetime) -> None:
        self._require_complete()
        self._apply(Action.RESUBMIT, actor, at)
        self.window_start = china_date(at)

    def return_for_correction(self, notice: CorrectionNotice, actor: Actor, at: datetime) -> None:
        """Issue the one-time correction notice (一次性告知, 行政许可法 Art. 32)."""
        self._check(Action.RETURN, actor)
        for item in notice.items:
            if item.slot_id is not None:
                self.slot(item.slot_id)
        if self.notices:
            # A later notice may only repeat what the last one listed or concern what was
            # replaced since: everything else had to be told the first time.
            allowed = self.notices[-1].slot_ids() | self.changed_since_notice
            late = sorted(s for s in notice.slot_ids() - allowed if s is not None)
            if late:
                names = "、".join(self.slot(s).name for s in late)
                raise ValidationFailed(
                    f"一次性告知：{names}在上次补正通知中未列出且申请人未更换，不能再次要求补正"
                )
        self.notices.append(notice)
        self.changed_since_notice = set()
        asked = next((i for i in notice.items if i.slot_id is None), None)
        if asked is not None:  # every item a notice asks for can be uploaded
            what = asked.remark or "、".join(asked.problems()) or "补充材料"
            self.supplements.append(
                Slot(_supplement_id(len(self.notices)), f"补充材料：{what}"[:60], required=False)
            )
        self._apply(Action.RETURN, actor, at, detail={"notice": len(self.notices)})

    def check_rateable(self, actor: Actor) -> None:
        """Raise unless ``actor`` may rate the case now: its owner, finished, not yet rated."""
        if not self.is_owner(actor):
            raise NotPermitted("只有申请人本人可以评价该办件")
        if self.rating is not None:
            raise InvalidTransition("该办件已经评价过了，感谢您的反馈")
        if self.state not in RATEABLE:
            raise InvalidTransition(f"办件当前状态为“{LABELS_ZH[self.state]}”，办结后才能评价")

    def rate(self, level: str, comment: str, actor: Actor, at: datetime) -> None:
        """好差评: the applicant rates a finished case once; rating a delivered case closes it."""
        if level not in RATINGS:
            raise ValidationFailed("评价等级须为：" + "、".join(RATINGS))
        self.check_rateable(actor)
        comment = comment.strip()[:RATING_COMMENT_MAX]
        self.rating = {"level": level, "comment": comment, "at": at.isoformat(), "by": actor.id}
        if self.state is State.DELIVERED:
            self._apply(Action.CLOSE, actor, at, reason=f"评价：{level}")
        else:
            self._record("rate", self.state, self.state, actor, at, reason=f"评价：{level}")

    @property
    def payment_due(self) -> bool:
        return self.terms.fee_fen > 0 and not self.fee_paid

    def confirm_payment(self, actor: Actor, at: datetime, *, trade_no: str = "") -> None:
        """The fee arrived: on to review (paid before review) or to what follows approval."""
        self._apply(Action.CONFIRM_PAYMENT, actor, at, detail={"trade_no": trade_no})
        self.fee_paid = True
        if self.terms.pay_before_review:  # asked at submission, so the review comes next
            # The Art. 32 window still runs from receipt: paying is not receiving.
            self._apply(Action.QUEUE_FOR_REVIEW, actor, at)
        else:
            self._advance(at)

    def act(
        self,
        action: Action,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        *,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Take an action that needs nothing beyond the role and state checks."""
        special = {
            Action.SUBMIT,
            Action.RESUBMIT,
            Action.RETURN,
            Action.DEEM_ACCEPTED,
            Action.REFUSE,
            Action.APPROVE,
            Action.REJECT,
            Action.CONFIRM_PAYMENT,
            Action.QUEUE_FOR_REVIEW,
        }
        if action in special:
            raise InvalidTransition(f"操作“{action.value}”需要通过专门的办理入口")
        unmet = self.payment_due or self.terms.originals_required
        if action is Action.ISSUE_CERTIFICATE and self.state is State.APPROVED and unmet:
            raise InvalidTransition("尚未缴费或原件尚未签收，暂不能出证")
        self._apply(action, actor, at, reason=reason, detail=detail)

    # -- clock -------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    # -- internals ---------------------------------------------------------------------------

    def _advance(self, at: datetime) -> None:
        if self.state is State.APPROVED and self.payment_due:
            self._apply(Action.REQUEST_PAYMENT, SYSTEM, at)
        elif self.state in {State.APPROVED, State.PAID} and self.terms.originals_required:
            self._apply(Action.REQUEST_PICKUP, SYSTEM, at)

    def _require_complete(self) -> None:
        missing = self.missing_materials()
        if missing:
            names = "、".join(s.name for s in missing)
            raise ValidationFailed(f"还缺少以下必交材料：{names}。请补齐后再提交")

    def _check_department(self, actor: Actor) -> None:
        if actor.role is not Role.REVIEWER:
            raise NotPermitted("您的身份不能执行此操作")
        if actor.department != self.terms.department:
            raise NotPermitted("该办件不属于您所在部门")

    def _check(self, action: Action, actor: Actor) -> None:
        rule = RULES[action]
        if actor.role not in rule.roles:
            raise NotPermitted("您的身份不能执行此操作")
        if actor.role is Role.APPLICANT and not self.is_owner(actor):
            raise NotPermitted("只有申请人本人可以办理该办件")
        if actor.role is Role.REVIEWER and actor.department != self.terms.department:
            raise NotPermitted("该办件不属于您所在部门")
        if self.state in TERMINAL or self.state not in rule.sources:
            raise InvalidTransition(f"办件当前状态为“{LABELS_ZH[self.state]}”，不能执行该操作")

    def _apply(
        self,
        action: Action,
        actor: Actor,
        at: datetime,
        *,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._check(action, actor)
        before, after = self.state, RULES[action].target
        today = china_date(at)
        if self.paused and after not in DECIDING:  # an Art. 45 period ends with the decision
            self.pauses[-1] = Pause(self.pauses[-1].start, today, self.pauses[-1].reason)
        self.state = after
        if after in FINISHED and self.finished_on is None:
            self.finished_on = today
        self._record(action.value, before, after, actor, at, reason=reason, detail=detail)

    def _record(
        self,
        action: str,
        before: State | None,
        after: State,
        actor: Actor,
        at: datetime,
        *,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.seq += 1
        acting_for = self.principal if actor.role is Role.APPLICANT else None
        event = CaseEvent(
            self.seq,
            action,
            before,
            after,
            actor.id,
            actor.role,
            at,
            reason,
            detail or {},
            on_behalf_of=acting_for if acting_for != person(actor.id) else None,
        )
        self.new_events.append(event)


__all__ = [
    "CHINA",
    "Case",
    "CaseEvent",
    "Correction",
    "CorrectionNotice",
    "MaterialRef",
    "MatterTerms",
    "Slot",
    "china_date",
]


def _supplement_id(notice_number: int) -> str:
    return f"supplement-{notice_number}"
