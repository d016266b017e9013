"""Originals and certificate by courier, on three phones: the applicant books the pickup and shows
the code, the courier scans it (typed, as when the camera is not available), the counter scans
the courier's codes, SF's route pushes bring the certificate home. Screenshots at 390x844."""

from __future__ import annotations

import re

import aiohttp
from playwright.async_api import Browser, Page

from app import keys
from app.domain.actors import Actor, Role
from app.services.sessions import Use
from app.web.session import SESSION
from tests.browser.conftest import Live, phone, shot, staff_phone
from tests.http.conftest import PNG

TOKEN = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}")  # the short form, typed


async def _approved_case(live: Live) -> tuple[str, str]:
    """A 从业资格证换证 submitted and approved through the API; (number, citizen's token)."""
    async with aiohttp.ClientSession(live.base) as http:
        tokens = {
            i["username"]: i["token"]
            for i in (await (await http.get("/api/v1/demo/tokens")).json())["items"]
        }
        me = {"Authorization": f"Bearer {tokens['demo-citizen']}"}
        them = {"Authorization": f"Bearer {tokens['reviewer-jtys']}"}
        matters = (await (await http.get("/api/v1/matters?target=citizen")).json())["items"]
        code = next(m["code"] for m in matters if m["department"] == "jtys")
        case = await (
            await http.post("/api/v1/cases", json={"matter_code": code}, headers=me)
        ).json()
        number = case["number"]
        for slot in case["materials"]:
            path = f"/api/v1/cases/{number}/materials/{slot['slot_id']}"
            await http.put(path, data=PNG, headers=me)
        await http.post(f"/api/v1/cases/{number}/submit", json={}, headers=me)
        resp = await http.post(f"/api/v1/cases/{number}/approve", json={}, headers=them)
        assert (await resp.json())["state"] == "awaiting_pickup"
    # The citizen's phone holds an H5 session cookie (an API token opens no page).
    return number, live.app[keys.TOKENS].issue(Actor("demo-citizen", Role.APPLICANT), use=Use.H5)


async def _reload_until(page: Page, text: str, tries: int = 100) -> None:
    for _ in range(tries):
        if text in await page.inner_text("main"):
            return
        await page.wait_for_timeout(100)
        await page.reload()
    raise AssertionError(f"{text!r} never appeared on {page.url}")


async def test_pickup_scan_counter_delivery_on_phones(live: Live, browser: Browser) -> None:
    number, token = await _approved_case(live)
    context = await phone(browser)
    host = live.base.split("//")[1].split(":")[0]
    await context.add_cookies([{"name": SESSION, "value": token, "domain": host, "path": "/h5/"}])
    applicant = await context.new_page()

    await applicant.goto(f"{live.base}/h5/cases/{number}/pickup")
    await applicant.fill("input[name=name]", "张三")
    await applicant.fill("input[name=mobile]", "13812345678")
    await applicant.select_option("select[name=province]", "福建省")
    await applicant.select_option("select[name=city]", "福州市")  # listed once the province is
    await applicant.select_option("select[name=district]", "鼓楼区")
    await applicant.fill("input[name=detail]", "五一北路 123 号 2 栋 301")
    await shot(applicant, "11-applicant-pickup-form")
    async with applicant.expect_navigation():
        await applicant.click("button:has-text('预约上门取件')")
    await _reload_until(applicant, "取件码")
    await shot(applicant, "12-applicant-pickup-code")
    code = TOKEN.search(await applicant.inner_text(".handover"))
    assert code

    courier = await staff_phone(browser, live, "demo-courier")
    assert courier.url.endswith("/courier/")
    await courier.fill("input[name=code]", code[0])
    await courier.fill("input[name=place]", "五一北路 123 号楼下")
    async with courier.expect_navigation():
        await courier.click("button:has-text('确认交接')")
    assert "交接成功" in await courier.inner_text("main")
    await shot(courier, "13-courier-scan")

    await courier.click("a[href$='/arrival']")
    await shot(courier, "14-courier-hand-in-code")
    arrival = TOKEN.search(await courier.inner_text(".handover"))
    assert arrival
    counter = await staff_phone(browser, live, "reviewer-jtys")
    await counter.goto(f"{live.base}/staff/handover")
    await counter.fill("input[name=code]", arrival[0])
    async with counter.expect_navigation():
        await counter.click("button:has-text('确认交接')")
    assert "部门窗口签收原件" in await counter.inner_text("main")
    await shot(counter, "15-counter-scan")

    await counter.goto(f"{live.base}/staff/cases/{number}")
    async with counter.expect_navigation():
        await counter.click("button:has-text('出证')")
    await courier.goto(f"{live.base}/courier/")
    await _reload_until(courier, "待揽收的证照")
    await _reload_until(courier, number)
    await courier.click(f"a[href='/courier/codes/{number}/dispatch']")
    dispatch = TOKEN.search(await courier.inner_text(".handover"))
    assert dispatch
    await counter.goto(f"{live.base}/staff/handover?case={number}")
    await counter.fill("input[name=code]", dispatch[0])
    async with counter.expect_navigation():
        await counter.click("button:has-text('确认交接')")
    assert "交快递员寄出" in await counter.inner_text("main")

    shipments = live.app[keys.SHIPMENTS]
    delivery = await shipments.leg(number, "delivery")
    assert delivery is not None and delivery.waybill
    await live.app[keys.SF_SIMULATOR].play(delivery.waybill)
    await applicant.goto(f"{live.base}/h5/cases/{number}")
    await _reload_until(applicant, "已送达")
    chain = await applicant.inner_text("#courier")
    for step in ("快递员上门收取原件", "部门窗口签收原件", "窗口将证照交快递员寄出", "证照已签收"):
        assert step in chain
    await shot(applicant, "16-applicant-custody")
