"""The real app from the factory, on a temp SQLite file and directory, with demo data."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, unused_port

from app import keys
from app.main import create_app
from app.settings import Settings
from bot.simulator import create_simulator, start_simulator
from bot.simulator.simulator import SIMULATOR
from tests.conftest import Clock
from tests.http.chat_world import World, wechat_settings

# A PNG cut off inside its image data: it passes the upload (which parses the header to strip
# location) and the pre-check finds it damaged.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000040000000400800000000f87a2ce50000005049444154"
)
MATTER = None  # filled lazily: the first citizen matter with required materials


class Api:
    """A thin client that speaks as one demo account."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    async def call(
        self, method: str, path: str, who: str | None = None, **kw: Any
    ) -> tuple[int, Any]:
        headers = self.headers(who) | kw.pop("headers", {})
        resp = await self.client.request(method, f"/api/v1{path}", headers=headers, **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body

    async def count(self, collection: str) -> int:
        return await self.client.app[keys.DOCUMENTS].count(collection)


@pytest.fixture
async def api(aiohttp_client: Any, settings: Settings, clock: Clock) -> Api:
    client = await aiohttp_client(create_app(settings, clock=clock))
    resp = await client.get("/api/v1/demo/tokens")
    tokens = {i["username"]: i["token"] for i in (await resp.json())["items"]}
    return Api(client, tokens)


async def open_case(api: Api, who: str = "demo-citizen", code: str | None = None) -> dict[str, Any]:
    if code is None:
        code = await citizen_matter(api)
    status, case = await api.call("POST", "/cases", who, json={"matter_code": code})
    assert status == 201, case
    return case


async def citizen_matter(api: Api, department: str | None = None) -> str:
    _, body = await api.call("GET", "/matters?target=citizen")
    items = [m for m in body["items"] if department is None or m["department"] == department]
    return items[0]["code"]


async def fill_and_submit(
    api: Api, case: dict[str, Any], who: str = "demo-citizen"
) -> dict[str, Any]:
    for slot in case["materials"]:
        if slot["required"]:
            status, case = await api.call(
                "PUT", f"/cases/{case['number']}/materials/{slot['slot_id']}", who, data=PNG
            )
            assert status == 200, case
    status, case = await api.call("POST", f"/cases/{case['number']}/submit", who, json={})
    assert status == 200, case
    return case


@pytest.fixture
async def worlds(
    aiohttp_client: Any, tmp_path: Path, clock: Clock
) -> AsyncIterator[Callable[..., Awaitable[World]]]:
    """Build the app and a WeChat platform pushing to it in the given mode."""
    runners: list[web.AppRunner] = []

    async def build(mode: str, *, reachable: bool = False) -> World:
        """``reachable``: the app listens where its public URL says (providers call it back)."""
        creds = {
            "wechat_token": secrets.token_urlsafe(16),
            "wechat_encoding_aes_key": "".join(secrets.choice("abcdefXYZ0123") for _ in range(43)),
            "wechat_appid": "wx" + secrets.token_hex(8),
            "wechat_appsecret": secrets.token_hex(16),
        }
        sim_clock = Clock(datetime.now(UTC))
        sim_app: web.Application = create_simulator(
            clock=sim_clock,
            token=creds["wechat_token"],
            encoding_aes_key=creds["wechat_encoding_aes_key"],
            appid=creds["wechat_appid"],
            secret=creds["wechat_appsecret"],
            callback_url="http://unset",
            mode=mode,  # type: ignore[arg-type]
        )
        runner, sim_url = await start_simulator(sim_app)
        runners.append(runner)
        port = unused_port() if reachable else None
        extra = {"public_base_url": f"http://127.0.0.1:{port}"} if port else {}
        settings = wechat_settings(tmp_path, sim_url, **creds, **extra)
        server_kwargs = {"port": port} if port else {}
        client = await aiohttp_client(
            create_app(settings, clock=clock), server_kwargs=server_kwargs
        )
        sim = sim_app[SIMULATOR]
        sim.pusher.callback_url = str(client.make_url("/wechat"))
        return World(client, sim, creds["wechat_token"], sim_clock)

    yield build
    for runner in runners:
        await runner.cleanup()


@pytest.fixture(params=["safe", "compatible", "plain"])
async def world(request: pytest.FixtureRequest, worlds: Callable[[str], Awaitable[World]]) -> World:
    return await worlds(request.param)


@pytest.fixture
async def plain_world(worlds: Callable[..., Awaitable[World]]) -> World:
    return await worlds("plain")


@pytest.fixture
async def reachable_world(worlds: Callable[..., Awaitable[World]]) -> World:
    """The plain world, listening at its public URL: Alipay's notices reach it."""
    return await worlds("plain", reachable=True)
