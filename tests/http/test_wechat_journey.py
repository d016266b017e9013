"""A citizen's journey in the chat: the local WeChat platform pushes to the real app's /wechat."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from yarl import URL

from app import keys
from bot.crypto import signature
from tests.http.chat_world import (
    JPEG,
    OPENID,
    VALID_ID,
    World,
    apply_by_chat,
    bind_by_chat,
    eventually,
    return_case,
    sign_in,
)


async def test_a_citizen_binds_applies_by_photo_and_submits_in_the_chat(world: World) -> None:
    welcome = await world.sim.push_event(OPENID, "subscribe")
    assert "我要办" in (welcome.reply or {}).get("Content", "")
    await bind_by_chat(world)
    [bound] = [t for t in world.chat() if "绑定成功" in t]
    assert "1101**********002X" in bound and VALID_ID not in bound
    listing = await world.say("我要办")
    pick = next(line.split(".")[0] for line in listing.splitlines() if "老年人优待证" in line)
    assert "办理" in await world.say(pick)
    opened = await world.say("办理")
    number = next(w for w in opened.replace("（", " ").split() if w.startswith("BC"))

    for n in range(3):  # its three required photos, one by one
        before = len(world.chat())
        result = await world.sim.push_image(OPENID, JPEG)
        assert "已收到照片" in (result.reply or {}).get("Content", "")  # one acknowledgement
        # ...then one verdict that names the material and says what comes next.
        await eventually(lambda n=n: sum("【材料预审】" in t for t in world.chat()) == n + 1)
        assert len(world.chat()) == before + 1  # after the reply, one message: the verdict
    verdicts = [t for t in world.chat() if "【材料预审】" in t]
    # These test JPEGs are cut short: the pre-check asks to retake them, so the last verdict does
    # not say everything is fine, but that all required materials are there and may be retaken.
    assert all("照片文件不完整" in t for t in verdicts)
    assert "还需要" in verdicts[0] and "必交材料已齐全" in verdicts[-1]
    assert not any("材料已齐全，回复“提交”即可提交申请" in t for t in verdicts)

    submitted = await world.say("提交")
    assert number in submitted
    # The machine never blocks a submission, but says which photos it asked to retake.
    assert "提示：居民身份证人像面、居民身份证国徽面、近期一寸免冠白底彩色证件照" in submitted
    await eventually(lambda: any("已提交" in t for t in world.chat()))
    assert "已提交" in await world.say(number)


async def test_a_retried_message_is_answered_once_and_processed_once(world: World) -> None:
    for line in ("绑定", "同意", "张三"):
        await world.say(line)
    fields = {"FromUserName": OPENID, "MsgType": "text", "Content": VALID_ID, "MsgId": "9001"}
    first = await world.sim.push(fields)
    second = await world.sim.push(fields)  # WeChat's retry carries the same MsgId
    assert "正在核验" in (first.reply or {}).get("Content", "")
    assert first.reply == second.reply  # not reprocessed into a second check
    store = world.client.app[keys.DOCUMENTS]
    assert await store.count("wechat_inbound", {"_id": "msg:9001"}) == 1
    assert await store.count("outbox", {"topic": "identity.verify"}) == 1
    await eventually(lambda: any("绑定成功" in t for t in world.chat()))


async def test_a_message_that_changes_nothing_leaves_no_receipt_and_is_answered_again(
    plain_world: World,
) -> None:
    fields = {"FromUserName": OPENID, "MsgType": "text", "Content": "帮助", "MsgId": "9002"}
    first = await plain_world.sim.push(fields)
    second = await plain_world.sim.push(fields)
    assert first.reply == second.reply and "可用指令" in (first.reply or {}).get("Content", "")
    store = plain_world.client.app[keys.DOCUMENTS]
    assert await store.count("wechat_inbound", {"_id": "msg:9002"}) == 0


async def test_a_bad_signature_is_refused_and_nothing_is_recorded(world: World) -> None:
    before = await world.client.app[keys.DOCUMENTS].count("wechat_inbound")
    resp = await world.client.post(
        "/wechat?signature=bad&timestamp=1&nonce=2",
        data=b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
        b"<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content>"
        b"<MsgId>1</MsgId></xml>",
    )
    assert resp.status == 403
    assert await world.client.app[keys.DOCUMENTS].count("wechat_inbound") == before


MESSAGE = (
    "<xml><ToUserName>gh_buchumen</ToUserName><FromUserName>{who}</FromUserName>"
    "<CreateTime>1700000000</CreateTime><MsgType>text</MsgType>"
    "<Content>{content}</Content><MsgId>77</MsgId></xml>"
)
HOSTILE = {
    "xxe": '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    + MESSAGE.format(who="o1", content="&x;"),
    "billion_laughs": '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]>"
    + MESSAGE.format(who="o1", content="&i;"),
    "malformed": MESSAGE.format(who="o1", content="x")[:-10],
    "control_char": MESSAGE.format(who="o1", content="hi\x01there"),
    "oversized": MESSAGE.format(who="o1", content="长" * 40_000),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_hostile_xml_is_refused_without_expansion_or_state_change(
    plain_world: World, name: str
) -> None:
    world = plain_world
    store = world.client.app[keys.DOCUMENTS]
    before = (await store.count("wechat_inbound"), await store.count("conversations"))
    query = {"timestamp": str(int(time.time())), "nonce": "42"}
    query["signature"] = signature(world.token, query["timestamp"], query["nonce"])
    resp = await world.client.post("/wechat", params=query, data=HOSTILE[name].encode())
    assert resp.status == (413 if name == "oversized" else 400)
    assert "passwd" not in await resp.text()
    assert (await store.count("wechat_inbound"), await store.count("conversations")) == before


@pytest.mark.parametrize(
    ("signed_at", "status"),
    [(-600, 403), (+600, 403), ("1e9", 403), ("", 403), (-240, 200), (+240, 200)],
)
async def test_a_copied_signature_works_only_within_five_minutes_of_its_time(
    plain_world: World, signed_at: int | str, status: int
) -> None:
    # In plain mode the signature covers the timestamp and nonce, not the body: whoever copies
    # one signed query could post any message with it, for as long as its time is accepted.
    world = plain_world
    store = world.client.app[keys.DOCUMENTS]
    before = (await store.count("wechat_inbound"), await store.count("conversations"))
    when = str(int(time.time()) + signed_at) if isinstance(signed_at, int) else signed_at
    query = {"timestamp": when, "nonce": "99", "signature": signature(world.token, when, "99")}
    forged = MESSAGE.format(who="oSomeoneElse", content="我要办").encode()

    resp = await world.client.post("/wechat", params=query, data=forged)

    assert resp.status == status
    after = (await store.count("wechat_inbound"), await store.count("conversations"))
    if status == 403:
        assert await resp.text() == "stale message"
        assert after == before
    else:  # drift within the window: WeChat's clock and ours need not agree to the second
        assert after[1] == before[1] + 1  # the message was handled: its sender has a dialogue


async def test_url_verification_echoes_only_when_signed(plain_world: World) -> None:
    world = plain_world
    query = {"timestamp": "1700000000", "nonce": "7", "echostr": "hello-wechat"}
    good = query | {"signature": signature(world.token, "1700000000", "7")}
    resp = await world.client.get("/wechat", params=good)
    assert resp.status == 200 and await resp.text() == "hello-wechat"
    resp = await world.client.get("/wechat", params=query | {"signature": "0" * 40})
    assert resp.status == 403 and "hello" not in await resp.text()


async def test_an_unknown_message_type_gets_a_polite_reply(world: World) -> None:
    result = await world.sim.push(
        {"FromUserName": OPENID, "MsgType": "miniprogrampage", "Title": "x", "MsgId": "55"}
    )
    assert "暂不支持" in (result.reply or {}).get("Content", "")


async def test_a_returned_case_is_corrected_by_chat_photo_and_resubmitted(
    plain_world: World,
) -> None:
    world = plain_world
    number = await apply_by_chat(world)
    await return_case(
        world,
        number,
        corrections=[{"slot_id": "photo", "defects": ["blurry"], "remark": "请重新拍摄白底证件照"}],
        # The reviewer overrules the machine on the ID card photos (they can read them).
        dismiss_findings=["id_card_front", "id_card_back"],
    )
    await eventually(lambda: any("请重新拍摄白底证件照" in t for t in world.chat()))
    notice = next(t for t in world.chat() if "请重新拍摄白底证件照" in t)
    # One notice: the reviewer's words and the machine's open finding on the same material.
    assert "照片文件不完整" in notice and "身份证" not in notice
    assert f"/h5/cases/{number}/notices/1" in notice
    told = sum("【材料预审】" in t for t in world.chat())
    await world.sim.push_image(OPENID, JPEG + b"new")
    await eventually(lambda: sum("【材料预审】" in t for t in world.chat()) == told + 1)
    verdict = [t for t in world.chat() if "【材料预审】" in t][-1]
    assert "近期一寸免冠" in verdict  # the photo went to the slot the notice named
    assert number in await world.say("提交")
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert case["state"] == "resubmitted"


async def test_outside_the_48_hour_window_a_notice_arrives_as_a_template_message(
    plain_world: World,
) -> None:
    world = plain_world
    number = await apply_by_chat(world)
    world.sim_clock.advance(hours=49)  # the citizen has been silent for two days
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    await world.api(
        "POST", f"/cases/{number}/approve", "reviewer-mz", json={"version": case["version"]}
    )
    await eventually(
        lambda: any(e.source == "template" for e in world.sim.messages(OPENID)), within=8
    )
    template = [e for e in world.sim.messages(OPENID) if e.source == "template"][-1]
    assert template.url and template.url.endswith(f"/h5/cases/{number}")


async def test_a_chat_link_signs_the_applicant_in_by_oauth_and_shows_only_their_case(
    plain_world: World,
) -> None:
    world = plain_world
    number = await apply_by_chat(world)
    http = world.client

    resp = await http.get(f"/h5/cases/{number}", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/h5/login")
    resp = await http.get(resp.headers["Location"], allow_redirects=False)
    authorize = URL(resp.headers["Location"])
    assert authorize.path == "/connect/oauth2/authorize"
    assert authorize.query["scope"] == "snsapi_base"

    # WeChat asks nothing for snsapi_base: it redirects back with a one-time code.
    async with (
        aiohttp.ClientSession() as phone,
        phone.get(authorize.update_query(openid=OPENID), allow_redirects=False) as back,
    ):
        callback = URL(back.headers["Location"])
    resp = await http.get(callback.path_qs, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == f"/h5/cases/{number}"
    session = resp.cookies["bcm_h5"]
    assert session["httponly"] and session["samesite"] == "Lax"

    page = await http.get(f"/h5/cases/{number}")
    html = await page.text()
    assert page.status == 200 and number in html and "老年人优待证" in html and "已提交" in html
    assert VALID_ID not in html

    replay = await http.get(callback.path_qs, allow_redirects=False)  # its state was consumed
    assert replay.status == 400

    other = await http.get("/h5/cases/BC20990101000000")
    assert other.status == 404 and "未找到该办件" in await other.text()


async def test_the_notice_link_shows_every_correction_on_one_numbered_page(
    plain_world: World,
) -> None:
    world = plain_world
    number = await apply_by_chat(world)
    await return_case(
        world,
        number,
        corrections=[{"slot_id": "photo", "defects": ["blurry"]}],
    )
    path = f"/h5/cases/{number}/notices/1"
    await eventually(lambda: any(path in t for t in world.chat()))
    await sign_in(world, path)
    html = await (await world.client.get(path)).text()
    assert "第 1 号补正告知书" in html
    # The reviewer's defect and the machine's open findings on all three photos, each once.
    assert html.count("照片文件不完整") == 3 and "照片模糊，无法辨认" in html
    for name in ("居民身份证人像面", "居民身份证国徽面", "近期一寸免冠白底彩色证件照"):
        assert name in html
    missing = await world.client.get(f"/h5/cases/{number}/notices/2")
    assert missing.status == 404
    history = await world.api("GET", f"/cases/{number}/history", "reviewer-mz")
    returns = [e for e in history["items"] if e["action"] == "return_for_correction"]
    assert [e["detail"]["notice"] for e in returns] == [1]


async def test_a_forged_oauth_state_is_refused(plain_world: World) -> None:
    resp = await plain_world.client.get("/h5/oauth?code=abc&state=forged", allow_redirects=False)
    assert resp.status == 400
    assert "重新打开" in await resp.text()


async def test_a_reused_oauth_code_gets_a_polite_page_not_an_error(plain_world: World) -> None:
    http = plain_world.client
    resp = await http.get("/h5/login?next=/h5/cases", allow_redirects=False)
    authorize = URL(resp.headers["Location"])
    async with (
        aiohttp.ClientSession() as phone,
        phone.get(authorize.update_query(openid=OPENID), allow_redirects=False) as back,
    ):
        callback = URL(back.headers["Location"])
    state = callback.query["state"]
    await http.get(callback.path_qs, allow_redirects=False)  # first use (not bound: a message)
    http.session.cookie_jar.update_cookies(
        {"bcm_oauth": f"{state}|/h5/cases"}, URL(str(http.make_url("/h5/")))
    )
    again = await http.get(callback.path_qs, allow_redirects=False)
    assert again.status == 400 and "重新打开" in await again.text()


async def test_a_reply_that_misses_the_deadline_arrives_later_and_retries_are_not_redone(
    plain_world: World,
) -> None:
    world = plain_world
    endpoint = world.client.app[keys.WECHAT]
    endpoint.deadline = 0.2
    dialogues = endpoint._dialogues
    handle = dialogues.handle

    async def slow(*args: Any, **kwargs: Any) -> str | None:  # a store under heavy load
        await asyncio.sleep(0.5)
        return await handle(*args, **kwargs)

    dialogues.handle = slow
    fields = {"FromUserName": OPENID, "MsgType": "text", "Content": "帮助", "MsgId": "4242"}
    first = await world.sim.push(fields)
    assert first.status == 200 and first.reply is None  # "success": WeChat shows nothing yet
    await eventually(lambda: any("可用指令" in t for t in world.chat()))
    retry = await world.sim.push(fields)
    assert retry.reply is None  # answered already, as a customer-service message
    await asyncio.sleep(1.0)  # give a wrongly redone message time to show up
    assert sum("可用指令" in t for t in world.chat()) == 1


async def test_two_quick_messages_from_one_user_are_both_answered(plain_world: World) -> None:
    world = plain_world
    first, second = await asyncio.gather(
        world.sim.push(
            {"FromUserName": OPENID, "MsgType": "text", "Content": "我要办", "MsgId": "501"}
        ),
        world.sim.push(
            {"FromUserName": OPENID, "MsgType": "text", "Content": "绑定", "MsgId": "502"}
        ),
    )
    assert first.status == 200 and second.status == 200
    assert first.reply and second.reply
    assert "请回复序号" in first.reply["Content"] and "个人信息" in second.reply["Content"]


async def test_a_duplicate_delivered_at_the_same_moment_opens_one_case(plain_world: World) -> None:
    world = plain_world
    await bind_by_chat(world)
    for line in ("我要办", "1"):
        await world.say(line)
    fields = {"FromUserName": OPENID, "MsgType": "text", "Content": "办理", "MsgId": "7007"}
    first, second = await asyncio.gather(world.sim.push(fields), world.sim.push(fields))
    assert first.reply == second.reply and "已为您创建办件" in (first.reply or {}).get(
        "Content", ""
    )
    assert await world.client.app[keys.DOCUMENTS].count("cases") == 1
