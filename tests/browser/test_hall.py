"""The hall on phone screens: the applicant moves a visit; the clerk checks in and calls numbers.

The service runs on the real clock, so the visits the clerk sees are written for today
directly (the hall may be closed on the day the suite runs); the move goes through the pages.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from playwright.async_api import Browser

from app import keys
from app.domain.actors import Actor, Role
from app.domain.appointments import Booking
from app.domain.cases import CHINA, china_date
from app.services.appointment_records import BOOKINGS, booking_to_doc
from tests.browser.conftest import SCREENSHOTS, Live, shot, staff_phone
from tests.browser.test_journey import bound_chat, say


async def test_the_applicant_moves_a_visit_and_the_clerk_calls_the_queue(
    live: Live, browser: Browser
) -> None:
    applicant = await bound_chat(browser, live, "张三", "11010519491231002X")
    listing = await say(applicant, "我要办")
    pick = next(line.split(".")[0] for line in listing.splitlines() if "老年人优待证" in line)
    await say(applicant, pick)
    number = next(w for w in (await say(applicant, "办理")).split() if w.startswith("BC"))[:16]
    store, hall = live.app[keys.DOCUMENTS], live.app[keys.APPOINTMENTS]
    [user] = [u for u in await store.find("users") if u["_id"].startswith("wx-")]
    me = Actor(user["_id"], Role.APPLICANT)
    [matter] = await store.find("matters", {"department": "mz"})
    later = datetime.now(CHINA) + timedelta(hours=4)  # well before the cut-off
    day, start, _ = next(
        o
        for o in await hall.offer(matter["_id"], count=60)
        if datetime.combine(o[0], o[1], tzinfo=CHINA) > later
    )
    booking = await hall.book(me, matter["_id"], day, start, case_number=number)

    await applicant.goto(f"{live.base}/h5/bookings/{booking.id}")  # signed in by OAuth
    await applicant.click("text=改约到其他时段")
    await applicant.wait_for_selector("text=选择新的时段")
    await shot(applicant, "hall-01-reschedule")
    await applicant.locator("form.slot button").first.click()
    await applicant.wait_for_selector("text=签到二维码")
    await shot(applicant, "hall-02-rescheduled-booking")
    assert (await hall.booking_of(me, booking.id)).state == "rescheduled"

    today = china_date(datetime.now(CHINA))
    visitors = []
    for n, slot in enumerate((time(9), time(9), time(9, 30))):
        visit = Booking(uuid.uuid4().hex, f"wx-visitor-{n}", matter["_id"], "mz", today, slot,
                        datetime.now(CHINA), case_number=number if n == 0 else None)  # fmt: skip
        visitors.append(visit)
        async with store.transaction() as tx:
            await tx.insert(BOOKINGS, booking_to_doc(visit))
    clerk = await staff_phone(browser, live, "reviewer-mz", then="/staff/checkin")
    for visit in reversed(visitors):
        await clerk.fill("input[name=code]", hall.check_in_code(visit))
        await clerk.click("form[action='/staff/checkin'] button[type=submit]")
        await clerk.wait_for_selector("text=签到成功")
    await shot(clerk, "hall-03-clerk-check-in-with-case")
    await clerk.click("text=叫下一位")
    await clerk.wait_for_selector("text=已叫 1 号")
    await shot(clerk, "hall-04-clerk-queue")
    assert await clerk.locator(".queue li").count() == 3

    supervisor = await staff_phone(browser, live, "demo-supervisor")
    hall_figures = supervisor.locator("#hall")
    await hall_figures.wait_for()
    assert "市民政局" in await hall_figures.inner_text()
    await hall_figures.screenshot(path=str(SCREENSHOTS / "hall-05-dashboard-hall.png"))


async def test_a_visitor_checks_in_at_the_kiosk_and_reads_their_number(
    live: Live, browser: Browser
) -> None:
    store, hall = live.app[keys.DOCUMENTS], live.app[keys.APPOINTMENTS]
    [matter] = await store.find("matters", {"department": "mz"})
    visit = Booking(uuid.uuid4().hex, "wx-visitor", matter["_id"], "mz",
                    china_date(datetime.now(CHINA)), time(9), datetime.now(CHINA))  # fmt: skip
    async with store.transaction() as tx:
        await tx.insert(BOOKINGS, booking_to_doc(visit))
    kiosk = await staff_phone(browser, live, "demo-kiosk")
    await kiosk.wait_for_selector("text=预约签到取号")
    assert kiosk.url.endswith("/kiosk/")
    await shot(kiosk, "hall-06-kiosk")
    # A scanner gun types into the focused field and presses Enter.
    await kiosk.keyboard.type(hall.check_in_code(visit))
    await kiosk.keyboard.press("Enter")
    await kiosk.wait_for_selector(".kiosk-number")
    assert await kiosk.inner_text(".kiosk-number") == "1"
    assert "市民政局办事窗口" in await kiosk.inner_text("main")
    await shot(kiosk, "hall-07-kiosk-ticket")


async def test_an_administrator_gives_a_hall_more_places_on_the_phone(
    live: Live, browser: Browser
) -> None:
    admin = await staff_phone(browser, live, "demo-admin")
    assert admin.url.endswith("/staff/admin")
    await admin.click("#hall-mz summary")
    await admin.fill("#hall-mz input[name=capacity]", "6")
    await admin.fill("#hall-mz input[name=slots]", "11:30=2")
    await shot(admin, "admin-01-hall-rules")
    async with admin.expect_navigation():
        await admin.click("#hall-mz button[type=submit]")
    assert "大厅规则已保存" in await admin.inner_text("main")
    assert "每个半小时 6 人（11:30 2 人）" in await admin.inner_text("#hall-mz summary")
    await admin.screenshot(path=str(SCREENSHOTS / "admin-02-saved.png"))  # what the phone shows
    assert (await live.app[keys.APPOINTMENTS].rules("mz")).capacity == 6
