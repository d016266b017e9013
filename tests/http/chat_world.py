"""A chat user's world: the real app, and the local WeChat platform pushing to its /wechat.

Fixtures building it are in conftest.py."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from PIL import Image
from yarl import URL

from app.settings import Settings, load_settings
from bot.simulator import Simulator
from tests.conftest import Clock


def cut_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 190, 170)).save(out, "JPEG")
    data = out.getvalue()
    return data[: data.index(b"\xff\xda") + 40]


OPENID = "oCitizen-journey"
VALID_ID = "11010519491231002X"
JPEG = cut_jpeg()  # a photo cut off in its image data: stored, and the pre-check says damaged


@dataclass
class World:
    client: TestClient
    sim: Simulator
    token: str
    sim_clock: Clock

    async def api(self, method: str, path: str, who: str, **kw: Any) -> Any:
        tokens = await (await self.client.get("/api/v1/demo/tokens")).json()
        token = next(i["token"] for i in tokens["items"] if i["username"] == who)
        resp = await self.client.request(
            method, f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kw
        )
        assert resp.status < 400, await resp.text()
        return await resp.json()

    async def say(self, text: str) -> str:
        result = await self.sim.push_text(OPENID, text)
        assert result.status == 200
        return (result.reply or {}).get("Content", "")

    def chat(self) -> list[str]:
        return [e.text for e in self.sim.messages(OPENID) if e.source in {"custom", "template"}]


def csrf_of(html: str) -> str:
    """The form token an H5 page carries for its session."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no form token"
    return found[1]


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def wechat_settings(tmp_path: Path, api_url: str, **creds: str) -> Settings:
    return load_settings(
        {},
        demo=True,
        data_dir=tmp_path / "var",
        wechat_api_base_url=api_url,
        wechat_open_base_url=api_url,
        wechat_template_id="TPL-case-status",
        **creds,
    )


async def bind_by_chat(world: World, name: str = "张三", number: str = VALID_ID) -> None:
    """Consent, name and number in the chat; wait for the real-name check's verdict."""
    assert "个人信息处理告知" in await world.say("绑定")
    for line in ("同意", name):
        await world.say(line)
    assert "正在核验" in await world.say(number)
    await eventually(lambda: any("绑定成功" in t for t in world.chat()))


async def open_by_chat(world: World) -> str:
    """Bind as 张三 in the chat and open a case for the 老年人优待证; its number."""
    await bind_by_chat(world)
    listing = await world.say("我要办")
    pick = next(line.split(".")[0] for line in listing.splitlines() if "老年人优待证" in line)
    await world.say(pick)
    opened = await world.say("办理")
    return next(w for w in opened.replace("（", " ").split() if w.startswith("BC"))


async def return_case(world: World, number: str, **body: Any) -> None:
    """The reviewer returns the case with ``body`` (corrections, dismiss_findings)."""
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    await world.api(
        "POST",
        f"/cases/{number}/return",
        "reviewer-mz",
        json={"version": case["version"], **body},
    )


async def apply_by_chat(world: World) -> str:
    """Open a case in the chat, send its three photos, wait for their verdicts, submit."""
    number = await open_by_chat(world)
    for n in range(3):
        await world.sim.push_image(OPENID, JPEG)
        await eventually(lambda n=n: sum("【材料预审】" in t for t in world.chat()) == n + 1)
    await eventually(lambda: sum("【材料预审】" in t for t in world.chat()) == 3)
    await world.say("提交")
    return number


async def reviewer_of(world: World, number: str) -> str:
    """The demo reviewer of the department the case ``number`` belongs to."""
    case = await world.api("GET", f"/cases/{number}", "demo-admin")
    return f"reviewer-{case['department']}"


async def sign_in(world: World, path: str) -> None:
    """Open ``path`` as the chat user would: redirected through WeChat's snsapi_base OAuth."""
    http = world.client
    resp = await http.get(path, allow_redirects=False)
    resp = await http.get(resp.headers["Location"], allow_redirects=False)
    authorize = URL(resp.headers["Location"])
    async with (
        aiohttp.ClientSession() as phone,
        phone.get(authorize.update_query(openid=OPENID), allow_redirects=False) as back,
    ):
        callback = URL(back.headers["Location"])
    resp = await http.get(callback.path_qs, allow_redirects=False)
    assert resp.headers["Location"] == path
