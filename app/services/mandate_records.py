"""Where authorisations and legal representatives are stored, and how a person's are read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.domain.actors import Authority, enterprise
from app.domain.mandates import Evidence, Mandate, Status
from storage.documents import Document, DocumentStore

MANDATES = "mandates"
ENTERPRISES = "enterprises"  # _id = USCC: its name and its legal representative's person id


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def mandate_to_doc(m: Mandate) -> Document:
    return {
        "_id": m.id,
        "principal": m.principal,
        "agent": m.agent,
        "agent_name": m.agent_name,
        "status": m.status.value,
        "requested_at": m.requested_at.isoformat(),
        "matters": list(m.matters) if m.matters is not None else None,
        "expires_on": m.expires_on.isoformat() if m.expires_on else None,
        "decided_at": m.decided_at.isoformat() if m.decided_at else None,
        "decided_by": m.decided_by,
        "reason": m.reason,
        "evidence": _evidence_doc(m.evidence),
    }


def _evidence_doc(e: Evidence | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "name": e.name,
        "id_number": e.id_number,
        "relation": e.relation,
        "id_card": e.id_card,
        "proof": e.proof,
        "findings": list(e.findings) if e.findings is not None else None,
    }


def _evidence(doc: dict[str, Any] | None) -> Evidence | None:
    if not doc:
        return None
    found = doc.get("findings")
    return Evidence(
        name=doc["name"],
        id_number=doc["id_number"],
        relation=doc["relation"],
        id_card=doc["id_card"],
        proof=doc["proof"],
        findings=tuple(found) if found is not None else None,
    )


def mandate_from_doc(doc: Document) -> Mandate:
    return Mandate(
        id=doc["_id"],
        principal=doc["principal"],
        agent=doc["agent"],
        agent_name=doc["agent_name"],
        status=Status(doc["status"]),
        requested_at=datetime.fromisoformat(doc["requested_at"]),
        matters=tuple(doc["matters"]) if doc.get("matters") is not None else None,
        expires_on=_d(doc.get("expires_on")),
        decided_at=_t(doc.get("decided_at")),
        decided_by=doc.get("decided_by"),
        reason=doc.get("reason"),
        evidence=_evidence(doc.get("evidence")),
        version=doc.get("_version", 0),
    )


async def authorities_of(
    store: DocumentStore, person_id: str, today: date
) -> tuple[Authority, ...]:
    """What ``person_id`` may act for today: enterprises they represent, then live grants."""
    represented = await store.find(ENTERPRISES, {"legal_rep": person_id}, sort=[("_id", 1)])
    found = [Authority(enterprise(e["_id"])) for e in represented]
    grants = await store.find(MANDATES, {"agent": person_id, "status": Status.GRANTED.value})
    for doc in sorted(grants, key=lambda d: d["requested_at"]):
        mandate = mandate_from_doc(doc)
        if mandate.active_on(today) and all(a.principal != mandate.principal for a in found):
            found.append(mandate.authority())
    return tuple(found)


async def holders_of(store: DocumentStore, principal: str, today: date) -> list[str]:
    """The people who act for ``principal`` in every matter: whom its space's news reaches."""
    kind, _, ref = principal.partition(":")
    if kind == "person":
        return [ref]
    rep = await store.get(ENTERPRISES, ref)
    people = [rep["legal_rep"]] if rep else []
    for doc in await store.find(MANDATES, {"principal": principal, "status": "granted"}):
        m = mandate_from_doc(doc)
        if m.active_on(today) and m.matters is None and m.agent not in people:
            people.append(m.agent)
    return people


def enterprise_doc(
    uscc: str, name: str | None, legal_rep: str, rep_name: str, *, how: str, at: datetime
) -> dict[str, Any]:
    return {
        "_id": uscc,
        "name": name,
        "legal_rep": legal_rep,
        "legal_rep_name": rep_name,
        "established_by": how,  # licence:<object key> | admin:<account>
        "at": at.isoformat(),
    }
