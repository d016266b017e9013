"""Paying from the phone: the chat asks with the fee items, the pay page hands over to Alipay's
cashier (the demo's local Alipay), Alipay's notice reaches /alipay/notify, the chat confirms."""

from __future__ import annotations

import re

import aiohttp
from yarl import URL

from app import keys
from tests.http.chat_world import JPEG, OPENID, World, bind_by_chat, eventually, sign_in

LICENCE = "驾驶证"  # the demo's paid matter, paid before review


async def apply_for_licence(world: World) -> str:
    """Bind, open the licence renewal in the chat, send a photo per material, submit."""
    await bind_by_chat(world)
    listing = await world.say("我要办")
    pick = next(line.split(".")[0] for line in listing.splitlines() if LICENCE in line)
    await world.say(pick)
    opened = await world.say("办理")
    number = next(w for w in opened.replace("（", " ").split() if w.startswith("BC"))
    matter = await world.api("GET", f"/cases/{number}", "demo-admin")
    required = [m for m in matter["materials"] if m["required"]]
    for n in range(len(required)):
        await world.sim.push_image(OPENID, JPEG)
        await eventually(lambda n=n: sum("【材料预审】" in t for t in world.chat()) == n + 1)
    await world.say("提交")
    return number


def form_token(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, html
    return match.group(1)


async def test_the_fee_is_asked_in_the_chat_paid_at_alipay_and_confirmed(
    reachable_world: World,
) -> None:
    world, http = reachable_world, reachable_world.client
    number = await apply_for_licence(world)
    await eventually(lambda: any("请缴纳以下费用" in t for t in world.chat()))
    asked = next(t for t in world.chat() if "请缴纳以下费用" in t)
    assert "机动车驾驶证工本费 10.00 元（依据：" in asked
    pay = world.client.make_url(f"/h5/cases/{number}/pay")
    assert f'<a href="{pay}">去缴费</a>' in asked  # a tappable label, as WeChat shows <a>

    page = f"/h5/cases/{number}/pay"
    await sign_in(world, page)
    html = await (await http.get(page)).text()
    assert "机动车驾驶证工本费" in html and "使用支付宝支付 10.00 元" in html

    forged = await http.post(page, data={"csrf": "0" * 32}, allow_redirects=False)
    assert forged.status == 403
    assert await http.app[keys.DOCUMENTS].count("payment_orders") == 0  # nothing made

    resp = await http.post(page, data={"csrf": form_token(html)}, allow_redirects=False)
    assert resp.status == 303
    cashier = URL(resp.headers["Location"])
    assert cashier.path == "/gateway.do" and cashier.query["method"] == "alipay.trade.wap.pay"

    async with aiohttp.ClientSession() as phone:  # the payer's browser at Alipay
        async with phone.get(cashier) as at_alipay:
            assert "付款" in await at_alipay.text()
            pay_url = at_alipay.url.join(URL(f"{at_alipay.url.path}/pay"))
        async with phone.post(pay_url, allow_redirects=False) as paid:
            back = URL(paid.headers["Location"])
    assert back.path == page and back.query["out_trade_no"].startswith(number)

    await eventually(lambda: any("已收到您为办件" in t for t in world.chat()))
    html = await (await http.get(back.path_qs)).text()
    assert "已付 10.00 元" in html and "正在确认" not in html
    case = await world.api("GET", f"/cases/{number}", "demo-admin")
    assert case["state"] == "submitted"  # paid before review: now in the reviewer's queue


async def test_nobody_else_opens_the_pay_page_of_a_case(reachable_world: World) -> None:
    world, http = reachable_world, reachable_world.client
    await bind_by_chat(world)
    matters = await world.api("GET", "/matters?target=citizen", "demo-citizen")
    code = next(m["code"] for m in matters["items"] if LICENCE in m["name"])
    theirs = await world.api("POST", "/cases", "demo-citizen", json={"matter_code": code})
    page = f"/h5/cases/{theirs['number']}/pay"
    await sign_in(world, page)
    resp = await http.get(page)
    assert resp.status == 404
    resp = await http.post(page, data={"csrf": "x"}, allow_redirects=False)
    assert resp.status in {403, 404}
    assert await http.app[keys.DOCUMENTS].count("payment_orders") == 0
