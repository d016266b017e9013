"""Booking hall slots on the real store: never over capacity, even 200 at once for 10 places."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from app.domain.actors import Actor, Authority, Role, enterprise
from app.domain.case_states import Action
from app.domain.cases import CHINA
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted, ValidationFailed
from app.services.appointment_records import BOOKINGS, LEDGERS
from app.services.appointments import AppointmentService, SlotFull
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.catalog import get_matter as hall_matter
from app.services.catalog import list_matters
from bot.links import fits, link
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.hall import ADMIN, ME, NINE, TUESDAY, matter_code, with_capacity


async def test_two_hundred_people_at_once_for_ten_places_get_ten_bookings(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    await with_capacity(store, 10)
    code = await matter_code(store)
    people = [Actor(f"wx-{n:03d}", Role.APPLICANT) for n in range(200)]
    results = await asyncio.gather(
        *(hall.book(p, code, TUESDAY, NINE) for p in people), return_exceptions=True
    )
    booked = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, SlotFull)]
    assert len(booked) == 10 and len(refused) == 190  # nothing else: no error, no double
    assert len({b.person for b in booked}) == 10
    assert await store.count(BOOKINGS) == 10
    [ledger] = await store.find(LEDGERS)
    assert ledger["taken"] == 10
    assert refused[0].next_free == (TUESDAY, time(9, 30))  # and the next free slot offered
    assert "9:30" in refused[0].message or "09:30" in refused[0].message


async def test_one_booking_per_person_matter_and_day_and_cancelling_frees_the_place(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    await with_capacity(store, 1)
    code = await matter_code(store)
    mine = await hall.book(ME, code, TUESDAY, NINE)
    with pytest.raises(ValidationFailed, match="已预约过"):
        await hall.book(ME, code, TUESDAY, time(10))
    with pytest.raises(SlotFull):
        await hall.book(Actor("wx-other", Role.APPLICANT), code, TUESDAY, NINE)
    with pytest.raises(NotFoundError):  # someone else's booking does not exist for them
        await hall.cancel(Actor("wx-other", Role.APPLICANT), mine.id)
    await hall.cancel(ME, mine.id)
    theirs = await hall.book(Actor("wx-other", Role.APPLICANT), code, TUESDAY, NINE)
    assert theirs.slot == NINE
    assert (await hall.book(ME, code, TUESDAY, time(10))).slot == time(10)  # rebook allowed


async def test_a_check_in_code_works_once_on_its_day_and_a_forged_one_never(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    code = await matter_code(store)
    booking = await hall.book(ME, code, TUESDAY, NINE)
    qr = hall.check_in_code(booking)
    with pytest.raises(InvalidTransition, match="预约当天"):
        await hall.check_in(qr)  # it is still Monday
    clock.advance(days=1)
    with pytest.raises(NotFoundError):
        await hall.check_in(qr[:-1] + ("0" if qr[-1] != "0" else "1"))
    checked = await hall.check_in(qr)
    assert checked.queue_number == 1
    with pytest.raises(InvalidTransition, match="不能再次签到"):
        await hall.check_in(qr)


async def test_three_no_shows_keep_a_person_from_booking_online_for_a_while(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    code = await matter_code(store)
    async with store.transaction() as tx:
        for n in range(3):
            day = date(2026, 10, 20) + timedelta(days=n)
            await tx.insert(BOOKINGS, {
                "_id": f"old{n}", "person": ME.id, "matter_code": code, "department": "mz",
                "day": day.isoformat(), "slot": "09:00", "created_at": clock().isoformat(),
                "case_number": None, "state": "no_show", "queue_number": None, "history": [],
            })  # fmt: skip
    with pytest.raises(NotPermitted, match="3 次预约未到"):
        await hall.book(ME, code, TUESDAY, NINE)
    assert await store.count(BOOKINGS, {"state": "booked"}) == 0


async def test_the_working_day_before_a_reminder_and_after_the_slot_a_missed_visit_counts(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    code = await matter_code(store)
    friday = date(2026, 11, 6)
    booking = await hall.book(ME, code, date(2026, 11, 9), NINE)  # next Monday
    clock.now = clock.now.replace(day=5)  # Thursday: Monday is not the next working day yet
    assert await hall.remind_tomorrow() == 0
    clock.now = clock.now.replace(day=friday.day)
    assert await hall.remind_tomorrow() == 1
    assert await hall.remind_tomorrow() == 0  # once
    [reminder] = await store.find("outbox", {"_id": f"remind:{booking.id}"})
    text = reminder["payload"]["text"]
    assert "11月9日 09:00" in text
    place = await hall.hall(await hall_matter(store, code))  # where to go, and the way there
    assert place.address and f"地点：{place.window}，{place.address}" in text
    assert reminder["payload"]["links"] == [{"url": place.map_url, "label": "在地图中查看大厅位置"}]
    clock.now = clock.now.replace(day=9, hour=1, minute=20)  # 09:20 Monday: still in time
    assert await hall.mark_no_shows() == 0
    clock.advance(hours=2)
    assert await hall.mark_no_shows() == 1
    assert (await store.get(BOOKINGS, booking.id) or {})["state"] == "no_show"


async def test_each_reminder_of_a_busy_day_names_its_own_matter_and_hall(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    matters = [await hall_matter(store, await matter_code(store))]
    matters.append(next(m for m in await list_matters(store) if m.department not in {"mz"}))
    monday = date(2026, 11, 9)
    people = [ME, Actor("wx-two", Role.APPLICANT), Actor("wx-three", Role.APPLICANT)]
    bookings = [
        await hall.book(who, matter.code, monday, NINE)
        for who, matter in zip(people, [matters[0], matters[1], matters[0]], strict=True)
    ]
    clock.now = clock.now.replace(day=6)  # Friday: Monday is the next working day

    assert await hall.remind_tomorrow() == 3

    for booking, matter in zip(bookings, [matters[0], matters[1], matters[0]], strict=True):
        [reminder] = await store.find("outbox", {"_id": f"remind:{booking.id}"})
        place = await hall.hall(matter)
        assert f"办理“{matter.name}”" in reminder["payload"]["text"]
        assert f"地点：{place.place}" in reminder["payload"]["text"]
    assert (await hall.hall(matters[0])).window != (await hall.hall(matters[1])).window


async def test_an_administrator_sets_capacity_and_closures_and_lifts_a_restriction(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    rules = await hall.admin.set_rules(ADMIN, "mz", capacity=2, close=[TUESDAY])
    assert rules.capacity == 2 and TUESDAY in rules.closures
    code = await matter_code(store)
    with pytest.raises(ValidationFailed, match="不开放"):
        await hall.book(ME, code, TUESDAY, NINE)
    await hall.admin.set_rules(ADMIN, "mz", reopen=[TUESDAY])
    with pytest.raises(ValidationFailed, match="1 到 500"):
        await hall.admin.set_rules(ADMIN, "mz", capacity=0)
    async with store.transaction() as tx:
        await tx.insert("users", {"_id": ME.id, "role": "applicant"})
        for n in range(3):
            await tx.insert(BOOKINGS, {
                "_id": f"miss{n}", "person": ME.id, "matter_code": code, "department": "mz",
                "day": f"2026-10-2{n}", "slot": "09:00", "created_at": clock().isoformat(),
                "case_number": None, "state": "no_show", "queue_number": None, "history": [],
            })  # fmt: skip
    with pytest.raises(NotPermitted):
        await hall.book(ME, code, TUESDAY, NINE)
    [(who, department, until)] = await hall.admin.restrictions()
    assert (who, department) == (ME.id, "mz")
    assert until.date() == date(2026, 11, 21)  # 30 days after the last miss
    reviewer = Actor("reviewer-mz", Role.REVIEWER, department="mz")
    with pytest.raises(NotPermitted, match="只有管理员"):
        await hall.admin.lift_restriction(reviewer, ME.id)
    await hall.admin.lift_restriction(ADMIN, ME.id)
    assert await hall.admin.restrictions() == []
    assert (await hall.book(ME, code, TUESDAY, NINE)).slot == NINE

    # Only administrators change a hall, and each change is on the audit trail.
    with pytest.raises(NotPermitted, match="只有管理员"):
        await hall.admin.set_rules(reviewer, "mz", capacity=50)
    assert (await hall.rules("mz")).capacity == 2
    trail = [(a["action"], a["actor"], a["detail"]) for a in await store.find("audit")]
    assert ("hall.rules", "admin", {"capacity": 2, "close": ["2026-11-03"], "reopen": []}) in trail
    assert ("hall.lift", "admin", {}) in trail


async def test_a_department_sets_its_own_no_show_rule_and_only_its_hall_counts(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    code = await matter_code(store)
    other = next(
        str(m["_id"]) for m in await store.find("matters") if m["department"] not in {"mz"}
    )
    rules = await hall.admin.set_rules(
        ADMIN, "mz", no_show_limit=2, no_show_days=7, restrict_days=14
    )
    assert (rules.no_show_limit, rules.no_show_window.days, rules.restriction.days) == (2, 7, 14)
    for bad in ({"no_show_limit": 0}, {"no_show_days": 0}, {"restrict_days": 400}):
        with pytest.raises(ValidationFailed, match="之间"):
            await hall.admin.set_rules(ADMIN, "mz", **bad)  # type: ignore[arg-type]
    async with store.transaction() as tx:
        for n, day in enumerate(("2026-10-20", "2026-10-29", "2026-10-30")):
            await tx.insert(BOOKINGS, {
                "_id": f"miss{n}", "person": ME.id, "matter_code": code, "department": "mz",
                "day": day, "slot": "09:00", "created_at": clock().isoformat(),
                "case_number": None, "state": "no_show", "queue_number": None, "history": [],
            })  # fmt: skip
    # Two misses within 7 days at mz's hall (the one on 10-20 is too old to count).
    with pytest.raises(NotPermitted, match="7 天内在本大厅有 2 次预约未到，2026-11-13 前"):
        await hall.book(ME, code, TUESDAY, NINE)
    paused_until = datetime(2026, 11, 13, 9, tzinfo=CHINA)  # the last miss + 14 days
    assert await hall.admin.restrictions() == [(ME.id, "mz", paused_until)]
    # Another department's hall does not hold mz's misses against the applicant.
    assert (await hall.book(ME, other, TUESDAY, NINE)).slot == NINE
    clock.advance(days=14)  # the pause is over
    assert await hall.admin.restrictions() == []


async def test_a_clerk_checks_in_only_their_own_departments_visitors(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    booking = await hall.book(ME, await matter_code(store), TUESDAY, NINE)
    clock.advance(days=1)
    with pytest.raises(NotPermitted, match="本部门"):
        await hall.check_in(hall.check_in_code(booking), Actor("r", Role.REVIEWER, department="ga"))
    for other in (Role.COURIER, Role.SUPERVISOR, Role.ADMIN):  # nobody else's door either
        with pytest.raises(NotPermitted, match="窗口工作人员"):
            await hall.check_in(hall.check_in_code(booking), Actor("x", other))
    clerk = Actor("r", Role.REVIEWER, department="mz")
    assert (await hall.check_in(hall.check_in_code(booking), clerk)).queue_number == 1


async def test_supervisors_see_use_no_shows_and_arrival_per_department(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    await with_capacity(store, 2)
    code = await matter_code(store)
    came = await hall.book(ME, code, TUESDAY, NINE)
    await hall.book(Actor("wx-b", Role.APPLICANT), code, TUESDAY, time(10))
    clock.now = clock.now.replace(day=3, hour=0, minute=50)  # Tuesday 08:50: ten minutes early
    await hall.check_in(hall.check_in_code(came))
    clock.now = clock.now.replace(hour=5)  # 13:00: the 10:00 visit was missed
    await hall.mark_no_shows()
    [mz] = await hall.hall_figures(days=7)
    assert (mz["department"], mz["booked"], mz["checked_in"], mz["no_show"]) == ("mz", 2, 1, 1)
    assert mz["arrival"] == -10
    # The last 7 days hold 5 working days (Wed–Fri, Mon, Tue): 13 slots of 2 places each.
    assert mz["places"] == 5 * 13 * 2 and mz["use"] == round(100 * 2 / 130, 1)


async def test_a_half_hour_with_its_own_places_fills_at_that_number_and_a_closed_one_is_refused(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    rules = await hall.admin.set_rules(ADMIN, "mz", capacity=3, slots={NINE: 1, time(16, 30): 0})
    assert rules.capacity_at(NINE) == 1 and rules.capacity_at(time(10)) == 3
    code = await matter_code(store)
    await hall.book(ME, code, TUESDAY, NINE)
    with pytest.raises(SlotFull):
        await hall.book(Actor("wx-b", Role.APPLICANT), code, TUESDAY, NINE)
    with pytest.raises(ValidationFailed, match="开放时间"):
        await hall.book(Actor("wx-b", Role.APPLICANT), code, TUESDAY, time(16, 30))
    offered = {(d, s): free for d, s, free in await hall.offer(code, count=40)}
    assert (TUESDAY, NINE) not in offered and (TUESDAY, time(16, 30)) not in offered
    assert offered[(TUESDAY, time(9, 30))] == 3
    with pytest.raises(ValidationFailed, match="时段起点"):
        await hall.admin.set_rules(ADMIN, "mz", slots={time(12): 2})


async def test_a_visit_is_tied_only_to_the_applicants_own_case_still_open(
    hall: AppointmentService, store: SqliteDocumentStore, clock: Clock
) -> None:
    code = await matter_code(store)
    cases = CaseService(store, CalendarService(store), clock=clock)
    case = await cases.open(ME, code)
    with pytest.raises(NotFoundError, match="未找到该办件"):
        await hall.book(Actor("wx-b", Role.APPLICANT), code, TUESDAY, NINE, case_number=case.number)
    await cases.act(ME, case.number, Action.WITHDRAW, version=case.version, reason=None)
    with pytest.raises(ValidationFailed, match="办件已结束"):
        await hall.book(ME, code, TUESDAY, NINE, case_number=case.number)
    assert await store.count(BOOKINGS) == 0


async def test_every_matters_confirmation_fits_one_chat_message_and_lists_its_materials(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    # An agent of an enterprise, so that its matters are open to them too.
    agent = replace(ME, authorities=(Authority(enterprise("91350100M000100Y43")),))
    for doc in await store.find("matters"):
        matter = await hall_matter(store, doc["_id"])
        booking = await hall.book(agent, matter.code, TUESDAY, NINE)
        [sent] = await store.find("outbox", {"_id": f"booked:{booking.id}"})
        text, links = sent["payload"]["text"], sent["payload"]["links"]
        qr = link("http://127.0.0.1:8080" + sent["payload"]["path"], "预约二维码")
        whole = "\n".join([text, qr, *(link(x["url"], x["label"]) for x in links)])
        assert fits(whole), matter.name  # WeChat would cut it past 2,048 bytes
        assert "地点：" in text and "开放时间：工作日" in text and links, matter.name
        for m in matter.materials:
            form = {"original": "原件", "copy": "复印件", "electronic": "电子材料"}[m.form]
            assert f"{m.name}（{form}）{m.copies} 份" in text, (matter.name, m.name)


async def test_a_department_without_a_recorded_counter_gets_no_invented_address(
    hall: AppointmentService, store: SqliteDocumentStore
) -> None:
    async with store.transaction() as tx:
        await tx.delete("department_counters", "mz")
    matter = await hall_matter(store, await matter_code(store))
    place = await hall.hall(matter)
    assert (place.window, place.address, place.map_url) == ("市民政局办事窗口", None, None)
    booking = await hall.book(ME, matter.code, TUESDAY, NINE)
    [sent] = await store.find("outbox", {"_id": f"booked:{booking.id}"})
    assert "地点：市民政局办事窗口\n" in sent["payload"]["text"] and sent["payload"]["links"] == []
