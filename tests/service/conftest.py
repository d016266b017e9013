"""Service tests run on the real embedded store, demo catalog and accounts loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.services.appointments import AppointmentService
from app.services.calendar import CalendarService
from app.services.case_effects import PRECHECK_TOPIC
from app.services.cases import CaseService
from app.services.space import SPACE_CHECK_TOPIC
from app.settings import Settings
from app.wiring.demo import load_demo_data
from app.wiring.services import Services, build_services
from ocr.corpus import generate
from ocr.precheck import DEFAULT_ENGINE, Prechecker
from storage.files import FileObjectStore
from storage.outbox import OutboxDispatcher
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.photos import ME, STRANGER, World


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "s.sqlite3")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def hall(store: SqliteDocumentStore, settings: Settings, clock: Clock) -> AppointmentService:
    """Hall appointments over the demo catalog; Monday to Friday are working days."""
    await load_demo_data(store, settings, clock())
    calendars = CalendarService(store, statutory=lambda d: d.weekday() < 5)
    cases = CaseService(store, calendars, clock=clock)
    return AppointmentService(store, calendars, cases, secret="s" * 32, clock=clock)


@pytest.fixture(scope="session")
def cards() -> dict[str, Any]:
    """Two citizens' ID cards, portrait side: the applicant's and a stranger's."""
    # Both born before 1966: the 老年人优待证 checks 年满六十周岁 before a case opens.
    mine, stranger = generate(420, 2, kinds=("id_card_front",))
    return {"mine": mine, "stranger": stranger}


@pytest.fixture(scope="session")
def prechecker() -> Iterator[Prechecker]:
    """The default engine in a real one-worker pool, started once per test process."""
    checker = Prechecker(DEFAULT_ENGINE, workers=1, timeout=120)
    yield checker
    checker.close()


@pytest.fixture
async def services(
    store: SqliteDocumentStore,
    settings: Settings,
    clock: Clock,
    tmp_path: Path,
    prechecker: Prechecker,
) -> Services:
    """The shared services as the app builds them, over the test's store, a scratch object
    directory and the real OCR pool; the demo catalog and accounts loaded."""
    await load_demo_data(store, settings, clock())
    objects = FileObjectStore(tmp_path / "objects")
    return build_services(settings, clock, store, objects, prechecker)


@pytest.fixture
async def world(services: Services, store: SqliteDocumentStore, cards: dict[str, Any]) -> World:
    """Real services around the store; ME and STRANGER are bound to the two cards and have
    said yes to keeping copies in their personal space."""
    async with store.transaction() as tx:
        for actor, card in ((ME, cards["mine"]), (STRANGER, cards["stranger"])):
            person = {"name": card.truth["name"], "id_number": card.truth["id_number"]}
            person["space_opt_in"] = True
            await tx.insert("users", {"_id": actor.id, "role": "applicant"} | person)
    prechecks = services.prechecks
    jobs = {PRECHECK_TOPIC: prechecks.handle, SPACE_CHECK_TOPIC: prechecks.check_for_space}
    dispatcher = OutboxDispatcher(store, jobs, topics=jobs)
    return World(store, services.cases, services.materials, services.space, dispatcher)
