"""A reviewer on a 390 px phone: the bar between the staff pages, 返回修改 that keeps every tick
and remark, and a case page that after 预审通过 says so and offers only what is left (出证)."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Browser, Page

from tests.browser.conftest import Live, shot, staff_phone
from tests.http.conftest import PNG

MATTER = "居住证首次申领"  # no fee, no originals: after approval only 出证 is left


async def submitted_case(live: Live) -> str:
    """demo-citizen applies through the API, every required material sent."""
    async with aiohttp.ClientSession(live.base) as http:
        tokens = await (await http.get("/api/v1/demo/tokens")).json()
        token = next(i["token"] for i in tokens["items"] if i["username"] == "demo-citizen")
        auth = {"Authorization": f"Bearer {token}"}
        matters = await (await http.get("/api/v1/matters?target=citizen")).json()
        [code] = [m["code"] for m in matters["items"] if m["name"] == MATTER]
        opened = await http.post("/api/v1/cases", json={"matter_code": code}, headers=auth)
        case = await opened.json()
        number = case["number"]
        for slot in case["materials"]:
            if slot["required"]:
                path = f"/api/v1/cases/{number}/materials/{slot['slot_id']}"
                assert (await http.put(path, data=PNG, headers=auth)).status == 200
        assert (await http.post(f"/api/v1/cases/{number}/submit", json={}, headers=auth)).ok
        return str(number)


async def taps_are_big_enough(page: Page, selector: str) -> None:
    """Every visible match is at least 44 px tall and fits the 390 px screen or its scroller."""
    boxes = [await e.bounding_box() for e in await page.query_selector_all(selector)]
    shown = [b for b in boxes if b is not None]
    assert shown, selector
    assert all(b["height"] >= 44 for b in shown), (selector, shown)


async def test_a_reviewer_moves_between_pages_goes_back_from_the_preview_and_approves(
    live: Live, browser: Browser
) -> None:
    number = await submitted_case(live)
    reviewer = await staff_phone(browser, live, "reviewer-ga")
    nav = reviewer.locator("nav.staff-nav a")
    assert await nav.all_inner_texts() == ["待办队列", "签到叫号", "窗口交接", "代办审核"]
    assert await reviewer.locator("nav.staff-nav a[aria-current=page]").inner_text() == "待办队列"
    await taps_are_big_enough(reviewer, "nav.staff-nav a")
    await taps_are_big_enough(reviewer, ".logout button")
    wide = await reviewer.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390  # the page itself never scrolls sideways
    await shot(reviewer, "staff-01-queue-with-bar")

    async with reviewer.expect_navigation():
        await reviewer.click("nav.staff-nav >> text=签到叫号")
    assert reviewer.url.endswith("/staff/checkin")
    assert await reviewer.locator("nav.staff-nav a[aria-current=page]").inner_text() == "签到叫号"
    await shot(reviewer, "staff-02-checkin-from-the-bar")

    await reviewer.goto(f"{live.base}/staff/cases/{number}")
    await taps_are_big_enough(reviewer, ".defects label, .more-defects summary, main button")
    photo = reviewer.locator("section.material:has(textarea[name='remark:photo'])")
    await photo.locator("label", has_text="照片模糊").locator("input").check()
    await photo.locator("summary", has_text="其他问题").click()
    await photo.locator("label", has_text="材料信息与申请人不一致").locator("input").check()
    await photo.locator("textarea").fill("请上传近期白底证件照")
    await reviewer.fill("textarea[name='remark:']", "请补充居住地址证明")
    async with reviewer.expect_navigation():
        await reviewer.click("text=预览补正告知书")
    notice = await reviewer.inner_text(".notice .pre")
    assert "请上传近期白底证件照" in notice and "请补充居住地址证明" in notice
    await taps_are_big_enough(reviewer, "main button")
    await shot(reviewer, "staff-03-preview")

    async with reviewer.expect_navigation():
        await reviewer.click("text=返回修改")
    photo = reviewer.locator("section.material:has(textarea[name='remark:photo'])")
    assert await photo.locator("label", has_text="照片模糊").locator("input").is_checked()
    kept = photo.locator("label", has_text="材料信息与申请人不一致").locator("input")
    assert await kept.is_visible() and await kept.is_checked()  # 其他问题 opened to show it
    assert await photo.locator("textarea").input_value() == "请上传近期白底证件照"
    assert await reviewer.input_value("textarea[name='remark:']") == "请补充居住地址证明"
    await shot(reviewer, "staff-04-back-to-edit")

    async with reviewer.expect_navigation():
        await reviewer.click("button:has-text('预审通过')")
    banner = reviewer.locator("main > [role=status]").first
    assert await banner.inner_text() == "已预审通过，已通知申请人。"
    top = await banner.bounding_box()
    assert top is not None and top["y"] < 200  # at the top of the page, where the eye lands
    buttons = await reviewer.locator("main button").all_inner_texts()
    assert "出证" in buttons
    assert not {"预审通过", "不予许可", "预览补正告知书"} & set(buttons)
    await shot(reviewer, "staff-05-approved")


async def test_supervisors_and_administrators_see_their_own_pages_in_the_bar(
    live: Live, browser: Browser
) -> None:
    for username, names, landed in (
        ("demo-supervisor", ["电子监察"], "staff-06-dashboard-bar"),
        ("demo-admin", ["代办审核", "系统管理"], "staff-07-admin-bar"),
    ):
        page = await staff_phone(browser, live, username)
        assert await page.locator("nav.staff-nav a").all_inner_texts() == names
        assert await page.locator("nav.staff-nav a[aria-current=page]").inner_text() == names[-1]
        await taps_are_big_enough(page, "nav.staff-nav a")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await shot(page, landed)
