"""The account's menu: within WeChat's limits, every name shown whole, 我要预约 one tap away."""

from __future__ import annotations

import copy
import re

import aiohttp
import pytest

from app import keys
from bot.client import WeChatApiError
from bot.menu import account_menu
from tests.http.chat_world import OPENID, World, bind_by_chat

MORE = {"type": "click", "name": "更多", "key": "MORE"}


async def shown_menu(world: World) -> list[str]:
    """The menu's names as the phone shows them on the simulator's chat page."""
    async with aiohttp.ClientSession() as phone, phone.get(f"{world.sim.base_url}/chat") as page:
        html = await page.text()
    nav = html[html.index('<nav class="menu"') : html.index("</nav>")]
    return [n.strip() for n in re.findall(r">([^<>]+)</(?:button|summary)>", nav)]


async def test_the_menu_fits_wechats_limits_and_every_name_shows_whole(
    plain_world: World,
) -> None:
    client = plain_world.client.app[keys.WECHAT_CLIENT]
    await client.create_menu(account_menu("http://127.0.0.1:8080"))  # WeChat's own checks
    names = await shown_menu(plain_world)
    assert names == ["我要办", "我要预约", "我的", "查询进度", "我的办件", "我的材料", "帮助"]

    longer = copy.deepcopy(account_menu("http://127.0.0.1:8080"))
    longer["button"][2]["sub_button"][0]["name"] = "查询我的办件进度情况"  # 30 bytes: allowed
    await client.create_menu(longer)
    assert "查询我的办件进度..." in await shown_menu(plain_world)  # but cut on the phone


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        (lambda m: m["button"][1].update(name="我要预约办事"), 40018),  # 18 bytes > 16
        (lambda m: m["button"][2]["sub_button"][0].update(name="查" * 21), 40018),  # 63 > 60
        (lambda m: m["button"][2]["sub_button"].extend([MORE, MORE]), 40016),  # 6 sub-buttons
        (lambda m: m["button"].append(MORE), 40016),  # 4 buttons
    ],
)
async def test_wechat_refuses_a_menu_past_its_limits(
    plain_world: World, change: object, errcode: int
) -> None:
    menu = copy.deepcopy(account_menu("http://127.0.0.1:8080"))
    change(menu)  # type: ignore[operator]
    with pytest.raises(WeChatApiError) as refused:
        await plain_world.client.app[keys.WECHAT_CLIENT].create_menu(menu)
    assert refused.value.errcode == errcode


async def test_tapping_woyao_yuyue_starts_the_booking_dialogue(plain_world: World) -> None:
    await plain_world.client.app[keys.WECHAT_CLIENT].create_menu(account_menu("http://x"))
    await bind_by_chat(plain_world)
    result = await plain_world.sim.push_event(OPENID, "CLICK", "MENU_BOOK")
    reply = (result.reply or {}).get("Content", "")
    assert "请回复序号选择要到大厅办理的事项" in reply and "老年人优待证办理" in reply
    tapped = [e.text for e in plain_world.sim.messages(OPENID) if e.kind == "event"]
    assert tapped[-1] == "你点击了菜单「我要预约」"
