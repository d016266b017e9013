"""The receipt QR code of a case (owner, stranger, forgery) and the 好差评 page behind it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import segno

from app import keys
from app.domain.actors import SYSTEM, Actor, Role
from app.domain.case_states import Action
from app.services.follow_ups import FOLLOW_UPS
from app.services.sessions import Use
from app.web.receipt import receipt_path
from app.web.session import SESSION
from tests.http.chat_world import (
    VALID_ID,
    World,
    apply_by_chat,
    csrf_of,
    eventually,
    sign_in,
)
from tests.http.test_staff_pages import sign_in as staff_sign_in

XSS = "<script>alert('x')</script>等了两天"


@asynccontextmanager
async def other_citizen(world: World) -> AsyncIterator[aiohttp.ClientSession]:
    """A phone signed in to the H5 pages as another (bound) citizen."""
    store = world.client.app[keys.DOCUMENTS]
    if await store.get("users", "wx-someone-else") is None:
        async with store.transaction() as tx:
            await tx.insert("users", {"_id": "wx-someone-else", "role": "applicant"})
    token = world.client.app[keys.TOKENS].issue(
        Actor("wx-someone-else", Role.APPLICANT), use=Use.H5
    )
    url = str(world.client.make_url("/"))
    async with aiohttp.ClientSession(url, cookies={SESSION: token}) as session:
        yield session


async def issued(world: World, *, delivered: bool = False) -> str:
    """A case applied for in the chat, approved and its certificate issued (and delivered)."""
    number = await apply_by_chat(world)
    for action in ("approve", "actions/issue_certificate"):
        case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
        await world.api(
            "POST", f"/cases/{number}/{action}", "reviewer-mz", json={"version": case["version"]}
        )
    if delivered:
        cases = world.client.app[keys.CASES]
        for step in (Action.DISPATCH_DELIVERY, Action.CONFIRM_DELIVERY):
            await cases.act(SYSTEM, number, step, version=None, reason=None)
    return number


async def test_the_receipt_qr_takes_its_owner_to_the_case_and_shows_others_only_progress(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    settings = world.client.app[keys.SETTINGS]
    link = receipt_path(settings, number)
    await sign_in(world, f"/h5/cases/{number}")
    html = await (await http.get(f"/h5/cases/{number}")).text()
    assert "收件回执" in html and "市民政局" in html
    qr = segno.make(settings.public_base_url + link, error="m")
    assert qr.svg_inline(scale=4, border=2, omitsize=True) in html  # drawn inline, no CDN
    # No script draws it: the page's one script is its own forms (a photo sent once chosen).
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/forms.js" defer>']

    mine = await http.get(link)
    assert mine.status == 200 and mine.url.path == f"/h5/cases/{number}"

    async with aiohttp.ClientSession(str(http.make_url("/"))) as stranger:
        shown = await stranger.get(link)
        page = await shown.text()
    assert shown.status == 200 and shown.url.path.startswith("/h5/receipts/")
    assert shown.headers["Cache-Control"] == "no-store"
    for fact in (number, "老年人优待证办理", "市民政局", "已提交", "2026-11-02", "即办件"):
        assert fact in page
    for private in ("张三", "张*", VALID_ID, "居民身份证人像面", "timeline", "草稿", "拍照"):
        assert private not in page

    async with other_citizen(world) as someone:  # signed in, but not the owner
        shown = await someone.get(link)
        assert shown.url.path.startswith("/h5/receipts/") and "张三" not in await shown.text()

    # The chat answers the number printed on the receipt.
    assert "老年人优待证办理" in await world.say(number)


async def test_a_forged_or_altered_receipt_link_is_a_chinese_404(plain_world: World) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    link = receipt_path(world.client.app[keys.SETTINGS], number)
    sig = link.rsplit("/", 1)[1]
    altered = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    other_number = number[:-1] + ("0" if number[-1] != "0" else "1")
    for forged in (
        f"/q/{number}/{altered}",
        f"/q/{number}/{sig[:-2]}",
        f"/q/{other_number}/{sig}",
        f"/q/{number}/{sig.upper()}",
        f"/h5/receipts/{number}/{altered}",
    ):
        resp = await http.get(forged, allow_redirects=False)
        text = await resp.text()
        assert resp.status == 404, forged
        assert "回执二维码无效" in text and "老年人优待证" not in text


async def test_a_good_rating_on_the_rate_page_closes_a_delivered_case_once(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await issued(world, delivered=True)
    page = f"/h5/cases/{number}"
    await sign_in(world, page)
    assert f'href="{page}/rate"' in await (await http.get(page)).text()
    form = await (await http.get(f"{page}/rate")).text()
    for level in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert f'name="level" value="{level}"' in form

    forged = await http.post(f"{page}/rate", data={"csrf": "0" * 32, "level": "满意"})
    assert forged.status == 403
    too_long = {"csrf": csrf_of(form), "level": "满意", "comment": "好" * 501}
    refused = await http.post(f"{page}/rate", data=too_long)
    assert refused.status == 422 and "不超过 500 字" in await refused.text()
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert case["state"] == "delivered"

    done = await http.post(
        f"{page}/rate", data={"csrf": csrf_of(form), "level": "满意", "comment": XSS}
    )
    html = await done.text()
    assert done.status == 200 and done.url.path == page  # back on the case page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;等了两天" in html
    assert "<script>alert" not in html and f"{page}/rate" not in html
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert case["state"] == "closed"
    assert await world.client.app[keys.DOCUMENTS].count(FOLLOW_UPS) == 0

    again = await http.post(f"{page}/rate", data={"csrf": csrf_of(form), "level": "不满意"})
    assert again.status == 409 and "已经评价过了" in await again.text()
    reopened = await http.get(f"{page}/rate")
    assert "已经评价过了" in await reopened.text() and 'name="level"' not in await reopened.text()


async def test_a_bad_rating_opens_exactly_one_follow_up_due_in_fifteen_working_days(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await issued(world)
    page = f"/h5/cases/{number}"
    await sign_in(world, f"{page}/rate")
    form = await (await http.get(f"{page}/rate")).text()
    body = {"csrf": csrf_of(form), "level": "非常不满意", "comment": XSS}
    first = await http.post(f"{page}/rate", data=body)
    second = await http.post(f"{page}/rate", data=body)  # a double tap
    assert first.status == 200 and second.status == 409
    store = world.client.app[keys.DOCUMENTS]
    [follow_up] = await store.find(FOLLOW_UPS)
    # Rated Monday 2 Nov 2026 (Beijing); November 2026 has no public holiday.
    assert (follow_up["_id"], follow_up["due_on"]) == (number, "2026-11-23")
    assert (follow_up["level"], follow_up["comment"]) == ("非常不满意", XSS)
    assert (follow_up["department"], follow_up["closed_at"]) == ("mz", None)
    html = await first.text()
    assert "将于 2026-11-23 前跟进处理" in html and "<script>alert" not in html
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert case["state"] == "certificate_issued"  # rating an issued case does not close it


async def test_only_the_owner_rates_and_only_a_finished_case(plain_world: World) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    page = f"/h5/cases/{number}"
    await sign_in(world, page)
    assert "/rate" not in await (await http.get(page)).text()
    early = await http.get(f"{page}/rate")
    assert early.status == 409 and "办结后才能评价" in await early.text()

    async with other_citizen(world) as someone:
        theirs = await someone.get(f"{page}/rate")
        assert theirs.status == 404 and "未找到该办件" in await theirs.text()
        own_form = await (await someone.get("/h5/space/upload")).text()
        posted = await someone.post(
            f"{page}/rate", data={"csrf": csrf_of(own_form), "level": "非常不满意"}
        )
        assert posted.status == 404 and "未找到该办件" in await posted.text()
    case = await world.client.app[keys.CASES].get(SYSTEM, number)
    assert case.rating is None


async def test_the_rater_is_told_what_was_done_and_a_still_unresolved_answer_reopens_it(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await issued(world)
    page = f"/h5/cases/{number}"
    await sign_in(world, f"{page}/rate")
    form = await (await http.get(f"{page}/rate")).text()
    await http.post(f"{page}/rate", data={"csrf": csrf_of(form), "level": "不满意"})
    early = await http.get(f"{page}/follow-up")
    assert "正在跟进处理" in await early.text() and 'name="answer"' not in await early.text()

    supervision = world.client.app[keys.SUPERVISION]
    supervisor = Actor("demo-supervisor", Role.SUPERVISOR)
    await supervision.close_follow_up(supervisor, number, "已约谈窗口，当面致歉并改进流程")
    await eventually(lambda: any("【回访】" in t for t in world.chat()))
    told = next(t for t in world.chat() if "【回访】" in t)
    assert "已约谈窗口" in told and f"/h5/cases/{number}/follow-up" in told and "答复回访" in told

    async with other_citizen(world) as someone:
        theirs = await someone.get(f"{page}/follow-up")
        assert theirs.status == 404 and "已约谈窗口" not in await theirs.text()

    shown = await (await http.get(f"{page}/follow-up")).text()
    assert "已约谈窗口" in shown
    answered = await http.post(
        f"{page}/follow-up", data={"csrf": csrf_of(shown), "answer": "unresolved"}
    )
    assert "第 2 次跟进" in await answered.text()
    [reopened] = await world.client.app[keys.DOCUMENTS].find(FOLLOW_UPS, {"closed_at": None})
    assert reopened["rounds"] == 2 and reopened["earlier"][0]["answer"] == "unresolved"
    await staff_sign_in(http, "demo-supervisor")
    board = await (await http.get("/staff/dashboard")).text()
    assert "回访未解决，第 2 次跟进" in board and "已约谈窗口" in board

    await supervision.close_follow_up(supervisor, number, "已为您补办并退还快递费")
    await eventually(lambda: sum("【回访】" in t for t in world.chat()) == 2)
    shown = await (await http.get(f"{page}/follow-up")).text()
    done = await http.post(f"{page}/follow-up", data={"csrf": csrf_of(shown), "answer": "resolved"})
    assert "您已确认问题解决" in await done.text()
    again = await http.post(
        f"{page}/follow-up", data={"csrf": csrf_of(shown), "answer": "resolved"}
    )
    assert again.status == 409 and "已答复过" in await again.text()
    assert await world.client.app[keys.DOCUMENTS].find(FOLLOW_UPS, {"closed_at": None}) == []
