"""Pages work under their Content-Security-Policy: no inline script or style is needed, the
scripts the templates declare still act, and what the policy refuses is caught."""

from __future__ import annotations

import asyncio
import io

from PIL import Image
from playwright.async_api import Browser, Dialog, Page

from app import keys
from app.domain.actors import Actor, Role
from tests.browser.conftest import Live, shot, staff_phone
from tests.browser.test_journey import bound_chat


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 190, 170)).save(out, "JPEG")
    return out.getvalue()


async def _policy(page: Page, path: str) -> str:
    response = await page.goto(path)
    assert response is not None and response.ok
    headers = await response.all_headers()
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    return headers["content-security-policy"]


async def test_an_applicant_uploads_and_withdraws_on_the_case_page_under_the_policy(
    live: Live, browser: Browser, csp_refusals: list[str]
) -> None:
    applicant = await bound_chat(browser, live, "张三", "11010519491231002X")
    [user] = [u for u in await live.app[keys.DOCUMENTS].find("users") if u["_id"].startswith("wx-")]
    [matter] = await live.app[keys.DOCUMENTS].find("matters", {"department": "mz"})
    case = await live.app[keys.CASES].open(Actor(user["_id"], Role.APPLICANT), matter["_id"])

    policy = await _policy(applicant, f"{live.base}/h5/cases/{case.number}")  # signed in by OAuth
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    # Choosing a photo sends its form at once (static/forms.js, asked for by an attribute).
    async with applicant.expect_navigation():
        await applicant.locator("input[name=photo]").first.set_input_files(
            files=[{"name": "card.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
        )
    assert applicant.url.endswith(f"/h5/cases/{case.number}")
    await shot(applicant, "policy-01-h5-case")

    answers: list[bool] = [False, True]  # first the applicant thinks better of it, then agrees
    asked: list[str] = []
    replies: list[asyncio.Task[None]] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        agree = answers.pop(0)
        replies.append(asyncio.create_task(dialog.accept() if agree else dialog.dismiss()))

    applicant.on("dialog", answer)
    await applicant.click("summary:has-text('撤回申请')")
    await applicant.click("button:has-text('撤回办件')")
    await applicant.wait_for_timeout(300)
    assert applicant.url.endswith(f"/h5/cases/{case.number}")  # not sent
    async with applicant.expect_navigation():
        await applicant.click("button:has-text('撤回办件')")
    assert "已撤回" in await applicant.inner_text("main")
    assert len(asked) == 2 and "确定撤回本办件吗" in asked[0]

    # What the policy refuses is reported and caught by the conftest (then taken out here).
    assert csp_refusals == []
    await applicant.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')"
    )
    await applicant.wait_for_timeout(300)
    assert csp_refusals and "style" in csp_refusals[0]
    csp_refusals.clear()
    # Nor does injected markup run an event handler of its own (no 'unsafe-hashes' either).
    title = await applicant.title()
    await applicant.evaluate(
        "document.body.insertAdjacentHTML('beforeend',"
        ' \'<button id="evil" onclick="document.title=1">x</button>\')'
    )
    await applicant.click("#evil")
    await applicant.wait_for_timeout(300)
    assert await applicant.title() == title
    assert csp_refusals and "script" in csp_refusals[0]
    csp_refusals.clear()


async def test_a_reviewer_works_the_queue_under_the_policy(live: Live, browser: Browser) -> None:
    reviewer = await staff_phone(browser, live, "reviewer-mz")
    policy = await _policy(reviewer, f"{live.base}/staff/queue")
    assert "style-src 'self'" in policy
    await shot(reviewer, "policy-02-staff-queue")
    huge = await reviewer.goto(f"{live.base}/staff/queue?page=99999999999999999999")
    assert huge is not None and huge.status == 400
    assert "page" in await reviewer.inner_text("main")
