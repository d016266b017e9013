"""Booking a hall visit on a phone: 我要预约 from the menu, a day of the next working days, the
hall's address with a map link, and what to bring as the catalog says."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page

from app import keys
from tests.browser.conftest import SCREENSHOTS, Live, shot
from tests.browser.test_journey import bound_chat, replies, seen

MAP = "https://uri.amap.com/search?keyword="


async def tall_enough(page: Page, selector: str) -> None:
    """Every match is a touch target of at least 44 px."""
    for box in [await e.bounding_box() for e in await page.locator(selector).all()]:
        assert box is not None and box["height"] >= 44, (selector, box)


async def answer(page: Page, text: str, expect: str) -> str:
    """Send ``text``; the account's answer that contains ``expect``."""
    await page.fill("#text", text)
    await page.click("button.send")
    await seen(page, expect)
    return next(r for r in reversed(await replies(page)) if expect in r)


async def test_a_visit_is_booked_from_the_menu_with_the_halls_place_and_what_to_bring(
    live: Live, browser: Browser
) -> None:
    applicant = await bound_chat(browser, live, "张三", "11010519491231002X")

    await applicant.click(".menu button:has-text('我要预约')")
    await seen(applicant, "请回复序号选择要到大厅办理的事项")
    listing = (await replies(applicant))[-1]
    pick = next(line.split(".")[0] for line in listing.splitlines() if "老年人优待证" in line)
    days = await answer(applicant, pick, "请回复序号选择日期")
    assert len(re.findall(r"^\d+\. \d+月\d+日", days, re.M)) >= 5
    assert "华林路 88 号" in days and "开放时间：工作日" in days
    # The day list carries one map link, and shows once: two polls of the chat page in flight
    # at once used to show each new reply twice, now and then.
    day_lists = applicant.locator(".row.account").filter(has_text="请回复序号选择日期")
    assert await day_lists.count() == 1
    assert await day_lists.locator(f"a[href^='{MAP}']").count() == 1
    await applicant.screenshot(path=str(SCREENSHOTS / "booking-00-chat-days.png"))
    await answer(applicant, "2", "可预约的时段")
    await answer(applicant, "1", "预约成功")
    await seen(applicant, "【预约成功】")
    await shot(applicant, "booking-01-chat")
    told = next(r for r in reversed(await replies(applicant)) if "【预约成功】" in r)
    assert "地点：市民政局政务服务窗口" in told and "请携带" in told
    assert await applicant.locator(f".row.account a[href^='{MAP}']").count() == 2

    qr = applicant.locator(".row.account a:has-text('预约二维码')").last
    await applicant.goto(str(await qr.get_attribute("href")))  # signed in by WeChat OAuth
    await applicant.wait_for_selector("text=签到二维码")
    main = await applicant.inner_text("main")
    assert "福建省福州市鼓楼区华林路 88 号民政服务中心一楼" in main
    assert "开放时间：工作日 09:00—12:00、13:30—17:00" in main
    assert "居民身份证人像面（复印件）1 份" in main
    assert (await applicant.get_attribute("a.map", "href") or "").startswith(MAP)
    await tall_enough(applicant, "a.map")
    await shot(applicant, "booking-02-booking-page")

    [matter] = await live.app[keys.DOCUMENTS].find("matters", {"department": "jtys"})
    await applicant.goto(f"{live.base}/h5/book?matter={matter['_id']}")
    day_links = applicant.locator(".days a.day")
    assert await day_links.count() >= 5
    await tall_enough(applicant, ".days .day")
    third = day_links.nth(2)
    label = await third.locator("b").inner_text()
    async with applicant.expect_navigation():
        await third.click()
    assert f"{label}（周" in await applicant.inner_text("h3:has-text('可预约的时段')")
    await tall_enough(applicant, ".slots button")
    assert "原道路运输从业人员从业资格证（原件）1 份" in await applicant.inner_text("main")
    await shot(applicant, "booking-03-book-page")

    await applicant.goto(f"{live.base}/h5/book")
    await applicant.click("ul.materials a.case-link >> nth=0")  # 我的预约: the one booked
    await applicant.click("text=改约到其他时段")
    await applicant.wait_for_selector(".days a.day")
    await shot(applicant, "booking-04-reschedule")
