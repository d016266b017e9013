"""退出登录 on 我的信息, as a person on a borrowed phone would use it."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.browser.conftest import Live, shot
from tests.browser.test_journey import bound_chat


async def test_a_person_signs_out_from_my_information(live: Live, browser: Browser) -> None:
    applicant = await bound_chat(browser, live, "李四", "11010519491231002X")
    response = await applicant.goto(f"{live.base}/h5/me")  # signed in by OAuth on the way
    assert response is not None and response.ok
    button = applicant.locator("button:has-text('退出登录')")
    await button.scroll_into_view_if_needed()
    await shot(applicant, "sign-out-01-my-information")
    async with applicant.expect_navigation():
        await button.click()
    assert "您已退出登录" in await applicant.inner_text("main")
    cookies = await applicant.context.cookies(live.base)
    assert not [c for c in cookies if c["name"] == "bcm_h5"]  # the browser holds no session
    await shot(applicant, "sign-out-02-done")
