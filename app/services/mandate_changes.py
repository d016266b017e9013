"""Writing an authorisation's change: compare-and-set, its audit record, the chat message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.mandates import Mandate
from app.services.audit import AUDIT, audit_record
from app.services.mandate_records import MANDATES, mandate_to_doc
from storage.documents import Document, Transaction
from storage.outbox import enqueue

NOTIFY_PERSON = "notify.person"
AUTHORITY_PAGE = "/h5/authority"


async def write_change(
    tx: Transaction,
    before: Mandate,
    after: Mandate,
    by: str,
    at: datetime,
    text: str | None,
    **why: str,
) -> Document:
    """An authorisation's new state in ``tx``: compare-and-set, its audit record, and the
    agent's chat message when ``text`` is given. Every change of a mandate goes through here."""
    saved = await tx.replace(MANDATES, mandate_to_doc(after), expected_version=before.version)
    await tx.insert(AUDIT, mandate_audit(after, f"mandate.{after.status.value}", by, at, **why))
    if text:
        key = f"mandate:{after.id}:{after.status.value}"
        await tell(tx, after.agent, key, text, at)
    return saved


def mandate_audit(m: Mandate, action: str, by: str, at: datetime, **why: str) -> Document:
    """The audit record of a mandate's step: who, its agent, status, scope and end date."""
    detail: dict[str, Any] = {"agent": m.agent, "status": m.status.value, **why}
    if m.matters is not None:
        detail["matters"] = list(m.matters)
    if m.expires_on:
        detail["expires_on"] = m.expires_on.isoformat()
    return audit_record(m.principal, action, by, at, detail)


async def tell(
    tx: Transaction, person_id: str, key: str, text: str, at: datetime, path: str = ""
) -> None:
    """Queue a chat message to a person about an authorisation, linking to its page."""
    payload = told(person_id, text, path or AUTHORITY_PAGE)
    await enqueue(tx, topic=NOTIFY_PERSON, key=key, payload=payload, now=at)


def told(person_id: str, text: str, path: str) -> dict[str, Any]:
    """The ``notify.person`` payload: the message and a link to the authorisation page."""
    return {"person": person_id, "text": text, "path": path, "link_label": "查看授权"}
