"""Mapping between the case aggregate and its stored documents (case and history events)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.domain.actors import Role
from app.domain.case_states import State
from app.domain.cases import Case, CaseEvent, FeeLine, MaterialRef, MatterTerms, Slot
from app.domain.notices import Correction, CorrectionNotice
from app.domain.prechecks import MachineFinding, Precheck
from app.domain.workdays import Pause

CASES = "cases"
EVENTS = "case_events"  # a case's history, one document per event
PRECHECKS = "prechecks"  # one document per case and slot, beside the case


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def case_to_doc(case: Case, *, due_date: date | None, accept_by: date | None) -> dict[str, Any]:
    """The stored form; top-level fields are the ones the queue and lookups index."""
    t = case.terms
    return {
        "_id": case.number,
        "number": case.number,
        "matter_code": t.code,
        "department": t.department,
        "applicant_id": case.applicant_id,
        "enterprise_uscc": case.enterprise_uscc,
        "state": case.state.value,
        "created_at": case.created_at.isoformat(),
        "submitted_at": case.submitted_on.isoformat() if case.submitted_on else None,
        "window_start": case.window_start.isoformat() if case.window_start else None,
        "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
        "decided_on": case.decided_on.isoformat() if case.decided_on else None,
        "extension": case.extension,
        "due_date": due_date.isoformat() if due_date else None,
        "accept_by": accept_by.isoformat() if accept_by else None,
        "terms": {
            "code": t.code,
            "version": t.version,
            "name": t.name,
            "department": t.department,
            "limit_days": t.limit_days,
            "fee_fen": t.fee_fen,
            "originals_required": t.originals_required,
            "result": t.result,
            "result_valid_years": t.result_valid_years,
            "fees": [vars(f).copy() for f in t.fees],
            "pay_before_review": t.pay_before_review,
            "slots": [vars(s).copy() for s in t.slots],
        },
        "materials": {k: vars(v).copy() for k, v in case.materials.items()},
        "pauses": [
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat() if p.end else None,
                "reason": p.reason,
            }
            for p in case.pauses
        ],
        "notices": [
            [
                {
                    "slot_id": i.slot_id,
                    "defects": list(i.defects),
                    "remark": i.remark,
                    "findings": [vars(f).copy() for f in i.findings],
                }
                for i in n.items
            ]
            for n in case.notices
        ],
        "changed_since_notice": sorted(case.changed_since_notice),
        "supplements": [vars(s).copy() for s in case.supplements],
        "decision": case.decision,
        "finished_on": case.finished_on.isoformat() if case.finished_on else None,
        "rating": case.rating,
        "handler_id": case.handler_id,
        "fee_paid": case.fee_paid,
        "seq": case.seq,
    }


def case_from_doc(doc: dict[str, Any]) -> Case:
    t = doc["terms"]
    terms = MatterTerms(
        code=t["code"],
        version=t["version"],
        name=t["name"],
        department=t["department"],
        limit_days=t["limit_days"],
        fee_fen=t["fee_fen"],
        originals_required=t["originals_required"],
        result=t.get("result", ""),
        result_valid_years=t.get("result_valid_years"),
        fees=tuple(FeeLine(**f) for f in t.get("fees", [])),
        pay_before_review=t.get("pay_before_review", False),
        slots=tuple(Slot(**s) for s in t["slots"]),
    )
    return Case(
        number=doc["number"],
        terms=terms,
        applicant_id=doc["applicant_id"],
        enterprise_uscc=doc["enterprise_uscc"],
        state=State(doc["state"]),
        created_at=datetime.fromisoformat(doc["created_at"]),
        version=doc["_version"],
        submitted_on=_d(doc["submitted_at"]),
        window_start=_d(doc["window_start"]),
        accepted_on=_d(doc.get("accepted_on")),
        decided_on=_d(doc.get("decided_on")),
        extension=doc.get("extension"),
        due_on=_d(doc.get("due_date")),
        materials={k: MaterialRef(**v) for k, v in doc["materials"].items()},
        pauses=pauses_from_doc(doc),
        notices=[CorrectionNotice(tuple(_correction(i) for i in n)) for n in doc["notices"]],
        changed_since_notice=set(doc["changed_since_notice"]),
        supplements=[Slot(**s) for s in doc.get("supplements", [])],
        decision=doc["decision"],
        finished_on=_d(doc.get("finished_on")),
        rating=doc.get("rating"),
        handler_id=doc.get("handler_id"),
        fee_paid=doc.get("fee_paid", False),
        seq=doc["seq"],
    )


def pauses_from_doc(doc: dict[str, Any]) -> list[Pause]:
    """The clock's pauses of a stored case, for readers that need no whole Case."""
    return [
        Pause(date.fromisoformat(p["start"]), _d(p["end"]), p.get("reason", ""))
        for p in doc["pauses"]
    ]


def complete_on(doc: dict[str, Any]) -> date | None:
    """The day the materials a decision rests on were received: the latest (re)submission.
    Handling time runs from it, so the applicant's own correction time is never counted."""
    received = doc.get("window_start") or doc.get("submitted_at")
    return date.fromisoformat(received) if received else None


def _correction(doc: dict[str, Any]) -> Correction:
    findings = tuple(MachineFinding(**f) for f in doc.get("findings", []))
    return Correction(doc["slot_id"], tuple(doc["defects"]), doc["remark"], findings)


def precheck_to_doc(number: str, slot_id: str, check: Precheck) -> dict[str, Any]:
    return {
        "_id": f"{number}:{slot_id}",
        "case": number,
        "slot": slot_id,
        "object_key": check.object_key,
        "status": check.status,
        "kind": check.kind,
        "findings": [vars(f).copy() for f in check.findings],
        "checked_at": check.checked_at.isoformat(),
        "fields": dict(check.fields),
        "corrected": list(check.corrected),
    }


def precheck_from_doc(doc: dict[str, Any]) -> Precheck:
    return Precheck(
        object_key=doc["object_key"],
        status=doc["status"],
        kind=doc["kind"],
        findings=tuple(MachineFinding(**f) for f in doc["findings"]),
        checked_at=datetime.fromisoformat(doc["checked_at"]),
        fields=doc["fields"],
        corrected=tuple(doc["corrected"]),
    )


def event_to_doc(number: str, event: CaseEvent) -> dict[str, Any]:
    return {
        "_id": f"{number}:{event.seq:06d}",
        "case_number": number,
        "seq": event.seq,
        "action": event.action,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role.value,
        "at": event.at.isoformat(),
        "reason": event.reason,
        "detail": event.detail,
        "on_behalf_of": event.on_behalf_of,
    }


def event_from_doc(doc: dict[str, Any]) -> CaseEvent:
    return CaseEvent(
        seq=doc["seq"],
        action=doc["action"],
        from_state=State(doc["from_state"]) if doc["from_state"] else None,
        to_state=State(doc["to_state"]),
        actor_id=doc["actor_id"],
        actor_role=Role(doc["actor_role"]),
        at=datetime.fromisoformat(doc["at"]),
        reason=doc["reason"],
        detail=doc["detail"],
        on_behalf_of=doc.get("on_behalf_of"),
    )
