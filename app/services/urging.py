"""督办: a case that turns yellow or red is pushed to the people who must act, once per card.

The department's reviewers and every supervisor are told in the chat (the staff accounts that
linked a WeChat account; the others see it on their pages), once per case and colour: a yellow
card and then a red one are two pushes, a card seen again by the next run or by another
instance is none. A card whose case is no longer watched or back to green is marked lifted,
so the staff pages count only the cards that still stand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.domain.cases import china_date
from app.domain.supervision import WARNING_ZH
from app.services.accounts import USERS
from app.services.calendar import CalendarService
from app.services.notify import NOTIFY_TOPIC, notice_payload
from app.services.supervision import Card, warning_cards
from storage.documents import DocumentStore, DuplicateKey, VersionConflict
from storage.outbox import enqueue

URGES = "urges"  # _id "<case>:<yellow|red>": one push per case and colour


class UrgingService:
    """Pushes the day's yellow and red cards; counts those standing for a department."""

    def __init__(
        self, store: DocumentStore, calendars: CalendarService, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._calendars = calendars
        self._clock = clock

    async def push_cards(self) -> int:
        """Push every card not pushed before; lift those that no longer stand. New pushes."""
        now = self._clock()
        calendar = await self._calendars.calendar()
        cards, _ = await warning_cards(self._store, calendar, china_date(now))
        standing = {f"{c.number}:{c.warning.value}" for c in cards}
        for doc in await self._store.find(URGES, {"lifted_at": None}):
            if doc["_id"] not in standing:
                await self._lift(doc, now)
        staff = await self._store.find(USERS, {"role": {"$in": ["reviewer", "supervisor"]}})
        pushed = 0
        for card in cards:
            if await self._store.get(URGES, f"{card.number}:{card.warning.value}") is None:
                pushed += await self._push(card, staff, now)
        return pushed

    async def standing(self, department: str | None = None) -> int:
        """Cards still standing: a department's, or (None) all of them."""
        where: dict[str, Any] = {"lifted_at": None}
        if department is not None:
            where["department"] = department
        return await self._store.count(URGES, where)

    async def standing_cards(self, department: str) -> list[dict[str, Any]]:
        """A department's cards still standing, red first (what its queue shows at the top)."""
        docs = await self._store.find(URGES, {"lifted_at": None, "department": department})
        return sorted(docs, key=lambda d: (d["warning"] != "red", d["remaining_days"]))

    async def _push(self, card: Card, staff: list[dict[str, Any]], now: datetime) -> int:
        key = f"{card.number}:{card.warning.value}"
        left = (
            f"剩余 {card.remaining_days} 个工作日"
            if card.remaining_days >= 0
            else f"已超期 {-card.remaining_days} 个工作日"
        )
        text = (
            f"【督办·{WARNING_ZH[card.warning]}】{card.department}办件 {card.number}"
            f"（{card.matter}，{card.state}）{left}"
            + (f"，办结期限 {card.due_date}" if card.due_date else "")
            + "。请尽快办理。"
        )
        people = [
            s["_id"]
            for s in staff
            if s["role"] == "supervisor" or s.get("department") == card.department_code
        ]
        doc = {
            "_id": key,
            "number": card.number,
            "department": card.department_code,
            "warning": card.warning.value,
            "remaining_days": card.remaining_days,
            "due_date": card.due_date,
            "told": people,
            "at": now.isoformat(),
            "lifted_at": None,
        }
        try:
            async with self._store.transaction() as tx:
                await tx.insert(URGES, doc)
                for person in people:
                    payload = notice_payload(
                        person, text, f"/staff/cases/{card.number}", "查看办件", case=card.number
                    )
                    await enqueue(
                        tx, topic=NOTIFY_TOPIC, key=f"urge:{key}:{person}", payload=payload, now=now
                    )
        except DuplicateKey:  # another instance pushed this card first
            return 0
        return 1

    async def _lift(self, doc: dict[str, Any], now: datetime) -> None:
        lifted = {k: v for k, v in doc.items() if k != "_version"} | {"lifted_at": now.isoformat()}
        with contextlib.suppress(VersionConflict):  # another instance lifted it first
            async with self._store.transaction() as tx:
                await tx.replace(URGES, lifted, expected_version=doc["_version"])
