"""An applicant's own case list: pages newest first, and a total that counts every case."""

from __future__ import annotations

import pytest

from app.domain.actors import Actor, Role
from app.domain.cases import MaterialRef
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.settings import Settings
from app.wiring.demo import load_demo_data
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

CITIZEN = Actor("demo-citizen", Role.APPLICANT)


@pytest.fixture
async def service(store: SqliteDocumentStore, settings: Settings, clock: Clock) -> CaseService:
    await load_demo_data(store, settings, clock())
    return CaseService(store, CalendarService(store), clock=clock)


async def open_cases(service: CaseService, store: SqliteDocumentStore, n: int) -> list[str]:
    """``n`` drafts of a matter without conditions; every third one submitted."""
    matter = next(
        m for m in await list_matters(store) if "citizen" in m.targets and not m.pay_before_review
    )
    numbers = []
    for i in range(n):
        case = await service.open(CITIZEN, matter.code)
        if i % 3 == 0:
            for slot in case.missing_materials():
                ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
                case = await service.attach(CITIZEN, case.number, slot.id, ref, version=None)
            case = await service.submit(CITIZEN, case.number, version=None)
        numbers.append(case.number)
    return numbers


async def test_every_page_reports_the_whole_total_full_pages_or_not(
    service: CaseService, store: SqliteDocumentStore, clock: Clock
) -> None:
    numbers = []
    for _ in range(12):
        numbers += await open_cases(service, store, 1)
        clock.advance(minutes=1)  # distinct creation times: newest first is well defined
    pages = [await service.list_for(CITIZEN, page=p, size=5) for p in (1, 2, 3)]
    assert [p.total for p in pages] == [12, 12, 12]
    assert [len(p.items) for p in pages] == [5, 5, 2]
    listed = [c.number for p in pages for c in p.items]
    assert listed == list(reversed(numbers))


async def test_a_state_filter_counts_only_the_cases_in_that_state(
    service: CaseService, store: SqliteDocumentStore
) -> None:
    await open_cases(service, store, 7)  # 3 submitted, 4 drafts
    assert (await service.list_for(CITIZEN, state="submitted", size=2)).total == 3
    assert (await service.list_for(CITIZEN, state="submitted", size=10)).total == 3
    assert (await service.list_for(CITIZEN, state="draft", size=10)).total == 4
    assert (await service.list_for(CITIZEN, state="approved", size=10)).total == 0
