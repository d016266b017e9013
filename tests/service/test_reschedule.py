"""Rescheduling a hall visit: one transaction, never over capacity, the old code dead."""

from __future__ import annotations

import asyncio
from datetime import date, time

import pytest

from app.domain.actors import Actor, Role
from app.domain.errors import InvalidTransition, ValidationFailed
from app.services.appointment_records import BOOKINGS, LEDGERS, LOCKS, ledger_id, lock_id
from app.services.appointments import AppointmentService, SlotFull
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.hall import ADMIN, ME, NINE, TUESDAY, matter_code, with_capacity

TEN, WEDNESDAY = time(10), date(2026, 11, 4)
OTHER = Actor("wx-other", Role.APPLICANT)


async def taken(store: SqliteDocumentStore, day: date, slot: time) -> int:
    ledger = await store.get(LEDGERS, ledger_id("mz", day, slot))
    return int(ledger["taken"]) if ledger else 0


async def test_a_reschedule_moves_the_place_and_only_the_new_code_checks_in(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    await with_capacity(store, 1)
    code = await matter_code(store)
    old = await hall.book(ME, code, TUESDAY, NINE)
    old_qr = hall.check_in_code(old)
    new = await hall.reschedule(ME, old.id, TUESDAY, TEN)
    assert (new.day, new.slot, new.moved_from) == (TUESDAY, TEN, old.id)
    assert (await taken(store, TUESDAY, NINE), await taken(store, TUESDAY, TEN)) == (0, 1)
    assert (await store.get(LOCKS, lock_id(ME.id, code, TUESDAY)) or {})["booking"] == new.id
    assert (await hall.book(OTHER, code, TUESDAY, NINE)).slot == NINE  # the old place is free
    with pytest.raises(ValidationFailed, match="已预约过"):
        await hall.book(ME, code, TUESDAY, time(11))  # still one booking that day
    [confirmation] = await store.find("outbox", {"_id": f"booked:{new.id}"})
    assert "改约成功" in confirmation["payload"]["text"]
    assert "地点：市民政局政务服务窗口" in confirmation["payload"]["text"]  # which window
    assert confirmation["payload"]["path"] == f"/h5/bookings/{new.id}"

    clock.advance(days=1)  # Tuesday
    with pytest.raises(InvalidTransition, match="新的预约二维码"):
        await hall.check_in(old_qr)
    assert (await hall.check_in(hall.check_in_code(new))).queue_number == 1


async def test_moving_to_another_day_moves_the_one_booking_a_day_rule_with_it(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    code = await matter_code(store)
    tuesday = await hall.book(ME, code, TUESDAY, NINE)
    wednesday = await hall.reschedule(ME, tuesday.id, WEDNESDAY, NINE)
    assert await store.get(LOCKS, lock_id(ME.id, code, TUESDAY)) is None
    again = await hall.book(ME, code, TUESDAY, TEN)  # Tuesday is free for this person again
    with pytest.raises(ValidationFailed, match="当天已预约过"):
        await hall.reschedule(ME, again.id, WEDNESDAY, TEN)  # Wednesday is not
    assert (await store.get(BOOKINGS, again.id) or {})["state"] == "booked"
    assert await store.count(BOOKINGS, {"person": ME.id, "state": "booked"}) == 2
    assert wednesday.day == WEDNESDAY


async def test_a_full_slot_is_refused_with_the_next_free_one_and_nothing_moves(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    await with_capacity(store, 1)
    code = await matter_code(store)
    mine = await hall.book(ME, code, TUESDAY, NINE)
    await hall.book(OTHER, code, TUESDAY, TEN)
    with pytest.raises(SlotFull, match="10:30") as refused:
        await hall.reschedule(ME, mine.id, TUESDAY, TEN)
    assert refused.value.next_free == (TUESDAY, time(10, 30))
    assert (await store.get(BOOKINGS, mine.id) or {})["state"] == "booked"
    assert (await taken(store, TUESDAY, NINE), await taken(store, TUESDAY, TEN)) == (1, 1)
    assert await store.count("outbox") == 2  # the two confirmations, no third


async def test_after_the_cut_off_nothing_changes_and_the_message_says_why(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    code = await matter_code(store)
    mine = await hall.book(ME, code, TUESDAY, NINE)
    await hall.admin.set_rules(ADMIN, "mz", cutoff_hours=24)
    clock.now = clock.now.replace(day=2, hour=2)  # Monday 10:00: 23 hours before
    with pytest.raises(InvalidTransition, match="不足 24 小时，不能取消或改约"):
        await hall.reschedule(ME, mine.id, WEDNESDAY, NINE)
    with pytest.raises(InvalidTransition, match="不足 24 小时"):
        await hall.movable(ME, mine.id)
    assert (await store.get(BOOKINGS, mine.id) or {})["state"] == "booked"
    assert await taken(store, WEDNESDAY, NINE) == 0


async def test_twenty_moving_at_once_into_five_places_end_with_five_moved_and_counts_true(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    await with_capacity(store, 20)
    code = await matter_code(store)
    people = [Actor(f"wx-{n:02d}", Role.APPLICANT) for n in range(20)]
    async with store.transaction() as tx:  # fifteen places of 10:00 already taken
        await tx.insert(LEDGERS, {"_id": ledger_id("mz", TUESDAY, TEN), "department": "mz",
                                  "day": TUESDAY.isoformat(), "taken": 15})  # fmt: skip
    booked = [await hall.book(p, code, TUESDAY, NINE) for p in people]
    results = await asyncio.gather(
        *(hall.reschedule(p, b.id, TUESDAY, TEN) for p, b in zip(people, booked, strict=True)),
        return_exceptions=True,
    )
    moved = [r for r in results if not isinstance(r, BaseException)]
    assert len(moved) == 5 and sum(isinstance(r, SlotFull) for r in results) == 15
    assert (await taken(store, TUESDAY, NINE), await taken(store, TUESDAY, TEN)) == (15, 20)
    assert await store.count(BOOKINGS, {"state": "booked"}) == 20  # each person still has one


async def test_the_same_booking_moved_twice_at_once_leaves_one_live_booking(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    code = await matter_code(store)
    mine = await hall.book(ME, code, TUESDAY, NINE)
    results = await asyncio.gather(
        hall.reschedule(ME, mine.id, TUESDAY, TEN),
        hall.reschedule(ME, mine.id, TUESDAY, time(11)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert any(isinstance(r, InvalidTransition) and "已改约" in r.message for r in results)
    assert await store.count(BOOKINGS, {"person": ME.id, "state": "booked"}) == 1
    total = sum([await taken(store, TUESDAY, s) for s in (NINE, TEN, time(11))])
    assert total == 1
