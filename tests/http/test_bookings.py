"""The check-in QR page for the applicant, and the hall's scan page for the clerk."""

from __future__ import annotations

import re
from datetime import time

from app import keys
from app.domain.actors import Actor, Role
from tests.http.chat_world import OPENID, World, eventually, open_by_chat, sign_in
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


FORM_ZH = {"original": "原件", "copy": "复印件", "electronic": "电子材料"}


async def jtys_matter(world: World) -> str:
    """The transport bureau's matter: it asks for an original, the others for copies."""
    [matter] = await world.client.app[keys.DOCUMENTS].find("matters", {"department": "jtys"})
    return str(matter["_id"])


async def test_the_booking_page_offers_the_working_days_the_hall_and_what_to_bring(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    matter = await world.client.app[keys.CATALOG].get(await jtys_matter(world))
    page = f"/h5/book?matter={matter.code}"
    await sign_in(world, page)
    html = await (await http.get(page)).text()
    days = re.findall(r'<a class="day[^"]*" href="([^"]+)"', html)
    assert len(days) == 7  # the hall's next seven working days (the test clock: a Monday)
    assert "福建省福州市晋安区福新东路 268 号交通综合楼一楼" in html
    assert 'href="https://uri.amap.com/search?keyword=' in html and "在地图中查看" in html
    assert "开放时间：工作日 09:00—12:00、13:30—17:00" in html
    for m in matter.materials:  # each exactly as the catalog gives it, nothing invented
        assert f"{m.name}（{FORM_ZH[m.form]}）{m.copies} 份" in html
    assert html.count("（复印件）") == sum(m.form == "copy" for m in matter.materials)

    thursday_html = await (await http.get(days[3].replace("&amp;", "&"))).text()
    assert "11月5日（周四）可预约的时段" in thursday_html
    slot = re.search(
        r'name="day" value="([^"]+)".*?name="slot" value="([^"]+)"', thursday_html, re.S
    )
    assert slot and slot[1] == "2026-11-05"
    form = {"csrf": token_of(thursday_html), "matter": matter.code, "day": slot[1], "slot": slot[2]}
    booked = await (await http.post("/h5/book", data=form)).text()
    assert "11月5日（周四）09:00" in booked and "市交通运输局政务服务窗口" in booked
    assert "福新东路 268 号" in booked and "uri.amap.com" in booked and "开放时间" in booked
    assert "原道路运输从业人员从业资格证（原件）1 份" in booked


async def test_the_confirmation_in_the_chat_says_where_when_and_what_to_bring_with_a_map(
    plain_world: World,
) -> None:
    world = plain_world
    await open_by_chat(world)
    matters = await world.say("我要预约")
    pick = next(line.split(".")[0] for line in matters.splitlines() if "老年人优待证" in line)
    await world.say(pick)
    await world.say("3")  # Wednesday
    assert "预约成功：11月4日（周三）09:00" in await world.say("1")
    await eventually(lambda: any("【预约成功】" in t for t in world.chat()))
    [told] = [t for t in world.chat() if "【预约成功】" in t]
    assert "时间：11月4日（周三）09:00—09:30" in told
    assert "地点：市民政局政务服务窗口，福建省福州市鼓楼区华林路 88 号民政服务中心一楼" in told
    assert "开放时间：工作日 09:00—12:00、13:30—17:00" in told
    assert "1. 居民身份证人像面（复印件）1 份" in told and "原件" not in told
    assert re.search(
        r'<a href="https://uri\.amap\.com/search\?keyword=[^"]+">在地图中查看大厅位置</a>', told
    )
    assert re.search(r'<a href="[^"]+/h5/bookings/[0-9a-f]+">预约二维码</a>', told)


async def test_another_day_is_picked_on_the_reschedule_page(plain_world: World) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    hall = world.client.app[keys.APPOINTMENTS]
    [matter] = await world.client.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    day = (await hall.offer(matter["_id"]))[0][0]
    booking = await hall.book(Actor(f"wx-{OPENID}", Role.APPLICANT), matter["_id"], day, time(16))
    page = f"/h5/bookings/{booking.id}/reschedule"
    await sign_in(world, page)
    html = await (await http.get(page)).text()
    friday = next(
        h for h in re.findall(r'<a class="day[^"]*" href="([^"]+)"', html) if "11-06" in h
    )
    moved_to = await (await http.get(friday)).text()
    assert "11月6日" in moved_to and 'name="day" value="2026-11-06"' in moved_to
    assert 'name="day" value="2026-11-02"' not in moved_to  # only the day picked
    assert "华林路 88 号" in moved_to and "uri.amap.com" in moved_to


async def test_a_hand_made_form_cannot_book_a_matter_not_offered_to_the_applicant(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    matters = await world.client.app[keys.DOCUMENTS].find("matters")
    firm = next(m for m in matters if m["targets"] == ["enterprise"])
    [mine] = await world.client.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    page = f"/h5/book?matter={mine['_id']}"
    await sign_in(world, page)
    html = await (await http.get(page)).text()
    assert firm["name"] not in html  # not offered to a citizen without the firm's authority
    first = re.search(r'name="day" value="([^"]+)".*?name="slot" value="([^"]+)"', html, re.S)
    assert first
    form = {"matter": firm["_id"], "day": first[1], "slot": first[2], "csrf": token_of(html)}
    refused = await http.post("/h5/book", data=form)
    assert refused.status == 403 and "请先取得企业的授权" in await refused.text()
    assert await world.client.app[keys.DOCUMENTS].count("bookings") == 0
