"""The composition root: the only module that knows every concrete adapter."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp_jinja2
import jinja2
import structlog
from aiohttp import web

from app import keys
from app.alipay_wiring import alipay_ctx
from app.api.handlers import routes as api_routes
from app.api.pages import routes as page_routes
from app.api.sf_push import routes as sf_push_routes
from app.api.tokens import TokenIssuer
from app.domain.actors import Role
from app.edge.errors import error_middleware
from app.realname_wiring import identity_ctx
from app.services import catalog
from app.services.account_service import AccountService
from app.services.accounts import demo_accounts, seed_accounts, seed_demo_enterprise
from app.services.appointments import AppointmentService
from app.services.calendar import CalendarService
from app.services.case_effects import CERTIFICATE_TOPIC, DEPOSIT_TOPIC, PRECHECK_TOPIC
from app.services.cases import CaseService
from app.services.catalog import CatalogService
from app.services.certificates import CertificateService
from app.services.counters import demo_counters, seed_counters
from app.services.follow_ups import FollowUpService
from app.services.mandates import CLAIM_TOPIC, MandateService
from app.services.materials import MaterialService
from app.services.payments import PaymentService
from app.services.prechecks import PrecheckService
from app.services.privacy import PrivacyService
from app.services.proxy_requests import EVIDENCE_TOPIC, ProxyService
from app.services.receipt_service import ReceiptService
from app.services.space import SPACE_CHECK_TOPIC, SpaceService
from app.services.staff import STAFF_ROLES, demo_password_hash
from app.services.supervision import SupervisionService
from app.settings import Settings
from app.sf_wiring import sf_ctx
from app.web.admin import routes as admin_routes
from app.web.authority import routes as authority_routes
from app.web.bookings import routes as booking_routes
from app.web.courier import routes as courier_routes
from app.web.dashboard import routes as dashboard_routes
from app.web.files import file_routes
from app.web.h5 import routes as h5_routes
from app.web.hall_desk import routes as hall_desk_routes
from app.web.handover import routes as handover_routes
from app.web.kiosk import routes as kiosk_routes
from app.web.pay import routes as pay_routes
from app.web.pickup import routes as pickup_routes
from app.web.privacy import routes as privacy_routes
from app.web.proxy_review import routes as proxy_review_routes
from app.web.receipt import routes as receipt_routes
from app.web.review import routes as review_routes
from app.web.session import china_time
from app.web.space import routes as space_routes
from app.web.staff import routes as staff_routes
from app.web.verify import routes as verify_routes
from app.wechat_wiring import wechat_ctx, wechat_route
from bot.inbound import purge_receipts
from ocr.precheck import Prechecker
from storage.documents import DocumentStore
from storage.files import FileObjectStore
from storage.links import LinkSigner
from storage.objects import ObjectStore
from storage.outbox import OUTBOX, SHUTDOWN_GRACE, OutboxDispatcher, purge_done

log = structlog.get_logger(__name__)
OUTBOX_KEEP = timedelta(days=14)  # delivered messages (and their idempotency keys) kept this long
WEB = Path(__file__).parent / "web"
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _document_store(settings: Settings) -> DocumentStore:
    if settings.document_store == "mongodb":
        from storage.mongo import MongoDocumentStore

        assert settings.mongodb_uri is not None  # enforced by Settings validation
        return MongoDocumentStore(
            settings.mongodb_uri.get_secret_value(), settings.mongodb_database
        )
    from storage.sqlite import SqliteDocumentStore

    return SqliteDocumentStore(settings.resolved_sqlite_path)


@contextlib.asynccontextmanager
async def open_documents(settings: Settings) -> AsyncIterator[DocumentStore]:
    """The configured document store, opened (schema migrated) for the duration of the block."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = _document_store(settings)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def _link_secret(settings: Settings) -> bytes:
    """The filesystem store's link key: derived from the JWT secret, never equal to it."""
    return hmac.new(settings.jwt_key.encode(), b"buchumen file links v1", hashlib.sha256).digest()


def _object_store(settings: Settings, clock: Clock) -> ObjectStore:
    if settings.object_store == "minio":
        from storage.minio import MinioObjectStore

        # All three are enforced by Settings validation.
        assert settings.minio_endpoint is not None
        assert settings.minio_access_key is not None and settings.minio_secret_key is not None
        # Its links are signed on real time, not ``clock``: MinIO checks them on its own clock.
        return MinioObjectStore(
            settings.minio_endpoint,
            settings.minio_access_key.get_secret_value(),
            settings.minio_secret_key.get_secret_value(),
            settings.minio_bucket,
            secure=settings.minio_secure,
            region=settings.minio_region,
            public_url=settings.minio_public_url,
        )
    return FileObjectStore(
        settings.resolved_objects_dir,
        url_secret=_link_secret(settings),
        base_url=settings.public_base_url,
        clock=clock,
    )


def create_app(
    settings: Settings, *, clock: Clock = utcnow, warm_ocr: bool = False, demo_parcels: float = 0
) -> web.Application:
    """Build the service from settings; resources open and close with the app's lifecycle.

    ``warm_ocr`` loads the OCR models at start (serving), not at the first photo (tests).
    ``demo_parcels`` lets the demo's local SF move parcels by itself (see ``sf_ctx``).
    """
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware])
    app[keys.SETTINGS] = settings
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(WEB / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        filters={"china_time": china_time},
    )

    async def stores_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_documents(settings) as documents:
            objects = _object_store(settings, clock)
            await objects.open()
            app[keys.DOCUMENTS] = documents
            app[keys.OBJECTS] = objects
            calendars = CalendarService(documents)
            cases = CaseService(documents, calendars, clock=clock)
            prechecker = Prechecker(
                settings.ocr_engine,
                workers=settings.ocr_workers,
                timeout=settings.ocr_timeout_seconds,
            )
            app[keys.CALENDAR] = calendars
            app[keys.CASES] = cases
            # What pages and the API look up, so that they never read the store themselves.
            app[keys.CATALOG] = CatalogService(documents)
            app[keys.ACCOUNTS] = AccountService(documents, clock=clock)
            app[keys.FOLLOW_UPS] = FollowUpService(documents)
            app[keys.SUPERVISION] = SupervisionService(documents, calendars, clock=clock)
            app[keys.PRIVACY] = PrivacyService(documents, objects, clock=clock)
            app[keys.RECEIPTS] = ReceiptService(documents, calendars, clock=clock)
            app[keys.MATERIALS] = MaterialService(objects, cases)
            app[keys.PRECHECKER] = prechecker
            app[keys.SPACE] = SpaceService(documents, objects, cases, clock=clock)
            app[keys.MANDATES] = MandateService(documents, objects, clock=clock)
            app[keys.PROXIES] = ProxyService(documents, objects, prechecker, clock=clock)
            app[keys.PRECHECKS] = PrecheckService(
                cases,
                objects,
                documents,
                prechecker,
                app[keys.SPACE],
                app[keys.MANDATES],
                clock=clock,
            )
            app[keys.APPOINTMENTS] = build_appointments(
                documents,
                settings,
                clock=clock,
                shared=(calendars, cases),
            )
            app[keys.CERTIFICATES] = CertificateService(
                documents,
                objects,
                cases,
                app[keys.SPACE],
                public_base_url=settings.public_base_url,
                secret=hmac.new(settings.jwt_key.encode(), b"certificates", "sha256").hexdigest(),
                clock=clock,
            )
            app[keys.TOKENS] = TokenIssuer(
                settings.jwt_key,
                issuer=settings.jwt_issuer,
                ttl=timedelta(minutes=settings.jwt_ttl_minutes),
            )
            try:
                yield
            finally:
                prechecker.close()
                await objects.close()

    async def demo_ctx(app: web.Application) -> AsyncIterator[None]:
        if settings.demo:
            await load_demo_data(app[keys.DOCUMENTS], settings, clock())
        yield

    async def payments_ctx(app: web.Application) -> AsyncIterator[None]:
        # Without a gateway (no Alipay settings outside demo mode) fees are paid at the hall.
        app[keys.PAYMENT_SERVICE] = PaymentService(
            app[keys.DOCUMENTS],
            app[keys.CASES],
            app.get(keys.PAYMENTS),
            app.get(keys.ALIPAY),
            public_base_url=settings.public_base_url,
            clock=clock,
        )
        yield

    async def background_ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        handlers = app[keys.MESSENGER].handlers() | {
            DEPOSIT_TOPIC: app[keys.SPACE].deposit_from_case,
            CERTIFICATE_TOPIC: app[keys.CERTIFICATES].issue,
        }
        # Chat notices one at a time, in order; OCR jobs on their own, one per worker, so a
        # photo being read never holds up a message.
        chat = OutboxDispatcher(app[keys.DOCUMENTS], handlers, clock=clock, topics=handlers)
        ocr_jobs = {
            PRECHECK_TOPIC: app[keys.PRECHECKS].handle,
            SPACE_CHECK_TOPIC: app[keys.PRECHECKS].check_for_space,
            CLAIM_TOPIC: app[keys.PRECHECKS].check_licence_claim,
            EVIDENCE_TOPIC: app[keys.PROXIES].check_evidence,
        }
        ocr = OutboxDispatcher(
            app[keys.DOCUMENTS],
            ocr_jobs,
            clock=clock,
            topics=ocr_jobs,
            concurrency=settings.ocr_workers,
        )
        # Calls to Alipay on their own too: a slow gateway never holds up a chat notice.
        payment_jobs = app[keys.PAYMENT_SERVICE].handlers()
        pay = OutboxDispatcher(app[keys.DOCUMENTS], payment_jobs, clock=clock, topics=payment_jobs)
        # The real-name register on its own: a slow provider never holds up a chat notice.
        identity_jobs = app[keys.BINDING].handlers()
        identity = OutboxDispatcher(
            app[keys.DOCUMENTS], identity_jobs, clock=clock, topics=identity_jobs
        )
        for dispatcher in (chat, ocr, pay, identity):  # woken by every commit that queues
            app[keys.DOCUMENTS].watch(OUTBOX, dispatcher.wake)
        tasks = [
            asyncio.create_task(chat.run(stop), name="outbox"),
            asyncio.create_task(ocr.run(stop), name="outbox-ocr"),
            asyncio.create_task(pay.run(stop), name="outbox-payments"),
            asyncio.create_task(identity.run(stop), name="outbox-identity"),
            asyncio.create_task(_every(300, app[keys.PAYMENT_SERVICE].reconcile, stop)),
            asyncio.create_task(_every(300, app[keys.CASES].deem_overdue_accepted, stop)),
            asyncio.create_task(
                _every(3600, lambda: purge_receipts(app[keys.DOCUMENTS], clock()), stop)
            ),
            asyncio.create_task(_every(6 * 3600, app[keys.SPACE].purge, stop)),
            asyncio.create_task(
                _every(
                    6 * 3600,
                    lambda: purge_done(app[keys.DOCUMENTS], clock(), keep=OUTBOX_KEEP),
                    stop,
                )
            ),
            asyncio.create_task(_every(3600, app[keys.SPACE].remind_expiring, stop)),
            asyncio.create_task(_every(3600, app[keys.APPOINTMENTS].remind_tomorrow, stop)),
            asyncio.create_task(_every(900, app[keys.APPOINTMENTS].mark_no_shows, stop)),
            asyncio.create_task(_every(6 * 3600, app[keys.CUSTODY].purge_codes, stop)),
        ]
        # Courier calls on their own too: a slow courier never holds up a chat notice.
        if courier_jobs := app[keys.SHIPMENTS].handlers():
            courier = OutboxDispatcher(
                app[keys.DOCUMENTS], courier_jobs, clock=clock, topics=courier_jobs
            )
            app[keys.DOCUMENTS].watch(OUTBOX, courier.wake)
            tasks.append(asyncio.create_task(courier.run(stop), name="outbox-courier"))
        if warm_ocr:
            tasks.append(asyncio.create_task(_warm_up(app[keys.PRECHECKER]), name="ocr-warm-up"))
        yield
        stop.set()
        # The dispatchers finish what they are running (briefly); whatever is left is cut.
        await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE + 1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    app.cleanup_ctx.extend(
        [
            stores_ctx,
            demo_ctx,
            identity_ctx(settings, clock),
            wechat_ctx(settings, clock),
            alipay_ctx(settings, clock),
            payments_ctx,
            sf_ctx(settings, clock, demo_parcels=demo_parcels),
            background_ctx,
        ]
    )

    api = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware])
    api.add_routes(api_routes)
    api.add_routes(page_routes)
    app.add_subapp("/api/v1", api)
    app.router.add_route("*", "/wechat", wechat_route)
    app.add_routes(h5_routes)
    app.add_routes(space_routes)
    app.add_routes(privacy_routes)
    app.add_routes(authority_routes)
    app.add_routes(proxy_review_routes)
    app.add_routes(verify_routes)
    app.add_routes(receipt_routes)
    app.add_routes(staff_routes)
    app.add_routes(review_routes)
    app.add_routes(booking_routes)
    app.add_routes(pay_routes)
    app.add_routes(hall_desk_routes)
    app.add_routes(kiosk_routes)
    app.add_routes(admin_routes)
    app.add_routes(dashboard_routes)
    for courier_side in (pickup_routes, courier_routes, handover_routes, sf_push_routes):
        app.add_routes(courier_side)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_static("/static", WEB / "static")
    if settings.object_store == "filesystem":  # MinIO serves its own presigned links
        app.add_routes(file_routes(LinkSigner(_link_secret(settings), clock=clock)))
    return app


def build_appointments(
    store: DocumentStore,
    settings: Settings,
    *,
    clock: Clock = utcnow,
    shared: tuple[CalendarService, CaseService] | None = None,
) -> AppointmentService:
    """The hall appointments: in the app sharing its calendar cache and case service
    (``shared``), on the administrators' command line with their own."""
    if shared is None:
        calendars = CalendarService(store)
        shared = (calendars, CaseService(store, calendars, clock=clock))
    return AppointmentService(
        store,
        *shared,
        secret=hmac.new(settings.jwt_key.encode(), b"check-in", "sha256").hexdigest(),
        clock=clock,
    )


async def _warm_up(prechecker: Prechecker) -> None:
    try:
        await prechecker.warm_up()
        log.info("ocr_ready", engine=prechecker.engine)
    except Exception:  # the first photo will try again; serving must not stop for this
        log.exception("ocr_warm_up_failed", engine=prechecker.engine)


async def _every(seconds: float, job: Callable[[], object], stop: asyncio.Event) -> None:
    """Run ``job`` now and then every ``seconds`` until ``stop``; a failure is logged, not fatal."""
    while not stop.is_set():
        try:
            result = job()
            if asyncio.iscoroutine(result):
                await result
        except Exception:
            log.exception("periodic_job_failed", job=getattr(job, "__name__", str(job)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)


async def load_demo_data(store: DocumentStore, settings: Settings, now: datetime) -> None:
    matters = catalog.load_catalog([settings.catalog_dir])
    await catalog.import_catalog(store, matters, actor="demo", now=now)
    departments = sorted({m.department for m in matters})
    accounts = demo_accounts(departments)
    for account in accounts:  # staff sign in on /staff with the documented demo password
        if Role(account["role"]) in STAFF_ROLES:
            account["password_hash"] = demo_password_hash()
    await seed_accounts(store, accounts, now)
    await seed_demo_enterprise(store, now)
    await seed_counters(store, demo_counters(departments))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks: dict[str, str] = {}
    for name, key in (("documents", keys.DOCUMENTS), ("objects", keys.OBJECTS)):
        try:
            await asyncio.wait_for(request.app[key].ping(), timeout=2)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status=200 if ready else 503,
    )
