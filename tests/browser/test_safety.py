"""What a browser does with hostile input and foreign sessions on the staff pages."""

from __future__ import annotations

from playwright.async_api import Browser, Dialog

from app import keys
from app.domain.actors import Actor, Role
from app.services.staff import DEMO_STAFF_PASSWORD
from tests.browser.conftest import Live, phone, shot, staff_phone

HOSTILE = '<img src=x onerror="alert(document.cookie)">'


async def test_markup_an_applicant_typed_stays_text_and_runs_nothing(
    live: Live, browser: Browser
) -> None:
    store, cases = live.app[keys.DOCUMENTS], live.app[keys.CASES]
    async with store.transaction() as tx:
        await tx.insert("users", {"_id": "wx-hostile", "role": "applicant", "name": HOSTILE})
    applicant = Actor("wx-hostile", Role.APPLICANT)
    matters = await store.find("matters", {"department": "mz"})
    case = await cases.open(applicant, matters[0]["_id"])

    page = await (await phone(browser)).new_page()
    alerts: list[Dialog] = []
    page.on("dialog", lambda dialog: alerts.append(dialog))
    await page.goto(f"{live.base}/staff/login?next=/staff/cases/{case.number}")
    await page.fill("input[name=username]", "reviewer-mz")
    await page.fill("input[name=password]", DEMO_STAFF_PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert case.number in page.url
    assert HOSTILE in await page.inner_text("main")  # shown as the text it is
    assert alerts == [] and await page.locator("img[src=x]").count() == 0
    await shot(page, "safety-01-reviewer-hostile-name")


async def test_another_departments_reviewer_sees_no_such_case(live: Live, browser: Browser) -> None:
    store, cases = live.app[keys.DOCUMENTS], live.app[keys.CASES]
    matters = await store.find("matters", {"department": "mz"})
    elder = Actor("demo-legal-rep", Role.APPLICANT)  # born 1965: the elderly card is theirs to ask
    case = await cases.open(elder, matters[0]["_id"])
    page = await staff_phone(browser, live, "reviewer-ga")
    response = await page.goto(f"{live.base}/staff/cases/{case.number}")
    assert response is not None and response.status == 404
    assert "未找到该办件" in await page.inner_text("main")
