"""Typed application keys, one per port and service, so handlers never use string keys."""

from __future__ import annotations

import asyncio

from aiohttp import web

from app.api.tokens import TokenIssuer
from app.edge.inflight import InFlight
from app.realname.simulator import FaceIdSimulator
from app.services.account_service import AccountService
from app.services.appointments import AppointmentService
from app.services.binding import BindingService
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.catalog import CatalogService
from app.services.certificates import CertificateService
from app.services.custody import CustodyService
from app.services.dead_letters import DeadLetters
from app.services.follow_ups import FollowUpService
from app.services.idempotency import IdempotentCases
from app.services.mandates import MandateService
from app.services.materials import MaterialService
from app.services.payments import PaymentService
from app.services.prechecks import PrecheckService
from app.services.privacy import PrivacyService
from app.services.proxy_requests import ProxyService
from app.services.receipt_service import ReceiptService
from app.services.shipments import ShipmentService
from app.services.sign_in import PhoneSignIn
from app.services.space import SpaceService
from app.services.supervision import SupervisionService
from app.services.urging import UrgingService
from app.settings import Settings
from bot.callback import WeChatEndpoint
from bot.client import WeChatClient
from bot.messenger import Messenger
from logistics.port import Courier
from logistics.route_push import SfAccount
from logistics.simulator.simulator import SfSimulator
from ocr.precheck import Prechecker
from payments.notifications import AlipayAccount
from payments.port import PaymentGateway
from storage.documents import DocumentStore
from storage.objects import ObjectStore

SETTINGS = web.AppKey("settings", Settings)
INFLIGHT = web.AppKey("inflight", InFlight)  # requests being answered, for a graceful stop
DOCUMENTS = web.AppKey("documents", DocumentStore)
OBJECTS = web.AppKey("objects", ObjectStore)
TOKENS = web.AppKey("tokens", TokenIssuer)
CALENDAR = web.AppKey("calendar", CalendarService)
CASES = web.AppKey("cases", CaseService)
OPENINGS = web.AppKey("openings", IdempotentCases)  # POST /cases once per Idempotency-Key
CATALOG = web.AppKey("catalog", CatalogService)
ACCOUNTS = web.AppKey("accounts", AccountService)
FOLLOW_UPS = web.AppKey("follow_ups", FollowUpService)
SUPERVISION = web.AppKey("supervision", SupervisionService)
URGING = web.AppKey("urging", UrgingService)
DEAD_LETTERS = web.AppKey("dead_letters", DeadLetters)  # the outbox's given-up work
PRIVACY = web.AppKey("privacy", PrivacyService)
RECEIPTS = web.AppKey("receipts", ReceiptService)
MATERIALS = web.AppKey("materials", MaterialService)
PRECHECKS = web.AppKey("prechecks", PrecheckService)
PRECHECKER = web.AppKey("prechecker", Prechecker)
# Set once the OCR models are loaded (or failed to: the first photo tries again). Only
# ``buchumen worker`` has it: its /readyz waits for it, so a new worker takes traffic warm.
OCR_WARM = web.AppKey("ocr_warm", asyncio.Event)
SPACE = web.AppKey("space", SpaceService)
APPOINTMENTS = web.AppKey("appointments", AppointmentService)
CERTIFICATES = web.AppKey("certificates", CertificateService)
WECHAT = web.AppKey("wechat", WeChatEndpoint)
WECHAT_CLIENT = web.AppKey("wechat_client", WeChatClient)
SIGN_IN = web.AppKey("sign_in", PhoneSignIn)  # the phone pages' WeChat sign-in
WECHAT_SIMULATOR_URL = web.AppKey("wechat_simulator_url", str)
MESSENGER = web.AppKey("messenger", Messenger)
PAYMENTS = web.AppKey("payments", PaymentGateway)
ALIPAY = web.AppKey("alipay", AlipayAccount)
ALIPAY_SIMULATOR_URL = web.AppKey("alipay_simulator_url", str)
PAYMENT_SERVICE = web.AppKey("payment_service", PaymentService)
COURIER = web.AppKey("courier", Courier)
SF_ACCOUNT = web.AppKey("sf_account", SfAccount)
SF_SIMULATOR_URL = web.AppKey("sf_simulator_url", str)
SF_SIMULATOR = web.AppKey("sf_simulator", SfSimulator)  # demo mode only
SHIPMENTS = web.AppKey("shipments", ShipmentService)
CUSTODY = web.AppKey("custody", CustodyService)
BINDING = web.AppKey("binding", BindingService)
MANDATES = web.AppKey("mandates", MandateService)
PROXIES = web.AppKey("proxies", ProxyService)
FACEID_SIMULATOR = web.AppKey("faceid_simulator", FaceIdSimulator)  # demo mode only
