"""The public view behind a receipt's QR code: progress and working days left, nothing personal."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from app.domain.actors import Actor, Role
from app.domain.cases import MaterialRef, china_date
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.receipts import public_status
from app.settings import Settings
from app.wiring.demo import load_demo_data
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

CITIZEN = Actor("demo-citizen", Role.APPLICANT)


async def test_the_public_view_counts_working_days_left_and_names_no_one(
    store: SqliteDocumentStore, settings: Settings, clock: Clock
) -> None:
    await load_demo_data(store, settings, clock())
    calendars = CalendarService(store, statutory=lambda d: d.weekday() < 5)
    cases = CaseService(store, calendars, clock=clock)
    case = await cases.open(CITIZEN, "11350100MB0315387H-QR-00101")  # 居住证, 7 working days
    draft = await public_status(store, calendars, case.number, china_date(clock()))
    assert draft is not None and (draft.submitted_on, draft.days_left) == (None, None)
    for slot in case.missing_materials():
        ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
        await cases.attach(CITIZEN, case.number, slot.id, ref, version=None)
    await cases.submit(CITIZEN, case.number, version=None)  # Monday 2 Nov
    clock.advance(days=3)  # Thursday: Tuesday to Thursday used of the five days to accept
    status = await public_status(store, calendars, case.number, china_date(clock()))
    assert status is not None
    assert asdict(status) == {
        "number": case.number,
        "matter_name": "居住证首次申领",
        "department_name": "市公安局",
        "state_label": "已提交",
        "submitted_on": date(2026, 11, 2),
        "limit_days": 7,
        "days_left": 2,  # Art. 32: accepted, refused or told to correct within five days
    }
    assert await public_status(store, calendars, "BC20261102000000", date(2026, 11, 5)) is None
