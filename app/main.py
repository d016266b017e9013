"""The composition root: the web application, its resources in the order they open, its routes;
and the OCR worker's, a few of the same resources and no public route.

Each resource opens in a cleanup context of its own and closes in reverse order: the stores,
the OCR pool, the shared services, then each third party (real-name register, WeChat, Alipay,
SF Express, or their local simulators in demo mode), and last the background work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from app import keys
from app.api.handlers import routes as api_routes
from app.api.pages import routes as api_page_routes
from app.api.sf_push import routes as sf_push_routes
from app.edge.bodies import malformed_bodies
from app.edge.compression import compression
from app.edge.errors import error_middleware
from app.edge.headers import security_headers
from app.edge.inflight import InFlight
from app.settings import Settings
from app.web import (
    acceptance,
    admin,
    authority,
    bookings,
    certificate,
    courier,
    dashboard,
    follow_up,
    guides,
    h5,
    hall_desk,
    handover,
    health,
    kiosk,
    pay,
    pickup,
    privacy,
    proxy_review,
    receipt,
    review,
    space,
    staff,
    verify,
    wechat_callback,
)
from app.web.doors import doors
from app.web.files import file_routes
from app.web.session import china_time, session_middleware
from app.wiring.alipay import alipay_ctx
from app.wiring.background import background_ctx
from app.wiring.courier import sf_ctx
from app.wiring.demo import load_demo_data
from app.wiring.realname import identity_ctx
from app.wiring.services import build_services, prechecker
from app.wiring.stores import link_secret, open_documents, open_objects
from app.wiring.wechat import wechat_ctx
from storage.links import LinkSigner
from storage.pairing import check_pairing

WEB = Path(__file__).parent / "web"
PAGES = (h5, guides, space, privacy, authority, proxy_review, verify, receipt, staff, review,
         bookings, pay, hall_desk, kiosk, admin, dashboard, pickup, courier, handover, health,
         wechat_callback, certificate, follow_up, acceptance)  # fmt: skip
Clock = Callable[[], datetime]
Context = Callable[[web.Application], AsyncIterator[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings, *, clock: Clock = utcnow, warm_ocr: bool = False, demo_parcels: float = 0
) -> web.Application:
    """Build the service from settings; resources open and close with the app's lifecycle.

    ``warm_ocr`` loads the OCR models at start (serving), not at the first photo (tests).
    ``demo_parcels`` lets the demo's local SF move parcels by itself (see ``sf_ctx``).
    """
    # The error middleware renders malformed bodies' 400; a page's session is read once, before
    # the doors check its role.
    middlewares = [error_middleware, malformed_bodies, session_middleware, doors]
    inflight = InFlight()  # outermost, on the root only: each request counted once, to its end
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[inflight.middleware, compression, *middlewares],
    )
    app.on_response_prepare.append(security_headers(settings))  # the /api/v1 sub-app's too
    stopping = _stops(app, settings, inflight)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(WEB / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        filters={"china_time": china_time},
    )
    app.cleanup_ctx.extend(
        [
            _stores_ctx(settings, clock),
            _services_ctx(settings, clock),
            identity_ctx(settings, clock),
            wechat_ctx(settings, clock),
            alipay_ctx(settings, clock),
            sf_ctx(settings, clock, demo_parcels=demo_parcels),
            background_ctx(
                settings, clock, warm_ocr=warm_ocr, stopping=stopping, ocr_work=settings.ocr_in_web
            ),
        ]
    )
    api = web.Application(client_max_size=settings.max_body_bytes, middlewares=middlewares)
    api.add_routes(api_routes)
    api.add_routes(api_page_routes)
    app.add_subapp("/api/v1", api)
    for page in PAGES:
        app.add_routes(page.routes)
    app.add_routes(sf_push_routes)
    app.router.add_static("/static", WEB / "static")
    if settings.object_store == "filesystem":  # MinIO serves its own presigned links
        app.add_routes(file_routes(LinkSigner(link_secret(settings), clock=clock)))
    return app


def create_worker_app(
    settings: Settings, *, clock: Clock = utcnow, warm_ocr: bool = True
) -> web.Application:
    """``buchumen worker``: the OCR pre-check work over the service's stores, and on HTTP only
    ``/healthz`` and ``/readyz`` for the orchestrator; the web instances do everything else."""
    inflight = InFlight()
    app = web.Application(middlewares=[inflight.middleware])
    stopping = _stops(app, settings, inflight)
    app[keys.OCR_WARM] = asyncio.Event()  # /readyz once the models are loaded
    app.cleanup_ctx.extend(
        [
            _stores_ctx(settings, clock, demo_data=False),  # ``serve --demo`` loads it
            _services_ctx(settings, clock),
            background_ctx(settings, clock, warm_ocr=warm_ocr, stopping=stopping, web_work=False),
        ]
    )
    app.add_routes(health.routes)
    return app


def _stops(app: web.Application, settings: Settings, inflight: InFlight) -> asyncio.Event:
    """The event set when ``app`` begins to stop, with what a graceful stop reads."""
    app[keys.SETTINGS], app[keys.INFLIGHT] = settings, inflight
    # A stop begins with on_shutdown (app/cli/running.py sends it at SIGTERM): background work
    # winds down while the requests in flight are answered, not after them.
    stopping = asyncio.Event()
    app.on_shutdown.append(_set_when_called(stopping))
    return stopping


def _set_when_called(event: asyncio.Event) -> Callable[[web.Application], Awaitable[None]]:
    async def set_event(_: web.Application) -> None:
        event.set()

    return set_event


def _stores_ctx(settings: Settings, clock: Clock, *, demo_data: bool = True) -> Context:
    """The document store (migrated; demo data loaded in demo mode) and the object store."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_documents(settings) as documents, open_objects(settings, clock) as objects:
            await check_pairing(documents, objects)  # every instance sees the same objects
            app[keys.DOCUMENTS], app[keys.OBJECTS] = documents, objects
            if settings.demo and demo_data:
                await load_demo_data(documents, settings, clock())
            yield

    return ctx


def _services_ctx(settings: Settings, clock: Clock) -> Context:
    """The OCR pool and the shared services over the stores, each under its key."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        checker = prechecker(settings)
        s = build_services(settings, clock, app[keys.DOCUMENTS], app[keys.OBJECTS], checker)
        app[keys.PRECHECKER] = checker
        app[keys.CALENDAR], app[keys.CASES], app[keys.CATALOG] = s.calendars, s.cases, s.catalog
        app[keys.OPENINGS] = s.openings
        app[keys.ACCOUNTS], app[keys.FOLLOW_UPS] = s.accounts, s.follow_ups
        app[keys.SUPERVISION], app[keys.PRIVACY] = s.supervision, s.privacy
        app[keys.URGING], app[keys.DEAD_LETTERS] = s.urging, s.dead_letters
        app[keys.RECEIPTS], app[keys.MATERIALS], app[keys.SPACE] = s.receipts, s.materials, s.space
        app[keys.MANDATES], app[keys.PROXIES] = s.mandates, s.proxies
        app[keys.PRECHECKS], app[keys.APPOINTMENTS] = s.prechecks, s.appointments
        app[keys.CERTIFICATES], app[keys.TOKENS] = s.certificates, s.tokens
        try:
            yield
        finally:
            checker.close()

    return ctx
