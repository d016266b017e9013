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
from app.domain.workdays import WorkCalendar
from app.services.audit import AUDIT, audit_record
from app.services.calendar import CalendarService
from app.services.notify import NOTIFY_TOPIC, notice_payload
from storage.documents import Document, DocumentStore, VersionConflict
from storage.outbox import enqueue

FOLLOW_UPS = "follow_ups"
NO_FOLLOW_UP = "未找到该办件的差评跟进"


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
        "rater": item.rater,
        "answer": item.answer,
        "rounds": item.rounds,
        "earlier": item.earlier,
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
        rater=doc.get("rater", ""),
        answer=doc.get("answer"),
        rounds=doc.get("rounds", 1),
        earlier=list(doc.get("earlier", [])),
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
    """A supervisor closes the follow-up with what was done; refused if someone closed it first.

    The rater is told the result in the same unit of work (回访) and asked whether it helped.
    """
    item = await _load(store, case_number)
    due_on = item.due_on.isoformat()
    item.close(actor, resolution, now)
    detail = {"level": item.level, "resolution": item.resolution, "due_on": due_on}
    text = (
        f"【回访】您对办件 {item.case}（{item.matter_name}）的评价“{item.level}”，"
        f"督办人员已跟进处理：{item.resolution}\n问题解决了吗？请点击下方链接告诉我们。"
    )
    path = f"/h5/cases/{item.case}/follow-up"
    payload = notice_payload(item.rater, text, path, "答复回访", case=item.case)
    key = f"follow-up:{item.case}:{item.rounds}"
    return await _save(store, item, actor.id, now, "follow_up.close", detail, (key, payload))


async def reply_to_follow_up(
    store: DocumentStore,
    actor: Actor,
    case_number: str,
    resolved: bool,
    now: datetime,
    calendar: WorkCalendar,
) -> dict[str, Any]:
    """The rater's answer to the 回访; 未解决 sends the follow-up back to the supervisors."""
    item = await _load(store, case_number)
    if actor.id != item.rater:  # to anyone else the follow-up does not exist
        raise NotFoundError(NO_FOLLOW_UP)
    rounds = item.rounds
    item.reply(actor, resolved, now, calendar)
    detail = {"resolved": resolved, "round": rounds}
    return await _save(store, item, actor.id, now, "follow_up.reply", detail)


async def _load(store: DocumentStore, case_number: str) -> FollowUp:
    doc = await store.get(FOLLOW_UPS, case_number)
    if doc is None:
        raise NotFoundError(NO_FOLLOW_UP)
    return follow_up_from_doc(doc)


async def _save(
    store: DocumentStore,
    item: FollowUp,
    actor_id: str,
    now: datetime,
    action: str,
    detail: dict[str, Any],
    notice: tuple[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    record = audit_record(f"follow_up:{item.case}", action, actor_id, now, detail)
    try:
        async with store.transaction() as tx:
            saved = await tx.replace(
                FOLLOW_UPS, follow_up_to_doc(item), expected_version=item.version
            )
            await tx.insert(AUDIT, record)
            if notice is not None:
                key, payload = notice
                await enqueue(tx, topic=NOTIFY_TOPIC, key=key, payload=payload, now=now)
    except VersionConflict as exc:
        raise StaleVersion("该差评跟进刚被他人处理，请刷新后查看") from exc
    return saved


class FollowUpService:
    """What a bad rating's follow-up looks like to the one who rated, and their answer."""

    def __init__(self, store: DocumentStore, calendars: CalendarService) -> None:
        self._store = store
        self._calendars = calendars

    async def reply(self, actor: Actor, case_number: str, resolved: bool, now: datetime) -> None:
        calendar = await self._calendars.calendar()
        await reply_to_follow_up(self._store, actor, case_number, resolved, now, calendar)

    async def of_case(self, case_number: str) -> dict[str, Any] | None:
        return await follow_up_of(self._store, case_number)
