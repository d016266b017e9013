"""The hall's self-service kiosk: a visitor's code gets a queue number for any department's
window, once; the kiosk's session opens nothing else, and staff sessions do not open it."""

from __future__ import annotations

from datetime import time

from app import keys
from app.domain.actors import Actor, Role
from app.domain.short_codes import spaced
from tests.http.chat_world import OPENID, World, eventually, open_by_chat
from tests.http.test_staff_pages import sign_in, token_of

ME = Actor(f"wx-{OPENID}", Role.APPLICANT)


async def test_a_visitor_scans_at_the_kiosk_and_gets_a_number_once(plain_world: World) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)  # bound: the chat can tell them
    hall, store = http.app[keys.APPOINTMENTS], http.app[keys.DOCUMENTS]
    matters = await store.find("matters")
    mz = next(m for m in matters if m["department"] == "mz")
    ga = next(m for m in matters if m["department"] == "ga")
    day = (await hall.offer(mz["_id"]))[0][0]
    mine = await hall.book(ME, mz["_id"], day, time(16, 30))
    theirs = await hall.book(Actor("wx-driver", Role.APPLICANT), ga["_id"], day, time(16, 30))

    signed = await sign_in(http, "demo-kiosk")
    assert signed.status == 303 and signed.headers["Location"] == "/kiosk/"
    assert "Path=/kiosk/" in signed.headers["Set-Cookie"]
    page = await (await http.get("/kiosk/")).text()
    assert "预约签到取号" in page and "签到取号" in page

    ticket = await http.post(
        "/kiosk/checkin", data={"csrf": token_of(page), "code": hall.check_in_code(mine)}
    )
    text = await ticket.text()
    assert ticket.status == 200 and "签到成功" in text
    assert '<p class="kiosk-number">1</p>' in text and "市民政局办事窗口" in text
    assert 'http-equiv="refresh"' in text  # back to the scanner for the next visitor
    told = "您的排队号是 1，请到市民政局窗口附近等候叫号"
    await eventually(lambda: any(told in t for t in world.chat()))

    # Another department's visitor, whose phone will not scan, types the code from their page:
    # numbered at their own window.
    assert theirs.short
    typed = spaced(theirs.short).lower()
    other = await http.post("/kiosk/checkin", data={"csrf": token_of(page), "code": typed})
    assert '<p class="kiosk-number">1</p>' in await other.text()
    guessed = await http.post("/kiosk/checkin", data={"csrf": token_of(page), "code": "2222-2222"})
    assert guessed.status == 404 and "二维码无效" in await guessed.text()

    again = await http.post(
        "/kiosk/checkin", data={"csrf": token_of(page), "code": hall.check_in_code(mine)}
    )
    refused = await again.text()
    assert again.status == 409 and "已签到" in refused and "kiosk-number" not in refused
    forged = hall.check_in_code(mine)[:-4] + "0000"
    bad = await http.post("/kiosk/checkin", data={"csrf": token_of(page), "code": forged})
    assert bad.status == 404 and "二维码无效" in await bad.text()
    assert (await store.get("bookings", mine.id) or {})["queue_number"] == 1
    no_token = await http.post("/kiosk/checkin", data={"code": hall.check_in_code(theirs)})
    assert no_token.status == 403


async def test_the_kiosk_opens_no_staff_page_and_staff_do_not_open_the_kiosk(
    plain_world: World,
) -> None:
    http = plain_world.client
    await sign_in(http, "demo-kiosk")
    for staff_page in ("/staff/queue", "/staff/checkin", "/staff/dashboard", "/courier/"):
        assert (await http.get(staff_page, allow_redirects=False)).status == 302, staff_page

    http.session.cookie_jar.clear()
    await sign_in(http, "reviewer-mz")
    kiosk = await http.get("/kiosk/", allow_redirects=False)
    assert kiosk.status == 302 and kiosk.headers["Location"].startswith("/staff/login")
