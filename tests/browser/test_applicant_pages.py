"""The applicant's pay, certificate and pickup pages on a 390 px phone: paying from inside
WeChat through the phone's browser, the certificate's page, the pickup form's lists and its
all-at-once messages. Screenshots in var/screenshots/applicant-*.png."""

from __future__ import annotations

from typing import Any

import aiohttp
from playwright.async_api import Browser, BrowserContext

from app import keys
from app.domain.actors import Actor, Role
from app.services.sessions import Use
from app.web.session import SESSION
from tests.browser.conftest import Live, phone, shot
from tests.http.conftest import PNG
from tests.http.test_pay_in_wechat import GUIDE, WECHAT


async def case_of(live: Live, matter: str, *actions: str) -> dict[str, Any]:
    """demo-citizen's case of ``matter`` through the API: filled, submitted, then ``actions``
    by the department's reviewer."""
    async with aiohttp.ClientSession(live.base) as http:
        listed = await (await http.get("/api/v1/demo/tokens")).json()
        tokens = {i["username"]: i["token"] for i in listed["items"]}
        me = {"Authorization": f"Bearer {tokens['demo-citizen']}"}
        matters = (await (await http.get("/api/v1/matters")).json())["items"]
        chosen = next(m for m in matters if matter in m["name"])
        them = {"Authorization": f"Bearer {tokens['reviewer-' + chosen['department']]}"}
        made = await http.post("/api/v1/cases", json={"matter_code": chosen["code"]}, headers=me)
        case: dict[str, Any] = await made.json()
        number = case["number"]
        for slot in case["materials"]:
            await http.put(f"/api/v1/cases/{number}/materials/{slot['slot_id']}", data=PNG,
                           headers=me)  # fmt: skip
        case = await (await http.post(f"/api/v1/cases/{number}/submit", json={}, headers=me)).json()
        for action in actions:
            body = {"version": case["version"]}
            case = await (
                await http.post(f"/api/v1/cases/{number}/{action}", json=body, headers=them)
            ).json()
            assert "number" in case, case
    return case


async def citizen_phone(browser: Browser, live: Live) -> BrowserContext:
    """A phone signed in to the H5 pages as demo-citizen, as after WeChat's sign-in."""
    context = await phone(browser)
    token = live.app[keys.TOKENS].issue(Actor("demo-citizen", Role.APPLICANT), use=Use.H5)
    host = live.base.split("//")[1].split(":")[0]
    await context.add_cookies([{"name": SESSION, "value": token, "domain": host, "path": "/h5/"}])
    return context


async def test_inside_wechat_the_fee_is_paid_in_the_phones_browser(
    live: Live, browser: Browser
) -> None:
    number = (await case_of(live, "驾驶证"))["number"]
    wechat = await citizen_phone(browser, live)
    await wechat.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.base)
    page = await wechat.new_page()
    as_wechat = await wechat.new_cdp_session(page)  # WeChat's own browser, as it names itself
    await as_wechat.send("Network.setUserAgentOverride", {"userAgent": WECHAT})
    await page.goto(f"{live.base}/h5/cases/{number}/pay")
    guide = page.locator(".wechat-guide")
    assert GUIDE in await guide.inner_text()
    box = await guide.locator(".pointer").bounding_box()
    assert box and box["x"] > 300  # the arrow points up at WeChat's ··· menu, top right
    assert await page.locator("button:has-text('使用支付宝支付')").count() == 0
    copy = page.locator("button:has-text('复制链接')")
    size = await copy.bounding_box()
    assert size and size["height"] >= 44  # a thumb's target
    await copy.click()
    await page.wait_for_selector("text=已复制")
    link = await page.evaluate("() => navigator.clipboard.readText()")
    assert link == page.url and "token=" in link
    await shot(page, "applicant-pay-in-wechat")

    own = await (await phone(browser)).new_page()  # the phone's browser: no cookie of ours
    await own.goto(link)
    assert own.url == f"{live.base}/h5/cases/{number}/pay"  # the spent link left the address
    async with own.expect_navigation():
        await own.click("button:has-text('使用支付宝支付 10.00 元')")
    assert "¥10.00" in await own.inner_text("body")  # Alipay's cashier opened
    await own.go_back()
    await shot(own, "applicant-pay-in-browser")


async def test_a_finished_case_opens_its_certificate_page(live: Live, browser: Browser) -> None:
    number = (await case_of(live, "失业保险", "approve", "actions/issue_certificate"))["number"]
    page = await (await citizen_phone(browser, live)).new_page()
    for _ in range(100):  # drawn in the background a moment after 出证
        await page.goto(f"{live.base}/h5/cases/{number}")
        if await page.locator("text=查看和保存证照").count():
            break
        await page.wait_for_timeout(100)
    async with page.expect_navigation():
        await page.click("text=查看和保存证照")
    picture = page.locator(".certificate img")
    await picture.wait_for()
    assert await picture.evaluate("img => img.complete && img.naturalWidth") == 1240
    shown = await picture.bounding_box()
    assert shown and shown["width"] <= 390  # at the phone's width, no sideways scrolling
    async with page.expect_download() as saving:
        await page.click("text=保存到手机")
    assert (await saving.value).suggested_filename.endswith(f"DZZZ{number[2:]}.png")
    await shot(page, "applicant-certificate")


async def test_the_pickup_form_lists_places_and_names_every_problem_at_once(
    live: Live, browser: Browser
) -> None:
    number = (await case_of(live, "从业资格证", "approve"))["number"]
    page = await (await citizen_phone(browser, live)).new_page()
    await page.goto(f"{live.base}/h5/cases/{number}/pickup")
    assert await page.input_value("#f-name") == "张三"
    await page.select_option("#f-province", "福建省")
    await page.select_option("#f-city", "福州市")  # listed once the province is chosen
    await page.select_option("#f-district", "鼓楼区")
    await page.fill("#f-mobile", "138123")
    await page.fill("#f-detail", "12号")
    async with page.expect_navigation():
        await page.click("button:has-text('预约上门取件')")  # no browser bubble stops it
    summary = await page.inner_text(".form-errors")
    assert "请修改以下 2 处后再提交" in summary and "11 位手机号码" in summary
    assert "5 到 120 个字" in await page.inner_text("#err-detail")
    assert await page.input_value("#f-mobile") == "138123"  # what was typed stays
    assert await page.input_value("#f-district") == "鼓楼区"
    await shot(page, "applicant-pickup-errors")
    await page.select_option("#f-province", "北京市")  # a municipality: its own city
    await page.wait_for_function("() => document.querySelector('#f-city').value === '北京市'")
    await page.select_option("#f-district", "朝阳区")
    await page.fill("#f-mobile", "13812345678")
    await page.fill("#f-detail", "建国路 88 号 1 栋 101")
    async with page.expect_navigation():
        await page.click("button:has-text('预约上门取件')")
    assert page.url.endswith(f"/h5/cases/{number}")
