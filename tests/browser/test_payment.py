"""Paying on the phone: the chat asks for the licence fee, the pay page lists every item with its
basis, the local Alipay's cashier takes the tap, and the applicant lands back on a paid page."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser

from tests.browser.conftest import Live, shot
from tests.browser.test_journey import bound_chat, photos, say, seen

SLOTS = (
    ("front", "居民身份证人像面"),
    ("back", "居民身份证国徽面"),
    ("portrait", "《机动车驾驶人身体条件证明》"),
    ("portrait", "原机动车驾驶证（正页和副页）"),
    ("portrait", "近期一寸免冠白底彩色证件照"),
)


async def test_the_licence_fee_is_paid_at_the_cashier_and_the_chat_confirms_it(
    live: Live, browser: Browser, tmp_path: Path
) -> None:
    person, files = photos(tmp_path)
    applicant = await bound_chat(browser, live, person["name"], person["id"])
    listing = await say(applicant, "我要办")
    await say(applicant, next(ln.split(".")[0] for ln in listing.splitlines() if "驾驶证" in ln))
    number = re.search(r"BC\d{14}", await say(applicant, "办理"))
    assert number
    case = number[0]
    for name, slot in SLOTS:
        await applicant.set_input_files("#photo", str(files[name]))
        await seen(applicant, f"【材料预审】办件 {case}“{slot}”")
    await say(applicant, "提交")
    await seen(applicant, "请缴纳以下费用")
    await shot(applicant, "pay-01-chat-fee")

    await applicant.goto(f"{live.base}/h5/cases/{case}/pay")  # signed in by OAuth on the way
    text = await applicant.inner_text("main")
    assert "机动车驾驶证工本费 10.00 元" in text and "依据" in text
    await shot(applicant, "pay-02-pay-page")
    async with applicant.expect_navigation():
        await applicant.click("button:has-text('使用支付宝支付')")
    assert "¥10.00" in await applicant.inner_text("body")
    await shot(applicant, "pay-03-alipay-cashier")
    await applicant.click("button:has-text('付款')")
    await applicant.wait_for_url(re.compile(rf"/h5/cases/{case}/pay\?"), wait_until="commit")
    await applicant.wait_for_selector("text=已付 10.00 元", timeout=20_000)
    assert "正在确认支付结果" not in await applicant.inner_text("main")  # the money is in
    await applicant.wait_for_selector("text=缴费已确认", timeout=20_000)  # the case moved on
    await shot(applicant, "pay-04-paid")

    await applicant.goto(live.chat)
    await seen(applicant, "已收到您为办件")
