"""我的信息: a person sees what is held, downloads it all, chooses the space, closes the account."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta

from app import keys
from app.domain.actors import SYSTEM
from app.domain.mandates import Mandate, Status
from app.domain.prechecks import PASS, Precheck
from app.domain.space import Version
from app.services.accounts import DEMO_CITIZEN_ID
from app.services.mandate_records import mandate_to_doc
from tests.http.chat_world import (
    JPEG,
    OPENID,
    VALID_ID,
    World,
    apply_by_chat,
    csrf_of,
    eventually,
    open_by_chat,
    sign_in,
)
from tests.http.conftest import PNG

ME = f"wx-{OPENID}"


async def read(world: World, key: str) -> bytes:
    return b"".join([c async for c in world.client.app[keys.OBJECTS].get(key)])


async def open_number(world: World) -> str:
    [case] = await world.client.app[keys.DOCUMENTS].find("cases", {"applicant_id": ME})
    return str(case["_id"])


async def chat_photo(world: World) -> tuple[str, str]:
    """One photo sent in the chat to the open case, its verdict told; (slot, object key)."""
    cases = world.client.app[keys.CASES]
    number = await open_number(world)
    before = dict((await cases.get(SYSTEM, number)).materials)
    told = sum("【材料预审】" in t for t in world.chat())
    await world.sim.push_image(OPENID, JPEG)
    await eventually(lambda: sum("【材料预审】" in t for t in world.chat()) == told + 1)
    after = (await cases.get(SYSTEM, number)).materials
    [slot] = [s for s, ref in after.items() if before.get(s) != ref]
    return slot, after[slot].object_key


async def kept_in_space(world: World, data: bytes) -> str:
    """A card kept in the person's space (as a passed check keeps it); its document id."""
    objects, space = world.client.app[keys.OBJECTS], world.client.app[keys.SPACE]

    async def once() -> AsyncIterator[bytes]:
        yield data

    info = await objects.put(
        "space/test/mine.jpg", once(), content_type="image/jpeg", max_bytes=10**7
    )
    now = world.client.app[keys.CASES].now()
    fields = {"id_number": VALID_ID}
    version = Version(1, info.key, "image/jpeg", info.size, info.sha256, "upload", now, fields)
    return (await space.deposit(f"person:{ME}", "id_card_front", "居民身份证人像面", version)).id


async def someone_else(world: World) -> tuple[str, bytes]:
    """Another person (the demo citizen) with a case and a material; (case number, bytes)."""
    body = await world.api("GET", "/matters?target=citizen", "demo-citizen")
    code = next(m["code"] for m in body["items"] if "老年人优待证" not in m["name"])
    case = await world.api("POST", "/cases", "demo-citizen", json={"matter_code": code})
    slot = case["materials"][0]["slot_id"]
    await world.api("PUT", f"/cases/{case['number']}/materials/{slot}", "demo-citizen", data=PNG)
    return case["number"], PNG


async def bind_as(world: World, openid: str, name: str, number: str, within: float = 5.0) -> bool:
    """Bind in the chat from ``openid``; whether that WeChat user was told it succeeded."""

    def bound() -> int:
        return sum("绑定成功" in e.text for e in world.sim.messages(openid))

    earlier = bound()
    for line in ("绑定", "同意", name, number):
        assert (await world.sim.push_text(openid, line)).status == 200
    try:
        await eventually(lambda: bound() > earlier, within=within)
    except AssertionError:
        return False
    return True


async def test_the_download_holds_the_persons_data_and_files_and_nothing_of_anyone_else(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await open_by_chat(world)
    slot, material = await chat_photo(world)
    card = b"\xff\xd8\xff\xe0my-own-card" + bytes(range(256)) * 8
    doc_id = await kept_in_space(world, card)
    theirs, their_bytes = await someone_else(world)

    await sign_in(world, "/h5/me")
    page = await (await http.get("/h5/me")).text()
    assert "张三" in page and VALID_ID not in page and "1101" in page  # masked on the page
    assert "本人办件</span><span>1<" in page and "个人空间证照</span><span>1<" in page

    resp = await http.get("/h5/me/export.zip")
    assert resp.status == 200 and resp.content_type == "application/zip"
    assert re.fullmatch(
        r'attachment; filename="buchumen-my-data-\d{8}\.zip"', resp.headers["Content-Disposition"]
    )
    assert resp.headers["Cache-Control"] == "no-store"
    zf = zipfile.ZipFile(io.BytesIO(await resp.read()))
    assert zf.testzip() is None
    text = zf.read("data.json").decode("utf-8")
    data = json.loads(text)
    assert data["account"]["id_number"] == VALID_ID and data["account"]["name"] == "张三"
    assert data["consent"]["version"] and data["account"]["openid"] == OPENID
    [case] = data["cases"]
    assert case["number"] == number and [e["action"] for e in case["events"]][:1] == ["create"]
    [listed] = case["materials_list"]
    assert listed["slot"] == slot and zf.read(listed["file"]) == await read(world, material)
    assert listed["file"].startswith(f"办件材料/{number}/")
    [doc] = data["space_documents"]
    assert doc["_id"] == doc_id and zf.read(doc["versions"][0]["file"]) == card
    assert any(r["action"] == "person.bound" for r in data["access_log"])

    # Nothing of the other person: not their ID number, their case, nor their photo.
    assert DEMO_CITIZEN_ID not in text and theirs not in text
    their_sha = hashlib.sha256(their_bytes).hexdigest()
    assert all(hashlib.sha256(zf.read(n)).hexdigest() != their_sha for n in zf.namelist())
    store = world.client.app[keys.DOCUMENTS]
    where = {"subject": f"person:{ME}", "action": "person.export"}
    assert await store.count("audit", where) == 1


async def test_closing_waits_for_a_case_in_progress_then_removes_the_person_and_keeps_the_case(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    store = world.client.app[keys.DOCUMENTS]
    number = await apply_by_chat(world)
    await sign_in(world, "/h5/me")
    page = await (await http.get("/h5/me")).text()
    assert number in page and "确认注销账号" not in page  # told why first
    token = csrf_of(page)
    refused = await http.post("/h5/me/delete", data={"csrf": token, "confirm": "注销"})
    assert refused.status == 422 and number in await refused.text()
    assert (await store.get("users", ME) or {}).get("id_number") == VALID_ID

    case = await world.api("GET", f"/cases/{number}", ME)
    body = {"version": case["version"], "reason": "不办了"}
    await world.api("POST", f"/cases/{number}/actions/withdraw", ME, json=body)
    page = await (await http.get("/h5/me")).text()
    assert "确认注销账号" in page and "不少于30年" in page
    for form, status in (
        ({"csrf": "0" * 32, "confirm": "注销"}, 403),  # forged: another site's form
        ({"csrf": token, "confirm": "注 销 了"}, 400),  # not the word asked for
    ):
        assert (await http.post("/h5/me/delete", data=form)).status == status
        assert (await store.get("users", ME) or {}).get("id_number") == VALID_ID

    old_session = http.session.cookie_jar.filter_cookies(http.make_url("/h5/"))["bcm_h5"].value
    done = await http.post("/h5/me/delete", data={"csrf": token, "confirm": "注销"})
    assert done.status == 200 and "已注销" in await done.text()

    tombstone = await store.get("users", ME)
    assert tombstone is not None and tombstone["deleted_at"]
    assert not {"name", "id_number", "openid", "verified"} & tombstone.keys()
    assert tombstone["consent"]["withdrawn_at"]
    assert await store.get("wechat_links", OPENID) is None
    kept = await store.get("cases", number)  # the case file stays (archive rules)
    assert kept is not None and kept["state"] == "withdrawn" and kept["applicant_id"] == ME
    assert await store.count("audit", {"subject": f"person:{ME}", "action": "person.deleted"})

    back = await http.get(
        "/h5/me", headers={"Cookie": f"bcm_h5={old_session}"}, allow_redirects=False
    )
    assert back.status == 302 and back.headers["Location"].startswith("/h5/login")

    # The ID number is free again: the same person binds from a new WeChat account.
    assert await bind_as(world, "oCitizen-new-phone", "张三", VALID_ID)
    [again] = await store.find("users", {"id_number": VALID_ID})
    assert again["_id"] != ME and not again.get("deleted_at")


async def test_a_closed_account_binds_again_from_the_same_wechat_account(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    await sign_in(world, "/h5/me")
    token = csrf_of(await (await http.get("/h5/me")).text())
    assert (await http.post("/h5/me/delete", data={"csrf": token, "confirm": "注销"})).ok
    assert await bind_as(world, OPENID, "张三", VALID_ID, within=3.0)


async def test_the_space_keeps_a_passed_card_only_once_the_person_said_yes(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    store, cases = world.client.app[keys.DOCUMENTS], world.client.app[keys.CASES]
    number = await open_by_chat(world)

    async def passes(slot: str, key: str) -> None:
        """The pre-check says pass; wait for the deposit job it queues to run."""
        check = Precheck(key, PASS, "id_card_front", (), cases.now(), {"id_number": VALID_ID})
        assert await cases.record_precheck(number, slot, check)
        job = f"deposit:{number}:{slot}:{key.rsplit('/', 1)[-1]}"

        async def done() -> bool:
            return ((await store.get("outbox", job)) or {}).get("status") == "done"

        for _ in range(200):
            if await done():
                return
            await asyncio.sleep(0.025)
        raise AssertionError("the deposit job did not run")

    async def kept() -> int:
        return await store.count("space_documents", {"owner": f"person:{ME}"})

    slot, key = await chat_photo(world)
    await passes(slot, key)
    assert await kept() == 0  # never asked: nothing is kept

    await sign_in(world, "/h5/me")
    page = await (await http.get("/h5/me")).text()
    assert "未开启" in page
    forged = await http.post("/h5/me/space", data={"csrf": "0" * 32, "keep": "yes"})
    assert forged.status == 403 and "space_opt_in" not in (await store.get("users", ME) or {})
    turned = await http.post("/h5/me/space", data={"csrf": csrf_of(page), "keep": "yes"})
    assert turned.status == 200 and "已开启" in await turned.text()
    assert (await store.get("users", ME) or {})["space_opt_in"] is True
    where = {"subject": f"person:{ME}", "action": "person.space_opt_in"}
    assert await store.count("audit", where) == 1

    slot, key = await chat_photo(world)
    await passes(slot, key)
    assert await kept() == 1


async def test_closing_ends_the_persons_authorisations_and_hides_their_space_documents(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    store = world.client.app[keys.DOCUMENTS]
    await open_by_chat(world)
    doc_id = await kept_in_space(world, b"\xff\xd8\xff\xe0card")
    now = world.client.app[keys.CASES].now()
    year = (now + timedelta(days=365)).date()
    mandates = [  # a family member acts for ME; ME asked to act for the demo citizen
        Mandate("m-granted", f"person:{ME}", "demo-agent", "李四", Status.GRANTED, now, None, year),
        Mandate("m-asked", f"person:{ME}", "demo-legal-rep", "王五", Status.REQUESTED, now),
        Mandate("m-held", "person:demo-citizen", ME, "张三", Status.GRANTED, now, None, year),
        Mandate("m-over", f"person:{ME}", "demo-agent", "李四", Status.REVOKED, now),
    ]
    async with store.transaction() as tx:
        for m in mandates:
            await tx.insert("mandates", mandate_to_doc(m))
    await sign_in(world, "/h5/me")
    token = csrf_of(await (await http.get("/h5/me")).text())
    assert (await http.post("/h5/me/delete", data={"csrf": token, "confirm": "注销"})).ok

    status = {m.id: (await store.get("mandates", m.id) or {})["status"] for m in mandates}
    assert status == {
        "m-granted": "revoked",
        "m-asked": "refused",
        "m-held": "withdrawn",
        "m-over": "revoked",  # already over: untouched
    }
    told = await store.find("outbox", {"topic": "notify.person"})
    assert sorted(m["payload"]["person"] for m in told) == ["demo-agent", "demo-legal-rep"]
    assert all("张三" not in m["payload"]["text"] for m in told)
    doc = await store.get("space_documents", doc_id)
    assert doc is not None and doc["deleted_at"]  # its photo goes after the retention period


async def test_signing_out_ends_the_session_here_and_for_a_copy_of_its_cookie(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    await sign_in(world, "/h5/me")
    page = await (await http.get("/h5/me")).text()
    assert "退出登录" in page
    token = csrf_of(page)
    cookie = http.session.cookie_jar.filter_cookies(http.make_url("/h5/"))["bcm_h5"].value

    forged = await http.post("/h5/logout", data={"csrf": "0" * 32})  # another site's form
    assert forged.status == 403
    assert (await http.get(f"/h5/cases/{number}", allow_redirects=False)).status == 200

    done = await http.post("/h5/logout", data={"csrf": token})
    assert done.status == 200 and "已退出登录" in await done.text()
    for headers in ({}, {"Cookie": f"bcm_h5={cookie}"}):  # the browser's, and a copy kept
        gone = await http.get(f"/h5/cases/{number}", headers=headers, allow_redirects=False)
        assert gone.status == 302 and gone.headers["Location"].startswith("/h5/login")
    again = await http.post("/h5/logout", data={})  # signed out already: said again, no error
    assert again.status == 200 and "已退出登录" in await again.text()
