"""The seeds' targets per department and month, read from the cases, events and hall visits.

Like the rest of the supervision figures this reads the months' cases (see the note in
``app.services.supervision``): at scale the facts would be written per case as they happen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

from app.domain.appointments import CHECKED_IN
from app.domain.case_states import FINISHED, State
from app.domain.cases import china_date
from app.domain.supervision import DECISIONS, handling_days
from app.domain.targets import CaseFacts, MonthFigures, monthly_figures
from app.domain.workdays import WorkCalendar
from app.services.appointment_records import BOOKINGS
from app.services.case_records import CASES, EVENTS, complete_on, pauses_from_doc
from app.services.catalog import list_matters
from storage.documents import Document, DocumentStore

MONTHS = 3  # this month and the two before it
BATCH = 500


def first_month(today: date, months: int = MONTHS) -> date:
    """The first day of the earliest month shown."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


async def target_figures(
    store: DocumentStore, calendar: WorkCalendar, now: datetime
) -> list[MonthFigures]:
    """The figures of TARGETS for each department and month, this month and the two before."""
    since = first_month(china_date(now)).isoformat()
    legal = {m.code: m.legal_limit_days for m in await list_matters(store)}
    cases = await store.find(CASES, {"submitted_at": {"$gte": since}})
    numbers = [doc["_id"] for doc in cases]
    visits = await _visits(store, numbers)
    decided = await _decided(store, numbers)
    facts = [_facts(doc, calendar, visits, decided, legal) for doc in cases]
    # Hall visits for a matter with no online case: the applicant came with nothing pre-reviewed.
    where = {"state": CHECKED_IN, "case_number": None, "day": {"$gte": since}}
    for booking in await store.find(BOOKINGS, where):
        facts.append(
            CaseFacts(booking["department"], booking["day"][:7], False, False, 1, case=False)
        )
    return monthly_figures(facts)


def _facts(
    doc: Document,
    calendar: WorkCalendar,
    visits: Counter[str],
    decided: dict[str, date],
    legal: dict[str, int],
) -> CaseFacts:
    used = None
    received = complete_on(doc)
    if doc["_id"] in decided and received is not None:
        used = handling_days(calendar, received, decided[doc["_id"]], pauses_from_doc(doc))
    return CaseFacts(
        department=doc["department"],
        month=doc["submitted_at"][:7],
        online=True,  # every case here was pre-reviewed on the phone before anyone came
        finished=State(doc["state"]) in FINISHED,
        visits=visits[doc["_id"]],
        used_days=used,
        legal_days=legal.get(doc["terms"]["code"], 0),
        rating=(doc.get("rating") or {}).get("level"),
    )


async def _visits(store: DocumentStore, numbers: Sequence[str]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for start in range(0, len(numbers), BATCH):
        where = {"case_number": {"$in": list(numbers[start : start + BATCH])}, "state": CHECKED_IN}
        counted.update(b["case_number"] for b in await store.find(BOOKINGS, where))
    return counted


async def _decided(store: DocumentStore, numbers: Sequence[str]) -> dict[str, date]:
    """The day of each case's decision (approval or refusal)."""
    found: dict[str, date] = {}
    for start in range(0, len(numbers), BATCH):
        where = {
            "case_number": {"$in": list(numbers[start : start + BATCH])},
            "action": {"$in": list(DECISIONS)},
        }
        for event in await store.find(EVENTS, where, sort=[("seq", 1)]):
            found.setdefault(event["case_number"], china_date(datetime.fromisoformat(event["at"])))
    return found
