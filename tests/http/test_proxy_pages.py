"""代办 for a family member without WeChat, through the pages: the handler's form on the phone,
the reviewer's decision on theirs, every notice in the chat."""

from __future__ import annotations

import aiohttp

from app import keys
from app.services.catalog import list_matters
from tests.http.chat_world import World, bind_by_chat, csrf_of, eventually, sign_in
from tests.http.conftest import PNG
from tests.http.test_staff_pages import sign_in as sign_in_staff

ELDER, ELDER_ID = "赵敏", "310104195003124022"  # born 1950: 年满六十周岁


async def youdai(world: World) -> str:
    matters = await list_matters(world.client.app[keys.DOCUMENTS])
    return next(m.code for m in matters if "老年人优待证" in m.name)


def form(csrf: str, matter: str, **change: str) -> aiohttp.FormData:
    """The fields in the order the page sends them, then the two photos."""
    data = aiohttp.FormData()
    fields = {"csrf": csrf, "matter": matter, "name": ELDER, "id_number": ELDER_ID,
              "relation": "child"} | change  # fmt: skip
    for name, value in fields.items():
        data.add_field(name, value)
    data.add_field("id_card", PNG, filename="card.png", content_type="image/png")
    data.add_field("proof", PNG, filename="hukou.png", content_type="image/png")
    return data


def blobs(world: World) -> int:
    """How many stored files the embedded object store holds."""
    root = world.client.app[keys.SETTINGS].resolved_objects_dir / "blobs"
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


async def staff_sign_in(world: World, username: str) -> str:
    """A reviewer signed in on the same phone browser; the staff pages' form token."""
    assert (await sign_in_staff(world.client, username)).status == 303
    return csrf_of(await (await world.client.get("/staff/mandates")).text())


async def test_a_handler_asks_on_the_phone_and_a_reviewer_grants_on_theirs(
    plain_world: World,
) -> None:
    world = plain_world
    await bind_by_chat(world)
    assert "上传委托人身份证和关系证明" in await world.say("代办")  # where to go is in the chat
    await sign_in(world, "/h5/authority/proxy")
    page = await (await world.client.get("/h5/authority/proxy")).text()
    assert "关系证明照片" in page
    before = blobs(world)
    resp = await world.client.post(
        "/h5/authority/proxy", data=form(csrf_of(page), await youdai(world))
    )
    assert resp.status == 200 and "已提交代办申请" in await resp.text()
    assert blobs(world) > before  # the photos are kept for the reviewer
    await eventually(lambda: any("市民政局审核人员核对" in t for t in world.chat()))
    # The photo is not the elder's card: the handler hears so, and the reviewer will see it.
    await eventually(lambda: any("未通过识别" in t for t in world.chat()), within=30)

    other = await staff_sign_in(world, "reviewer-scjg")
    assert "当前没有待审核的代办申请" in await (await world.client.get("/staff/mandates")).text()
    csrf = await staff_sign_in(world, "reviewer-mz")
    queue = await (await world.client.get("/staff/queue")).text()
    assert "代办申请待审核（1）" in queue
    page = await (await world.client.get("/staff/mandates")).text()
    assert ELDER in page and "机器核对未通过" in page
    assert "3101**********4022" in page and ELDER_ID not in page  # masked even for staff
    [mandate] = await world.client.app[keys.DOCUMENTS].find(
        "mandates", {"evidence.id_number": ELDER_ID}
    )
    look = await world.client.get(
        f"/staff/mandates/{mandate['_id']}/id_card", allow_redirects=False
    )
    assert look.status == 302  # a short-lived link to the photo

    refused = await world.client.post(f"/staff/mandates/{mandate['_id']}/grant",
                                      data={"csrf": other, "until": "2027-06-30"})  # fmt: skip
    assert refused.status == 403  # another session's form token
    resp = await world.client.post(
        f"/staff/mandates/{mandate['_id']}/grant",
        data={"csrf": csrf, "until": "2027-06-30"},
        allow_redirects=False,
    )
    assert resp.status == 303
    await eventually(lambda: any("审核通过" in t for t in world.chat()))
    [elder] = await world.client.app[keys.DOCUMENTS].find("users", {"id_number": ELDER_ID})
    assert elder["name"] == ELDER and not elder.get("openid")  # known from the evidence
    listing = await world.say("我要办")
    assert "老年人优待证" in listing


async def test_a_bad_request_is_told_on_the_page_and_keeps_no_photo(plain_world: World) -> None:
    world = plain_world
    await bind_by_chat(world)
    await sign_in(world, "/h5/authority/proxy")
    page = await (await world.client.get("/h5/authority/proxy")).text()
    before = blobs(world)
    bad = form(csrf_of(page), await youdai(world), id_number="310104195003124021")
    resp = await world.client.post("/h5/authority/proxy", data=bad)
    assert resp.status == 422 and "身份证" in await resp.text()
    assert blobs(world) == before  # the request is checked before any photo is read
    stale = form("0" * 64, await youdai(world))
    assert (await world.client.post("/h5/authority/proxy", data=stale)).status == 403
    store = world.client.app[keys.DOCUMENTS]
    assert await store.find("mandates", {"evidence.id_number": ELDER_ID}) == []
