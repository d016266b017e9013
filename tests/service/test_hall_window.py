"""The window clerk's queue: numbers called in order, once each, the wait measured honestly."""

from __future__ import annotations

import asyncio
from datetime import time

import pytest

from app.domain.actors import Actor, Role
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted
from app.services.appointments import AppointmentService
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.hall import NINE, TUESDAY, matter_code, with_capacity

CLERK = Actor("reviewer-mz", Role.REVIEWER, department="mz")


def at(clock: Clock, hour: int, minute: int) -> None:
    """Tuesday, Beijing time."""
    clock.now = clock.now.replace(day=3, hour=hour - 8, minute=minute)


async def test_numbers_are_called_in_order_told_in_the_chat_and_each_only_once(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    await with_capacity(store, 5)
    code = await matter_code(store)
    people = [Actor(f"wx-{n}", Role.APPLICANT) for n in range(4)]
    bookings = [await hall.book(p, code, TUESDAY, NINE) for p in people]
    at(clock, 8, 50)
    for b in bookings:
        await hall.check_in(hall.check_in_code(b), CLERK)
    window = hall.window
    assert [b.queue_number for b in await window.queue(CLERK)] == [1, 2, 3, 4]
    first = await window.call_next(CLERK)
    assert first is not None and first.queue_number == 1
    [told] = await store.find("outbox", {"_id": f"called:{first.id}"})
    assert "请 1 号到市民政局窗口办理" in told["payload"]["text"]
    assert told["payload"]["applicant_id"] == "wx-0"
    # Two windows tap 叫下一位 at the same moment: two different numbers.
    other_clerk = Actor("reviewer-mz-2", Role.REVIEWER, department="mz")
    second, third = await asyncio.gather(window.call_next(CLERK), window.call_next(other_clerk))
    assert second is not None and third is not None
    assert {second.queue_number, third.queue_number} == {2, 3}
    with pytest.raises(InvalidTransition, match="不能叫号"):
        await window.call(CLERK, first.id)
    await window.serve(CLERK, first.id)
    with pytest.raises(InvalidTransition, match="请先叫号"):
        await window.serve(CLERK, bookings[3].id)
    states = [(b.queue_number, b.state) for b in await window.queue(CLERK)]
    assert states == [(1, "served"), (2, "called"), (3, "called"), (4, "checked_in")]
    last = await window.call_next(CLERK)
    assert last is not None and last.queue_number == 4
    assert await window.call_next(CLERK) is None  # nobody left waiting


async def test_another_departments_clerk_neither_sees_nor_calls_the_queue(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    booking = await hall.book(
        Actor("wx-a", Role.APPLICANT), await matter_code(store), TUESDAY, NINE
    )
    at(clock, 9, 0)
    await hall.check_in(hall.check_in_code(booking), CLERK)
    stranger = Actor("reviewer-ga", Role.REVIEWER, department="ga")
    assert await hall.window.queue(stranger) == []
    assert await hall.window.call_next(stranger) is None
    with pytest.raises(NotFoundError, match="没有这个号"):
        await hall.window.call(stranger, booking.id)
    with pytest.raises(NotPermitted, match="窗口工作人员"):
        await hall.window.queue(Actor("demo-supervisor", Role.SUPERVISOR))
    assert [b.state for b in await hall.window.queue(CLERK)] == ["checked_in"]


async def test_supervisors_see_the_average_wait_from_check_in_or_slot_start_to_the_call(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    code = await matter_code(store)
    early = await hall.book(Actor("wx-early", Role.APPLICANT), code, TUESDAY, NINE)
    late = await hall.book(Actor("wx-late", Role.APPLICANT), code, TUESDAY, NINE)
    waiting = await hall.book(Actor("wx-waiting", Role.APPLICANT), code, TUESDAY, time(9, 30))
    at(clock, 8, 40)
    await hall.check_in(hall.check_in_code(early), CLERK)  # twenty minutes early
    at(clock, 9, 10)
    await hall.check_in(hall.check_in_code(late), CLERK)  # ten minutes late
    at(clock, 9, 12)
    await hall.window.call_next(CLERK)  # early: waited 12 minutes past their 09:00
    at(clock, 9, 30)
    await hall.check_in(hall.check_in_code(waiting), CLERK)
    at(clock, 9, 36)
    await hall.window.call_next(CLERK)  # late: waited 26 minutes since checking in
    [mz] = await hall.hall_figures(days=7)
    assert (mz["checked_in"], mz["called"], mz["wait"]) == (3, 2, 19.0)  # (12 + 26) / 2
    assert mz["arrival"] == round((-20 + 10 + 0) / 3)
