"""The WeChat simulator pushes like WeChat: signed, encrypted per mode, retried, replies read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.crypto import MessageCrypto, verify_signature
from bot.simulator import (
    ACCOUNT_ID,
    SIMULATOR,
    Mode,
    Simulator,
    create_simulator,
    start_simulator,
)
from bot.simulator.simulator import UNAVAILABLE
from bot.wire import SUCCESS, XmlFields, parse_xml, render_text_reply
from tests.conftest import Clock

APPID = "wx5f3e9b1c7a2d4e60"
SECRET = "0f6b7c3d9e1a4b5c8d2e7f0a1b3c5d7e"
TOKEN = "buchumen-token"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CITIZEN = "o_citizen_lisi"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"
CRYPTO = MessageCrypto(TOKEN, AES_KEY, APPID)


@dataclass
class Account:
    """A minimal official account: verifies and decrypts every push, answers per ``behaviour``."""

    mode: Mode
    behaviour: Callable[[int], Awaitable[str | None]] | None = None
    received: list[XmlFields] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        verify_signature(q["signature"], TOKEN, q["timestamp"], q["nonce"])
        outer = parse_xml(await request.read())
        if self.mode == "plain":
            assert "encrypt_type" not in q and "Encrypt" not in outer
            fields = outer
        else:
            assert q["encrypt_type"] == "aes"
            inner = CRYPTO.decrypt(
                outer["Encrypt"],
                msg_signature=q["msg_signature"],
                timestamp=q["timestamp"],
                nonce=q["nonce"],
            )
            fields = parse_xml(inner.encode())
            plain = {k: v for k, v in outer.items() if k != "Encrypt"}
            assert plain == (fields if self.mode == "compatible" else {"ToUserName": ACCOUNT_ID})
        assert q["openid"] == fields["FromUserName"]
        self.received.append(fields)
        self.queries.append(q)
        answer = await self.behaviour(len(self.received)) if self.behaviour else None
        if answer is None:
            answer = self.echo(fields, q)
        return web.Response(text=answer, content_type="text/xml")

    def echo(self, fields: XmlFields, q: dict[str, str]) -> str:
        said = fields.get("Content") or fields.get("EventKey") or fields.get("MsgType")
        reply = render_text_reply(
            to_user=fields["FromUserName"],
            from_user=fields["ToUserName"],
            content=f"收到：{said}",
            create_time=int(fields["CreateTime"]),
        )
        if self.mode == "plain":
            return reply
        return CRYPTO.encrypt_reply(reply, nonce=q["nonce"], timestamp=q["timestamp"])


@pytest.fixture
async def account() -> AsyncIterator[Callable[..., Awaitable[Account]]]:
    servers: list[TestServer] = []

    async def start(mode: Mode, behaviour: Any = None) -> Account:
        account = Account(mode, behaviour)
        app = web.Application()
        app.router.add_post("/wechat", account.handle)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        account.url = str(server.make_url("/wechat"))
        return account

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def platform(clock: Clock) -> AsyncIterator[Callable[..., Awaitable[tuple[Simulator, str]]]]:
    runners: list[web.AppRunner] = []

    async def start(
        callback_url: str, mode: Mode = "safe", **options: Any
    ) -> tuple[Simulator, str]:
        app = create_simulator(
            token=TOKEN,
            encoding_aes_key=AES_KEY,
            appid=APPID,
            secret=SECRET,
            callback_url=callback_url,
            mode=mode,
            clock=clock,
            **options,
        )
        runner, base_url = await start_simulator(app)
        runners.append(runner)
        return app[SIMULATOR], base_url

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
async def test_a_text_push_is_signed_per_mode_and_the_passive_reply_is_read(
    mode: Mode, account: Any, platform: Any
):
    acct = await account(mode)
    sim, _ = await platform(acct.url, mode)

    result = await sim.push_text(CITIZEN, "我要办营业执照换发")

    assert (result.attempts, result.status, result.error) == (1, 200, None)
    assert result.reply is not None and result.reply["Content"] == "收到：我要办营业执照换发"
    (pushed,) = acct.received
    assert pushed["ToUserName"] == ACCOUNT_ID and pushed["MsgType"] == "text"
    assert pushed["MsgId"] == result.msg_id
    assert [(e.side, e.text) for e in sim.messages(CITIZEN)] == [
        ("user", "我要办营业执照换发"),
        ("account", "收到：我要办营业执照换发"),
    ]


async def test_compatible_mode_also_accepts_a_plain_reply(account: Any, platform: Any):
    async def plain(_: int) -> str:
        fields = acct.received[-1]
        return render_text_reply(
            to_user=fields["FromUserName"], from_user=ACCOUNT_ID, content="明文回复", create_time=1
        )

    acct = await account("compatible", plain)
    sim, _ = await platform(acct.url, "compatible")
    result = await sim.push_text(CITIZEN, "你好")
    assert result.reply is not None and result.reply["Content"] == "明文回复"


@pytest.mark.parametrize("answer", ["", SUCCESS])
async def test_an_empty_or_success_answer_means_no_passive_reply(
    answer: str, account: Any, platform: Any
):
    async def quiet(_: int) -> str:
        return answer

    acct = await account("safe", quiet)
    sim, _ = await platform(acct.url)
    result = await sim.push_text(CITIZEN, "在吗")
    assert (result.attempts, result.reply, result.error) == (1, None, None)
    assert [e.side for e in sim.messages(CITIZEN)] == ["user"]


async def test_a_reply_with_a_bad_signature_is_not_shown_and_the_user_is_told(
    account: Any, platform: Any
):
    async def forged(_: int) -> str:
        fields, q = acct.received[-1], acct.queries[-1]
        good = acct.echo(fields, q)
        return good.replace("<MsgSignature><![CDATA[", "<MsgSignature><![CDATA[0")

    acct = await account("safe", forged)
    sim, _ = await platform(acct.url)
    result = await sim.push_text(CITIZEN, "你好")
    assert result.reply is None and result.error is not None
    assert sim.messages(CITIZEN)[-1].text == UNAVAILABLE


async def test_a_slow_account_gets_three_identical_requests_in_all(account: Any, platform: Any):
    async def slow(_: int) -> str:
        await asyncio.sleep(0.6)
        return SUCCESS

    acct = await account("safe", slow)
    sim, _ = await platform(acct.url, push_timeout=0.2)

    result = await sim.push_text(CITIZEN, "材料已拍好")

    assert result.attempts == 3 and result.status is None and result.reply is None
    assert "no response within 0.2 s" in (result.error or "")
    assert len(acct.received) == 3
    assert len({m["MsgId"] for m in acct.received}) == 1 == len({q["nonce"] for q in acct.queries})
    assert sim.messages(CITIZEN)[-1].text == UNAVAILABLE


async def test_retries_stop_at_the_first_answer_in_time(account: Any, platform: Any):
    async def slow_then_fast(attempt: int) -> str | None:
        if attempt == 1:
            await asyncio.sleep(0.6)
        return None  # the echo reply

    acct = await account("safe", slow_then_fast)
    sim, _ = await platform(acct.url, push_timeout=0.2)
    result = await sim.push_event(CITIZEN, "CLICK", "MENU_APPLY")

    assert result.attempts == 2 and result.status == 200
    assert result.reply is not None and result.reply["Content"] == "收到：MENU_APPLY"
    first, second = acct.received
    assert first == second and "MsgId" not in first  # events: dedupe on FromUserName+CreateTime


async def test_an_error_status_is_retried_like_a_timeout(account: Any, platform: Any):
    async def fail_once(attempt: int) -> str | None:
        if attempt == 1:
            raise web.HTTPInternalServerError()
        return None

    acct = await account("plain", fail_once)
    sim, _ = await platform(acct.url, "plain")
    result = await sim.push_event(CITIZEN, "subscribe")
    assert (result.attempts, result.status) == (2, 200)
    assert sim.messages(CITIZEN)[0].text == "你关注了公众号"


async def test_an_image_push_carries_a_pic_url_the_account_can_fetch(account: Any, platform: Any):
    async def quiet(_: int) -> str:
        return SUCCESS

    acct = await account("safe", quiet)
    sim, base_url = await platform(acct.url)
    await sim.push_image(CITIZEN, JPEG)

    (pushed,) = acct.received
    assert pushed["MsgType"] == "image" and pushed["PicUrl"].startswith(base_url)
    async with aiohttp.ClientSession() as session, session.get(pushed["PicUrl"]) as photo:
        assert await photo.read() == JPEG
    assert sim.messages(CITIZEN)[0].media_id == pushed["MediaId"]


async def test_a_menu_click_from_the_chat_page_is_pushed_and_the_conversation_polled(
    account: Any, platform: Any
):
    acct = await account("safe")
    _, base_url = await platform(acct.url)
    async with aiohttp.ClientSession(base_url) as http:
        sent = await http.post(
            "/chat/api/send", json={"openid": CITIZEN, "event": "CLICK", "key": "MENU_QUERY"}
        )
        assert (await sent.json())["delivered"] is True
        await http.post("/chat/api/send", json={"openid": CITIZEN, "text": "<b>你好</b>"})
        form = aiohttp.FormData()
        form.add_field("openid", CITIZEN)
        form.add_field("photo", JPEG, filename="id.jpg", content_type="image/jpeg")
        photo = await http.post("/chat/api/send", data=form)
        assert photo.status == 200

        everything = await (await http.get("/chat/api/messages", params={"openid": CITIZEN})).json()
        later = await http.get(
            "/chat/api/messages", params={"openid": CITIZEN, "after": everything["last"]}
        )
        assert (await later.json())["messages"] == []

    assert [e["Event"] if e["MsgType"] == "event" else e["MsgType"] for e in acct.received] == [
        "CLICK",
        "text",
        "image",
    ]
    shown = [(m["side"], m["kind"], m["text"]) for m in everything["messages"]]
    assert shown[:4] == [
        ("notice", "event", "你点击了菜单「查询进度」"),
        ("account", "text", "收到：MENU_QUERY"),
        ("user", "text", "<b>你好</b>"),  # raw text: the page renders it with textContent
        ("account", "text", "收到：<b>你好</b>"),
    ]
    assert shown[4][:2] == ("user", "image") and everything["messages"][4]["media_url"]


async def test_the_chat_page_renders_for_a_phone(platform: Any):
    _, base_url = await platform("http://127.0.0.1:9/wechat")
    async with aiohttp.ClientSession(base_url) as http:
        page = await http.get("/chat", params={"openid": CITIZEN})
        html = await page.text()
        assert page.status == 200
        assert '<meta name="viewport"' in html and "发送" in html and CITIZEN in html
        for label in ("我要办", "查询进度", "我的材料", "关注"):
            assert label in html
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert (await http.get("/chat/static/chat.js")).status == 200
        hostile = await http.get("/chat", params={"openid": '"><script>alert(1)</script>'})
        assert hostile.status == 400


async def test_a_body_with_unicode_escapes_shows_them_literally_as_wechat_does(
    platform: Any,
):
    sim, base_url = await platform("http://127.0.0.1:9/wechat")
    sim.state.user_acted(CITIZEN)
    async with aiohttp.ClientSession(base_url) as http:
        token = (
            await (
                await http.get(
                    "/cgi-bin/token",
                    params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
                )
            ).json()
        )["access_token"]
        body = {"touser": CITIZEN, "msgtype": "text", "text": {"content": "你好"}}
        sent = await http.post(
            "/cgi-bin/message/custom/send",
            params={"access_token": token},
            data=json.dumps(body),  # ensure_ascii: "\\u4f60\\u597d"
        )
        assert (await sent.json())["errcode"] == 0
    assert sim.messages(CITIZEN)[-1].text == "\\u4f60\\u597d"


async def test_uploaded_media_can_be_fetched_and_a_bad_menu_is_refused(platform: Any):
    sim, base_url = await platform("http://127.0.0.1:9/wechat")
    token, _ = sim.state.issue_token("client_credential", APPID, SECRET)
    async with aiohttp.ClientSession(base_url) as http:
        form = aiohttp.FormData()
        form.add_field("media", JPEG, filename="a.jpg", content_type="image/jpeg")
        uploaded = await (
            await http.post(
                "/cgi-bin/media/upload", params={"access_token": token, "type": "image"}, data=form
            )
        ).json()
        media = await http.get(
            "/cgi-bin/media/get", params={"access_token": token, "media_id": uploaded["media_id"]}
        )
        assert await media.read() == JPEG and media.content_type == "image/jpeg"

        four = {"button": [{"type": "click", "name": str(i), "key": "K"} for i in range(4)]}
        refused = await http.post("/cgi-bin/menu/create", params={"access_token": token}, json=four)
        assert (await refused.json())["errcode"] == 40016
