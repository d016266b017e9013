"""Booking hall slots: never over capacity, one booking per person, matter and day.

Each slot has a ledger document counting the places taken; a booking raises it by
compare-and-set in the same transaction that stores the booking and its lock. Under
contention the losers re-read and try again until they win a place or see the slot full, so
every attempt ends in a booking or a clear refusal, never in a double booking. A reschedule
takes the new place the same way and gives the old one back in the same transaction.

Within one instance, racers for the same slot take turns (a lock per slot) instead of
colliding at commit: a group commit lets only one of them through per slot, so colliding cost a
retry each and left the unlucky ones waiting longest. Across instances the compare-and-set
alone keeps capacity.

Beside the service: reading bookings and free slots (``booking_reads``), the confirmation
message (``booking_confirmations``), check-in and queue numbers (``booking_check_in``), the
day-before reminder (``booking_reminders``), no-shows and the pause they lead to
(``no_shows``), the dashboard's figures (``hall_figures``), the window's queue
(``hall_window``) and each hall's rules and whereabouts (``hall_admin``).
"""

from __future__ import annotations

import asyncio
import random
import uuid
import weakref
from collections.abc import Callable
from datetime import date, datetime, time

from app.domain.actors import Actor, Role
from app.domain.appointments import BOOKED, Booking, Hall, HallRules, what_to_bring
from app.domain.case_states import TERMINAL
from app.domain.cases import Case
from app.domain.catalog import Matter
from app.domain.errors import DomainError, NotFoundError, NotPermitted, ValidationFailed
from app.domain.short_codes import new_short_code
from app.services.appointment_records import (
    BOOKINGS,
    LEDGERS,
    LOCKS,
    booking_from_doc,
    booking_to_doc,
    ledger_id,
    lock_id,
)
from app.services.booking_check_in import CheckIn
from app.services.booking_confirmations import confirm
from app.services.booking_reads import NOT_FOUND, BookingReads
from app.services.booking_reminders import remind_tomorrow
from app.services.calendar import CalendarService
from app.services.case_reads import NOT_FOUND as CASE_NOT_FOUND
from app.services.cases import CaseService
from app.services.catalog import get_matter, open_to
from app.services.hall_admin import HallAdministration, read_hall, read_rules
from app.services.hall_figures import hall_figures
from app.services.hall_window import HallWindow
from app.services.no_shows import check_not_restricted, mark_no_shows
from storage.documents import Document, DocumentStore, DuplicateKey, Transaction, VersionConflict
from storage.documents import NotFound as StoreNotFound

MAX_ATTEMPTS = 80  # re-reads under contention; each round at least one contender wins


class SlotFull(ValidationFailed):
    """Every place of the slot is taken; ``next_free`` is the nearest slot still open."""

    def __init__(self, message: str, next_free: tuple[date, time] | None) -> None:
        super().__init__(message)
        self.next_free = next_free


async def _take_place(
    tx: Transaction, key: str, department: str, day: date, ledger: Document | None
) -> None:
    """Raise the slot's ledger by one: compare-and-set on the version read, or its first insert."""
    counted = {"_id": key, "department": department, "day": day.isoformat(),
               "taken": (ledger["taken"] if ledger else 0) + 1}  # fmt: skip
    if ledger is None:
        await tx.insert(LEDGERS, counted)
    else:
        await tx.replace(LEDGERS, counted, expected_version=ledger["_version"])


class AppointmentService:
    def __init__(
        self,
        store: DocumentStore,
        calendars: CalendarService,
        cases: CaseService,
        *,
        secret: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._calendars = calendars
        self._cases = cases
        self._clock = clock
        self._reads = BookingReads(store, calendars, clock=clock)
        self._check_in = CheckIn(store, secret=secret.encode(), clock=clock)
        self.window = HallWindow(store, clock=clock)
        self.admin = HallAdministration(store, clock=clock)
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def rules(self, department: str) -> HallRules:
        return await read_rules(self._store, department)

    async def hall(self, matter: Matter, rules: HallRules | None = None) -> Hall:
        """Where the matter's hall is and when it opens, for the visitor (the opening hours from
        ``rules``, when they have been read already)."""
        return await read_hall(self._store, matter.department, matter.department_name, rules)

    async def book(
        self,
        actor: Actor,
        matter_code: str,
        day: date,
        slot: time,
        *,
        case_number: str | None = None,
    ) -> Booking:
        """Take a place, or say in Chinese why not (full: with the nearest free slot)."""
        if actor.role is not Role.APPLICANT:
            raise NotPermitted("只有申请人可以预约")
        matter = await get_matter(self._store, matter_code)
        if not open_to(actor, [matter]):  # a hand-made form, for a matter not offered to them
            raise NotPermitted("您不能预约该事项：它面向企业，请先取得企业的授权")
        rules = await self.rules(matter.department)
        now = self._clock()
        rules.check_slot(day, slot, now, await self._calendars.calendar())
        await check_not_restricted(self._store, actor, matter.department, rules, now)
        case: Case | None = None
        if case_number is not None:
            case = await self._cases.get(actor, case_number)
            if not case.is_owner(actor) or case.terms.code != matter_code:
                raise NotFoundError(CASE_NOT_FOUND)
            if case.state in TERMINAL:
                raise ValidationFailed("该办件已结束，不能再为它预约；如需重新办理，请先新建办件")
        lock = lock_id(actor.id, matter_code, day)
        key = ledger_id(matter.department, day, slot)
        hall, (bring, _) = await self.hall(matter, rules), what_to_bring(matter, case)
        async with self._turn(key):
            for _ in range(MAX_ATTEMPTS):
                if await self._store.get(LOCKS, lock) is not None:
                    raise ValidationFailed("您当天已预约过该事项；如需改时间，请在原预约中选择改约")
                ledger = await self._store.get(LEDGERS, key)
                if (ledger["taken"] if ledger else 0) >= rules.capacity_at(slot):
                    break  # full: the next free slot is looked for out of turn
                booking = Booking(
                    id=uuid.uuid4().hex,
                    person=actor.id,
                    matter_code=matter_code,
                    department=matter.department,
                    day=day,
                    slot=slot,
                    created_at=now,
                    case_number=case_number,
                    short=new_short_code(),
                )
                try:
                    async with self._store.transaction() as tx:
                        await tx.insert(LOCKS, {"_id": lock, "booking": booking.id})
                        await tx.insert(BOOKINGS, booking_to_doc(booking))
                        await _take_place(tx, key, matter.department, day, ledger)
                        await confirm(tx, booking, matter, hall, rules, bring, now)
                except (VersionConflict, DuplicateKey):
                    await asyncio.sleep(random.uniform(0, 0.002))  # noqa: S311 - jitter, not a secret
                    continue  # someone else took a place (or this person booked meanwhile): re-read
                return booking
            else:
                raise ValidationFailed("预约的人太多了，请稍后再试")
        raise await self._full(matter.department, rules, day, slot)

    async def cancel(self, actor: Actor, booking_id: str) -> Booking:
        """Give the place back, up to the department's cut-off before the slot."""
        booking = await self._reads.own(actor, booking_id)
        rules = await self.rules(booking.department)
        booking.cancel(rules, self._clock())
        key = ledger_id(booking.department, booking.day, booking.slot)
        for _ in range(MAX_ATTEMPTS):
            ledger = await self._store.get(LEDGERS, key)
            stored = await self._store.get(BOOKINGS, booking.id)
            if ledger is None or stored is None or stored["state"] != BOOKED:
                raise NotFoundError(NOT_FOUND)
            try:
                async with self._store.transaction() as tx:
                    doc = booking_to_doc(booking)
                    await tx.replace(BOOKINGS, doc, expected_version=stored["_version"])
                    freed = {**ledger, "taken": ledger["taken"] - 1}
                    await tx.replace(LEDGERS, freed, expected_version=ledger["_version"])
                    await tx.delete(
                        LOCKS, lock_id(booking.person, booking.matter_code, booking.day)
                    )
            except VersionConflict:
                continue
            return booking
        raise ValidationFailed("操作太频繁，请稍后再试")

    async def movable(self, actor: Actor, booking_id: str) -> Booking:
        """One of the actor's bookings that may still be rescheduled or cancelled (else why not)."""
        booking = await self._reads.own(actor, booking_id)
        booking.check_changeable(await self.rules(booking.department), self._clock())
        return booking

    async def reschedule(self, actor: Actor, booking_id: str, day: date, slot: time) -> Booking:
        """Move a booking to another slot until the cut-off, atomically; the new booking.

        One transaction ends the old booking (its check-in code stops working), stores its
        replacement, takes the new place by compare-and-set, gives the old place back, moves the
        person's day lock and queues the new confirmation. A full slot is refused with the
        nearest free one; then nothing has changed.
        """
        old = await self._reads.own(actor, booking_id)
        rules = await self.rules(old.department)
        now = self._clock()
        old.check_changeable(rules, now)
        rules.check_slot(day, slot, now, await self._calendars.calendar())
        matter = await get_matter(self._store, old.matter_code)
        hall = await self.hall(matter, rules)
        bring, _ = what_to_bring(matter, await self._case_of(actor, old))
        new_key = ledger_id(old.department, day, slot)
        old_key = ledger_id(old.department, old.day, old.slot)
        new_lock = lock_id(old.person, old.matter_code, day)
        old_lock = lock_id(old.person, old.matter_code, old.day)
        for _ in range(MAX_ATTEMPTS):
            stored = await self._store.get(BOOKINGS, old.id)
            if stored is None:
                raise NotFoundError(NOT_FOUND)
            booking = booking_from_doc(stored)
            moved = Booking(
                id=uuid.uuid4().hex,
                person=booking.person,
                matter_code=booking.matter_code,
                department=booking.department,
                day=day,
                slot=slot,
                created_at=now,
                case_number=booking.case_number,
                short=new_short_code(),
            )
            booking.move_to(moved, rules, now)  # refuses a used, cancelled or too-late booking
            if day != old.day and await self._store.get(LOCKS, new_lock) is not None:
                raise ValidationFailed("您当天已预约过该事项，请选择其他日期")
            ledger = await self._store.get(LEDGERS, new_key)
            if (ledger["taken"] if ledger else 0) >= rules.capacity_at(slot):
                raise await self._full(old.department, rules, day, slot, skip=(old.day, old.slot))
            freed = await self._store.get(LEDGERS, old_key)
            lock = await self._store.get(LOCKS, old_lock)
            if freed is None or lock is None:
                raise NotFoundError(NOT_FOUND)
            try:
                async with self._store.transaction() as tx:
                    await tx.replace(
                        BOOKINGS, booking_to_doc(booking), expected_version=stored["_version"]
                    )
                    await tx.insert(BOOKINGS, booking_to_doc(moved))
                    await _take_place(tx, new_key, old.department, day, ledger)
                    given_back = {**freed, "taken": freed["taken"] - 1}
                    await tx.replace(LEDGERS, given_back, expected_version=freed["_version"])
                    if day == old.day:
                        held = {"_id": old_lock, "booking": moved.id}
                        await tx.replace(LOCKS, held, expected_version=lock["_version"])
                    else:
                        await tx.delete(LOCKS, old_lock, expected_version=lock["_version"])
                        await tx.insert(LOCKS, {"_id": new_lock, "booking": moved.id})
                    await confirm(tx, moved, matter, hall, rules, bring, now)
            except (VersionConflict, DuplicateKey, StoreNotFound):
                await asyncio.sleep(random.uniform(0, 0.002))  # noqa: S311 - jitter, not a secret
                continue  # a place, the booking or the lock changed meanwhile: decide again
            return moved
        raise ValidationFailed("预约的人太多了，请稍后再试")

    # -- reads (BookingReads) -------------------------------------------------------------------

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
        return await self._reads.next_free(department, rules, day, slot, skip=skip)

    async def days(self, matter_code: str) -> list[tuple[date, int]]:
        """The days one may book the matter's hall (the next open working days), each with
        its places left."""
        return await self._reads.days(matter_code)

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
        return await self._reads.offer(matter_code, count, skip=skip, day=day)

    async def booking_of(self, actor: Actor, booking_id: str) -> Booking:
        """One of the actor's own bookings (anyone else's does not exist for them)."""
        return await self._reads.own(actor, booking_id)

    async def bookings_of(self, actor: Actor) -> list[Booking]:
        return await self._reads.bookings_of(actor)

    # -- the hall's sweeps and figures -----------------------------------------------------------

    async def remind_tomorrow(self) -> int:
        """On the working day before a visit, one chat reminder per booking; how many queued."""
        return await remind_tomorrow(self._store, self._calendars, self._clock())

    async def mark_no_shows(self) -> int:
        """Bookings whose half-hour ended an hour ago without a check-in count as missed."""
        return await mark_no_shows(self._store, self._clock())

    async def hall_figures(self, days: int) -> list[dict[str, object]]:
        """Per department over the last ``days`` days: places, bookings, use, no-shows, waits."""
        return await hall_figures(self._store, self._calendars, self._clock(), days)

    # -- check-in (CheckIn) ----------------------------------------------------------------------

    def check_in_code(self, booking: Booking) -> str:
        """What the QR code carries: the booking and a signature over it and its day."""
        return self._check_in.code(booking)

    async def check_in(self, code: str, clerk: Actor | None = None) -> Booking:
        """The kiosk or a clerk scanned a code: checked in, with a queue number; once only."""
        return await self._check_in.check_in(code, clerk)

    # -- internals ------------------------------------------------------------------------------

    def _turn(self, key: str) -> asyncio.Lock:
        """This instance's queue for one slot: its own racers for the slot take turns instead of
        colliding at commit (fair, no wasted commits); other instances are still held off by the
        ledger's compare-and-set, which alone keeps capacity."""
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = asyncio.Lock()
        return turn

    async def _full(
        self,
        department: str,
        rules: HallRules,
        day: date,
        slot: time,
        *,
        skip: tuple[date, time] | None = None,
    ) -> SlotFull:
        free = await self.next_free(department, rules, day, slot, skip=skip)
        hint = (
            f"最近的空闲时段是 {free[0].month}月{free[0].day}日 {free[1]:%H:%M}"
            if free
            else "近期暂无空闲时段，请过几天再试"
        )
        return SlotFull(f"该时段已约满。{hint}。", free)

    async def _case_of(self, actor: Actor, booking: Booking) -> Case | None:
        """The case a visit is tied to, if it still exists for the applicant."""
        if booking.case_number is None:
            return None
        try:
            return await self._cases.get(actor, booking.case_number)
        except DomainError:
            return None  # withdrawn or gone: everything is brought
