"""Moving a hall visit on the phone: the new code by chat, the old one dead, a full slot told."""

from __future__ import annotations

import re
from datetime import time

from app import keys
from app.domain.actors import Actor, Role
from tests.conftest import Clock
from tests.http.chat_world import OPENID, World, eventually, open_by_chat, sign_in
from tests.http.test_staff_pages import sign_in as staff_sign_in
from tests.http.test_staff_pages import token_of
from tests.service.hall import ADMIN

ME = Actor(f"wx-{OPENID}", Role.APPLICANT)
SLOT = re.compile(r'name="day" value="([^"]+)".*?name="slot" value="([^"]+)"', re.S)


async def test_a_visit_is_moved_on_its_page_and_only_the_new_code_checks_in(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    hall = http.app[keys.APPOINTMENTS]
    [matter] = await http.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    day = (await hall.offer(matter["_id"]))[0][0]  # today, Monday
    old = await hall.book(ME, matter["_id"], day, time(16, 30))
    await sign_in(world, f"/h5/bookings/{old.id}")
    assert "改约到其他时段" in await (await http.get(f"/h5/bookings/{old.id}")).text()
    page = await (await http.get(f"/h5/bookings/{old.id}/reschedule")).text()
    assert "原预约：" in page and "16:30" in page
    first = SLOT.search(page)
    assert first
    form = {"day": first[1], "slot": first[2]}
    forged = await http.post(f"/h5/bookings/{old.id}/reschedule", data=form | {"csrf": "0" * 32})
    assert forged.status == 403
    moved = await http.post(
        f"/h5/bookings/{old.id}/reschedule", data=form | {"csrf": token_of(page)}
    )
    assert moved.status == 200 and "签到二维码" in await moved.text()
    new_id = str(moved.url).rsplit("/", 1)[1]
    assert new_id != old.id
    old_page = await (await http.get(f"/h5/bookings/{old.id}")).text()
    assert "已改约" in old_page and f"/h5/bookings/{new_id}" in old_page and "<svg" not in old_page
    await eventually(lambda: any("改约成功" in t for t in world.chat()))

    await staff_sign_in(http, "reviewer-mz")
    scan = await (await http.get("/staff/checkin")).text()
    stale = await http.post(
        "/staff/checkin", data={"csrf": token_of(scan), "code": hall.check_in_code(old)}
    )
    assert "原二维码已失效" in await stale.text()
    new = await hall.booking_of(ME, new_id)
    fresh = await http.post(
        "/staff/checkin", data={"csrf": token_of(scan), "code": hall.check_in_code(new)}
    )
    assert "签到成功，排队号 1" in await fresh.text()


async def test_a_full_slot_is_told_with_the_next_free_one_and_a_late_move_is_refused(
    plain_world: World, clock: Clock
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    hall = http.app[keys.APPOINTMENTS]
    await hall.admin.set_rules(ADMIN, "mz", capacity=1)
    [matter] = await http.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    day = (await hall.offer(matter["_id"]))[0][0]
    mine = await hall.book(ME, matter["_id"], day, time(16, 30))
    page_url = f"/h5/bookings/{mine.id}/reschedule"
    await sign_in(world, page_url)
    page = await (await http.get(page_url)).text()
    await hall.book(Actor("wx-quicker", Role.APPLICANT), matter["_id"], day, time(15))
    form = {"csrf": token_of(page), "day": day.isoformat(), "slot": "15:00"}
    full = await http.post(page_url, data=form)
    text = await full.text()
    assert full.status == 409 and "该时段已约满" in text
    assert f"改到 {day.month}月{day.day}日 15:30" in text  # the nearest free slot, one tap away
    assert (await hall.booking_of(ME, mine.id)).state == "booked"

    clock.now = clock.now.replace(hour=7)  # 15:00 in Beijing: 90 minutes before 16:30
    late = await http.get(page_url)
    assert late.status == 409 and "不足 2 小时，不能取消或改约" in await late.text()
    refused = await http.post(page_url, data=form | {"slot": "16:00"})
    assert "不足 2 小时" in await refused.text()
    assert (await hall.booking_of(ME, mine.id)).state == "booked"
