"""A legal representative grants an agent and then takes the grant back, on two phones.

赵敏 binds in the chat and is recorded as the legal representative of a new company, the way
the licence pre-check records her when it reads her business licence (企业认证). 李四 binds
on another phone and asks to act for the company (企业授权). 赵敏 opens the link she is sent,
grants 营业执照换发 only, until a date she picks; 李四 can then apply for the company and opens
a case. She revokes: 李四 is told, the company's matters leave his 我要办, and its case leaves
his 我的办件 (its page answers 未找到).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, Page

from app import keys
from app.domain.identity import mask_uscc
from app.services.accounts import person_of_openid
from app.services.mandates import CLAIM_TOPIC
from ocr.rules import PASS, Verdict
from storage.outbox import OutboxMessage
from tests.browser.conftest import Live, phone, shot

REP_OPENID, AGENT_OPENID = "authority-rep", "authority-agent"
REP = ("赵敏", "310104195003124022")  # both in the local real-name register
AGENT = ("李四", "110101199003074477")
USCC = "91330106MACL12TH2J"  # GB 32100 check character valid
FIRM = "杭州示例贸易有限公司"
GRANTED_MATTER = "营业执照换发"
OTHER_FIRM_MATTER = "食品经营许可证延续"  # for enterprises too, but not in the grant


async def account_rows(page: Page) -> int:
    return await page.locator(".row.account").count()


async def heard(page: Page, text: str, *, after: int = 0) -> str:
    """The first of the account's messages from the ``after``-th on that contains ``text``."""
    handle = await page.wait_for_function(
        """([n, text]) => {
            const row = [...document.querySelectorAll('.row.account')].slice(n)
                .find(r => r.innerText.includes(text));
            return row ? row.innerText : null;
        }""",
        arg=[after, text],
        timeout=20_000,
    )
    return str(await handle.json_value())


async def ask(page: Page, text: str, expect: str) -> str:
    """Send ``text``; the account's next message that contains ``expect``.

    Notices arrive on their own too, so the answer is found by what it says, not by position.
    """
    before = await account_rows(page)
    await page.fill("#text", text)
    await page.click("button.send")
    return await heard(page, expect, after=before)


async def tap(page: Page, message: str, label: str) -> Page:
    """Tap the link ``label`` in the account's latest message containing ``message``, as a
    person does in WeChat (a text message's <a> is a link); the page it opens."""
    row = page.locator(".row.account", has_text=message).last
    anchor = row.locator("a", has_text=label)
    assert await anchor.count() == 1, await row.inner_text()
    async with page.context.expect_page() as opened:
        await anchor.click()
    new = await opened.value
    await new.wait_for_load_state()
    return new


async def chat(browser: Browser, live: Live, openid: str) -> Page:
    """A phone of its own with the account followed in the WeChat simulator's chat page."""
    page = await (await phone(browser)).new_page()
    await page.goto(f"{live.chat}?openid={openid}")
    await page.click("button.follow")
    await heard(page, "我要办")
    return page


async def bind(page: Page, name: str, id_number: str) -> None:
    """绑定 as a new user does: the privacy notice, 同意, name, number; the register answers."""
    await ask(page, "绑定", "个人信息处理告知")
    await ask(page, "同意", "真实姓名")
    await ask(page, name, "身份证号码")
    before = await account_rows(page)
    await ask(page, id_number, "正在核验")
    bound = await heard(page, "绑定成功", after=before)
    assert name in bound and id_number not in bound  # masked, even to its owner


async def make_legal_rep(live: Live, openid: str) -> None:
    """What the licence pre-check job does once it has read a licence naming this person.

    (The licence photo's own path, chat photo to pre-check to record, is tested in
    tests/http/test_enterprise_claim.py; here the job is handed its verdict directly.)
    """
    who = await person_of_openid(live.app[keys.DOCUMENTS], openid)
    assert who is not None
    fields = {"uscc": USCC, "legal_representative": who["name"], "company_name": FIRM}
    payload = {"person": who["_id"], "object_key": f"enterprise/claims/{openid}"}
    msg = OutboxMessage(f"claim:{openid}", CLAIM_TOPIC, payload, 1, datetime.now(UTC))
    await live.app[keys.MANDATES].accept_claim(msg, Verdict(PASS, "business_licence", (), fields))


def numbered(listing: str, name: str) -> str | None:
    """The number a 我要办 listing gives the matter called ``name``."""
    return next((ln.split(".")[0] for ln in listing.splitlines() if f". {name}（" in ln), None)


async def test_a_legal_representative_grants_an_agent_then_revokes(
    live: Live, browser: Browser
) -> None:
    # 赵敏 binds, and the service records her as the legal representative of a new company.
    rep = await chat(browser, live, REP_OPENID)
    await bind(rep, *REP)
    before = await account_rows(rep)
    await make_legal_rep(live, REP_OPENID)
    claimed = await heard(rep, "企业认证成功", after=before)
    assert FIRM in claimed and USCC not in claimed  # the code is masked in the chat

    # 李四 binds on his phone and asks to act for the company.
    agent = await chat(browser, live, AGENT_OPENID)
    await bind(agent, *AGENT)
    listing = await ask(agent, "我要办", "请回复序号")
    assert numbered(listing, GRANTED_MATTER) is None  # no enterprise matters without a grant
    before_ask = await account_rows(rep)
    await ask(agent, "企业授权", "统一社会信用代码")
    asked = await ask(agent, USCC, "已向企业")
    assert mask_uscc(USCC) in asked and "法定代表人" in asked

    # 赵敏 is told, and opens the link she was sent (signed in by the WeChat login on the way).
    request = await heard(rep, "申请代您的企业", after=before_ask)
    assert AGENT[0] in request and AGENT[1] not in request
    page = await tap(rep, "申请代您的企业", "查看授权")
    assert page.url.startswith(f"{live.base}/h5/authority")
    pending = page.locator("section.card", has=page.locator("form[action$='/grant']"))
    assert await pending.count() == 1
    text = await pending.inner_text()
    assert AGENT[0] in text and "待确认" in text and AGENT[1] not in text
    assert FIRM in await page.inner_text("main")
    # 仅以下事项, with one of the company's matters ticked, until a day she picks.
    await pending.locator("input[name=scope][value=some]").check()
    await pending.locator("label", has_text=GRANTED_MATTER).locator("input").check()
    until = (live.app[keys.MANDATES].today() + timedelta(days=90)).isoformat()
    await pending.locator("input[name=until]").fill(until)
    await shot(page, "authority-01-request")
    before_grant = await account_rows(agent)
    async with page.expect_navigation():
        await pending.locator("button", has_text="同意授权").click()
    granted = page.locator("section.card", has=page.locator("form[action$='/revoke']"))
    assert await granted.count() == 1
    text = await granted.inner_text()
    assert AGENT[0] in text and "已授权" in text and GRANTED_MATTER in text and until in text
    assert OTHER_FIRM_MATTER not in text
    assert await page.locator("form[action$='/grant']").count() == 0  # no longer pending
    await shot(page, "authority-02-granted")

    # 李四 hears of it; the granted matter (only it) is now his to apply for, for the company.
    told = await heard(agent, "已授权您代为办理", after=before_grant)
    assert FIRM in told and GRANTED_MATTER in told and until in told
    assert OTHER_FIRM_MATTER not in told
    listing = await ask(agent, "我要办", "请回复序号")
    pick = numbered(listing, GRANTED_MATTER)
    assert pick is not None, listing
    assert numbered(listing, OTHER_FIRM_MATTER) is None  # outside the grant
    await ask(agent, pick, f"【事项名称】{GRANTED_MATTER}")  # the guide
    opened = await ask(agent, "办理", "已为您创建办件")
    number = re.search(r"BC\d{14}", opened)
    assert number, opened
    case = number[0]
    mine = await ask(agent, "我的授权", "您的授权")
    assert f"代{FIRM}" in mine and "已授权" in mine and until in mine
    agent_h5 = await agent.context.new_page()
    await agent_h5.goto(f"{live.base}/h5/cases")  # signed in by OAuth on the way
    assert case in await agent_h5.inner_text("main")
    await agent_h5.goto(f"{live.base}/h5/cases/{case}")
    assert GRANTED_MATTER in await agent_h5.inner_text("main")

    # 赵敏 revokes, with a reason; 李四 is told at once.
    before_revoke = await account_rows(agent)
    await granted.locator("input[name=reason]").fill("经办人已离职")
    async with page.expect_navigation():
        await granted.locator("button", has_text="撤销授权").click()
    assert await page.locator("form[action$='/revoke']").count() == 0
    assert "暂无经办人或待处理的授权申请" in await page.inner_text("main")
    past = page.locator("details.past")
    await past.locator("summary").click()  # the record stays, with why it ended
    text = await past.inner_text()
    assert "以往记录（1）" in text and "已撤销" in text and "经办人已离职" in text
    await shot(page, "authority-03-revoked")
    revoked = await heard(agent, "已撤销对您的授权", after=before_revoke)
    assert FIRM in revoked and "经办人已离职" in revoked

    # The company's matters and its case are gone from 李四's chat and pages.
    listing = await ask(agent, "我要办", "请回复序号")
    assert (
        numbered(listing, GRANTED_MATTER) is None and numbered(listing, OTHER_FIRM_MATTER) is None
    )
    mine = await ask(agent, "我的授权", "您的授权")
    assert "已撤销" in mine
    await agent_h5.goto(f"{live.base}/h5/cases")
    assert case not in await agent_h5.inner_text("main")
    answer = await agent_h5.goto(f"{live.base}/h5/cases/{case}")
    assert answer is not None and answer.status == 404
    assert "未找到" in await agent_h5.inner_text("main")
