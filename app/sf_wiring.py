"""Composition of the SF Express side: the partner's credentials, or in demo a local SF."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

import aiohttp
import structlog
from aiohttp import web

from app import keys
from app.settings import Settings
from logistics.route_push import SfAccount
from logistics.sf import SfCourier

log = structlog.get_logger(__name__)
DEMO_PARTNER_ID = "BUCHUMEN_DEMO"
# Where SF will push routes once the endpoint exists (the simulator pushes only when driven).
ROUTE_PUSH_PATH = "/sf/routes"


def sf_ctx(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context: the courier and the push account (demo: a local SF simulator).

    Without SF settings outside demo mode, pickups and deliveries are simply not offered.
    """

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        runner: web.AppRunner | None = None
        if settings.sf_configured:
            assert settings.sf_partner_id and settings.sf_check_word
            partner_id = settings.sf_partner_id
            check_word = settings.sf_check_word.get_secret_value()
            api_url = settings.sf_api_url
        elif settings.demo:
            from logistics.simulator import create_sf_simulator, start_sf_simulator

            partner_id, check_word = DEMO_PARTNER_ID, secrets.token_urlsafe(24)
            simulator = create_sf_simulator(
                partner_id=partner_id,
                check_word=check_word,
                callback_url=settings.public_base_url + ROUTE_PUSH_PATH,
            )
            runner, api_url = await start_sf_simulator(simulator, port=settings.sf_simulator_port)
            app[keys.SF_SIMULATOR_URL] = api_url
            log.info("sf_simulator_started", service=api_url)
        else:
            yield
            return
        async with aiohttp.ClientSession() as session:
            app[keys.COURIER] = SfCourier(
                session,
                base_url=api_url,
                partner_id=partner_id,
                check_word=check_word,
                monthly_card=settings.sf_monthly_card or "",
            )
            app[keys.SF_ACCOUNT] = SfAccount(partner_id, check_word)
            yield
        if runner is not None:
            await runner.cleanup()

    return ctx
