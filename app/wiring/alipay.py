"""Composition of the Alipay side: keys from files, or in demo a local Alipay with its own keys;
the payment use cases (``PAYMENT_SERVICE``) on top of whichever there is."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import aiohttp
import structlog
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from app import keys
from app.services.payments import PaymentService
from app.settings import Settings, SettingsError
from payments.alipay import AlipayGateway
from payments.notifications import AlipayAccount
from payments.signing import new_key_pair, read_private_key, read_public_key

log = structlog.get_logger(__name__)
DEMO_APP_ID = "2021000000000000"


@functools.cache
def demo_key_pairs() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    """The demo app's and the demo Alipay's key pairs, made once per process (never stored)."""
    return new_key_pair(), new_key_pair()


def configured_keys(settings: Settings) -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    # Settings validation guarantees both files exist once one Alipay setting is given.
    assert settings.alipay_private_key_file and settings.alipay_public_key_file
    problems = []
    try:
        private = read_private_key(settings.alipay_private_key_file)
    except (OSError, ValueError) as e:
        problems.append(f"BUCHUMEN_ALIPAY_PRIVATE_KEY_FILE: not an RSA private key ({e})")
    try:
        public = read_public_key(settings.alipay_public_key_file)
    except (OSError, ValueError) as e:
        problems.append(f"BUCHUMEN_ALIPAY_PUBLIC_KEY_FILE: not an RSA public key ({e})")
    if problems:
        raise SettingsError(problems)
    return private, public


def alipay_ctx(
    settings: Settings, clock: Callable[[], datetime]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context: the payment gateway and the notification account (demo: a simulator).

    Without Alipay settings outside demo mode, payments are simply not offered.
    """

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        runner: web.AppRunner | None = None
        if settings.alipay_configured:
            assert settings.alipay_app_id and settings.alipay_seller_id
            app_id, seller_id = settings.alipay_app_id, settings.alipay_seller_id
            app_key, alipay_public_key = configured_keys(settings)
            gateway_url = settings.alipay_gateway_url
        elif settings.demo:
            from payments.simulator import SIMULATOR, create_alipay_simulator
            from payments.simulator import start_alipay_simulator as start

            app_key, alipay_key = demo_key_pairs()
            simulator = create_alipay_simulator(
                app_id=DEMO_APP_ID,
                app_public_key=app_key.public_key(),
                alipay_private_key=alipay_key,
                clock=clock,  # the demo's Alipay lives on the app's clock (tests move it)
            )
            runner, gateway_url = await start(simulator, port=settings.alipay_simulator_port)
            app_id, seller_id = DEMO_APP_ID, simulator[SIMULATOR].seller_id
            alipay_public_key = alipay_key.public_key()
            app[keys.ALIPAY_SIMULATOR_URL] = gateway_url
            log.info("alipay_simulator_started", gateway=gateway_url)
        else:
            _payment_service(app, settings, clock)  # fees are then paid at the hall
            yield
            return
        async with aiohttp.ClientSession() as session:
            app[keys.PAYMENTS] = AlipayGateway(
                session,
                gateway_url=gateway_url,
                app_id=app_id,
                app_private_key=app_key,
                alipay_public_key=alipay_public_key,
            )
            app[keys.ALIPAY] = AlipayAccount(app_id, seller_id, alipay_public_key)
            _payment_service(app, settings, clock)
            yield
        if runner is not None:
            await runner.cleanup()

    return ctx


def _payment_service(
    app: web.Application, settings: Settings, clock: Callable[[], datetime]
) -> None:
    app[keys.PAYMENT_SERVICE] = PaymentService(
        app[keys.DOCUMENTS],
        app[keys.CASES],
        app.get(keys.PAYMENTS),
        app.get(keys.ALIPAY),
        public_base_url=settings.public_base_url,
        clock=clock,
    )
