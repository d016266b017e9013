"""The services every entry point shares, built once from the stores, the OCR checker and the
settings: the web app, the CLI, the benchmarks and the tests all get them from here.

Services that need a third party (payments, the courier, real-name checks, the chat) are built
by their own wiring modules on top of these, because each brings a provider or its simulator.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.api.tokens import TokenIssuer
from app.services.account_service import AccountService
from app.services.appointments import AppointmentService
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.catalog import CatalogService
from app.services.certificates import CertificateService
from app.services.dead_letters import DeadLetters
from app.services.follow_ups import FollowUpService
from app.services.idempotency import IdempotentCases
from app.services.mandates import MandateService
from app.services.materials import MaterialService
from app.services.prechecks import Checker, PrecheckService
from app.services.privacy import PrivacyService
from app.services.proxy_requests import ProxyService
from app.services.receipt_service import ReceiptService
from app.services.space import SpaceService
from app.services.supervision import SupervisionService
from app.services.urging import UrgingService
from app.settings import Settings
from app.wiring.stores import open_documents, open_objects
from ocr.precheck import Prechecker
from storage.documents import DocumentStore
from storage.objects import ObjectStore

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Services:
    documents: DocumentStore
    objects: ObjectStore
    checker: Checker
    calendars: CalendarService
    cases: CaseService
    openings: IdempotentCases  # POST /cases once per Idempotency-Key
    catalog: CatalogService
    accounts: AccountService
    follow_ups: FollowUpService
    supervision: SupervisionService
    urging: UrgingService
    dead_letters: DeadLetters
    privacy: PrivacyService
    receipts: ReceiptService
    materials: MaterialService
    space: SpaceService
    mandates: MandateService
    proxies: ProxyService
    prechecks: PrecheckService
    appointments: AppointmentService
    certificates: CertificateService
    tokens: TokenIssuer


def build_services(
    settings: Settings,
    clock: Clock,
    documents: DocumentStore,
    objects: ObjectStore,
    checker: Checker,
    *,
    calendars: CalendarService | None = None,
) -> Services:
    """Every shared service over these stores; nothing is opened or started here.

    ``calendars``: a calendar of the caller's (tests give one whose statutory days they pick).
    """
    calendars = calendars or CalendarService(documents)
    cases = CaseService(documents, calendars, clock=clock)
    space = SpaceService(documents, objects, cases, clock=clock)
    mandates = MandateService(documents, objects, clock=clock)
    return Services(
        documents=documents,
        objects=objects,
        checker=checker,
        calendars=calendars,
        cases=cases,
        openings=IdempotentCases(documents, cases, clock=clock),
        catalog=CatalogService(documents),
        accounts=AccountService(documents, clock=clock),
        follow_ups=FollowUpService(documents, calendars),
        supervision=SupervisionService(documents, calendars, clock=clock),
        urging=UrgingService(documents, calendars, clock),
        dead_letters=DeadLetters(documents, clock=clock),
        privacy=PrivacyService(documents, objects, clock=clock),
        receipts=ReceiptService(documents, calendars, clock=clock),
        materials=MaterialService(objects, cases),
        space=space,
        mandates=mandates,
        proxies=ProxyService(documents, objects, checker, clock=clock),
        prechecks=PrecheckService(cases, objects, documents, checker, space, mandates, clock=clock),
        appointments=AppointmentService(
            documents,
            calendars,
            cases,
            secret=_derived(settings, b"check-in"),
            clock=clock,
        ),
        certificates=CertificateService(
            documents,
            objects,
            cases,
            space,
            public_base_url=settings.public_base_url,
            secret=_derived(settings, b"certificates"),
            clock=clock,
        ),
        tokens=TokenIssuer(
            settings.jwt_key,
            issuer=settings.jwt_issuer,
            ttl=timedelta(minutes=settings.jwt_ttl_minutes),
        ),
    )


def prechecker(settings: Settings) -> Prechecker:
    """The OCR pre-check pool the settings ask for (its workers start on first use)."""
    return Prechecker(
        settings.ocr_engine, workers=settings.ocr_workers, timeout=settings.ocr_timeout_seconds
    )


@contextlib.asynccontextmanager
async def open_services(settings: Settings, clock: Clock) -> AsyncIterator[Services]:
    """The configured stores and OCR pool, opened, with the services over them; closed after.

    For the command line and the benchmarks; the web app opens each resource in a cleanup
    context of its own (app/main.py).
    """
    checker = prechecker(settings)
    try:
        async with open_documents(settings) as documents, open_objects(settings, clock) as objects:
            yield build_services(settings, clock, documents, objects, checker)
    finally:
        checker.close()


def _derived(settings: Settings, purpose: bytes) -> str:
    """A secret for one purpose, derived from the JWT key so that one leak is not all."""
    return hmac.new(settings.jwt_key.encode(), purpose, "sha256").hexdigest()
