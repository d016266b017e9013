"""The hall clerk's page: the visitor's case at check-in, today's queue, 叫号 and 办结."""

from __future__ import annotations

import re
from datetime import time

from app import keys
from app.domain.actors import Actor, Role
from tests.conftest import Clock
from tests.http.chat_world import OPENID, World, apply_by_chat, eventually, open_by_chat, sign_in
from tests.http.test_staff_pages import sign_in as staff_sign_in
from tests.http.test_staff_pages import token_of

ME = Actor(f"wx-{OPENID}", Role.APPLICANT)


async def test_at_check_in_the_clerk_sees_the_case_and_its_verdicts_and_the_visitor_what_to_bring(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)  # three photos the pre-check asked to retake
    store, hall = http.app[keys.DOCUMENTS], http.app[keys.APPOINTMENTS]
    passed = await store.get("prechecks", f"{number}:id_card_front")
    assert passed is not None
    async with store.transaction() as tx:  # the machine passed the front of the ID card
        await tx.replace("prechecks", passed | {"status": "pass", "findings": []},
                         expected_version=passed["_version"])  # fmt: skip
    [matter] = await store.find("matters", {"department": "mz"})
    day = (await hall.offer(matter["_id"]))[0][0]
    booking = await hall.book(ME, matter["_id"], day, time(16, 30), case_number=number)
    await sign_in(world, f"/h5/bookings/{booking.id}")
    page = await (await http.get(f"/h5/bookings/{booking.id}")).text()
    bring = page.split("请带齐以下材料")[1]
    assert "已在办件中提交、无需再带：居民身份证人像面" in bring
    assert "居民身份证国徽面（复印件）" in bring  # its photo is to be retaken

    await staff_sign_in(http, "reviewer-ga")  # another department's window
    scan = await (await http.get("/staff/checkin")).text()
    code = hall.check_in_code(booking)
    other = await http.post("/staff/checkin", data={"csrf": token_of(scan), "code": code})
    text = await other.text()
    assert other.status == 403 and "本部门" in text and number not in text

    await staff_sign_in(http, "reviewer-mz")
    scan = await (await http.get("/staff/checkin")).text()
    result = await (
        await http.post("/staff/checkin", data={"csrf": token_of(scan), "code": code})
    ).text()
    case = result.split('id="case"')[1].split("</section>")[0]
    assert "老年人优待证" in case and number in case
    assert re.search(r"居民身份证人像面.*?预审通过", case, re.S)
    assert re.search(r"居民身份证国徽面.*?需要重新提交", case, re.S)
    audit = await store.find("audit", {"subject": f"case:{number}", "action": "case.view"})
    assert [a["detail"]["purpose"] for a in audit] == ["checkin"]


async def test_the_clerk_calls_numbers_in_order_the_applicant_is_told_and_the_wait_counted(
    plain_world: World, clock: Clock
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)  # bound: the chat can tell them
    hall = http.app[keys.APPOINTMENTS]
    [matter] = await http.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    day = (await hall.offer(matter["_id"]))[0][0]
    other = await hall.book(Actor("wx-other", Role.APPLICANT), matter["_id"], day, time(9, 30))
    mine = await hall.book(ME, matter["_id"], day, time(9, 30))
    await staff_sign_in(http, "reviewer-mz")
    scan = await (await http.get("/staff/checkin")).text()
    assert "今天还没有待办理的签到" in scan
    for b in (other, mine):
        code = hall.check_in_code(b)
        await http.post("/staff/checkin", data={"csrf": token_of(scan), "code": code})
    desk = await (await http.get("/staff/checkin")).text()
    queue = desk.split('id="queue"')[1]
    assert queue.index(">1<") < queue.index(">2<") and queue.count(">叫号<") == 2

    assert (await http.post("/staff/checkin/next", data={"csrf": "0" * 32})).status == 403
    called = await http.post("/staff/checkin/next", data={"csrf": token_of(desk)})
    assert "已叫 1 号" in await called.text()
    clock.advance(minutes=42)  # 09:42: twelve minutes into their 09:30 half-hour
    again = await http.post("/staff/checkin/next", data={"csrf": token_of(desk)})
    assert "已叫 2 号" in await again.text()
    await eventually(lambda: any("请 2 号到市民政局窗口办理" in t for t in world.chat()))
    served = await http.post(f"/staff/checkin/{mine.id}/serve", data={"csrf": token_of(desk)})
    page = await served.text()
    assert "已办结 1 人" in page and page.split('id="queue"')[1].count(">办结<") == 1
    twice = await http.post(f"/staff/checkin/{mine.id}/serve", data={"csrf": token_of(desk)})
    assert twice.status == 409 and "2 号已办结" in await twice.text()
    none = await http.post("/staff/checkin/next", data={"csrf": token_of(desk)})
    assert "目前没有等候的申请人" in await none.text()

    await staff_sign_in(http, "demo-supervisor")
    dashboard = await (await http.get("/staff/dashboard")).text()
    hall_figures = dashboard.split('id="hall"')[1].split("</section>")[0]
    row = re.search(r"<td>市民政局</td>.*?</tr>", hall_figures, re.S)
    assert row and "<td>2</td>" in row[0] and "6.0 分钟" in row[0]  # checked in; (0 + 12) / 2
    assert "各部门平均等候时间" not in hall_figures  # a chart only compares departments

    matters = await http.app[keys.DOCUMENTS].find("matters")
    ga = next(m for m in matters if m["department"] == "ga")
    visit = await hall.book(Actor("wx-driver", Role.APPLICANT), ga["_id"], day, time(16, 30))
    ga_clerk = Actor("reviewer-ga", Role.REVIEWER, department="ga")
    await hall.check_in(hall.check_in_code(visit), ga_clerk)
    await hall.window.call_next(ga_clerk)
    dashboard = await (await http.get("/staff/dashboard")).text()
    chart = dashboard.split('id="hall"')[1].split("</figure>")[0]
    assert "各部门平均等候时间" in chart and "市民政局：6.0 分钟" in chart
