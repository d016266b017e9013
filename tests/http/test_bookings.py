"""The check-in QR page for the applicant, and the hall's scan page for the clerk."""

from __future__ import annotations

import re
from datetime import time

from app import keys
from app.domain.actors import Actor, Role
from tests.http.chat_world import OPENID, World, open_by_chat, sign_in
from tests.http.test_staff_pages import sign_in as staff_sign_in
from tests.http.test_staff_pages import token_of


async def test_the_applicant_shows_the_code_and_the_clerk_checks_them_in_once(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)  # bound as 张三
    hall = world.client.app[keys.APPOINTMENTS]
    store = world.client.app[keys.DOCUMENTS]
    [matter] = await store.find("matters", {"department": "mz"})
    day = (await hall.offer(matter["_id"]))[0][0]
    booking = await hall.book(
        Actor(f"wx-{OPENID}", Role.APPLICANT), matter["_id"], day, time(16, 30)
    )
    page = f"/h5/bookings/{booking.id}"
    await sign_in(world, page)
    html = await (await http.get(page)).text()
    assert "签到二维码" in html and "<svg" in html and "居民身份证人像面" in html
    typed = re.search(r'<code class="code">([0-9A-Z]{4}-[0-9A-Z]{4})</code>', html)
    assert typed, "the page gives a short code to type when the QR code will not scan"
    code = hall.check_in_code(booking)

    # The clerk, on the hall's phone; the test clock stands on the booked day, Monday morning.
    assert day == world.client.app[keys.CASES].now().date()
    await staff_sign_in(http, "reviewer-mz")
    scan = await (await http.get("/staff/checkin")).text()
    first = await http.post("/staff/checkin", data={"csrf": token_of(scan), "code": typed[1]})
    assert "签到成功，排队号 1" in await first.text()
    again = await http.post("/staff/checkin", data={"csrf": token_of(scan), "code": code})
    assert "不能再次签到" in await again.text()
    forged = await http.post(
        "/staff/checkin", data={"csrf": token_of(scan), "code": re.sub(".$", "x", code)}
    )
    assert "二维码无效" in await forged.text()


async def test_someone_elses_booking_page_does_not_exist(plain_world: World) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    hall = world.client.app[keys.APPOINTMENTS]
    [matter] = await world.client.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    day = (await hall.offer(matter["_id"]))[0][0]
    theirs = await hall.book(Actor("wx-someone", Role.APPLICANT), matter["_id"], day, time(16, 30))
    await sign_in(world, "/h5/cases")
    resp = await http.get(f"/h5/bookings/{theirs.id}")
    assert resp.status == 404 and "没有找到这个预约" in await resp.text()


async def test_a_visit_is_booked_on_the_phone_page_with_the_pages_token(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    [matter] = await world.client.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    page = f"/h5/book?matter={matter['_id']}"
    await sign_in(world, page)  # the chosen matter survives the sign-in
    html = await (await http.get(page)).text()
    assert "余 " in html
    first = re.search(r'name="day" value="([^"]+)".*?name="slot" value="([^"]+)"', html, re.S)
    assert first
    form = {"matter": matter["_id"], "day": first[1], "slot": first[2]}
    assert (await http.post("/h5/book", data=form | {"csrf": "0" * 32})).status == 403
    booked = await http.post("/h5/book", data=form | {"csrf": token_of(html)})
    assert booked.status == 200 and "/h5/bookings/" in str(booked.url)
    assert "签到二维码" in await booked.text()
    again = await http.post("/h5/book", data=form | {"csrf": token_of(html)})
    assert "已预约过" in await again.text()


async def test_a_visit_booked_for_a_case_shows_the_clerk_that_case(plain_world: World) -> None:
    world, http = plain_world, plain_world.client
    number = await open_by_chat(world)
    [matter] = await world.client.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    page = f"/h5/book?matter={matter['_id']}&case={number}"
    await sign_in(world, page)
    html = await (await http.get(page)).text()
    first = re.search(r'name="day" value="([^"]+)".*?name="slot" value="([^"]+)"', html, re.S)
    assert first
    form = {"csrf": token_of(html), "matter": matter["_id"], "case": number,
            "day": first[1], "slot": first[2]}  # fmt: skip
    booked = await http.post("/h5/book", data=form)
    booking_id = str(booked.url).rsplit("/", 1)[1]
    hall = world.client.app[keys.APPOINTMENTS]
    booking = await hall.booking_of(Actor(f"wx-{OPENID}", Role.APPLICANT), booking_id)
    assert booking.case_number == number
    await staff_sign_in(http, "reviewer-mz")
    scan = await (await http.get("/staff/checkin")).text()
    result = await http.post(
        "/staff/checkin", data={"csrf": token_of(scan), "code": hall.check_in_code(booking)}
    )
    assert f"/staff/cases/{number}" in await result.text()
