"""The production WeChatClient and TokenCache against the WeChat simulator, over every store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.client import MediaTooLarge, WeChatApiError, WeChatClient, WeChatUnavailable
from bot.simulator import SIMULATOR, Simulator, create_simulator, start_simulator
from bot.token_cache import TOKENS, TokenCache
from storage.documents import DocumentStore
from storage.schema import COLLECTIONS
from tests.conftest import Clock
from tests.contract.conftest import MakeStore

APPID = "wx5f3e9b1c7a2d4e60"
SECRET = "0f6b7c3d9e1a4b5c8d2e7f0a1b3c5d7e"
TOKEN = "buchumen-token"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CITIZEN = "o_citizen_lisi"
NOTICE = "您的申请已受理，受理编号 BCM-2026-000123。请在“我的材料”中查看“一次性告知书”。"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"

MakeClient = Callable[..., WeChatClient]


@pytest.fixture
async def platform(clock: Clock) -> AsyncIterator[tuple[Simulator, str]]:
    app = create_simulator(
        token=TOKEN,
        encoding_aes_key=AES_KEY,
        appid=APPID,
        secret=SECRET,
        callback_url="http://127.0.0.1:9/wechat",  # these tests never push
        clock=clock,
    )
    runner, base_url = await start_simulator(app)
    yield app[SIMULATOR], base_url
    await runner.cleanup()


@pytest.fixture
async def stores(document_backend: MakeStore) -> AsyncIterator[list[DocumentStore]]:
    """Two stores over one database, as two instances of the service would hold."""
    opened = [document_backend(), document_backend()]
    for store in opened:
        await store.open()
    yield list(opened)
    for store in opened:
        await store.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def make_client(
    platform: tuple[Simulator, str],
    stores: list[DocumentStore],
    session: aiohttp.ClientSession,
    clock: Clock,
) -> MakeClient:
    _, base_url = platform

    def make(instance: int = 0, *, secret: str = SECRET, base: str = base_url) -> WeChatClient:
        tokens = TokenCache(stores[instance], APPID, clock=clock, poll_interval=0.02)
        return WeChatClient(
            session, base_url=base, appid=APPID, secret=secret, tokens=tokens, open_base_url=base
        )

    return make


@pytest.fixture
def simulator(platform: tuple[Simulator, str]) -> Simulator:
    return platform[0]


async def test_the_token_is_fetched_once_and_shared_by_two_instances(
    make_client: MakeClient, simulator: Simulator, stores: list[DocumentStore]
):
    assert TOKENS not in COLLECTIONS  # no migration: the table is made on first write
    assert await stores[0].get(TOKENS, f"wechat:access_token:{APPID}") is None

    await make_client(0).send_template(CITIZEN, "TPL_ACCEPTED", url=None, data={"a": "1"})
    await make_client(1).send_template(CITIZEN, "TPL_ACCEPTED", url=None, data={"a": "2"})

    assert simulator.token_requests == 1
    stored = await stores[1].get(TOKENS, f"wechat:access_token:{APPID}")
    assert stored is not None and stored["token"] in simulator.state.tokens
    assert stored["lease_until"] is None


async def test_concurrent_refreshes_on_two_instances_make_one_token_request(
    make_client: MakeClient, simulator: Simulator
):
    clients = [make_client(0), make_client(1)] * 5
    await asyncio.gather(*(c.send_template(CITIZEN, "TPL", url=None, data={}) for c in clients))
    assert simulator.token_requests == 1


@pytest.mark.parametrize(
    ("break_tokens", "errcode"),
    [
        (lambda sim: sim.expire_tokens(), 42001),
        (lambda sim: sim.state.tokens.clear(), 40001),  # the platform forgot it
    ],
)
async def test_a_rejected_token_is_refetched_once_and_the_call_succeeds(
    make_client: MakeClient,
    simulator: Simulator,
    break_tokens: Callable[[Simulator], None],
    errcode: int,
):
    client = make_client()
    await client.create_menu({"button": [{"type": "click", "name": "我要办", "key": "K"}]})
    break_tokens(simulator)

    await client.create_menu({"button": [{"type": "click", "name": "查询进度", "key": "Q"}]})

    assert simulator.token_requests == 2
    assert simulator.state.menu["button"][0]["name"] == "查询进度"


async def test_the_token_is_refreshed_five_minutes_before_it_expires(
    make_client: MakeClient, simulator: Simulator, clock: Clock
):
    client = make_client()
    await client.create_menu({"button": [{"type": "click", "name": "我要办", "key": "K"}]})
    clock.advance(seconds=7200 - 301)
    await client.create_menu({"button": [{"type": "click", "name": "我要办", "key": "K"}]})
    assert simulator.token_requests == 1
    clock.advance(seconds=2)
    await client.create_menu({"button": [{"type": "click", "name": "我要办", "key": "K"}]})
    assert simulator.token_requests == 2


async def test_a_wrong_secret_is_refused_with_40125_and_frees_the_lease(
    make_client: MakeClient, simulator: Simulator
):
    with pytest.raises(WeChatApiError) as refused:
        await make_client(secret="not-the-secret").create_menu({"button": []})
    assert refused.value.errcode == 40125
    assert "not-the-secret" not in str(refused.value)

    # The failed refresh released its lease: the next instance refreshes at once.
    await asyncio.wait_for(
        make_client(1).send_template(CITIZEN, "TPL", url=None, data={}), timeout=1
    )


async def test_a_stale_invalidation_keeps_the_newer_token(stores: list[DocumentStore]):
    fetched = iter([("T1", 7200), ("T2", 7200)])

    async def fetch() -> tuple[str, int]:
        return next(fetched)

    cache, other = TokenCache(stores[0], APPID), TokenCache(stores[1], APPID)
    assert await cache.get(fetch) == "T1"
    await cache.invalidate("T1")
    assert await other.get(fetch) == "T2"
    await other.invalidate("T1")  # a slow instance that saw T1 fail
    assert await cache.get(fetch) == "T2"


async def test_instances_waiting_on_the_lease_use_the_token_the_holder_stored(
    stores: list[DocumentStore],
):
    calls = 0

    async def slow_fetch() -> tuple[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return f"T{calls}", 7200

    caches = [TokenCache(stores[i % 2], APPID, poll_interval=0.02) for i in range(6)]
    tokens = await asyncio.gather(*(c.get(slow_fetch) for c in caches))
    assert calls == 1
    assert tokens == ["T1"] * 6


async def test_a_custom_message_outside_48_hours_is_refused_with_45015(
    make_client: MakeClient, simulator: Simulator, clock: Clock
):
    client = make_client()
    with pytest.raises(WeChatApiError) as never_wrote:
        await client.send_text(CITIZEN, NOTICE)
    assert never_wrote.value.errcode == 45015

    simulator.state.user_acted(CITIZEN)
    clock.advance(hours=48, seconds=1)
    with pytest.raises(WeChatApiError) as too_late:
        await client.send_text(CITIZEN, NOTICE)
    assert too_late.value.errcode == 45015
    assert simulator.messages(CITIZEN) == []


async def test_a_custom_message_inside_48_hours_arrives_with_the_exact_chinese_text(
    make_client: MakeClient, simulator: Simulator, clock: Clock
):
    simulator.state.user_acted(CITIZEN)
    clock.advance(hours=47, minutes=59)

    await make_client().send_text(CITIZEN, NOTICE)

    (entry,) = simulator.messages(CITIZEN)
    assert (entry.side, entry.kind, entry.source, entry.text) == (
        "account",
        "text",
        "custom",
        NOTICE,
    )


async def test_a_template_message_is_sent_with_its_fields_and_link(
    make_client: MakeClient, simulator: Simulator
):
    data = {"first": "您的申请需要补正", "keyword1": "营业执照换发", "remark": "请一次性补齐"}
    url = "https://buchumen.example/h5/cases/BCM-1"

    msgid = await make_client().send_template(CITIZEN, "TPL_NOTICE", url=url, data=data)

    assert msgid.isdigit()
    (entry,) = simulator.messages(CITIZEN)
    assert (entry.kind, entry.fields, entry.url) == ("template", data, url)


async def test_media_downloads_round_trip_within_the_size_cap(
    make_client: MakeClient, simulator: Simulator
):
    media_id = simulator.state.store_media(JPEG)
    client = make_client()

    assert await client.download_media(media_id, max_bytes=len(JPEG)) == (JPEG, "image/jpeg")
    with pytest.raises(MediaTooLarge):
        await client.download_media(media_id, max_bytes=len(JPEG) - 1)
    with pytest.raises(WeChatApiError) as unknown:
        await client.download_media("no-such-media", max_bytes=len(JPEG))
    assert unknown.value.errcode == 40007


async def test_an_oauth_code_gives_the_openid_once(
    make_client: MakeClient, session: aiohttp.ClientSession
):
    client = make_client()
    url = client.oauth_authorize_url("http://127.0.0.1:8080/h5/login?next=/cases", "s-42")
    assert url.endswith("#wechat_redirect") and "scope=snsapi_base" in url

    async with session.get(
        url.replace("#", f"&openid={CITIZEN}#"), allow_redirects=False
    ) as answer:
        assert answer.status == 302
        back = urlsplit(answer.headers["Location"])
    query = parse_qs(back.query)
    assert back.path == "/h5/login" and query["next"] == ["/cases"] and query["state"] == ["s-42"]

    (code,) = query["code"]
    assert await client.oauth_openid(code) == CITIZEN
    with pytest.raises(WeChatApiError) as reused:
        await client.oauth_openid(code)
    assert reused.value.errcode == 40163


async def test_an_oauth_code_expires_after_five_minutes(
    make_client: MakeClient, simulator: Simulator, clock: Clock
):
    code = simulator.state.issue_code(CITIZEN)
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(WeChatApiError) as expired:
        await make_client().oauth_openid(code)
    assert expired.value.errcode == 40029


async def test_a_silent_api_times_out_with_a_clear_error_that_hides_secrets(
    stores: list[DocumentStore], session: aiohttp.ClientSession
):
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/cgi-bin/token", hang)
    async with TestServer(app) as server:
        client = WeChatClient(
            session,
            base_url=str(server.make_url("")),
            appid=APPID,
            secret=SECRET,
            tokens=TokenCache(stores[0], APPID),
            timeout=0.2,
        )
        with pytest.raises(WeChatUnavailable, match="no answer from WeChat in time") as slow:
            await client.send_text(CITIZEN, NOTICE)
    assert SECRET not in str(slow.value) and SECRET not in repr(client)


async def test_an_unreachable_api_is_reported_without_the_secret(make_client: MakeClient):
    with pytest.raises(WeChatUnavailable) as down:
        await make_client(base="http://127.0.0.1:9").send_text(CITIZEN, NOTICE)
    assert "/cgi-bin/token" in str(down.value) and SECRET not in str(down.value)


async def test_tokens_are_kept_for_their_lifetime_in_the_store(
    make_client: MakeClient, stores: list[DocumentStore], clock: Clock
):
    await make_client().send_template(CITIZEN, "TPL", url=None, data={})
    stored = await stores[0].get(TOKENS, f"wechat:access_token:{APPID}")
    assert stored is not None
    assert stored["expires_at"] == (clock.now + timedelta(seconds=7200)).isoformat(
        timespec="microseconds"
    )
