"""Composition of the SF Express side: the partner's credentials, or in demo a local SF.

Also builds the courier use cases on top: bookings (``SHIPMENTS``) and the chain of custody
(``CUSTODY``). Without a courier they still keep addresses and custody; nothing is booked.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import aiohttp
import structlog
from aiohttp import web

from app import keys
from app.domain.custody import Step
from app.services.custody import CustodyService, ParcelHook
from app.services.shipments import ShipmentService
from app.settings import Settings
from logistics.pickup_codes import PickupCodes, derive_key
from logistics.port import Courier
from logistics.route_push import SfAccount
from logistics.sf import SfCourier

log = structlog.get_logger(__name__)
DEMO_PARTNER_ID = "BUCHUMEN_DEMO"
ROUTE_PUSH_PATH = "/sf/routes"  # where SF pushes route events (set it in SF's console)


def sf_ctx(
    settings: Settings,
    clock: Callable[[], datetime],
    *,
    demo_parcels: float = 0,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context: the courier, the push account (demo: a local SF simulator), and the
    courier use cases.

    ``demo_parcels``: seconds between the local SF's scans of a parcel a courier took, so a
    demo parcel travels by itself; 0 leaves the simulator to be driven by hand (tests).
    """

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        runner: web.AppRunner | None = None
        if settings.sf_configured:
            assert settings.sf_partner_id and settings.sf_check_word
            partner_id = settings.sf_partner_id
            check_word = settings.sf_check_word.get_secret_value()
            api_url = settings.sf_api_url
        elif settings.demo:
            from logistics.simulator import SF_SIMULATOR, create_sf_simulator, start_sf_simulator

            partner_id, check_word = DEMO_PARTNER_ID, secrets.token_urlsafe(24)
            simulator = create_sf_simulator(
                partner_id=partner_id,
                check_word=check_word,
                callback_url=settings.public_base_url + ROUTE_PUSH_PATH,
            )
            runner, api_url = await start_sf_simulator(simulator, port=settings.sf_simulator_port)
            app[keys.SF_SIMULATOR_URL] = api_url
            app[keys.SF_SIMULATOR] = simulator[SF_SIMULATOR]
            log.info("sf_simulator_started", service=api_url)
        else:
            _courier_services(app, settings, clock, None)
            yield
            return
        async with aiohttp.ClientSession() as session:
            courier = SfCourier(
                session,
                base_url=api_url,
                partner_id=partner_id,
                check_word=check_word,
                monthly_card=settings.sf_monthly_card or "",
            )
            app[keys.COURIER] = courier
            app[keys.SF_ACCOUNT] = SfAccount(partner_id, check_word)
            hook = _demo_hook(app, demo_parcels) if runner is not None else None
            _courier_services(app, settings, clock, courier, hook)
            yield
        if runner is not None:
            await runner.cleanup()

    return ctx


def _courier_services(
    app: web.Application,
    settings: Settings,
    clock: Callable[[], datetime],
    courier: Courier | None,
    on_parcel: ParcelHook | None = None,
) -> None:
    shipments = ShipmentService(app[keys.DOCUMENTS], app[keys.CASES], courier, clock=clock)
    app[keys.SHIPMENTS] = shipments
    app[keys.CUSTODY] = CustodyService(
        app[keys.DOCUMENTS],
        app[keys.CASES],
        shipments,
        PickupCodes(derive_key(settings.jwt_key), clock=clock),
        clock=clock,
        **({"on_parcel": on_parcel} if on_parcel else {}),
    )


def _demo_hook(app: web.Application, seconds: float) -> ParcelHook | None:
    """Demo: the local SF scans a parcel a courier took, one step every ``seconds``."""
    if seconds <= 0:
        return None
    simulator = app[keys.SF_SIMULATOR]

    def travel(step: Step, waybill: str) -> None:
        log.info("sf_simulator_parcel_travels", step=step.value, waybill=waybill)
        simulator.play_later(waybill, interval=seconds)

    return travel
