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
from app.services.mandates import MandateService
from app.services.materials import MaterialService
from app.services.prechecks import PrecheckService
from app.services.space import SPACE_CHECK_TOPIC, SpaceService
from app.settings import Settings
from app.wiring.demo import load_demo_data
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
async def world(
    store: SqliteDocumentStore,
    settings: Settings,
    clock: Clock,
    tmp_path: Path,
    cards: dict[str, Any],
    prechecker: Prechecker,
) -> World:
    """Real services around the store; ME and STRANGER are bound to the two cards and have
    said yes to keeping copies in their personal space."""
    await load_demo_data(store, settings, clock())
    async with store.transaction() as tx:
        for actor, card in ((ME, cards["mine"]), (STRANGER, cards["stranger"])):
            person = {"name": card.truth["name"], "id_number": card.truth["id_number"]}
            person["space_opt_in"] = True
            await tx.insert("users", {"_id": actor.id, "role": "applicant"} | person)
    cases = CaseService(store, CalendarService(store), clock=clock)
    objects = FileObjectStore(tmp_path / "objects")
    space = SpaceService(store, objects, cases, clock=clock)
    mandates = MandateService(store, objects, clock=clock)
    prechecks = PrecheckService(cases, objects, store, prechecker, space, mandates, clock=clock)
    jobs = {PRECHECK_TOPIC: prechecks.handle, SPACE_CHECK_TOPIC: prechecks.check_for_space}
    dispatcher = OutboxDispatcher(store, jobs, topics=jobs)
    return World(store, cases, MaterialService(objects, cases), space, dispatcher)
