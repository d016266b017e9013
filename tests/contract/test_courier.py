"""The production SfCourier and the route-push check against the SF simulator."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp
import pytest
from aiohttp import web

from logistics import (
    ACCEPTED,
    RETRY,
    Booking,
    CannotCancel,
    Contact,
    CourierRefused,
    CourierUnavailable,
    InvalidContact,
    OrderNotFound,
    PickupOrder,
    PickupWindow,
    PushRejected,
    RouteEvent,
    SfCourier,
    Stage,
    verify_route_push,
)
from logistics import sf_protocol as sf
from logistics.simulator import (
    SF_SIMULATOR,
    SfSimulator,
    create_sf_simulator,
    push_form,
    start_sf_simulator,
)

PARTNER_ID = "BCM_GOV_DEMO"
CHECK_WORD = "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci"
WAYBILL = re.compile(r"SF[0-9]{13}")
SENDER = Contact("李四", "13800138000", "广东省", "深圳市", "南山区", "科技园路 1 号 2 栋 301")
COUNTER = Contact(
    "政务服务中心收件窗口", "13900139000", "广东省", "深圳市", "福田区", "福中三路 2012 号",
    company="深圳市市场监督管理局",
)  # fmt: skip
WINDOW = PickupWindow(
    datetime(2026, 11, 3, 9, 0, tzinfo=sf.CHINA), datetime(2026, 11, 3, 11, 0, tzinfo=sf.CHINA)
)


def order(order_id: str = "BCM-2026-000123-P1") -> PickupOrder:
    return PickupOrder(order_id, SENDER, COUNTER, WINDOW, remark="营业执照换发 原件")


@dataclass
class Receiver:
    """Our side of route pushes, as the endpoint will be: verify, record each event once."""

    fail_next: int = 0
    deliveries: int = 0
    rejected: list[str] = field(default_factory=list)
    events: dict[str, RouteEvent] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        form = {name: str(value) for name, value in (await request.post()).items()}
        try:
            events = verify_route_push(form, partner_id=PARTNER_ID, check_word=CHECK_WORD)
        except PushRejected as e:
            self.rejected.append(e.detail)
            return web.json_response(RETRY, status=403)
        if self.fail_next:
            self.fail_next -= 1
            return web.json_response(RETRY)
        self.deliveries += 1
        for event in events:
            self.events.setdefault(event.key, event)
        return web.json_response(ACCEPTED)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/sf/routes", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield receiver, f"http://127.0.0.1:{runner.addresses[0][1]}/sf/routes"
    await runner.cleanup()


@pytest.fixture
async def sf_platform(receiver: tuple[Receiver, str]) -> AsyncIterator[tuple[SfSimulator, str]]:
    app = create_sf_simulator(
        partner_id=PARTNER_ID,
        check_word=CHECK_WORD,
        callback_url=receiver[1],
        seed=8,
        push_retry_delay=0,
    )
    runner, url = await start_sf_simulator(app)
    yield app[SF_SIMULATOR], url
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def courier(sf_platform: tuple[SfSimulator, str], session: aiohttp.ClientSession) -> SfCourier:
    return SfCourier(session, base_url=sf_platform[1], partner_id=PARTNER_ID, check_word=CHECK_WORD)


def test_the_digest_matches_the_example_in_sfs_signing_guide() -> None:
    msg_data = '{"language":"zh-CN","orderId":"QIAO-20200618-004"}'
    assert sf.msg_digest(msg_data, "12312334453453", CHECK_WORD) == "IIKJtuLVzoFTu4kHI8M8vA=="


def test_the_digest_encodes_like_javas_url_encoder() -> None:
    assert sf.java_url_encode("a b+c*~中") == "a+b%2Bc*%7E%E4%B8%AD"


async def test_booking_a_pickup_returns_an_sf_waybill_and_sends_both_contacts(
    courier: SfCourier, sf_platform: tuple[SfSimulator, str]
) -> None:
    booking = await courier.book_pickup(order())

    assert booking.order_id == "BCM-2026-000123-P1"
    assert WAYBILL.fullmatch(booking.waybill_no)
    assert not booking.existing
    sent = sf_platform[0].state.orders["BCM-2026-000123-P1"].data
    assert sent["sendStartTm"] == "2026-11-03 09:00:00"
    assert sent["pickupAppointEndtime"] == "2026-11-03 11:00:00"
    assert sent["isDocall"] == 1
    assert sf_platform[0].state.content_type == "application/x-www-form-urlencoded;charset=UTF-8"
    contacts = {c["contactType"]: c for c in sent["contactInfoList"]}
    assert contacts[1]["contact"] == "李四" and contacts[1]["address"] == SENDER.address
    assert contacts[2]["company"] == "深圳市市场监督管理局"


async def test_booking_the_same_order_id_again_returns_the_waybill_already_made(
    courier: SfCourier, sf_platform: tuple[SfSimulator, str]
) -> None:
    first = await courier.book_pickup(order())
    again = await courier.book_pickup(order())

    assert again == Booking(first.order_id, first.waybill_no, existing=True)
    assert len(sf_platform[0].state.orders) == 1
    assert sf_platform[0].state.calls == [sf.CREATE_ORDER, sf.CREATE_ORDER, sf.SEARCH_ORDER]


async def test_cancelling_works_once_and_again_is_harmless(
    courier: SfCourier, sf_platform: tuple[SfSimulator, str]
) -> None:
    await courier.book_pickup(order())

    await courier.cancel("BCM-2026-000123-P1")
    await courier.cancel("BCM-2026-000123-P1")

    assert sf_platform[0].state.orders["BCM-2026-000123-P1"].cancelled


async def test_an_unknown_order_cannot_be_cancelled(courier: SfCourier) -> None:
    with pytest.raises(OrderNotFound) as raised:
        await courier.cancel("BCM-2026-999999-P1")
    assert raised.value.message.startswith("没有找到")


async def test_a_collected_parcel_cannot_be_cancelled(
    courier: SfCourier, sf_platform: tuple[SfSimulator, str]
) -> None:
    booking = await courier.book_pickup(order())
    sf_platform[0].scan(booking.waybill_no, "50")

    with pytest.raises(CannotCancel) as raised:
        await courier.cancel(booking.order_id)
    assert "已取件" in raised.value.message


async def test_routes_come_back_oldest_first_with_their_stage(
    courier: SfCourier, sf_platform: tuple[SfSimulator, str]
) -> None:
    booking = await courier.book_pickup(order())
    simulator = sf_platform[0]
    simulator.scan(booking.waybill_no, "30", minutes_later=40)
    simulator.scan(booking.waybill_no, "50")

    events = await courier.routes(booking.waybill_no)

    assert [(e.op_code, e.stage) for e in events] == [
        ("50", Stage.COLLECTED),
        ("30", Stage.IN_TRANSIT),
    ]
    assert all(e.waybill_no == booking.waybill_no and e.at.tzinfo for e in events)
    assert events[0].remark == "顺丰速运 已收取快件"


async def test_a_wrong_check_word_is_refused_by_sf_as_a_bad_digest(
    sf_platform: tuple[SfSimulator, str], session: aiohttp.ClientSession
) -> None:
    wrong = SfCourier(
        session, base_url=sf_platform[1], partner_id=PARTNER_ID, check_word="not-the-check-word"
    )
    with pytest.raises(CourierRefused) as raised:
        await wrong.book_pickup(order())
    assert raised.value.code == sf.API_BAD_DIGEST
    assert sf_platform[0].state.orders == {}


async def test_a_stale_timestamp_is_refused_and_leaves_the_outcome_unknown(
    sf_platform: tuple[SfSimulator, str], session: aiohttp.ClientSession
) -> None:
    stale = SfCourier(
        session,
        base_url=sf_platform[1],
        partner_id=PARTNER_ID,
        check_word=CHECK_WORD,
        timestamp=lambda: str(int(time.time() * 1000) - 11 * 60 * 1000),
    )
    with pytest.raises(CourierUnavailable) as raised:
        await stale.book_pickup(order())
    assert sf.API_EXPIRED in raised.value.detail
    assert sf_platform[0].state.orders == {}


async def test_a_tampered_message_is_refused_by_the_simulator(
    sf_platform: tuple[SfSimulator, str], session: aiohttp.ClientSession
) -> None:
    msg_data = sf.dumps({"orderId": "X1", "language": "zh-CN"})
    timestamp = str(int(time.time() * 1000))
    form = {
        "partnerID": PARTNER_ID,
        "requestID": "r1",
        "serviceCode": sf.SEARCH_ORDER,
        "timestamp": timestamp,
        "msgData": msg_data,
        "msgDigest": sf.msg_digest(msg_data, timestamp, CHECK_WORD),
    }
    form["msgData"] = msg_data.replace("X1", "X2")
    async with session.post(sf_platform[1], data=form) as response:
        answer = await response.json()
    assert answer["apiResultCode"] == sf.API_BAD_DIGEST


async def test_an_unreachable_sf_is_unavailable_not_refused(session: aiohttp.ClientSession) -> None:
    gone = SfCourier(
        session,
        base_url="http://127.0.0.1:9/std/service",
        partner_id=PARTNER_ID,
        check_word=CHECK_WORD,
        timeout=2,
    )
    with pytest.raises(CourierUnavailable) as raised:
        await gone.book_pickup(order())
    assert "快递公司" in raised.value.message


async def test_repeated_and_reordered_route_pushes_are_verified_and_counted_once(
    courier: SfCourier,
    sf_platform: tuple[SfSimulator, str],
    receiver: tuple[Receiver, str],
) -> None:
    booking = await courier.book_pickup(order())

    results = await sf_platform[0].play(booking.waybill_no, repeat=2, shuffle_seed=3)

    ours = receiver[0]
    assert len(results) == 10 and all(r.acknowledged and r.attempts == 1 for r in results)
    assert ours.deliveries == 10 and ours.rejected == []
    stages = [e.stage for e in sorted(ours.events.values(), key=lambda e: e.at)]
    assert stages == [
        Stage.COLLECTED,
        Stage.IN_TRANSIT,
        Stage.IN_TRANSIT,
        Stage.OUT_FOR_DELIVERY,
        Stage.DELIVERED,
    ]
    assert {e.order_id for e in ours.events.values()} == {booking.order_id}
    pushed_order = [r.routes[0] for r in results]
    assert pushed_order != sorted(pushed_order)  # they did arrive out of order


async def test_an_unacknowledged_push_is_retried_like_sf(
    courier: SfCourier, sf_platform: tuple[SfSimulator, str], receiver: tuple[Receiver, str]
) -> None:
    booking = await courier.book_pickup(order())
    receiver[0].fail_next = 2

    [result] = await sf_platform[0].play(booking.waybill_no, ["50"])

    assert result.acknowledged and result.attempts == 3
    assert [e.stage for e in receiver[0].events.values()] == [Stage.COLLECTED]


async def test_a_forged_push_reaches_us_and_changes_nothing(
    courier: SfCourier,
    sf_platform: tuple[SfSimulator, str],
    receiver: tuple[Receiver, str],
    session: aiohttp.ClientSession,
) -> None:
    booking = await courier.book_pickup(order())
    route = sf_platform[0].scan(booking.waybill_no, "80")
    forged = push_form([route], partner_id=PARTNER_ID, check_word="guessed-check-word")

    async with session.post(receiver[1], data=forged) as response:
        assert response.status == 403
        assert (await response.json())["return_code"] == "1000"
    assert receiver[0].events == {} and receiver[0].rejected == ["bad msgDigest"]


def test_the_push_verifier_refuses_tampering_another_partner_and_garbage() -> None:
    from logistics.simulator.state import Route

    route = Route("1", "SF1234567890123", "O1", "80", "2026-11-03 10:00:00", "深圳", "已签收")
    genuine = push_form([route], partner_id=PARTNER_ID, check_word=CHECK_WORD)
    [event] = verify_route_push(genuine, partner_id=PARTNER_ID, check_word=CHECK_WORD)
    assert event.stage is Stage.DELIVERED
    assert event.at == datetime(2026, 11, 3, 10, 0, tzinfo=sf.CHINA)

    cases = {
        "bad msgDigest": {**genuine, "msgData": genuine["msgData"].replace('"80"', '"50"')},
        "partnerID is not ours": push_form([route], partner_id="OTHER", check_word=CHECK_WORD),
        "msgData, timestamp or msgDigest missing": {**genuine, "msgDigest": ""},
    }
    for reason, form in cases.items():
        with pytest.raises(PushRejected) as raised:
            verify_route_push(form, partner_id=PARTNER_ID, check_word=CHECK_WORD)
        assert raised.value.detail == reason
    garbage = "not json"
    signed = {**genuine, "msgData": garbage}
    signed["msgDigest"] = sf.msg_digest(garbage, signed["timestamp"], CHECK_WORD)
    with pytest.raises(PushRejected):
        verify_route_push(signed, partner_id=PARTNER_ID, check_word=CHECK_WORD)


def test_contacts_mask_themselves_in_logs() -> None:
    assert "13800138000" not in repr(SENDER) and "科技园路" not in repr(SENDER)
    assert "李四" not in repr(SENDER)


@pytest.mark.parametrize(
    ("change", "field", "hint"),
    [
        ({"mobile": "12345"}, "mobile", "手机号码"),
        ({"mobile": "010-12345678"}, "mobile", "手机号码"),
        ({"name": "  "}, "name", "请填写联系人姓名"),
        ({"address": ""}, "address", "请填写详细地址"),
        ({"address": "路" * 201}, "address", "过长"),
        ({"address": "科技园路\x001 号"}, "address", "无法识别"),
        ({"province": "广东"}, "province", "省份"),
        ({"province": "California"}, "province", "省份"),
    ],
)
def test_an_address_the_courier_would_refuse_is_refused_here_in_chinese(
    change: dict[str, str], field: str, hint: str
) -> None:
    values = {
        "name": "李四",
        "mobile": "13800138000",
        "province": "广东省",
        "city": "深圳市",
        "county": "南山区",
        "address": "科技园路 1 号",
    } | change
    with pytest.raises(InvalidContact) as raised:
        Contact(**values)
    assert raised.value.field == field and hint in raised.value.message
    assert isinstance(raised.value, ValueError)


def test_every_provincial_division_is_accepted() -> None:
    for province in (
        "北京市",
        "内蒙古自治区",
        "新疆维吾尔自治区",
        "香港特别行政区",
        "澳门特别行政区",
    ):
        assert Contact("王五", "13700137000", province, "市", "", "某路 1 号").province == province


@pytest.fixture
async def odd_sf() -> AsyncIterator[tuple[list[web.Response], str]]:
    """An "SF" that answers whatever the test queues: what the adapter must survive."""
    answers: list[web.Response] = []

    async def answer(request: web.Request) -> web.Response:
        await request.post()
        return answers.pop(0)

    app = web.Application()
    app.router.add_post("/std/service", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield answers, f"http://127.0.0.1:{runner.addresses[0][1]}/std/service"
    await runner.cleanup()


def sf_answer(api_code: str = sf.API_OK, data: object = None) -> web.Response:
    body = {"apiResultCode": api_code, "apiErrorMsg": "", "apiResultData": data}
    return web.json_response(body)


async def test_what_is_not_an_answer_from_sf_leaves_the_outcome_unknown(
    odd_sf: tuple[list[web.Response], str], session: aiohttp.ClientSession
) -> None:
    answers, url = odd_sf
    courier = SfCourier(session, base_url=url, partner_id=PARTNER_ID, check_word=CHECK_WORD)
    answers.extend(
        [
            web.Response(status=502, text="<html>Bad Gateway</html>"),
            web.Response(body=b'{"apiResultCode":"A1000","x":"' + b"a" * (1 << 20) + b'"}'),
            sf_answer(sf.API_SYSTEM_ERROR),
            sf_answer(data="not json"),
            sf_answer(data=sf.dumps({"success": True, "errorCode": "S0000", "msgData": {}})),
        ]
    )
    for _ in range(5):
        with pytest.raises(CourierUnavailable):
            await courier.book_pickup(order())


async def test_an_address_sf_cannot_serve_is_refused_in_chinese(
    odd_sf: tuple[list[web.Response], str], session: aiohttp.ClientSession
) -> None:
    answers, url = odd_sf
    courier = SfCourier(session, base_url=url, partner_id=PARTNER_ID, check_word=CHECK_WORD)
    result = {
        "orderId": "BCM-2026-000123-P1",
        "filterResult": 3,
        "waybillNoInfoList": [{"waybillType": 1, "waybillNo": "SF1000000000001"}],
    }
    answers.append(
        sf_answer(data=sf.dumps({"success": True, "errorCode": "S0000", "msgData": result}))
    )
    with pytest.raises(CourierRefused) as raised:
        await courier.book_pickup(order())
    assert "不在顺丰上门取件范围" in raised.value.message
