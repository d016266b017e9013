"""Composition of identity: the real-name verifier (demo: a local FaceID), binding."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import datetime

import structlog
from aiohttp import web

from app import keys
from app.realname.demo import demo_verifier
from app.realname.port import IdentityVerifier
from app.realname.tencent import TencentFaceIdVerifier
from app.services.binding import BindingService
from app.settings import Settings

log = structlog.get_logger(__name__)


def identity_ctx(
    settings: Settings, clock: Callable[[], datetime]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context: ``BINDING``; without credentials outside demo mode
    there is no verifier, and every binding is answered "unavailable", never bound."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            verifier: IdentityVerifier | None = None
            if settings.realname_configured:
                assert settings.tencent_secret_id and settings.tencent_secret_key
                verifier = TencentFaceIdVerifier(
                    settings.tencent_secret_id,
                    settings.tencent_secret_key.get_secret_value(),
                    endpoint=settings.faceid_endpoint,
                    region=settings.faceid_region,
                )
                stack.push_async_callback(verifier.close)
            elif settings.demo:
                demo = await stack.enter_async_context(demo_verifier())
                verifier = demo.verifier
                app[keys.FACEID_SIMULATOR] = demo.simulator.simulator
                log.info("faceid_simulator_started", endpoint=demo.simulator.endpoint)
            else:
                log.warning("realname_not_configured", hint="set BUCHUMEN_TENCENT_SECRET_ID/_KEY")
            store = app[keys.DOCUMENTS]
            app[keys.BINDING] = BindingService(store, verifier, clock=clock)
            yield

    return ctx
