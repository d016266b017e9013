"""Bad-rating follow-ups: stored shape, the open list, and a supervisor closing one (audited).

Opening happens in ``CaseService.rate``, in the transaction that records the rating. The
``follow_ups`` documents are a contract the supervisor dashboard reads:
``{"_id": case, "case", "department", "matter_code", "matter_name", "level", "comment",
"opened_at" (ISO UTC), "due_on" (YYYY-MM-DD), "closed_at", "closed_by", "resolution"}``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from app.domain.actors import Actor
from app.domain.errors import NotFoundError, StaleVersion
from app.domain.follow_ups import FollowUp
from app.services.audit import AUDIT, audit_record
from storage.documents import Document, DocumentStore, VersionConflict

FOLLOW_UPS = "follow_ups"


def _utc(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def follow_up_to_doc(item: FollowUp) -> Document:
    return {
        "_id": item.case,
        "case": item.case,
        "department": item.department,
        "matter_code": item.matter_code,
        "matter_name": item.matter_name,
        "level": item.level,
        "comment": item.comment,
        "opened_at": _utc(item.opened_at),
        "due_on": item.due_on.isoformat(),
        "closed_at": _utc(item.closed_at),
        "closed_by": item.closed_by,
        "resolution": item.resolution,
    }


def follow_up_from_doc(doc: Document) -> FollowUp:
    closed = doc.get("closed_at")
    return FollowUp(
        case=doc["case"],
        department=doc["department"],
        matter_code=doc["matter_code"],
        matter_name=doc["matter_name"],
        level=doc["level"],
        comment=doc["comment"],
        opened_at=datetime.fromisoformat(doc["opened_at"]),
        due_on=date.fromisoformat(doc["due_on"]),
        closed_at=datetime.fromisoformat(closed) if closed else None,
        closed_by=doc.get("closed_by"),
        resolution=doc.get("resolution"),
        version=doc.get("_version", 0),
    )


async def open_follow_ups(store: DocumentStore) -> list[dict[str, Any]]:
    """Every follow-up not yet closed, the nearest due date first."""
    return await store.find(FOLLOW_UPS, {"closed_at": None}, sort=[("due_on", 1)])


async def follow_up_of(store: DocumentStore, case_number: str) -> dict[str, Any] | None:
    """The follow-up a case's rating opened, if any (shown to its applicant)."""
    return await store.get(FOLLOW_UPS, case_number)


async def close_follow_up(
    store: DocumentStore, actor: Actor, case_number: str, resolution: str, now: datetime
) -> dict[str, Any]:
    """A supervisor closes the follow-up with what was done; refused if someone closed it first."""
    doc = await store.get(FOLLOW_UPS, case_number)
    if doc is None:
        raise NotFoundError("未找到该办件的差评跟进")
    item = follow_up_from_doc(doc)
    item.close(actor, resolution, now)
    detail = {"level": item.level, "resolution": item.resolution, "due_on": doc["due_on"]}
    record = audit_record(f"follow_up:{case_number}", "follow_up.close", actor.id, now, detail)
    try:
        async with store.transaction() as tx:
            saved = await tx.replace(
                FOLLOW_UPS, follow_up_to_doc(item), expected_version=item.version
            )
            await tx.insert(AUDIT, record)
    except VersionConflict as exc:
        raise StaleVersion("该差评跟进刚被他人处理，请刷新后查看") from exc
    return saved


class FollowUpService:
    """What a bad rating's follow-up looks like to the case's applicant."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def of_case(self, case_number: str) -> dict[str, Any] | None:
        return await follow_up_of(self._store, case_number)
