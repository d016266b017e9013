"""AlipayGateway and verify_notification against the Alipay simulator (keys made per test run)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from payments import (
    AlipayGateway,
    ExpectedOrder,
    GatewayRefused,
    GatewayUnavailable,
    Notification,
    NotificationRejected,
    PaymentOrder,
    RefundConflict,
    RefundTooLarge,
    TradeNotFound,
    TradeStatus,
    verify_notification,
)
from payments.port import fen, yuan
from payments.signing import (
    new_key_pair,
    notification_content,
    request_content,
    rsa2_sign,
    rsa2_verify,
)
from payments.simulator import (
    ALIPAY_SCHEDULE,
    SELLER_ID,
    SIMULATOR,
    AlipaySimulator,
    compressed,
    create_alipay_simulator,
    start_alipay_simulator,
)
from tests.conftest import Clock

APP_ID = "2021000122600001"
SUBJECT = "营业执照换发 工本费"
AMOUNT = 1050


@pytest.fixture(scope="session")
def app_key() -> rsa.RSAPrivateKey:
    return new_key_pair()


@pytest.fixture(scope="session")
def alipay_key() -> rsa.RSAPrivateKey:
    return new_key_pair()


@pytest.fixture(scope="session")
def stranger_key() -> rsa.RSAPrivateKey:
    return new_key_pair()


@dataclass
class Merchant:
    """Our notify endpoint as the tests play it: records each form, answers from a script."""

    url: str = ""
    received: list[dict[str, str]] = field(default_factory=list)
    script: list[tuple[int, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.received.append({k: v for k, v in form.items() if isinstance(v, str)})
        status, text = self.script.pop(0) if self.script else (200, "success")
        return web.Response(status=status, text=text)


@pytest.fixture
async def merchant() -> AsyncIterator[Merchant]:
    merchant = Merchant()
    app = web.Application()
    app.router.add_post("/alipay/notify", merchant.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    merchant.url = str(server.make_url("/alipay/notify"))
    yield merchant
    await server.close()


@pytest.fixture
async def alipay(
    app_key: rsa.RSAPrivateKey, alipay_key: rsa.RSAPrivateKey, clock: Clock
) -> AsyncIterator[tuple[AlipaySimulator, str]]:
    app = create_alipay_simulator(
        app_id=APP_ID,
        app_public_key=app_key.public_key(),
        alipay_private_key=alipay_key,
        clock=clock,
        notify_schedule=compressed(1e-6),  # Alipay's ~24.4 h in about 90 ms
        notify_timeout=2.0,
    )
    runner, gateway_url = await start_alipay_simulator(app)
    yield app[SIMULATOR], gateway_url
    await runner.cleanup()


@pytest.fixture
def simulator(alipay: tuple[AlipaySimulator, str]) -> AlipaySimulator:
    return alipay[0]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


MakeGateway = Callable[..., AlipayGateway]


@pytest.fixture
def make_gateway(
    alipay: tuple[AlipaySimulator, str],
    session: aiohttp.ClientSession,
    app_key: rsa.RSAPrivateKey,
    alipay_key: rsa.RSAPrivateKey,
) -> MakeGateway:
    def make(**overrides: object) -> AlipayGateway:
        options: dict[str, object] = {
            "gateway_url": alipay[1],
            "app_id": APP_ID,
            "app_private_key": app_key,
            "alipay_public_key": alipay_key.public_key(),
            "timeout": 5.0,
        } | overrides
        return AlipayGateway(session, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def gateway(make_gateway: MakeGateway) -> AlipayGateway:
    return make_gateway()


def order(clock: Clock, number: str = "BCM-2026-000123-P1", amount: int = AMOUNT) -> PaymentOrder:
    return PaymentOrder(number, amount, SUBJECT, expires_at=clock() + timedelta(minutes=30))


async def open_cashier(session: aiohttp.ClientSession, cashier_url: str) -> str:
    """Follow the signed wap.pay URL as the payer's browser would; the cashier page's HTML."""
    async with session.get(cashier_url) as response:
        assert response.status == 200
        return await response.text()


async def tap_pay(session: aiohttp.ClientSession, cashier_page_url: str) -> aiohttp.ClientResponse:
    async with session.post(cashier_page_url + "/pay", allow_redirects=False) as response:
        await response.read()
        return response


async def paid_order(
    gateway: AlipayGateway, session: aiohttp.ClientSession, clock: Clock, merchant: Merchant
) -> PaymentOrder:
    placed = order(clock)
    url = await gateway.create_payment(placed, notify_url=merchant.url, return_url="")
    async with session.get(url) as response:
        await response.read()
        cashier_page = str(response.url)
    await tap_pay(session, cashier_page)
    return placed


def expected(placed: PaymentOrder) -> ExpectedOrder:
    return ExpectedOrder(placed.out_trade_no, placed.amount_fen)


def verify(
    params: dict[str, str], public_key: rsa.RSAPublicKey, placed: ExpectedOrder
) -> Notification:
    return verify_notification(
        params, alipay_public_key=public_key, app_id=APP_ID, seller_id=SELLER_ID, order=placed
    )


# --- the signing rule -------------------------------------------------------------------------


def test_a_notification_signs_every_parameter_but_sign_and_sign_type_sorted_and_joined():
    params = {"b": "2", "sign": "x", "a": "1", "sign_type": "RSA2", "c": "", "subject": "工本费"}
    assert notification_content(params) == "a=1&b=2&c=&subject=工本费"


def test_amounts_go_between_fen_and_yuan_exactly():
    assert [yuan(1), yuan(1050), yuan(100000)] == ["0.01", "10.50", "1000.00"]
    assert [fen("0.01"), fen("10.5"), fen("10.50"), fen("88")] == [1, 1050, 1050, 8800]
    for bad in ("", "1.001", "-1.00", "1e3", "01.00", " 1.00"):
        with pytest.raises(ValueError):
            fen(bad)


# --- create, cashier, notification ------------------------------------------------------------


async def test_a_payment_goes_from_the_cashier_to_a_notification_our_verifier_accepts(
    gateway: AlipayGateway,
    simulator: AlipaySimulator,
    session: aiohttp.ClientSession,
    merchant: Merchant,
    clock: Clock,
    alipay_key: rsa.RSAPrivateKey,
):
    placed = order(clock)
    url = await gateway.create_payment(
        placed, notify_url=merchant.url, return_url="https://buchumen.example/h5/paid"
    )
    page = await open_cashier(session, url)
    assert "付款" in page and "¥10.50" in page and SUBJECT in page
    assert (await gateway.query(placed.out_trade_no)).status is TradeStatus.WAIT_BUYER_PAY

    trade_no = next(iter(simulator.ledger.trades.values())).trade_no
    paid = await tap_pay(session, f"{simulator.base_url}/cashier/{trade_no}")
    assert paid.status == 302
    back = urlsplit(paid.headers["Location"])
    assert back.path == "/h5/paid"
    returned = dict(parse_qsl(back.query))
    assert rsa2_verify(alipay_key.public_key(), notification_content(returned), returned["sign"])

    await simulator.notifier.idle()
    assert len(merchant.received) == 1
    notice = verify(merchant.received[0], alipay_key.public_key(), expected(placed))
    assert notice.paid and notice.total_fen == AMOUNT and notice.trade_no == trade_no
    assert simulator.notifier.deliveries[0].delivered

    trade = await gateway.query(placed.out_trade_no)
    assert trade.status is TradeStatus.TRADE_SUCCESS and trade.total_fen == AMOUNT
    assert trade.paid_at is not None and abs(trade.paid_at - clock()) < timedelta(seconds=1)


async def test_the_cashier_url_is_signed_by_our_app_and_carries_the_time_out_in_beijing_time(
    gateway: AlipayGateway, merchant: Merchant, clock: Clock, app_key: rsa.RSAPrivateKey
):
    url = await gateway.create_payment(order(clock), notify_url=merchant.url, return_url="")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["method"] == "alipay.trade.wap.pay" and params["sign_type"] == "RSA2"
    assert rsa2_verify(app_key.public_key(), request_content(params), params["sign"])
    assert '"time_expire":"2026-11-02 09:30:00"' in params["biz_content"]  # 01:30 UTC
    assert '"product_code":"QUICK_WAP_WAY"' in params["biz_content"]


async def test_a_trade_exists_only_once_its_cashier_is_opened(
    gateway: AlipayGateway, session: aiohttp.ClientSession, merchant: Merchant, clock: Clock
):
    placed = order(clock)
    url = await gateway.create_payment(placed, notify_url=merchant.url, return_url="")
    with pytest.raises(TradeNotFound):
        await gateway.query(placed.out_trade_no)
    await open_cashier(session, url)
    await open_cashier(session, url)  # opening again shows the same trade
    assert (await gateway.query(placed.out_trade_no)).status is TradeStatus.WAIT_BUYER_PAY


async def test_the_same_out_trade_no_with_another_amount_is_refused_at_the_cashier(
    gateway: AlipayGateway, session: aiohttp.ClientSession, merchant: Merchant, clock: Clock
):
    await open_cashier(
        session, await gateway.create_payment(order(clock), notify_url="", return_url="")
    )
    tampered = order(clock, amount=1)
    page = await open_cashier(
        session, await gateway.create_payment(tampered, notify_url=merchant.url, return_url="")
    )
    assert "交易信息被篡改" in page and "付款" not in page


# --- close and time-out -------------------------------------------------------------------------


async def test_a_closed_trade_cannot_be_paid(
    gateway: AlipayGateway,
    simulator: AlipaySimulator,
    session: aiohttp.ClientSession,
    merchant: Merchant,
    clock: Clock,
):
    placed = order(clock)
    await open_cashier(
        session, await gateway.create_payment(placed, notify_url=merchant.url, return_url="")
    )
    await gateway.close(placed.out_trade_no)
    assert (await gateway.query(placed.out_trade_no)).status is TradeStatus.TRADE_CLOSED

    trade_no = simulator.ledger.trades[placed.out_trade_no].trade_no
    refused = await tap_pay(session, f"{simulator.base_url}/cashier/{trade_no}")
    assert refused.status == 200
    with pytest.raises(GatewayRefused) as closed_again:
        await gateway.close(placed.out_trade_no)
    assert closed_again.value.sub_code == "ACQ.TRADE_STATUS_ERROR"
    await simulator.notifier.idle()
    assert merchant.received == []


async def test_closing_a_trade_whose_cashier_was_never_opened_says_it_does_not_exist(
    gateway: AlipayGateway, clock: Clock
):
    await gateway.create_payment(order(clock), notify_url="", return_url="")
    with pytest.raises(TradeNotFound):
        await gateway.close(order(clock).out_trade_no)


async def test_an_unpaid_trade_closes_itself_at_its_time_out(
    gateway: AlipayGateway, session: aiohttp.ClientSession, clock: Clock
):
    placed = order(clock)
    await open_cashier(session, await gateway.create_payment(placed, notify_url="", return_url=""))
    clock.advance(minutes=30)
    assert (await gateway.query(placed.out_trade_no)).status is TradeStatus.TRADE_CLOSED


# --- refunds ------------------------------------------------------------------------------------


async def test_refunds_add_up_repeat_without_moving_money_and_never_pass_what_was_paid(
    gateway: AlipayGateway,
    simulator: AlipaySimulator,
    session: aiohttp.ClientSession,
    merchant: Merchant,
    clock: Clock,
):
    placed = await paid_order(gateway, session, clock, merchant)
    number = placed.out_trade_no

    first = await gateway.refund(number, amount_fen=300, out_request_no="R1", reason="部分退费")
    assert (first.refunded_fen, first.fund_change) == (300, True)
    again = await gateway.refund(number, amount_fen=300, out_request_no="R1", reason="部分退费")
    assert (again.refunded_fen, again.fund_change) == (300, False)

    with pytest.raises(RefundConflict):
        await gateway.refund(number, amount_fen=400, out_request_no="R1", reason="部分退费")
    with pytest.raises(RefundTooLarge):
        await gateway.refund(number, amount_fen=751, out_request_no="R2", reason="撤回申请")
    assert (await gateway.query(number)).status is TradeStatus.TRADE_SUCCESS

    rest = await gateway.refund(number, amount_fen=750, out_request_no="R2", reason="撤回申请")
    assert (rest.refunded_fen, rest.fund_change) == (AMOUNT, True)
    assert (await gateway.query(number)).status is TradeStatus.TRADE_CLOSED
    late = await gateway.refund(number, amount_fen=300, out_request_no="R1", reason="部分退费")
    assert (late.refunded_fen, late.fund_change) == (AMOUNT, False)
    with pytest.raises(GatewayRefused) as closed:  # fully refunded: the trade is closed
        await gateway.refund(number, amount_fen=1, out_request_no="R3", reason="多退")
    assert closed.value.sub_code == "ACQ.TRADE_STATUS_ERROR"

    await simulator.notifier.idle()
    statuses = [(n["trade_status"], n.get("refund_fee")) for n in merchant.received]
    assert statuses == [
        ("TRADE_SUCCESS", None),
        ("TRADE_SUCCESS", "3.00"),
        ("TRADE_CLOSED", "10.50"),
    ]


async def test_an_unpaid_trade_cannot_be_refunded(
    gateway: AlipayGateway, session: aiohttp.ClientSession, clock: Clock
):
    placed = order(clock)
    await open_cashier(session, await gateway.create_payment(placed, notify_url="", return_url=""))
    with pytest.raises(GatewayRefused) as refused:
        await gateway.refund(placed.out_trade_no, amount_fen=1, out_request_no="R1", reason="退")
    assert refused.value.sub_code == "ACQ.TRADE_STATUS_ERROR"
    with pytest.raises(TradeNotFound):
        await gateway.refund("BCM-NOPE", amount_fen=1, out_request_no="R1", reason="退")


# --- notification delivery ------------------------------------------------------------------


async def test_a_notification_is_repeated_until_the_endpoint_answers_exactly_success(
    gateway: AlipayGateway,
    simulator: AlipaySimulator,
    session: aiohttp.ClientSession,
    merchant: Merchant,
    clock: Clock,
    alipay_key: rsa.RSAPrivateKey,
):
    merchant.script = [(200, "fail"), (500, "success"), (200, "success\n"), (200, "SUCCESS")]
    placed = await paid_order(gateway, session, clock, merchant)
    await simulator.notifier.idle()

    assert len(merchant.received) == 5
    (delivery,) = simulator.notifier.deliveries
    assert delivery.delivered and delivery.attempts[-1] == "200 success"
    assert {n["notify_id"] for n in merchant.received} == {delivery.notify_id}
    for notice in merchant.received:
        assert verify(notice, alipay_key.public_key(), expected(placed)).paid


async def test_alipay_gives_up_after_eight_attempts(
    gateway: AlipayGateway,
    simulator: AlipaySimulator,
    session: aiohttp.ClientSession,
    merchant: Merchant,
    clock: Clock,
):
    merchant.script = [(200, "fail")] * 10
    await paid_order(gateway, session, clock, merchant)
    await simulator.notifier.idle()
    assert len(merchant.received) == 8
    assert not simulator.notifier.deliveries[0].delivered


def test_the_retry_schedule_is_alipays_eight_notices_in_about_25_hours():
    assert len(ALIPAY_SCHEDULE) == 8
    assert timedelta(hours=24) < timedelta(seconds=sum(ALIPAY_SCHEDULE)) < timedelta(hours=25)


# --- the verifier refuses ---------------------------------------------------------------------


@pytest.fixture
async def genuine(
    gateway: AlipayGateway,
    simulator: AlipaySimulator,
    session: aiohttp.ClientSession,
    merchant: Merchant,
    clock: Clock,
) -> tuple[dict[str, str], ExpectedOrder]:
    placed = await paid_order(gateway, session, clock, merchant)
    await simulator.notifier.idle()
    return merchant.received[0], expected(placed)


def resign(params: dict[str, str], key: rsa.RSAPrivateKey, **changes: str) -> dict[str, str]:
    changed = params | changes
    changed["sign"] = rsa2_sign(key, notification_content(changed))
    return changed


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda p, alipay, other: p | {"total_amount": "0.01"}, "bad signature"),
        (lambda p, alipay, other: resign(p, other, total_amount="0.01"), "bad signature"),
        (lambda p, alipay, other: p | {"sign": p["sign"][:-8] + "AAAAAAA="}, "bad signature"),
        (lambda p, alipay, other: p | {"sign": "not base64!"}, "bad signature"),
        (lambda p, alipay, other: {k: v for k, v in p.items() if k != "sign"}, "bad signature"),
        (lambda p, alipay, other: p | {"sign_type": "RSA"}, "sign_type"),
        (lambda p, alipay, other: resign(p, alipay, total_amount="0.01"), "total_amount"),
        (lambda p, alipay, other: resign(p, alipay, app_id="2021000999999999"), "app_id"),
        (lambda p, alipay, other: resign(p, alipay, seller_id="2088000000000000"), "seller_id"),
        (lambda p, alipay, other: resign(p, alipay, out_trade_no="BCM-OTHER"), "out_trade_no"),
        (lambda p, alipay, other: resign(p, alipay, trade_status="PAID"), "malformed"),
    ],
    ids=[
        "tampered-amount",
        "resigned-by-a-stranger",
        "corrupted-signature",
        "signature-not-base64",
        "no-signature",
        "rsa1",
        "signed-but-wrong-amount",
        "wrong-app-id",
        "wrong-seller",
        "another-order",
        "unknown-status",
    ],
)
def test_a_forged_or_foreign_notification_is_rejected(
    genuine: tuple[dict[str, str], ExpectedOrder],
    alipay_key: rsa.RSAPrivateKey,
    stranger_key: rsa.RSAPrivateKey,
    forge: Callable[..., dict[str, str]],
    reason: str,
):
    params, placed = genuine
    assert verify(params, alipay_key.public_key(), placed).paid
    with pytest.raises(NotificationRejected) as rejected:
        verify(forge(params, alipay_key, stranger_key), alipay_key.public_key(), placed)
    assert reason in rejected.value.reason


@pytest.mark.parametrize("status", ["WAIT_BUYER_PAY", "TRADE_CLOSED"])
def test_only_success_and_finished_mean_paid(
    genuine: tuple[dict[str, str], ExpectedOrder], alipay_key: rsa.RSAPrivateKey, status: str
):
    params, placed = genuine
    notice = verify(
        resign(params, alipay_key, trade_status=status), alipay_key.public_key(), placed
    )
    assert not notice.paid
    finished = resign(params, alipay_key, trade_status="TRADE_FINISHED")
    assert verify(finished, alipay_key.public_key(), placed).paid


# --- the adapter trusts only Alipay, Alipay trusts only our app ---------------------------------


async def test_an_answer_not_signed_by_alipay_is_not_believed(
    make_gateway: MakeGateway, stranger_key: rsa.RSAPrivateKey
):
    gateway = make_gateway(alipay_public_key=stranger_key.public_key())
    with pytest.raises(GatewayUnavailable, match="signature"):
        await gateway.query("BCM-2026-000123-P1")


@pytest.mark.parametrize(
    ("overrides", "sub_code"),
    [
        ({"app_private_key": "stranger"}, "isv.invalid-signature"),
        ({"app_id": "2021000999999999"}, "isv.invalid-app-id"),
    ],
)
async def test_alipay_refuses_a_request_not_signed_by_our_app(
    make_gateway: MakeGateway,
    stranger_key: rsa.RSAPrivateKey,
    overrides: dict[str, object],
    sub_code: str,
):
    if overrides.get("app_private_key") == "stranger":
        overrides = {"app_private_key": stranger_key}
    with pytest.raises(GatewayRefused) as refused:
        await make_gateway(**overrides).query("BCM-2026-000123-P1")
    assert refused.value.sub_code == sub_code


@pytest.mark.parametrize(
    ("change", "sub_code"),
    [
        ({"timestamp": "2026/11/02 09:00"}, "isv.invalid-timestamp"),
        ({"sign_type": "RSA"}, "isv.invalid-signature-type"),
        ({"biz_content": '{"out_trade_no":"BCM-2026-000123-P2"}'}, "isv.invalid-signature"),
    ],
)
async def test_alipay_refuses_a_request_altered_after_signing(
    gateway: AlipayGateway,
    alipay: tuple[AlipaySimulator, str],
    session: aiohttp.ClientSession,
    clock: Clock,
    change: dict[str, str],
    sub_code: str,
):
    url = await gateway.create_payment(order(clock), notify_url="", return_url="")
    params = dict(parse_qsl(urlsplit(url).query)) | {"method": "alipay.trade.query"} | change
    async with session.post(alipay[1], data=params) as response:
        answer = await response.json()
    assert answer["alipay_trade_query_response"]["sub_code"] == sub_code


async def test_an_unreachable_gateway_is_unavailable_not_refused(make_gateway: MakeGateway):
    gateway = make_gateway(gateway_url="http://127.0.0.1:9/gateway.do", timeout=2.0)
    with pytest.raises(GatewayUnavailable):
        await gateway.query("BCM-2026-000123-P1")
