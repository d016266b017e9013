"""What must change nothing: forged, replayed or misplaced codes and pushes, bad addresses,
the wrong person on a scan page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from app import keys
from logistics.simulator import push_form
from logistics.simulator.state import Route
from tests.http.conftest import Api
from tests.http.courier_world import (
    ADDRESS,
    Courier,
    code_on,
    courier_world,
    csrf_of,
    eventually,
    staff_phone,
)


@pytest.fixture
async def world(api: Api) -> AsyncIterator[Courier]:
    world = await courier_world(api)
    yield world
    for phone in (world.applicant, world.courier, world.counter):
        await phone.close()


async def _awaiting_courier(world: Courier) -> str:
    number = await world.approved_case()
    await world.book_pickup(number)
    await world.booked(number)
    return number


async def _scans(world: Courier, number: str) -> int:
    return await world.client.app[keys.DOCUMENTS].count("custody_scans", {"case": number})


async def test_a_forged_or_altered_code_changes_nothing(world: Courier) -> None:
    number = await _awaiting_courier(world)
    code = await world.pickup_qr(number)
    body, sig = code.rsplit(".", 1)
    forged = f"{body}.{sig[:-2]}{'AA' if not sig.endswith('AA') else 'BB'}"
    other_nonce = code.replace(code.split(".")[3], "A" * 16)
    typed = "2345-6789"  # a short form nobody was shown
    for bad, says in (
        (forged, "交接码无效"),
        (other_nonce, "交接码无效"),
        (typed, "交接码无效"),
        ("hello", "无法识别"),
    ):
        status, page = await world.courier_scans(bad)
        assert status == 422 and says in page, page
    assert await world.state(number) == "awaiting_pickup"
    assert await _scans(world, number) == 0


async def test_a_code_scans_once(world: Courier) -> None:
    number = await _awaiting_courier(world)
    page = await (await world.applicant.get(f"/h5/cases/{number}")).text()
    typed = code_on(page)
    assert (await world.courier_scans(typed.lower().replace("-", " ")))[0] == 200
    for again in (typed, await _token_of(world, typed)):
        status, page = await world.courier_scans(again)
        assert status == 422 and "已使用过" in page
    assert await world.state(number) == "originals_in_transit"
    assert await _scans(world, number) == 1


async def test_a_code_for_another_case_or_step_or_hand_changes_nothing(world: Courier) -> None:
    first, second = await _awaiting_courier(world), await _awaiting_courier(world)
    await world.courier_scans(await world.pickup_code(first))
    arrival = await world.courier_code(first, "arrival")

    # The counter expects the second case: the first one's code is refused.
    status, page = await world.counter_scans(arrival, case=second)
    assert status == 422 and "不属于本办件" in page
    # A courier cannot receive at the counter, nor a clerk collect at the door.
    assert "不能扫描" in (await world.courier_scans(arrival))[1]
    status, page = await world.counter_scans(await world.pickup_code(second))
    assert status == 422 and "不能扫描" in page
    # A clerk of another department cannot sign for it.
    other = await _staff(world, "reviewer-mz")
    page = await (await other.get("/staff/handover")).text()
    resp = await other.post("/staff/handover", data={"csrf": csrf_of(page), "code": arrival})
    assert resp.status == 422 and "不属于您所在部门" in await resp.text()
    await other.close()

    assert await world.state(first) == "originals_in_transit"
    assert await world.state(second) == "awaiting_pickup"
    assert await _scans(world, first) == 1 and await _scans(world, second) == 0


async def test_the_api_cannot_skip_a_hand_over(world: Courier) -> None:
    number = await _awaiting_courier(world)
    await world.courier_scans(await world.pickup_code(number))
    _, case = await world.api.call("GET", f"/cases/{number}", "reviewer-jtys")
    status, body = await world.api.call(
        "POST",
        f"/cases/{number}/actions/receive_originals",
        "reviewer-jtys",
        json={"version": case["version"]},
    )
    assert status == 422 and body["error"]["code"] == "validation_failed"
    assert await world.state(number) == "originals_in_transit"


async def test_a_forged_route_push_is_refused_and_changes_nothing(world: Courier) -> None:
    number = await _awaiting_courier(world)
    waybill = (await world.leg(number)).waybill  # type: ignore[union-attr]
    route = Route("1", waybill or "", f"{number}-P1", "80", "2026-11-02 10:00:00", "福州", "已签收")
    http = world.client
    for partner, word in ((world.sim.partner_id, "not-the-check-word"), ("OTHER", None)):
        form = push_form([route], partner_id=partner, check_word=word or world.sim.check_word)
        resp = await http.post("/sf/routes", data=form)
        assert resp.status == 403 and (await resp.json())["return_code"] == "1000"
    genuine = push_form([route], partner_id=world.sim.partner_id, check_word=world.sim.check_word)
    genuine["msgData"] = genuine["msgData"].replace("已签收", "已签收！")  # altered in transit
    assert (await http.post("/sf/routes", data=genuine)).status == 403
    assert await http.app[keys.DOCUMENTS].count("route_events") == 0
    assert await world.state(number) == "awaiting_pickup"


async def test_a_bad_address_is_refused_with_every_problem_and_nothing_is_booked(
    world: Courier,
) -> None:
    number = await world.approved_case()
    resp = await world.book_pickup(number, mobile="1234567", province="火星", city="", detail="1号")
    text = await resp.text()
    assert resp.status == 422
    for problem in ("请填写城市", "详细地址应为 5 到 120 个字", "11 位手机号码", "请选择省份"):
        assert problem in text, problem
    assert await world.leg(number) is None
    assert await world.client.app[keys.DOCUMENTS].count("outbox", {"topic": "courier.book"}) == 0


async def test_a_refused_booking_shows_in_the_queue_until_the_applicant_rebooks(
    world: Courier,
) -> None:
    world.sim.state.unserved_cities.add("三沙市")
    number = await world.approved_case()
    await world.book_pickup(number, province="海南省", city="三沙市", district="西沙区")

    async def flagged() -> bool:
        leg = await world.leg(number)
        return leg is not None and leg.trouble is not None

    await eventually(flagged)
    queue = await (await world.counter.get("/staff/queue")).text()
    assert "预约取件失败" in queue and number in queue
    texts = await world.outbox_texts(number)
    assert any("不在顺丰上门取件范围内" in t for t in texts)

    await world.book_pickup(number)  # the applicant gives another address
    leg = await world.booked(number)
    assert leg.trouble is None and leg.order_id.endswith("-P2")
    assert "预约取件失败" not in await (await world.counter.get("/staff/queue")).text()


async def test_cancelling_calls_the_courier_off_and_a_new_request_books_again(
    world: Courier,
) -> None:
    number = await _awaiting_courier(world)
    page = await (await world.applicant.get(f"/h5/cases/{number}/pickup")).text()
    resp = await world.applicant.post(
        f"/h5/cases/{number}/pickup/cancel", data={"csrf": csrf_of(page)}
    )
    assert resp.status == 200
    await eventually(lambda: world.sim.state.orders[f"{number}-P1"].cancelled)
    page = await (await world.applicant.get(f"/h5/cases/{number}")).text()
    assert "取件码" not in page  # nothing to show a courier any more

    await world.book_pickup(number, detail="五一北路 125 号 1 栋 101")
    leg = await world.booked(number)
    assert leg.order_id == f"{number}-P2" and not world.sim.state.orders[leg.order_id].cancelled
    assert world.sim.state.orders[leg.order_id].data["contactInfoList"][0]["address"] == (
        "五一北路 125 号 1 栋 101"
    )


async def test_only_couriers_open_the_courier_pages(world: Courier) -> None:
    for phone in (world.counter, world.applicant):
        resp = await phone.get("/courier/", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/staff/login")
    # A courier's session is not a staff session.
    assert (await world.courier.get("/staff/queue", allow_redirects=False)).status == 302
    home = await world.courier.get("/courier/")
    assert home.status == 200 and "上门收取原件" in await home.text()


async def test_addresses_are_masked_for_couriers_and_staff(world: Courier) -> None:
    number = await _awaiting_courier(world)
    await world.courier_scans(await world.pickup_code(number))
    courier_page = await (await world.courier.get("/courier/")).text()
    staff_page = await (await world.counter.get(f"/staff/cases/{number}")).text()
    for page in (courier_page, staff_page):
        assert "138****5678" in page and ADDRESS["mobile"] not in page
        assert ADDRESS["detail"] not in page
    own = await (await world.applicant.get(f"/h5/cases/{number}")).text()
    assert ADDRESS["detail"] in own


async def _token_of(world: Courier, typed: str) -> str:
    """The token behind a short code: what the QR code next to it carries."""
    docs = world.client.app[keys.DOCUMENTS]
    [shown] = await docs.find("handover_codes", {"short": typed.replace("-", "")})
    return str(shown["token"])


async def _staff(world: Courier, username: str) -> aiohttp.ClientSession:
    return await staff_phone(str(world.client.make_url("/")), username)
