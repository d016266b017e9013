"""Reading bookings: one's own (anyone else's does not exist for them) and the slots still free."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, time

from app.domain.actors import Actor
from app.domain.appointments import BOOKED, Booking, HallRules
from app.domain.cases import CHINA
from app.domain.errors import NotFoundError
from app.services.appointment_records import BOOKINGS, LEDGERS, booking_from_doc, ledger_id
from app.services.calendar import CalendarService
from app.services.catalog import get_matter
from app.services.hall_admin import read_rules
from storage.documents import DocumentStore

NOT_FOUND = "没有找到这个预约"


class BookingReads:
    def __init__(
        self, store: DocumentStore, calendars: CalendarService, *, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._calendars = calendars
        self._clock = clock

    async def own(self, actor: Actor, booking_id: str) -> Booking:
        """One of the actor's own bookings."""
        doc = await self._store.get(BOOKINGS, booking_id)
        if doc is None or doc["person"] != actor.id:
            raise NotFoundError(NOT_FOUND)  # another's booking must not be known to exist
        return booking_from_doc(doc)

    async def bookings_of(self, actor: Actor) -> list[Booking]:
        docs = await self._store.find(BOOKINGS, {"person": actor.id, "state": BOOKED})
        return sorted((booking_from_doc(d) for d in docs), key=lambda b: b.starts)

    async def next_free(
        self,
        department: str,
        rules: HallRules,
        day: date,
        slot: time,
        *,
        skip: tuple[date, time] | None = None,
    ) -> tuple[date, time] | None:
        """The first slot after (``day``, ``slot``) with a place left, within the booking window."""
        async for found_day, start, _ in self._free_slots(department, rules, after=(day, slot)):
            if (found_day, start) != skip:
                return found_day, start
        return None

    async def days(self, matter_code: str) -> list[tuple[date, int]]:
        """Each day of the booking window for the matter's hall, with its places left (0: full)."""
        matter = await get_matter(self._store, matter_code)
        rules = await read_rules(self._store, matter.department)
        found: list[tuple[date, int]] = []
        for day in rules.open_days(self._clock(), await self._calendars.calendar()):
            free = await self._free_on(matter.department, rules, day)
            found.append((day, sum(places for _, places in free)))
        return found

    async def offer(
        self,
        matter_code: str,
        count: int | None = 9,
        *,
        skip: tuple[date, time] | None = None,
        day: date | None = None,
    ) -> list[tuple[date, time, int]]:
        """The next open slots for the matter's hall with places left: (day, start, free); on
        ``day`` only, if given; all of them if ``count`` is None."""
        matter = await get_matter(self._store, matter_code)
        rules = await read_rules(self._store, matter.department)
        found: list[tuple[date, time, int]] = []
        async for free in self._free_slots(matter.department, rules, on=day):
            if free[:2] == skip:
                continue
            found.append(free)
            if len(found) == count:
                break
        return found

    async def _free_slots(
        self,
        department: str,
        rules: HallRules,
        *,
        after: tuple[date, time] | None = None,
        on: date | None = None,
    ) -> AsyncIterator[tuple[date, time, int]]:
        """(day, start, places left) of every slot in the booking window with a place, in
        order, after ``after`` and on ``on`` only when given."""
        for day in rules.open_days(self._clock(), await self._calendars.calendar()):
            if (after is not None and day < after[0]) or (on is not None and day != on):
                continue
            for start, free in await self._free_on(department, rules, day):
                if after is None or (day, start) > after:
                    yield day, start, free

    async def _free_on(
        self, department: str, rules: HallRules, day: date
    ) -> list[tuple[time, int]]:
        """The slots of ``day`` still ahead with a place left, and how many."""
        now = self._clock()
        where = {"department": department, "day": day.isoformat()}
        taken = {d["_id"]: d["taken"] for d in await self._store.find(LEDGERS, where)}
        found = []
        for start in rules.slots():
            free = rules.capacity_at(start) - taken.get(ledger_id(department, day, start), 0)
            if free > 0 and datetime.combine(day, start, tzinfo=CHINA) > now:
                found.append((start, free))
        return found
