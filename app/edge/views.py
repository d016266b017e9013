"""Cases, events, matters and payments as the API returns them and the pages show them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from aiohttp import web

from app import keys
from app.domain.case_states import LABELS_ZH, State
from app.domain.cases import Case, CaseEvent, china_date
from app.domain.catalog import Matter
from app.domain.identity import mask_sensitive
from app.domain.legal_clock import PERIOD_ZH
from app.domain.prechecks import FIX, STATUS_ZH, Precheck
from app.domain.workdays import WorkCalendar
from app.services.payments import Statement


def clock_view(case: Case, calendar: WorkCalendar, today: date) -> dict[str, Any] | None:
    """The limit running now (受理, 决定 or 颁证), or None when none runs."""
    clock = case.legal_clock()
    if clock is None:
        return None
    return {
        "period": clock.period.value,
        "period_label": PERIOD_ZH[clock.period],
        "started": clock.started,
        "limit_days": clock.limit_days,
        "used_days": clock.used(calendar, today),
        "remaining_days": clock.remaining(calendar, today),
        "due": clock.due(calendar, today),
        "warning": clock.warning(calendar, today).value,
        "paused": case.paused,
        "pause_reason": case.pauses[-1].reason if case.paused else "",
        "extended": case.extension is not None,
    }


def precheck_view(check: Precheck | None) -> dict[str, Any] | None:
    """The machine's verdict for display; values read are masked like everything else (PIPL)."""
    if check is None:
        return None
    return {
        "status": check.status,
        "status_label": STATUS_ZH[check.status],
        "kind": check.kind,
        "findings": [
            {"code": f.code, "field": f.field, "message": mask_sensitive(f.message)}
            for f in check.findings
        ],
        "fields": {k: mask_sensitive(v) for k, v in check.fields.items()},
        "corrected": list(check.corrected),
        "checked_at": check.checked_at.isoformat(),
    }


def _to_applicant(case: Case, check: Precheck | None) -> dict[str, str] | None:
    if check is None:
        return None
    if check.status == FIX and case.state not in {State.DRAFT, State.RETURNED}:
        return {"tone": "review", "label": "已交工作人员审核"}
    return {"tone": check.status, "label": STATUS_ZH[check.status]}


def notice_view(case: Case, number: int) -> dict[str, Any]:
    notice = case.notices[number - 1]
    return {
        "number": number,
        "text": case.notice_text(number),
        "items": [
            {
                "slot_id": item.slot_id,
                "defects": list(item.defects),
                "remark": item.remark,
                "findings": [{"code": f.code, "message": f.message} for f in item.findings],
                "problems": item.problems(),
            }
            for item in notice.items
        ],
    }


def case_view(case: Case, calendar: WorkCalendar, today: date) -> dict[str, Any]:
    return {
        "number": case.number,
        "version": case.version,
        "state": case.state.value,
        "state_label": LABELS_ZH[case.state],
        "matter": {"code": case.terms.code, "name": case.terms.name},
        "department": case.terms.department,
        "enterprise_uscc": mask_sensitive(case.enterprise_uscc or "") or None,
        "created_at": case.created_at.isoformat(),
        "submitted_on": case.submitted_on,
        "accepted_on": case.accepted_on,
        "decided_on": case.decided_on,
        "finished_on": case.finished_on,
        "extension": case.extension,
        "pauses": [
            {"start": p.start, "end": p.end, "reason": p.reason} for p in case.pauses if p.reason
        ],
        "fee_fen": case.terms.fee_fen,
        "materials": [
            {
                "slot_id": s.id,
                "name": s.name,
                "required": s.required,
                "attached": s.id in case.materials,
                "content_type": m.content_type if (m := case.materials.get(s.id)) else None,
                "size": m.size if m else None,
                "precheck": precheck_view(case.prechecks.get(s.id)),
                # What the applicant's page says of it: a retake is theirs to do only while
                # the case is in their hands; after that a person has the last word.
                "to_applicant": _to_applicant(case, case.prechecks.get(s.id)),
            }
            for s in case.slots
        ],
        "missing": [s.id for s in case.missing_materials()],
        "clock": clock_view(case, calendar, today),
        "notices": [notice_view(case, n) for n in range(1, len(case.notices) + 1)],
        "decision": case.decision,
    }


async def case_views(request: web.Request, cases: Sequence[Case]) -> list[dict[str, Any]]:
    """Cases as the API and the H5 pages show them, with today's working-day clock."""
    calendar = await request.config_dict[keys.CALENDAR].calendar()
    today = china_date(request.config_dict[keys.CASES].now())
    return [case_view(case, calendar, today) for case in cases]


def event_view(event: CaseEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "action": event.action,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "to_state_label": LABELS_ZH[event.to_state],
        "actor_role": event.actor_role.value,
        "at": event.at.isoformat(),
        "reason": event.reason,
        "detail": event.detail,
        # The enterprise (masked code) or person the actor acted for, when not for themselves.
        "on_behalf_of": mask_sensitive(event.on_behalf_of) if event.on_behalf_of else None,
    }


def matter_view(matter: Matter, *, full: bool) -> dict[str, Any]:
    data = matter.model_dump(mode="json")
    if full:
        return data
    keys = ("code", "name", "category", "department", "department_name", "targets", "kind")
    return {k: data[k] for k in keys} | {"total_fee_fen": matter.total_fee_fen}


def payments_view(statement: Statement) -> dict[str, Any]:
    """A case's fee items, payment attempts and ledger (paid − refunded = what it keeps)."""
    case, ledger = statement.case, statement.ledger
    return {
        "number": case.number,
        "fee_fen": case.terms.fee_fen,
        "fees": [vars(f).copy() for f in case.terms.fees],
        "pay_before_review": case.terms.pay_before_review,
        "due": case.state is State.AWAITING_PAYMENT,
        "orders": [
            {
                "out_trade_no": o.out_trade_no,
                "amount_fen": o.amount_fen,
                "status": o.status.value,
                "created_at": o.created_at.isoformat(),
                "expires_at": o.expires_at.isoformat(),
                "paid_at": o.paid_at.isoformat() if o.paid_at else None,
                "trade_no": o.trade_no,
            }
            for o in statement.orders
        ],
        "paid_fen": ledger.paid_fen,
        "refunded_fen": ledger.refunded_fen,
        "refunds": [
            {
                "out_request_no": r.out_request_no,
                "amount_fen": r.amount_fen,
                "reason": r.reason,
                "done": r.done_at is not None,
            }
            for r in ledger.refunds
        ],
    }
