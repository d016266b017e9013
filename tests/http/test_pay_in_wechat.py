"""Paying from inside WeChat, whose browser does not open Alipay's cashier: the pay page says
so, points to 「在浏览器打开」, and its address carries a short-lived single-use link that signs
the phone's own browser in to that one pay page."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from yarl import URL

from app import keys
from app.domain.actors import Actor, Role
from app.logs import REDACTED
from app.services.accounts import DEMO_CITIZEN_ID
from app.services.sessions import Use
from tests.http.conftest import Api, fill_and_submit, open_case
from tests.http.courier_world import applicant_phone, csrf_of

WECHAT = (
    "Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin "
    "NetType/WIFI Language/zh_CN ABI/arm64"
)
BROWSER = (
    "Mozilla/5.0 (Linux; Android 13; V2148A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0.0.0 Mobile Safari/537.36"
)
GUIDE = "请点击右上角「···」，选择「在浏览器打开」后支付"


@dataclass
class Phones:
    api: Api
    number: str  # demo-citizen's driving licence renewal, waiting for its fee
    wechat: aiohttp.ClientSession  # demo-citizen's WeChat, signed in to the H5 pages
    browser: aiohttp.ClientSession  # the same phone's own browser: no cookie of ours

    def page(self) -> str:
        return f"/h5/cases/{self.number}/pay"

    async def link(self) -> str:
        """The pay page in WeChat: where its address (and its 复制链接 box) leads."""
        first = await self.wechat.get(self.page(), headers={"User-Agent": WECHAT})
        assert first.status == 200 and GUIDE in await first.text()
        return first.url.path_qs


def browser(api: Api, **cookies: str) -> aiohttp.ClientSession:
    base = str(api.client.make_url("/"))
    return aiohttp.ClientSession(
        base,
        cookies=cookies,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"User-Agent": BROWSER},
    )


def signed_in_phone(api: Api, who: str) -> aiohttp.ClientSession:
    token = api.client.app[keys.TOKENS].issue(Actor(who, Role.APPLICANT), use=Use.H5)
    return applicant_phone(str(api.client.make_url("/")), token)


@pytest.fixture
async def phones(api: Api) -> AsyncIterator[Phones]:
    _, matters = await api.call("GET", "/matters?target=citizen")
    code = next(m["code"] for m in matters["items"] if "驾驶证" in m["name"])
    case = await fill_and_submit(api, await open_case(api, code=code))
    assert case["state"] == "awaiting_payment", case
    wechat, own = signed_in_phone(api, "demo-citizen"), browser(api)
    yield Phones(api, case["number"], wechat, own)
    await wechat.close()
    await own.close()


async def test_in_wechat_the_pay_page_says_to_open_it_in_the_browser_with_a_link_to_copy(
    phones: Phones,
) -> None:
    resp = await phones.wechat.get(
        phones.page(), headers={"User-Agent": WECHAT}, allow_redirects=False
    )
    assert resp.status == 302  # the address 「在浏览器打开」 takes along carries the link
    link = URL(resp.headers["Location"])
    assert link.path == phones.page() and len(link.query["token"]) >= 32
    assert DEMO_CITIZEN_ID not in str(link) and "demo-citizen" not in str(link)

    html = await (await phones.wechat.get(link, headers={"User-Agent": WECHAT})).text()
    assert GUIDE in html and "复制链接" in html and 'class="pointer"' in html
    assert f'value="{phones.api.client.app[keys.SETTINGS].public_base_url}{link}"' in html
    assert "机动车驾驶证工本费" in html  # what is owed is still shown
    assert '<button class="button" type="submit">使用支付宝支付' not in html  # no dead end
    again = await phones.wechat.get(link, headers={"User-Agent": WECHAT}, allow_redirects=False)
    assert again.status == 200  # the link it carries still opens: kept, not remade


async def test_the_link_opened_in_the_phones_browser_pays_there_and_opens_only_once(
    phones: Phones,
) -> None:
    link = await phones.link()
    opened = await phones.browser.get(link, allow_redirects=False)
    assert opened.status == 303 and opened.headers["Location"] == phones.page()
    assert f"Path={phones.page()}" in opened.headers["Set-Cookie"]
    html = await (await phones.browser.get(phones.page())).text()
    assert "使用支付宝支付 10.00 元" in html and GUIDE not in html
    assert "请回到微信查看办理进度" in html

    paid = await phones.browser.post(
        phones.page(), data={"csrf": csrf_of(html)}, allow_redirects=False
    )
    assert paid.status == 303  # to Alipay's cashier, in a browser that can open it
    assert URL(paid.headers["Location"]).query["method"] == "alipay.trade.wap.pay"

    async with browser(phones.api) as someone_else:
        spent = await someone_else.get(link, allow_redirects=False)
        assert spent.status == 403 and "只能打开一次" in await spent.text()
        assert "使用支付宝支付" not in await spent.text()
    reopened = await phones.browser.get(link, allow_redirects=False)  # the same browser: fine
    assert reopened.status == 303 and reopened.headers["Location"] == phones.page()


async def test_the_browser_is_signed_in_to_that_pay_page_and_nothing_else(
    phones: Phones,
) -> None:
    link = await phones.link()
    await phones.browser.get(link)
    cookie = next(c for c in phones.browser.cookie_jar if c.key == "bcm_pay")
    other = await open_case(phones.api)  # another case of theirs, in another matter
    async with browser(phones.api, bcm_pay=cookie.value) as stolen:  # the cookie sent anywhere
        for path in (f"/h5/cases/{phones.number}", f"/h5/cases/{other['number']}/pay", "/h5/me"):
            resp = await stolen.get(path, allow_redirects=False)
            assert resp.status == 302 and resp.headers["Location"].startswith("/h5/login"), path
        post = await stolen.post(phones.page(), data={"csrf": "0" * 32}, allow_redirects=False)
        assert post.status == 403  # its form token is bound to the pass, not guessed


async def test_a_link_past_its_ten_minutes_or_forged_opens_nothing(phones: Phones) -> None:
    link = URL(await phones.link())
    store = phones.api.client.app[keys.DOCUMENTS]
    [record] = await store.find("pay_handoffs", {})
    async with store.transaction() as tx:  # ten minutes pass
        old = {**record, "expires_at": "2000-01-01T00:00:00+00:00"}
        await tx.replace("pay_handoffs", old, expected_version=record["_version"])
    late = await phones.browser.get(link, allow_redirects=False)
    assert late.status == 403 and "10 分钟内有效" in await late.text()
    forged = await phones.browser.get(link.update_query(token="x" * 32), allow_redirects=False)
    assert forged.status == 403
    assert not [c for c in phones.browser.cookie_jar if c.key == "bcm_pay"]
    # Back in WeChat the page makes a fresh link, since the one it carried no longer opens.
    fresh = await phones.wechat.get(link, headers={"User-Agent": WECHAT}, allow_redirects=False)
    assert fresh.status == 302
    assert URL(fresh.headers["Location"]).query["token"] != link.query["token"]


async def test_a_link_forwarded_to_someone_in_wechat_signs_them_in_to_nothing(
    phones: Phones,
) -> None:
    link = await phones.link()
    friend = signed_in_phone(phones.api, "demo-agent")  # no authority over 张三's matters
    try:
        resp = await friend.get(link, headers={"User-Agent": WECHAT}, allow_redirects=False)
        assert resp.status == 404 and "机动车驾驶证工本费" not in await resp.text()
    finally:
        await friend.close()
    opened = await phones.browser.get(link, allow_redirects=False)
    assert opened.status == 303  # still the owner's: a look from WeChat did not spend it


async def test_in_a_plain_mobile_browser_the_pay_page_is_as_before(phones: Phones) -> None:
    resp = await phones.wechat.get(
        phones.page(), headers={"User-Agent": BROWSER}, allow_redirects=False
    )
    html = await resp.text()
    assert resp.status == 200 and GUIDE not in html and "复制链接" not in html
    assert "使用支付宝支付 10.00 元" in html and "返回办件详情" in html
    assert await phones.api.client.app[keys.DOCUMENTS].count("pay_handoffs") == 0


async def test_the_links_token_never_reaches_the_logs(
    phones: Phones, log_buffer: io.StringIO
) -> None:
    link = URL(await phones.link())
    assert (await phones.browser.get(link, allow_redirects=False)).status == 303
    written = log_buffer.getvalue()
    assert any(f"{phones.page()}?token=" in line for line in written.splitlines())
    assert link.query["token"] not in written and f"token={REDACTED}" in written
