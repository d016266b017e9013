"""Electronic supervision (电子监察): figures for supervisors, computed from the case stores.

Everything is read through store queries: counts where a count will do, and for the figures
that need each case (warnings, handling time, Art. 32) only the cases the query narrows to.

At a million cases, these would need pre-aggregation (today they scan, and hold, the period's
events): handling time and first-notice timeliness should be written onto the case (or into a
daily roll-up per department) in the unit of work that records the decision or the notice;
ratings counted per level and day the same way; and ``case_events`` would want an index on
(action, at). The counts by state and by department already run on the cases indexes, and
the warning list reads only cases due within a few working days.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.domain.actors import Actor, Role
from app.domain.case_states import LABELS_ZH, Action, State
from app.domain.cases import RATINGS, china_date
from app.domain.errors import NotPermitted
from app.domain.supervision import (
    CLOCK_ENDS,
    DECISIONS,
    LIVE,
    WARNING_ZH,
    WATCHED,
    Bin,
    handling_days,
    histogram,
    mean,
    notice_in_time,
    percentile,
    warning_horizon,
    watch,
)
from app.domain.targets import MonthFigures
from app.domain.workdays import WarningLevel, WorkCalendar
from app.services.calendar import CalendarService
from app.services.case_records import (
    CASES,
    EVENTS,
    case_from_doc,
    complete_on,
    pauses_from_doc,
)
from app.services.catalog import list_matters
from app.services.follow_ups import close_follow_up as _close_follow_up
from app.services.follow_ups import open_follow_ups
from app.services.targets import target_figures
from storage.documents import Document, DocumentStore

PERIODS = (30, 90, 365)  # days a supervisor can look back over
CARD_LIMIT = 200  # cases read for the yellow and red cards, nearest due date first
EVENT_LIMIT = 20_000  # decisions or notices of one period held at once (see the module note)
BATCH = 500  # cases fetched per query by their numbers
NOT_SUPERVISOR = "电子监察看板仅供督办人员使用。"


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Card:
    """A case at yellow or red: what a supervisor needs to chase it."""

    number: str
    matter: str
    department: str  # its name, as people say it
    state: str
    due_date: str | None
    remaining_days: int
    warning: WarningLevel
    department_code: str = ""


@dataclass(frozen=True)
class Handling:
    decided: int
    mean_days: float | None
    p90_days: int | None
    bins: list[Bin]


@dataclass(frozen=True)
class Notices:
    """Art. 32: the first correction notices of the period, and the cases deemed accepted."""

    returned: int
    in_time: int
    deemed_accepted: int

    @property
    def share(self) -> float | None:
        return self.in_time / self.returned if self.returned else None


@dataclass(frozen=True)
class Dashboard:
    today: date
    days: int
    by_state: list[Count]
    by_department: list[Count]
    cards: list[Card]
    cards_cut: bool  # more cases were near their limit than CARD_LIMIT lets us read
    handling: Handling
    notices: Notices
    ratings: list[Count]
    follow_ups: list[Document]


def _require_supervisor(actor: Actor) -> None:
    if actor.role is not Role.SUPERVISOR:
        raise NotPermitted(NOT_SUPERVISOR)


def _department(doc: Document, names: dict[str, str]) -> str:
    code: str = doc["department"]
    return names.get(code, code)


def _submitted_on(doc: Document) -> date | None:
    return date.fromisoformat(doc["submitted_at"]) if doc.get("submitted_at") else None


async def dashboard(
    store: DocumentStore, calendars: CalendarService, actor: Actor, now: datetime, *, days: int
) -> Dashboard:
    """Every figure of the supervision page; ``days`` is the period the rates look back over."""
    _require_supervisor(actor)
    if days not in PERIODS:
        days = PERIODS[1]
    calendar = await calendars.calendar()
    today = china_date(now)
    since = (now - timedelta(days=days)).isoformat()
    cards, cut = await warning_cards(store, calendar, today)
    departments, _ = await _departments(store)
    return Dashboard(
        today=today,
        days=days,
        by_state=await _by_state(store),
        by_department=await _by_department(store, departments),
        cards=cards,
        cards_cut=cut,
        handling=await _handling(store, calendar, since),
        notices=await _notices(store, calendar, since),
        ratings=await _ratings(store, since),
        follow_ups=await open_follow_ups(store),
    )


async def _departments(store: DocumentStore) -> tuple[dict[str, str], int]:
    """Department names by code from the catalog, and the longest committed time limit."""
    matters = await list_matters(store)
    names = {m.department: m.department_name for m in matters}
    return dict(sorted(names.items())), max((m.committed_limit_days for m in matters), default=0)


async def _by_state(store: DocumentStore) -> list[Count]:
    # One indexed count per state (19 of them) rather than reading any case.
    counts = [
        Count(s.value, LABELS_ZH[s], await store.count(CASES, {"state": s.value})) for s in State
    ]
    return [c for c in counts if c.count]


async def _by_department(store: DocumentStore, departments: dict[str, str]) -> list[Count]:
    """Cases in progress (submitted, not finished) per department."""
    live = sorted(s.value for s in LIVE)
    return [
        Count(code, name, await store.count(CASES, {"department": code, "state": {"$in": live}}))
        for code, name in departments.items()
    ]


async def warning_cards(
    store: DocumentStore, calendar: WorkCalendar, today: date
) -> tuple[list[Card], bool]:
    """The cases at yellow or red today, red and nearest first; True if more than CARD_LIMIT."""
    departments, longest = await _departments(store)
    where = {
        "state": {"$in": sorted(s.value for s in WATCHED)},
        "due_date": {"$lte": warning_horizon(calendar, today, longest).isoformat()},
    }
    docs = await store.find(CASES, where, sort=[("due_date", 1)], limit=CARD_LIMIT + 1)
    cards = []
    for doc in docs[:CARD_LIMIT]:
        state, terms = State(doc["state"]), doc["terms"]
        clock = watch(case_from_doc(doc).legal_clock(), calendar, today)
        if clock is None or clock.warning is WarningLevel.GREEN:
            continue
        cards.append(
            Card(
                number=doc["number"],
                matter=terms["name"],
                department=_department(doc, departments),
                state=LABELS_ZH[state],
                due_date=doc.get("due_date"),
                remaining_days=clock.remaining_days,
                warning=clock.warning,
                department_code=doc["department"],
            )
        )
    cards.sort(key=lambda c: (c.warning is not WarningLevel.RED, c.remaining_days, c.number))
    return cards, len(docs) > CARD_LIMIT


async def _cases_of(store: DocumentStore, numbers: Sequence[str]) -> dict[str, Document]:
    found: dict[str, Document] = {}
    unique = sorted(set(numbers))
    for start in range(0, len(unique), BATCH):
        batch = unique[start : start + BATCH]
        for doc in await store.find(CASES, {"_id": {"$in": batch}}):
            found[doc["_id"]] = doc
    return found


async def _handling(store: DocumentStore, calendar: WorkCalendar, since: str) -> Handling:
    """Working days from the complete materials to the decision (Art. 45 periods left out), of
    the period's decisions."""
    where = {"action": {"$in": list(DECISIONS)}, "at": {"$gte": since}}
    events = await store.find(EVENTS, where, sort=[("at", -1)], limit=EVENT_LIMIT)
    cases = await _cases_of(store, [e["case_number"] for e in events])
    spent = []
    for event in events:
        doc = cases.get(event["case_number"])
        submitted = complete_on(doc) if doc else None
        if doc is None or submitted is None:
            continue
        decided = china_date(datetime.fromisoformat(event["at"]))
        spent.append(handling_days(calendar, submitted, decided, pauses_from_doc(doc)))
    return Handling(len(spent), mean(spent), percentile(spent, 90), histogram(spent))


async def _notices(store: DocumentStore, calendar: WorkCalendar, since: str) -> Notices:
    """First correction notices of the period, measured from the submission they answered."""
    # The first notice always answers the first submission: a resubmission needs a notice.
    where = {"action": Action.RETURN.value, "detail.notice": 1, "at": {"$gte": since}}
    events = await store.find(EVENTS, where, sort=[("at", -1)], limit=EVENT_LIMIT)
    cases = await _cases_of(store, [e["case_number"] for e in events])
    returned = in_time = 0
    for event in events:
        doc = cases.get(event["case_number"])
        submitted = _submitted_on(doc) if doc else None
        if submitted is None:
            continue
        returned += 1
        noticed = china_date(datetime.fromisoformat(event["at"]))
        in_time += notice_in_time(calendar, submitted, noticed)
    deemed = {"action": Action.DEEM_ACCEPTED.value, "at": {"$gte": since}}
    return Notices(returned, in_time, await store.count(EVENTS, deemed))


async def _ratings(store: DocumentStore, since: str) -> list[Count]:
    """好差评 over the period, one count per level, best first."""
    return [
        Count(
            level,
            level,
            await store.count(CASES, {"rating.level": level, "rating.at": {"$gte": since}}),
        )
        for level in RATINGS
    ]


async def close_follow_up(
    store: DocumentStore, actor: Actor, case_number: str, resolution: str, now: datetime
) -> Document:
    """A supervisor closes a bad-rating follow-up with what was done about it."""
    _require_supervisor(actor)
    return await _close_follow_up(store, actor, case_number, resolution, now)


# -- the per-case export -------------------------------------------------------------------

CSV_HEADER = (
    "办件号", "事项", "部门", "状态", "提交日期", "办结期限", "已用工作日", "预警", "评价"
)  # fmt: skip


async def case_rows(
    store: DocumentStore, calendars: CalendarService, actor: Actor, now: datetime
) -> AsyncIterator[list[str]]:
    """Every submitted case as one row of CSV_HEADER, page by page, never all at once.

    Working days used run to today while the clock is watched, else to the day the office's
    part ended (refusal, withdrawal, result issued); the warning is given only while watched.
    """
    _require_supervisor(actor)
    calendar = await calendars.calendar()
    today = china_date(now)
    departments, _ = await _departments(store)
    last = ""
    while True:
        where: dict[str, Any] = {"submitted_at": {"$ne": None}, "_id": {"$gt": last}}
        page = await store.find(CASES, where, sort=[("_id", 1)], limit=BATCH)
        if not page:
            return
        last = page[-1]["_id"]
        ends = await _clock_ends(store, [d["_id"] for d in page])
        for doc in page:
            yield _row(doc, calendar, today, departments, ends.get(doc["_id"]))


async def _clock_ends(store: DocumentStore, numbers: list[str]) -> dict[str, date]:
    where = {"case_number": {"$in": numbers}, "action": {"$in": list(CLOCK_ENDS)}}
    ends: dict[str, date] = {}
    for event in await store.find(EVENTS, where, sort=[("case_number", 1), ("seq", 1)]):
        ends.setdefault(event["case_number"], china_date(datetime.fromisoformat(event["at"])))
    return ends


def _row(
    doc: Document,
    calendar: WorkCalendar,
    today: date,
    departments: dict[str, str],
    ended: date | None,
) -> list[str]:
    state = State(doc["state"])
    submitted = complete_on(doc)
    terms = doc["terms"]
    clock = watch(case_from_doc(doc).legal_clock(), calendar, today)
    if clock is not None:
        used: int | None = clock.used_days
    elif submitted is not None:
        used = handling_days(calendar, submitted, ended or today, pauses_from_doc(doc))
    else:
        used = None
    rating = doc.get("rating") or {}
    return [
        doc["number"],
        terms["name"],
        _department(doc, departments),
        LABELS_ZH[state],
        doc.get("submitted_at") or "",
        doc.get("due_date") or "",
        "" if used is None else str(used),
        WARNING_ZH[clock.warning] if clock else "",
        str(rating.get("level", "")),
    ]


@dataclass(frozen=True)
class SupervisionService:
    """The supervision figures, the CSV rows and follow-up closing, on the service's clock."""

    store: DocumentStore
    calendars: CalendarService
    clock: Callable[[], datetime]

    async def dashboard(self, actor: Actor, *, days: int) -> Dashboard:
        return await dashboard(self.store, self.calendars, actor, self.clock(), days=days)

    def case_rows(self, actor: Actor, now: datetime) -> AsyncIterator[list[str]]:
        return case_rows(self.store, self.calendars, actor, now)

    async def targets(self, actor: Actor) -> list[MonthFigures]:
        """The seeds' targets per department and month (this month and the two before)."""
        _require_supervisor(actor)
        calendar = await self.calendars.calendar()
        return await target_figures(self.store, calendar, self.clock())

    async def close_follow_up(self, actor: Actor, case_number: str, resolution: str) -> Document:
        return await close_follow_up(self.store, actor, case_number, resolution, self.clock())
