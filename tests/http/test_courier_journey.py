"""Originals collected at the door and the certificate brought home, through the real app and
its local SF: pickup booked from the H5 page, each hand-over a scanned code, delivery by SF's
signed route pushes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app import keys
from tests.http.conftest import Api
from tests.http.courier_world import Courier, courier_world, csrf_of, eventually


@pytest.fixture
async def world(api: Api) -> AsyncIterator[Courier]:
    world = await courier_world(api)
    yield world
    for phone in (world.applicant, world.courier, world.counter):
        await phone.close()


async def test_originals_go_to_the_counter_and_the_certificate_comes_home(world: Courier) -> None:
    number = await world.approved_case()
    asked = await world.outbox_texts(number)
    assert any("请填写取件地址并选择上门时间" in t for t in asked)

    # The applicant gives an address and a time; the courier is booked in the background.
    assert (await world.book_pickup(number)).status == 303
    pickup = await world.booked(number)
    assert pickup.waybill in world.sim.state.by_waybill
    await eventually(lambda: _told(world, number, pickup.waybill or "-"))
    case_page = await (await world.applicant.get(f"/h5/cases/{number}")).text()
    assert "取件码" in case_page and "<svg" in case_page and pickup.waybill in case_page

    # At the door: the courier scans the applicant's code and now holds the originals.
    status, page = await world.courier_scans(await world.pickup_qr(number), place="五一北路")
    assert status == 200 and "交接成功" in page, page
    assert await world.state(number) == "originals_in_transit"

    # At the counter: the courier shows his code, the clerk scans it.
    status, page = await world.counter_scans(await world.courier_code(number, "arrival"))
    assert status == 200 and "部门窗口签收原件" in page, page
    assert await world.state(number) == "originals_received"

    # 出证: the certificate is booked to go home, and handed to a courier at the counter.
    staff_case = await (await world.counter.get(f"/staff/cases/{number}")).text()
    version = staff_case.split('name="version" value="')[1].split('"')[0]
    issued = await world.counter.post(
        f"/staff/cases/{number}/issue", data={"csrf": csrf_of(staff_case), "version": version}
    )
    assert issued.status == 200 and await world.state(number) == "certificate_issued"
    delivery = await world.booked(number, "delivery")
    assert delivery.address == pickup.address and delivery.waybill != pickup.waybill
    status, page = await world.counter_scans(await world.courier_code(number, "dispatch"))
    assert status == 200 and "交快递员寄出" in page, page
    assert await world.state(number) == "delivering"

    # SF carries it home: every route pushed twice, in a shuffled order.
    results = await world.sim.play(delivery.waybill or "", repeat=2, shuffle_seed=3)
    assert all(r.acknowledged for r in results)
    assert await world.state(number) == "delivered"
    _, history = await world.api.call("GET", f"/cases/{number}/history", "demo-citizen")
    moves = [e["action"] for e in history["items"] if e["from_state"] != e["to_state"]]
    assert moves[-5:] == [
        "collect_originals",
        "receive_originals",
        "issue_certificate",
        "dispatch_delivery",
        "confirm_delivery",
    ]
    assert any("欢迎对本次服务作出评价" in t for t in await world.outbox_texts(number))

    # The applicant sees who had the parcel, when and where.
    page = await (await world.applicant.get(f"/h5/cases/{number}")).text()
    for step in ("快递员上门收取原件", "部门窗口签收原件", "窗口将证照交快递员寄出", "证照已签收"):
        assert step in page, step
    assert "申请人 张三 → 快递员 王师傅" in page and "五一北路" in page  # at the door
    assert "快递员 王师傅 → 窗口工作人员" in page  # at the counter
    assert "窗口工作人员 jtys 预审员 → 快递员 王师傅" in page  # the certificate goes out
    assert "去评价" in page


async def _told(world: Courier, number: str, waybill: str) -> bool:
    return any(waybill in t for t in await world.outbox_texts(number))


async def test_a_replayed_or_reordered_route_push_moves_the_case_exactly_once(
    world: Courier,
) -> None:
    number = await _delivering(world)
    waybill = (await world.booked(number, "delivery")).waybill or ""
    events = world.client.app[keys.DOCUMENTS]

    # Delivered first, then the rest, each three times.
    results = await world.sim.play(waybill, ("80", "50", "30", "44"), repeat=3, shuffle_seed=11)
    assert len(results) == 12 and all(r.acknowledged for r in results)
    assert await world.state(number) == "delivered"
    assert await events.count("route_events", {"case": number, "leg": "delivery"}) == 4
    _, history = await world.api.call("GET", f"/cases/{number}/history", "demo-citizen")
    assert [e["action"] for e in history["items"]].count("confirm_delivery") == 1


async def _delivering(world: Courier) -> str:
    """A case through pickup, arrival, 出证 and dispatch: the certificate is on its way."""
    number = await world.approved_case()
    await world.book_pickup(number)
    await world.booked(number)
    await world.courier_scans(await world.pickup_code(number))
    await world.counter_scans(await world.courier_code(number, "arrival"))
    _, case = await world.api.call("GET", f"/cases/{number}", "reviewer-jtys")
    await world.api.call(
        "POST",
        f"/cases/{number}/actions/issue_certificate",
        "reviewer-jtys",
        json={"version": case["version"]},
    )
    await world.booked(number, "delivery")
    await world.counter_scans(await world.courier_code(number, "dispatch"))
    assert await world.state(number) == "delivering"
    return number
