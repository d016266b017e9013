"""Courier data beside the case: legs, counters, hand-over codes and scans, route events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.shipments import Counter, Leg, LegStatus, MailingAddress, TimeWindow

SHIPMENTS = "shipments"  # one document per case and leg: ``<case>:pickup``, ``<case>:delivery``
COUNTERS = "department_counters"  # per department: where originals go and certificates leave
HANDOVER_CODES = "handover_codes"  # per code shown: who showed it (``_id`` = its nonce)
CUSTODY = "custody_scans"  # per scan (``_id`` = the code's nonce: a code scans once)
ROUTES = "route_events"  # per courier route event (``_id`` = waybill and event key)


def leg_id(case: str, kind: str) -> str:
    return f"{case}:{kind}"


def leg_to_doc(leg: Leg) -> dict[str, Any]:
    return {
        "_id": leg_id(leg.case, leg.kind),
        "case": leg.case,
        "kind": leg.kind,
        "department": leg.department,
        "applicant_id": leg.applicant_id,
        "address": leg.address.as_dict(),
        "window": {"start": leg.window.start.isoformat(), "end": leg.window.end.isoformat()},
        "status": leg.status.value,
        "attempt": leg.attempt,
        "order_id": leg.order_id,
        "waybill": leg.waybill,
        "holder": leg.holder,
        "failures": leg.failures,
        "trouble": leg.trouble,
        "detail": leg.detail,
        "previous": leg.previous,
        "updated_at": leg.updated_at.isoformat() if leg.updated_at else None,
    }


def leg_from_doc(doc: dict[str, Any]) -> Leg:
    window = doc["window"]
    return Leg(
        case=doc["case"],
        kind=doc["kind"],
        department=doc["department"],
        applicant_id=doc["applicant_id"],
        address=MailingAddress(**doc["address"]),
        window=TimeWindow(
            datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
        ),
        status=LegStatus(doc["status"]),
        attempt=doc["attempt"],
        waybill=doc["waybill"],
        holder=doc.get("holder"),
        failures=doc["failures"],
        trouble=doc["trouble"],
        detail=doc["detail"],
        previous=list(doc["previous"]),
        updated_at=datetime.fromisoformat(doc["updated_at"]) if doc["updated_at"] else None,
        version=doc["_version"],
    )


def counter_to_doc(counter: Counter) -> dict[str, Any]:
    return {"_id": counter.department} | {
        k: getattr(counter, k)
        for k in ("department", "name", "mobile", "province", "city", "district", "detail")
    }


def counter_from_doc(doc: dict[str, Any]) -> Counter:
    return Counter(
        doc["department"],
        doc["name"],
        doc["mobile"],
        doc["province"],
        doc["city"],
        doc["district"],
        doc["detail"],
    )
