"""What anyone holding a case's receipt QR code may see: its progress, nothing personal (PIPL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.case_states import LABELS_ZH
from app.domain.errors import NotFoundError
from app.services.calendar import CalendarService
from app.services.case_records import CASES, case_from_doc
from app.services.catalog import get_matter
from storage.documents import DocumentStore


@dataclass(frozen=True)
class PublicStatus:
    """The limited view: no applicant, no ID number, no materials, no history."""

    number: str
    matter_name: str
    department_name: str
    state_label: str
    submitted_on: date | None
    limit_days: int  # committed working days; 0 for a matter done on the spot (即办件)
    days_left: int | None  # negative when overdue; None before submission and once finished


async def public_status(
    store: DocumentStore, calendars: CalendarService, number: str, today: date
) -> PublicStatus | None:
    """The case's public progress, or None when there is no such case."""
    doc = await store.get(CASES, number)
    if doc is None:
        return None
    case = case_from_doc(doc)
    try:
        department = (await get_matter(store, case.terms.code)).department_name
    except NotFoundError:  # the matter left the catalog; the case keeps the department's code
        department = case.terms.department
    days_left = None
    clock = case.legal_clock()
    if clock is not None:
        days_left = clock.remaining(await calendars.calendar(), today)
    return PublicStatus(
        number=case.number,
        matter_name=case.terms.name,
        department_name=department,
        state_label=LABELS_ZH[case.state],
        submitted_on=case.submitted_on,
        limit_days=case.terms.limit_days,
        days_left=days_left,
    )
