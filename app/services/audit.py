"""Audit records for electronic supervision and PIPL access logs, one shape everywhere."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from storage.documents import Document, DocumentStore

AUDIT = "audit"


def audit_record(
    subject: str, action: str, actor: str, at: datetime, detail: dict[str, Any] | None = None
) -> Document:
    """An ``audit`` document: who did what to which subject, when (UTC)."""
    return {
        "_id": uuid.uuid4().hex,
        "subject": subject,
        "action": action,
        "actor": actor,
        "at": at.astimezone(UTC).isoformat(),
        "detail": detail or {},
    }


async def audit_trail(store: DocumentStore, subject: str) -> list[Document]:
    return await store.find(AUDIT, {"subject": subject}, sort=[("at", 1)])
