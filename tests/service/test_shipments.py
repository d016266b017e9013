"""Courier bookings as outbox jobs: once per order id, retried with backoff, flagged, called off."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from app.domain.actors import Actor, Role
from app.domain.case_states import Action
from app.domain.cases import MaterialRef
from app.domain.custody import Step
from app.domain.shipments import BOOKING_FAILED, PICKUP, LegStatus, MailingAddress
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.custody import CustodyService
from app.services.shipments import ShipmentService
from app.settings import Settings
from app.wiring.demo import load_demo_data
from logistics import PickupCodeRejected, PickupCodes, SfCourier, derive_key
from logistics.simulator import SfSimulator, create_sf_simulator, start_sf_simulator
from logistics.simulator.simulator import SF_SIMULATOR
from storage.outbox import OutboxDispatcher
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

CITIZEN = Actor("demo-citizen", Role.APPLICANT)
COURIER = Actor("demo-courier", Role.COURIER)
REVIEWER = Actor("reviewer-jtys", Role.REVIEWER, department="jtys")
ADDRESS = MailingAddress("张三", "13812345678", "福建省", "福州市", "鼓楼区", "五一北路 123 号")
PARTNER, CHECK_WORD = "BCM_TEST", "a-check-word-for-the-test-0123456"


@dataclass
class Desk:
    store: SqliteDocumentStore
    cases: CaseService
    shipments: ShipmentService
    jobs: OutboxDispatcher
    sim: SfSimulator

    async def awaiting_pickup(self) -> str:
        matters = await self.store.find("matters", {"department": "jtys"})
        case = await self.cases.open(CITIZEN, matters[0]["_id"])
        for slot in case.terms.slots:
            ref = MaterialRef(f"photos/{case.number}/{slot.id}", "image/jpeg", 10, "0" * 64)
            case = await self.cases.attach(CITIZEN, case.number, slot.id, ref, version=None)
        await self.cases.submit(CITIZEN, case.number, version=None)
        case = await self.cases.approve(REVIEWER, case.number, version=None)
        assert case.state.value == "awaiting_pickup"
        return case.number

    async def request(self, number: str) -> None:
        window = self.shipments.windows()[0].key
        await self.shipments.request_pickup(CITIZEN, number, ADDRESS, window)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def sim() -> AsyncIterator[tuple[SfSimulator, str]]:
    app = create_sf_simulator(partner_id=PARTNER, check_word=CHECK_WORD, callback_url="http://x")
    runner, url = await start_sf_simulator(app)
    yield app[SF_SIMULATOR], url
    await runner.cleanup()


async def _desk(
    store: SqliteDocumentStore,
    settings: Settings,
    clock: Clock,
    sim: tuple[SfSimulator, str],
    session: aiohttp.ClientSession,
    url: str,
) -> Desk:
    await load_demo_data(store, settings, clock())
    cases = CaseService(store, CalendarService(store), clock=clock)
    courier = SfCourier(session, base_url=url, partner_id=PARTNER, check_word=CHECK_WORD)
    shipments = ShipmentService(store, cases, courier, clock=clock)
    jobs = shipments.handlers() | {"notify.applicant": _ignore}
    dispatcher = OutboxDispatcher(store, jobs, clock=clock, topics=jobs)
    return Desk(store, cases, shipments, dispatcher, sim[0])


async def _ignore(_: object) -> None:
    return None


@pytest.fixture
async def desk(
    store: SqliteDocumentStore, settings: Settings, clock: Clock, sim: tuple[SfSimulator, str]
) -> AsyncIterator[Desk]:
    async with aiohttp.ClientSession() as session:
        yield await _desk(store, settings, clock, sim, session, sim[1])


@pytest.fixture
async def cut_off(
    store: SqliteDocumentStore, settings: Settings, clock: Clock, sim: tuple[SfSimulator, str]
) -> AsyncIterator[Desk]:
    """The same, with SF unreachable (nothing listens where the courier calls)."""
    dead = f"http://127.0.0.1:{_closed_port()}/std/service"
    async with aiohttp.ClientSession() as session:
        yield await _desk(store, settings, clock, sim, session, dead)


async def test_a_booking_that_reached_sf_before_a_crash_is_not_made_twice(desk: Desk) -> None:
    number = await desk.awaiting_pickup()
    await desk.request(number)
    # An earlier run of the job booked at SF and died before keeping the waybill.
    [message] = await desk.store.find("outbox", {"topic": "courier.book"})
    first = desk.sim.state.create(message["payload"]["order_id"], {})

    assert await desk.jobs.dispatch_once() >= 1

    leg = await desk.shipments.leg(number, PICKUP)
    assert leg is not None and leg.status is LegStatus.BOOKED
    assert leg.waybill == first.waybill_no and list(desk.sim.state.orders) == [leg.order_id]
    told = await desk.store.find("outbox", {"topic": "notify.applicant", "payload.case": number})
    assert sum(first.waybill_no in m["payload"]["text"] for m in told) == 1


async def test_an_unreachable_courier_is_retried_and_flagged_after_three_failures(
    cut_off: Desk, clock: Clock
) -> None:
    number = await cut_off.awaiting_pickup()
    await cut_off.request(number)
    for attempt in (1, 2, 3):
        await cut_off.jobs.dispatch_once()
        leg = await cut_off.shipments.leg(number, PICKUP)
        assert leg is not None and leg.failures == attempt
        flagged = await cut_off.shipments.troubles("jtys")
        assert [f.case for f in flagged] == ([number] if attempt == 3 else [])
        clock.advance(minutes=10)  # past the outbox's backoff
    assert flagged[0].trouble == BOOKING_FAILED and flagged[0].status is LegStatus.REQUESTED
    [message] = await cut_off.store.find("outbox", {"topic": "courier.book"})
    assert message["status"] == "pending"  # still retried: SF may come back


async def test_withdrawing_a_case_awaiting_pickup_calls_its_courier_off(desk: Desk) -> None:
    number = await desk.awaiting_pickup()
    await desk.request(number)
    await desk.jobs.dispatch_once()
    booked = await desk.shipments.leg(number, PICKUP)
    assert booked is not None and booked.status is LegStatus.BOOKED

    await desk.cases.act(CITIZEN, number, Action.WITHDRAW, version=None, reason=None)
    while await desk.jobs.dispatch_once():
        pass

    assert desk.sim.state.orders[booked.order_id].cancelled
    leg = await desk.shipments.leg(number, PICKUP)
    assert leg is not None and leg.status is LegStatus.CANCELLED


async def test_an_expired_code_is_forgotten_and_refused(desk: Desk, clock: Clock) -> None:
    number = await desk.awaiting_pickup()
    await desk.request(number)
    await desk.jobs.dispatch_once()
    codes = PickupCodes(derive_key("a-service-secret-of-32-characters!"), clock=clock)
    custody = CustodyService(desk.store, desk.cases, desk.shipments, codes, clock=clock)
    shown = await custody.show_code(CITIZEN, number, Step.PICKUP)

    clock.advance(days=8)  # codes live a week
    assert await custody.purge_codes() == 1
    for typed, reason in ((shown.typed, "forged"), (shown.issued.token, "expired")):
        with pytest.raises(PickupCodeRejected) as refused:
            await custody.scan(COURIER, typed, place="")
        assert refused.value.reason == reason
    case = await desk.cases.get(REVIEWER, number)
    assert case.state.value == "awaiting_pickup"
