"""Hall appointments: the half-hour slots a window opens, who may book them, and when.

Pure rules; the service enforces capacity with compare-and-set on one ledger per slot. Times
are Beijing wall-clock times (China has one zone and no daylight saving).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

from app.domain.cases import CHINA, Case
from app.domain.catalog import Matter
from app.domain.errors import InvalidTransition, ValidationFailed
from app.domain.workdays import WorkCalendar

BOOKED, CANCELLED, CHECKED_IN, NO_SHOW = "booked", "cancelled", "checked_in", "no_show"
RESCHEDULED, CALLED, SERVED = "rescheduled", "called", "served"
STATE_ZH = {
    BOOKED: "已预约",
    CANCELLED: "已取消",
    RESCHEDULED: "已改约",
    CHECKED_IN: "已签到",
    CALLED: "已叫号",
    SERVED: "已办结",
    NO_SHOW: "未到",
}
CAME = frozenset({CHECKED_IN, CALLED, SERVED})  # the applicant was at the hall
GONE = frozenset({CANCELLED, RESCHEDULED})  # the place was given back
# A material's form in the catalog's own words (GB/T 36114: original or copy); nothing added.
FORM_ZH = {"original": "原件", "copy": "复印件", "electronic": "电子材料"}
WEEKDAY_ZH = "一二三四五六日"
MAP_SEARCH = "https://uri.amap.com/search?keyword="  # a public map's search, linked, never fetched
# No hall stays closed this long (the Spring Festival is nine days): a longer search means the
# calendar says every day is off, and the window is then empty instead of looping on.
_SEARCH_DAYS = 60


def span_zh(length: timedelta) -> str:
    """A cut-off in plain Chinese: "2 小时", "1 小时 30 分钟", "45 分钟"."""
    minutes = int(length.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} 小时"] if hours else []) + ([f"{minutes} 分钟"] if minutes else [])
    return " ".join(parts) or "0 分钟"


def day_zh(day: date) -> str:
    """A day as a person reads it: "11月3日（周二）"."""
    return f"{day.month}月{day.day}日（周{WEEKDAY_ZH[day.weekday()]}）"


def slot_places(text: str) -> tuple[time, int | None]:
    """An administrator's ``11:30=2`` (places in that half-hour; 0 closes it) or ``11:30=默认``
    (back to the hall's capacity, None). Raises ValueError for anything else."""
    start, _, places = text.strip().partition("=")
    return time.fromisoformat(start), None if places in {"默认", "default"} else int(places)


@dataclass(frozen=True)
class HallRules:
    """A department's hall: opening sessions, capacity per slot, cut-off and no-show policy."""

    sessions: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17)))
    slot_minutes: int = 30
    capacity: int = 4  # applicants per half-hour at the department's windows
    open_days_ahead: int = 7  # one may book the hall's next this many open (working) days
    cutoff: timedelta = timedelta(hours=2)  # no cancelling or rescheduling closer than this
    no_show_limit: int = 3  # no-shows within no_show_window restrict booking ...
    no_show_window: timedelta = timedelta(days=30)
    restriction: timedelta = timedelta(days=30)  # ... for this long after the last one
    closures: frozenset[date] = frozenset()  # days the hall is closed though a working day
    # Slots with their own number of places (fewer windows open at 11:30; 0 closes a slot).
    slot_capacity: tuple[tuple[time, int], ...] = ()

    def capacity_at(self, slot: time) -> int:
        """Places of one half-hour: its own number if the administrator set one, else capacity."""
        return dict(self.slot_capacity).get(slot, self.capacity)

    def slots(self) -> list[time]:
        """Every slot start of an open day, in order."""
        out = []
        for start, end in self.sessions:
            at = datetime.combine(date.min, start)
            while (at + timedelta(minutes=self.slot_minutes)).time() <= end and at.time() < end:
                out.append(at.time())
                at += timedelta(minutes=self.slot_minutes)
        return out

    def open_on(self, day: date, calendar: WorkCalendar) -> bool:
        return calendar.is_workday(day) and day not in self.closures

    def check_slot(self, day: date, slot: time, now: datetime, calendar: WorkCalendar) -> None:
        """Refuse, in Chinese, a slot that cannot be booked: past, closed, or not a slot."""
        if slot not in self.slots() or self.capacity_at(slot) == 0:
            raise ValidationFailed("所选时段不在大厅开放时间内，请从可预约时段中选择")
        if not self.open_on(day, calendar):
            raise ValidationFailed(
                f"{day.isoformat()} 大厅不开放（节假日、周末或闭厅），请选择其他日期"
            )
        starts = datetime.combine(day, slot, tzinfo=CHINA)
        if starts <= now:
            raise ValidationFailed("所选时段已经过去，请选择之后的时段")
        if day not in self.open_days(now, calendar):
            raise ValidationFailed(
                f"只能预约大厅最近 {self.open_days_ahead} 个工作日内的时段，请选择更近的日期"
            )

    def open_days(
        self, now: datetime, calendar: WorkCalendar, count: int | None = None
    ) -> list[date]:
        """The booking window: the next ``count`` (default ``open_days_ahead``) days the hall
        opens with a slot still ahead of ``now``; holidays and closures are skipped, not counted."""
        wanted = self.open_days_ahead if count is None else count
        today = now.astimezone(CHINA).date()
        days: list[date] = []
        for offset in range(_SEARCH_DAYS):
            if len(days) == wanted:
                break
            day = today + timedelta(days=offset)
            if not self.open_on(day, calendar):
                continue
            if any(datetime.combine(day, s, tzinfo=CHINA) > now for s in self.slots()):
                days.append(day)
        return days

    def hours_zh(self) -> str:
        """The opening hours as the hall's door says them: "工作日 09:00—12:00、13:30—17:00"."""
        sessions = "、".join(f"{start:%H:%M}—{end:%H:%M}" for start, end in self.sessions)
        return f"工作日 {sessions}（法定节假日休息）"

    def restricted_until(self, no_shows: list[datetime], now: datetime) -> datetime | None:
        """When repeated no-shows restrict booking, until when; None when free to book."""
        recent = sorted(t for t in no_shows if t > now - self.no_show_window)
        if len(recent) < self.no_show_limit:
            return None
        until = recent[-1] + self.restriction
        return until if until > now else None


@dataclass(frozen=True)
class Hall:
    """Where a department receives visitors: its window, the address and the opening hours."""

    window: str  # e.g. 市民政局政务服务窗口
    address: str | None  # None until the department's counter is recorded
    hours: str

    @property
    def place(self) -> str:
        """Where to go, as a message says it: the window, and its address once recorded."""
        return self.window + (f"，{self.address}" if self.address else "")

    @property
    def map_url(self) -> str | None:
        """A public map's search for the address: a link for the phone, never fetched by us."""
        if not self.address:
            return None
        return MAP_SEARCH + quote("".join(self.address.split()), safe="")


@dataclass
class Booking:
    id: str
    person: str  # the applicant's account
    matter_code: str
    department: str
    day: date
    slot: time
    created_at: datetime
    case_number: str | None = None
    state: str = BOOKED
    queue_number: int | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    moved_to: str | None = None  # rescheduled: the booking that replaced this one
    moved_from: str | None = None  # the booking this one replaced
    short: str | None = None  # the check-in code's typed form (bookings made before it: none)

    @property
    def starts(self) -> datetime:
        return datetime.combine(self.day, self.slot, tzinfo=CHINA)

    def at(self, what: str) -> datetime | None:
        """When the booking last entered state ``what``, if it did."""
        times = [datetime.fromisoformat(h["at"]) for h in self.history if h["what"] == what]
        return times[-1] if times else None

    def check_changeable(self, rules: HallRules, now: datetime) -> None:
        """Cancelling or rescheduling: only a live booking, and only until the cut-off."""
        if self.state != BOOKED:
            raise InvalidTransition(f"预约当前为“{STATE_ZH[self.state]}”，不能取消或改约")
        if now > self.starts - rules.cutoff:
            raise InvalidTransition(
                f"距预约时间已不足 {span_zh(rules.cutoff)}，不能取消或改约；"
                "如不能按时前来，请联系大厅工作人员"
            )

    def cancel(self, rules: HallRules, now: datetime) -> None:
        self.check_changeable(rules, now)
        self.state = CANCELLED
        self.history.append({"at": now.isoformat(), "what": CANCELLED})

    def move_to(self, replacement: Booking, rules: HallRules, now: datetime) -> None:
        """Rescheduled: this booking (and its check-in code) ends; ``replacement`` takes over."""
        self.check_changeable(rules, now)
        if (replacement.day, replacement.slot) == (self.day, self.slot):
            raise ValidationFailed("新时段与原预约相同，请选择其他时段")
        self.state, self.moved_to = RESCHEDULED, replacement.id
        self.history.append({"at": now.isoformat(), "what": RESCHEDULED})
        replacement.moved_from = self.id

    def check_in(self, today: date, queue_number: int, now: datetime) -> None:
        if self.state == RESCHEDULED:
            raise InvalidTransition("该预约已改到其他时段，原二维码已失效，请出示新的预约二维码")
        if self.state in CAME:
            raise InvalidTransition(f"该预约{STATE_ZH[self.state]}，不能再次签到")
        if self.state != BOOKED:
            raise InvalidTransition(f"该预约{STATE_ZH[self.state]}，不能签到")
        if self.day != today:
            raise InvalidTransition(f"该预约是 {self.day.isoformat()} 的，请在预约当天签到")
        self.state = CHECKED_IN
        self.queue_number = queue_number
        self.history.append({"at": now.isoformat(), "what": CHECKED_IN})

    def miss(self, now: datetime) -> None:
        """The slot ended without a check-in."""
        if self.state == BOOKED:
            self.state = NO_SHOW
            self.history.append({"at": now.isoformat(), "what": NO_SHOW})

    def call(self, now: datetime) -> None:
        """The clerk called this queue number to the window (叫号)."""
        if self.state != CHECKED_IN:
            raise InvalidTransition(f"{self.queue_number or ''} 号{STATE_ZH[self.state]}，不能叫号")
        self.state = CALLED
        self.history.append({"at": now.isoformat(), "what": CALLED})

    def serve(self, now: datetime) -> None:
        """The clerk finished with the visitor at the window (办结)."""
        if self.state == SERVED:
            raise InvalidTransition(f"{self.queue_number} 号已办结")
        if self.state != CALLED:
            raise InvalidTransition(f"{self.queue_number or ''} 号{STATE_ZH[self.state]}，请先叫号")
        self.state = SERVED
        self.history.append({"at": now.isoformat(), "what": SERVED})

    def wait_minutes(self) -> float | None:
        """Minutes the visitor waited for the window, once called; None before.

        The wait runs from the later of the check-in and the slot's start to the call: an
        early arrival waiting for their own half-hour is not the hall keeping them waiting.
        """
        called, came = self.at(CALLED), self.at(CHECKED_IN)
        if called is None or came is None:
            return None
        return max(0.0, (called - max(came, self.starts)).total_seconds() / 60)


@dataclass(frozen=True)
class ToBring:
    """One material to bring to the window, in the catalog's words: its form and copies."""

    name: str
    form: str  # 原件 | 复印件 | 电子材料, as the catalog gives it
    copies: int
    required: bool
    note: str | None = None  # the catalog's note, or why an original comes though it is online

    def __str__(self) -> str:
        """Say 居民身份证国徽面（复印件）1 份, then the note if any."""
        note = f"：{self.note}" if self.note else ""
        return f"{self.name}（{self.form}）{self.copies} 份{note}"


def what_to_bring(matter: Matter, case: Case | None) -> tuple[list[ToBring], list[str]]:
    """The materials to bring (required first, then those needed only in some cases), and
    the names of those the tied case already holds (not to bring).

    Each says exactly what the catalog says of it: original, copy or electronic, and how many
    copies. A photo the pre-check asked to retake does not count as held. An original is
    always brought for the clerk to compare, even when its photo is on the case.
    """
    held: set[str] = set()
    if case is not None:
        held = set(case.materials) - {s.id for s in case.slots_to_retake()}
        held -= {s.id for s in case.slots_to_correct()}
    bring: list[ToBring] = []
    skip: list[str] = []
    for m in sorted(matter.materials, key=lambda m: not m.required):
        # An optional material's note says when it is needed; a required one's speaks of the
        # online journey (a courier for the original), not of the window.
        note = None if m.required else m.note
        if m.id in held and m.form != "original":
            skip.append(m.name)
            continue
        if m.id in held:
            note = "照片已在线提交，请带原件供窗口核对"
        bring.append(ToBring(m.name, FORM_ZH[m.form], m.copies, m.required, note))
    return bring, skip
