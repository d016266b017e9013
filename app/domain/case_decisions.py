"""The department's decisions on a case under 行政许可法: accepting it (Art. 32), deciding it
(Art. 38, 42), extending the limit (Art. 42) and the periods it leaves out (Art. 45).

A mixin of ``app.domain.cases.Case``, kept apart so that the aggregate stays readable; it uses
the case's fields and its transition internals, declared below for the type checker.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from app.domain.actors import SYSTEM, Actor
from app.domain.case_states import BEFORE_ACCEPTANCE, DECIDING, LABELS_ZH, RULES, Action, State
from app.domain.china_time import china_date
from app.domain.errors import InvalidTransition, ValidationFailed
from app.domain.legal_clock import ART45_KINDS, EXTENSION_DAYS, LegalClock, clock_of
from app.domain.workdays import Pause, WorkCalendar, deemed_acceptance_date

if TYPE_CHECKING:
    from app.domain.cases import MatterTerms


class DepartmentDecisions:
    """受理, 不予受理, 准予, 不予许可, the extension and the Art. 45 pauses, on a Case."""

    if TYPE_CHECKING:
        number: str
        terms: MatterTerms
        state: State
        window_start: date | None
        accepted_on: date | None
        decided_on: date | None
        extension: dict[str, str] | None
        pauses: list[Pause]
        decision: dict[str, str] | None

        @property
        def paused(self) -> bool: ...

        def _apply(
            self,
            action: Action,
            actor: Actor,
            at: datetime,
            *,
            reason: str | None = None,
            detail: dict[str, Any] | None = None,
        ) -> None: ...

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
        ) -> None: ...

        def _check_department(self, actor: Actor) -> None: ...

        def _advance(self, at: datetime) -> None: ...

    def deem_accepted(self, calendar: WorkCalendar, at: datetime) -> None:
        """Art. 32: no correction notice within 5 working days means accepted on receipt."""
        if self.state not in BEFORE_ACCEPTANCE or self.window_start is None:
            raise InvalidTransition("办件不在待受理状态")
        due = deemed_acceptance_date(calendar, self.window_start)
        if china_date(at) <= due:
            raise InvalidTransition(f"五个工作日补正告知期至 {due.isoformat()} 止，尚未届满")
        self._apply(Action.DEEM_ACCEPTED, SYSTEM, at, reason="art32")
        self.accepted_on = self.window_start  # 自收到申请材料之日起即为受理

    def accept(self, actor: Actor, at: datetime, *, with_decision: bool = False) -> None:
        """受理 (Art. 32): the materials are complete and in form; Art. 42's clock starts.

        ``with_decision``: accepted in the same step as the decision (当场受理、当场决定).
        """
        detail = {"with_decision": True} if with_decision else None
        self._apply(Action.ACCEPT, actor, at, detail=detail)
        self.accepted_on = china_date(at)

    def refuse_acceptance(
        self, reason: str, basis: str, actor: Actor, at: datetime, *, remedy: str
    ) -> None:
        """不予受理 (Art. 32): a decision with its reasons, basis and the applicant's remedies."""
        self._decide(Action.REFUSE, "not_accepted", reason, basis, actor, at, remedy)

    def approve(self, actor: Actor, at: datetime) -> None:
        if self.state in BEFORE_ACCEPTANCE:
            self.accept(actor, at, with_decision=True)
        self._apply(Action.APPROVE, actor, at)
        self.decided_on = china_date(at)
        self._advance(at)

    def extend(
        self, approved_by: str, reason: str, actor: Actor, at: datetime, cal: WorkCalendar
    ) -> None:
        """Art. 42: ten more working days, once, approved by the head of the department, before
        the limit runs out; the applicant is told why."""
        self._check_department(actor)
        if self.state not in DECIDING:
            raise InvalidTransition("只有已受理、尚未作出决定的办件可以延长办理期限")
        if self.extension is not None:
            raise InvalidTransition("办理期限只能延长一次（行政许可法第四十二条）")
        if not approved_by.strip() or not reason.strip():
            raise ValidationFailed("延长期限须写明批准的本机关负责人和延期理由")
        clock = self.legal_clock()
        today = china_date(at)
        if clock is None or clock.remaining(cal, today) < 0:
            raise InvalidTransition("办理期限已经届满，不能再延长")
        longer = LegalClock(
            clock.period, clock.started, clock.limit_days + EXTENSION_DAYS, clock.pauses
        )
        self.extension = {
            "approved_by": approved_by.strip()[:40],
            "reason": reason.strip()[:500],
            "days": str(EXTENSION_DAYS),
            "on": today.isoformat(),
            "due": longer.due(cal, today).isoformat(),
        }
        detail = {"old_due": clock.due(cal, today).isoformat(), "new_due": self.extension["due"]}
        self._record("extend", self.state, self.state, actor, at, reason=reason, detail=detail)

    def pause_for(self, kind: str, expected_days: int, actor: Actor, at: datetime) -> None:
        """Art. 45: the decision needs a hearing, testing, expert review…; its time is not
        counted, and the applicant is told in writing how long it is expected to take."""
        self._check_department(actor)
        if self.state not in DECIDING:
            raise InvalidTransition("只有已受理、尚未作出决定的办件可以暂停计时")
        if kind not in ART45_KINDS:
            raise ValidationFailed(
                "只有" + "、".join(ART45_KINDS) + "所需时间不计入期限（第四十五条）"
            )
        if not 1 <= expected_days <= 365:
            raise ValidationFailed("请填写预计所需的天数（1 至 365 天）")
        if self.paused:
            raise InvalidTransition("办件已在暂停计时中")
        reason = f"{kind}，预计 {expected_days} 天（行政许可法第四十五条）"
        self.pauses.append(Pause(china_date(at), None, reason))
        detail = {"kind": kind, "expected_days": expected_days}
        self._record("pause", self.state, self.state, actor, at, reason=reason, detail=detail)

    def resume(self, actor: Actor, at: datetime) -> None:
        """The Art. 45 period is over: the decision's clock runs again from the next day."""
        self._check_department(actor)
        if not self.paused:
            raise InvalidTransition("办件没有在暂停计时")
        last = self.pauses[-1]
        self.pauses[-1] = Pause(last.start, max(last.start, china_date(at)), last.reason)
        self._record("resume", self.state, self.state, actor, at, reason=last.reason)

    def legal_clock(self) -> LegalClock | None:
        """The limit that runs on the case now (see ``app.domain.legal_clock``)."""
        return clock_of(
            self.state,
            window_start=self.window_start,
            accepted_on=self.accepted_on,
            decided_on=self.decided_on,
            limit_days=self.terms.limit_days,
            extension_days=EXTENSION_DAYS if self.extension else 0,
            pauses=self.pauses,
        )

    def reject(self, reason: str, basis: str, actor: Actor, at: datetime, *, remedy: str) -> None:
        """不予许可 (Art. 38): the decision states its reasons, its legal basis, and ``remedy``,
        the applicant's right to 行政复议 or 行政诉讼 and where (the matter's 救济途径)."""
        if self.state in BEFORE_ACCEPTANCE and reason.strip() and basis.strip():
            self.accept(actor, at, with_decision=True)
        self._decide(Action.REJECT, "rejected", reason, basis, actor, at, remedy)

    def _decide(
        self,
        action: Action,
        outcome: str,
        reason: str,
        basis: str,
        actor: Actor,
        at: datetime,
        remedy: str,
    ) -> None:
        if not reason.strip() or not basis.strip():
            raise ValidationFailed(f"{LABELS_ZH[RULES[action].target]}须写明理由和法律依据")
        self._apply(action, actor, at, reason=reason)
        self.decided_on = china_date(at)
        self.decision = {
            "outcome": outcome,
            "reason": reason.strip(),
            "basis": basis.strip(),
            "remedy": remedy,
            "decided_on": self.decided_on.isoformat(),
        }

    def refusal_text(self) -> str:
        """A 不予许可 or 不予受理 decision as the applicant reads it (chat and case page)."""
        d = self.decision or {}
        what = "不予受理" if d.get("outcome") == "not_accepted" else "不予许可"
        return (
            f"【{what}决定】您的办件 {self.number}（{self.terms.name}）经审查，"
            f"{d.get('decided_on', '')} 决定{what}。\n理由：{d.get('reason', '')}\n"
            f"依据：{d.get('basis', '')}\n{d.get('remedy', '')}"
        )
