"""The demo's chat page keeps the conversation across a restart of the service, as a phone does."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, unused_port
from PIL import Image

from app import keys
from app.main import create_app
from app.settings import Settings, load_settings

OPENID = "o_demo_restart"


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


async def start(aiohttp_client: Any, settings: Settings, port: int) -> tuple[TestClient, str]:
    """``python3 -m app`` in demo mode: the service, and the WeChat simulator it starts."""
    client = await aiohttp_client(create_app(settings), server_kwargs={"port": port})
    return client, client.app[keys.WECHAT_SIMULATOR_URL]


async def chat(phone: aiohttp.ClientSession, sim: str, after: int = 0) -> dict[str, Any]:
    query = {"openid": OPENID, "after": str(after)}
    async with phone.get(f"{sim}/chat/api/messages", params=query) as resp:
        return dict(await resp.json())


async def test_the_chat_page_shows_the_conversation_after_a_restart(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    port = unused_port()
    settings = load_settings(
        {},
        demo=True,
        data_dir=tmp_path / "var",
        wechat_simulator_port=0,
        public_base_url=f"http://127.0.0.1:{port}",  # the simulator pushes to the service here
    )
    service, sim = await start(aiohttp_client, settings, port)
    async with aiohttp.ClientSession() as phone:
        for said in ({"event": "subscribe"}, {"text": "帮助"}):
            async with phone.post(f"{sim}/chat/api/send", json={"openid": OPENID, **said}) as r:
                assert (await r.json())["delivered"]
        form = aiohttp.FormData({"openid": OPENID})
        form.add_field("photo", photo(), filename="p.jpg", content_type="image/jpeg")
        async with phone.post(f"{sim}/chat/api/send", data=form) as r:
            assert (await r.json())["delivered"]
        before = await chat(phone, sim)
    await service.close()  # the service stops, and the simulator with it

    service, sim = await start(aiohttp_client, settings, port)
    async with aiohttp.ClientSession() as phone:
        after = await chat(phone, sim)
        assert after == before  # every line, in order, with the same numbers
        said = [m["text"] for m in after["messages"]]
        assert "你关注了公众号" in said and "帮助" in said and len(said) >= 4
        [picture] = [m["media_url"] for m in after["messages"] if m["kind"] == "image"]
        async with phone.get(f"{sim}{picture}") as shown:
            assert shown.status == 200 and shown.content_type == "image/jpeg"
            assert Image.open(io.BytesIO(await shown.read())).width <= 480  # a small preview

        async with phone.post(f"{sim}/chat/api/send", json={"openid": OPENID, "text": "帮助"}) as r:
            assert (await r.json())["delivered"]
        new = await chat(phone, sim, after=before["last"])
        assert new["messages"][0]["text"] == "帮助"  # only what came since, numbered after
        assert min(m["seq"] for m in new["messages"]) > before["last"]

    # The 48-hour window is the phone's too: a notice after the restart still reaches the chat.
    await service.app[keys.WECHAT_CLIENT].send_text(OPENID, "您的办件有新进展")
