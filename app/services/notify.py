"""Queueing a chat message to an applicant outside a case change, at most once per key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.documents import DocumentStore
from storage.outbox import enqueue_alone

NOTIFY_TOPIC = "notify.applicant"


async def notify_once(
    store: DocumentStore,
    *,
    key: str,
    applicant_id: str,
    text: str,
    now: datetime,
    path: str | None = None,
    link_label: str | None = None,
    case: str = "",
    state: str = "",
    links: list[dict[str, str]] | None = None,
) -> bool:
    """Queue the message unless ``key`` was queued before; True when this call queued it.

    ``path`` is a page of ours the message links to, under ``link_label``; ``links`` are
    other addresses to add (``url`` and ``label`` each), a map's say.
    """
    payload = notice_payload(applicant_id, text, path, link_label, case=case, state=state)
    if links:
        payload["links"] = links
    return await enqueue_alone(store, topic=NOTIFY_TOPIC, key=key, payload=payload, now=now)


def notice_payload(
    applicant_id: str,
    text: str,
    path: str | None = None,
    link_label: str | None = None,
    *,
    case: str = "",
    state: str = "",
) -> dict[str, Any]:
    """The NOTIFY_TOPIC message to one person, for queueing inside a unit of work."""
    payload: dict[str, Any] = {
        "case": case,
        "applicant_id": applicant_id,
        "state": state,
        "text": text,
    }
    if path:
        payload |= {"path": path, "link_label": link_label or "查看详情"}
    return payload
