"""受理 on two phones at 390 px: the reviewer accepts and then extends the limit with the head's
name, the applicant opens the sealed 受理通知书 and reads the new due date and its reason."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.browser.conftest import Live, shot, staff_phone
from tests.browser.test_applicant_pages import citizen_phone
from tests.browser.test_staff_review import submitted_case, taps_are_big_enough


async def test_the_reviewer_accepts_and_extends_and_the_applicant_holds_the_notice(
    live: Live, browser: Browser
) -> None:
    number = await submitted_case(live)
    reviewer = await staff_phone(browser, live, "reviewer-ga", then=f"/staff/cases/{number}")
    await reviewer.goto(f"{live.base}/staff/cases/{number}")
    assert "受理（五个工作日内" in await reviewer.inner_text("main section.card >> nth=0")
    await taps_are_big_enough(reviewer, "main button")
    async with reviewer.expect_navigation():
        await reviewer.click("button:text-is('受理')")
    assert "已受理，受理通知书已发送申请人" in await reviewer.inner_text(".done")
    assert await reviewer.locator("button:text-is('受理')").count() == 0  # done, not offered
    await reviewer.fill("input[name=approved_by]", "局长 王某")
    await reviewer.fill("form[action$='/extend'] textarea[name=reason]", "需要到居住地现场核查")
    await shot(reviewer, "acceptance-01-reviewer-accepted")
    async with reviewer.expect_navigation():
        await reviewer.click("text=延长十个工作日")
    assert "已延长办理期限十个工作日" in await reviewer.inner_text(".done")
    assert await reviewer.locator("form[action$='/extend']").count() == 0  # only once
    await shot(reviewer, "acceptance-02-reviewer-extended")

    applicant = await (await citizen_phone(browser, live)).new_page()
    await applicant.goto(f"{live.base}/h5/cases/{number}")
    assert "需要到居住地现场核查" in await applicant.inner_text("#extension")
    await shot(applicant, "acceptance-03-case-page")
    async with applicant.expect_navigation():
        await applicant.click("#accepted a")
    notice = await applicant.inner_text("#acceptance-notice")
    assert "行政许可申请受理通知书" in notice and number in notice and "予以受理" in notice
    seal = await applicant.locator("svg.seal").bounding_box()
    assert seal is not None and seal["x"] + seal["width"] <= 390
    await shot(applicant, "acceptance-04-notice")
