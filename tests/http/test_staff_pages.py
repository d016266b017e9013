"""Reviewers on their phones: sign in, the queue, a case, one notice listing every defect."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from app import keys
from app.services.staff import DEMO_STAFF_PASSWORD, LOCKED, WRONG
from tests.http.chat_world import World, apply_by_chat, eventually


def token_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found[1]


async def sign_in(http: TestClient, username: str, password: str = DEMO_STAFF_PASSWORD) -> Any:
    page = await (await http.get("/staff/login")).text()
    form = {"csrf": token_of(page), "username": username, "password": password, "next": ""}
    return await http.post("/staff/login", data=form, allow_redirects=False)


async def test_a_reviewer_signs_in_to_a_fresh_session_and_a_planted_cookie_is_useless(
    plain_world: World,
) -> None:
    http = plain_world.client
    http.session.cookie_jar.update_cookies({"bcm_staff": "planted-by-an-attacker"})
    assert (await http.get("/staff/queue", allow_redirects=False)).status == 302
    signed = await sign_in(http, "reviewer-mz")
    assert signed.status == 303 and signed.headers["Location"] == "/staff/queue"
    cookie = signed.cookies["bcm_staff"]
    assert cookie.value != "planted-by-an-attacker"
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/staff/"
    queue = await http.get("/staff/queue")
    assert queue.status == 200 and "待办" in await queue.text()


async def test_wrong_passwords_and_unknown_names_get_one_answer_then_the_account_rests(
    plain_world: World,
) -> None:
    http = plain_world.client
    unknown = await sign_in(http, "nobody-here", "x")
    assert unknown.status == 401 and WRONG in await unknown.text()
    citizen = await sign_in(http, "demo-citizen", "x")  # not staff: the same answer
    assert citizen.status == 401 and WRONG in await citizen.text()
    for _ in range(5):
        wrong = await sign_in(http, "reviewer-ga", "guess")
        assert wrong.status == 401
    locked = await sign_in(http, "reviewer-ga")  # even the right password, for a while
    assert locked.status == 401 and LOCKED in await locked.text()
    assert (await sign_in(http, "reviewer-mz")).status == 303  # others are unaffected


async def test_the_sign_in_form_needs_its_own_token(plain_world: World) -> None:
    http = plain_world.client
    await http.get("/staff/login")
    form = {"csrf": "forged", "username": "reviewer-mz", "password": DEMO_STAFF_PASSWORD}
    assert (await http.post("/staff/login", data=form)).status == 403


async def test_two_defects_on_two_materials_make_one_notice_previewed_then_sent(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    await sign_in(http, "reviewer-mz")
    assert number in await (await http.get("/staff/queue")).text()
    page = await (await http.get(f"/staff/cases/{number}")).text()
    assert "1101**********002X" in page and "11010519491231002X" not in page  # masked
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    form = {
        "csrf": token_of(page),
        "version": version[1],
        "defect:id_card_front:blurry": "1",
        "defect:photo:wrong_kind": "1",
        "remark:photo": "请上传白底证件照",
        "dismiss:id_card_front": "1",
        "dismiss:id_card_back": "1",
        "dismiss:photo": "1",
    }
    preview = await http.post(f"/staff/cases/{number}/preview", data=form)
    text = await preview.text()
    assert "照片模糊，无法辨认" in text and "请上传白底证件照" in text and "确认发送" in text
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert case["state"] == "submitted"  # the preview changed nothing
    sent = await http.post(f"/staff/cases/{number}/return", data=form)
    assert sent.status == 200
    await eventually(lambda: any("请上传白底证件照" in t for t in world.chat()))
    notice = next(t for t in world.chat() if "请上传白底证件照" in t)
    assert "照片模糊" in notice and "1." in notice and "2." in notice  # both, in one notice


async def test_when_two_reviewers_decide_at_once_the_second_is_told_and_nothing_is_lost(
    plain_world: World, aiohttp_client: Any
) -> None:
    world, first = plain_world, plain_world.client
    second = await aiohttp_client(first.server)  # another phone, same service
    number = await apply_by_chat(world)
    await sign_in(first, "reviewer-mz")
    await sign_in(second, "reviewer-mz")
    pages = [await (await c.get(f"/staff/cases/{number}")).text() for c in (first, second)]
    forms = [
        {"csrf": token_of(p), "version": re.findall(r'name="version" value="(\d+)"', p)[0]}
        for p in pages
    ]
    assert (await first.post(f"/staff/cases/{number}/approve", data=forms[0])).status == 200
    late = await second.post(f"/staff/cases/{number}/reject", data=forms[1] | {
        "reason": "材料不全", "basis": "《行政许可法》第三十八条"})  # fmt: skip
    assert late.status == 409 and "已被他人更新" in await late.text()
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert case["decision"] is None and case["state"] != "rejected"


async def test_another_departments_case_is_not_found_and_forms_need_the_session_token(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    await sign_in(http, "reviewer-ga")
    other = await http.get(f"/staff/cases/{number}")
    assert other.status == 404
    await sign_in(http, "reviewer-mz")
    page = await (await http.get(f"/staff/cases/{number}")).text()
    forged = {"csrf": "0" * 32, "version": re.findall(r'name="version" value="(\d+)"', page)[0]}
    assert (await http.post(f"/staff/cases/{number}/approve", data=forged)).status == 403
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert case["state"] == "submitted"
    store = world.client.app[keys.DOCUMENTS]
    views = await store.find("audit", {"subject": f"case:{number}", "action": "case.view"})
    assert {v["actor"] for v in views} >= {"reviewer-mz"}  # every staff look is recorded


async def test_text_an_applicant_typed_is_shown_as_text_never_run_as_markup(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    store = world.client.app[keys.DOCUMENTS]
    account = await store.get("users", "wx-oCitizen-journey")
    assert account is not None
    hostile = '<img src=x onerror="alert(1)">'
    async with store.transaction() as tx:
        await tx.replace("users", account | {"name": hostile}, expected_version=account["_version"])
    await sign_in(http, "reviewer-mz")
    page = await (await http.get(f"/staff/cases/{number}")).text()
    assert hostile not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


async def test_people_get_error_pages_in_chinese_and_programs_get_json(
    plain_world: World,
) -> None:
    http = plain_world.client
    await sign_in(http, "reviewer-mz")
    forged = await http.post("/staff/cases/BC1/approve", data={"csrf": "x", "version": "1"})
    assert forged.status == 403 and forged.content_type == "text/html"
    assert "页面已过期" in await forged.text()
    lost = await http.get("/h5/no-such-page")
    assert lost.status == 404 and "页面不存在" in await lost.text()
    api = await http.get("/api/v1/no-such-thing")
    assert api.status == 404 and (await api.json())["error"]["code"] == "not_found"
