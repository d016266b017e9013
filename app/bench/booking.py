"""``buchumen bench booking``: bookings/s and booking latency with 10,000 bookings in the store.

The existing bookings are written in bulk (their ledgers and locks too), spread over the
booking window; then applicants book through the real AppointmentService, 20 at once, some
of them racing for the same slots, as a Monday morning rush would. The hall is big enough
for all of them: a refusal is a fault, and every ledger must count the bookings it holds.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.bench.figures import pct
from app.bench.goals import Report
from app.domain.actors import Actor, Role
from app.domain.errors import DomainError
from app.services.appointment_records import BOOKINGS, LEDGERS, LOCKS, ledger_id
from app.services.appointments import AppointmentService
from app.services.hall_admin import HALL_RULES
from app.settings import load_settings
from app.wiring.demo import load_demo_data
from app.wiring.services import open_services
from storage.documents import Document, DocumentStore

NOW = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)  # a Monday, 08:30 in Beijing
IN_FLIGHT = 20
RATE_GOAL = 300  # bookings/s
P99_GOAL_MS = 300.0


async def run_booking_bench(
    *, existing: int, bookings: int, console: Console, smoke: bool = False
) -> Report:
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp:
        settings = load_settings({}, demo=True, data_dir=Path(tmp), log_level="WARNING")
        async with open_services(settings, lambda: NOW) as services:
            store, hall = services.documents, services.appointments
            await load_demo_data(store, settings, NOW)
            matters = [m for m in await store.find("matters") if "citizen" in m["targets"]]
            for m in matters:  # a big hall: the bench measures the ledger, not refusals
                async with store.transaction() as tx:
                    if await tx.get(HALL_RULES, m["department"]) is None:
                        await tx.insert(HALL_RULES, {"_id": m["department"], "capacity": 400})
            await _fill(store, hall, matters, existing, console)
            report = Report("booking", smoke)
            await _measure(hall, matters, bookings, console, report)
            await _check_ledgers(store, report)
            return report


async def _fill(
    store: DocumentStore,
    hall: AppointmentService,
    matters: list[Document],
    count: int,
    console: Console,
) -> None:
    slots = []
    for m in matters:
        for day, start, _ in await hall.offer(m["_id"], count=200):
            slots.append((m, day, start))
    taken: dict[str, int] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"bulk: {count:,} existing bookings", total=count)
        done = 0
        while done < count:
            async with store.transaction() as tx:
                for i in range(done, min(count, done + 1000)):
                    m, day, start = slots[i % len(slots)]
                    person, booking_id = f"bench-{i}", uuid.uuid4().hex
                    await tx.insert(
                        LOCKS, {"_id": f"{person}:{m['_id']}:{day}", "booking": booking_id}
                    )
                    await tx.insert(BOOKINGS, {
                        "_id": booking_id, "person": person, "matter_code": m["_id"],
                        "department": m["department"], "day": day.isoformat(),
                        "slot": f"{start:%H:%M}", "created_at": NOW.isoformat(),
                        "case_number": None, "state": "booked", "queue_number": None,
                        "history": [],
                    })  # fmt: skip
                    key = ledger_id(m["department"], day, start)
                    taken[key] = taken.get(key, 0) + 1
            progress.advance(task, min(count, done + 1000) - done)
            done = min(count, done + 1000)
        async with store.transaction() as tx:
            for key, n in taken.items():
                department, on, _ = key.split(":", 2)
                await tx.insert(
                    LEDGERS, {"_id": key, "department": department, "day": on, "taken": n}
                )


async def _measure(
    hall: AppointmentService,
    matters: list[Document],
    count: int,
    console: Console,
    report: Report,
) -> None:
    latencies: list[float] = []
    refused: list[str] = []
    queue = list(range(count))

    async def applicant() -> None:
        while queue:
            i = queue.pop()
            matter = matters[i % len(matters)]
            # A third of them want the first free half-hour: contention on purpose.
            offers = await hall.offer(matter["_id"], count=3 if i % 3 == 0 else 12)
            day, start, _ = offers[i % len(offers)]
            t0 = time.perf_counter()
            try:
                await hall.book(Actor(f"rush-{i}", Role.APPLICANT), matter["_id"], day, start)
            except DomainError as exc:
                refused.append(exc.message)
            latencies.append((time.perf_counter() - t0) * 1000)

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{count:,} bookings, {IN_FLIGHT} at once", total=None)
        t0 = time.perf_counter()
        await asyncio.gather(*(applicant() for _ in range(IN_FLIGHT)))
        wall = time.perf_counter() - t0
        progress.update(task, completed=count)
    table = Table(title=f"bench booking · {count:,} bookings on top of the existing ones")
    for column in ("bookings/s", "p50 ms", "p99 ms", "refused"):
        table.add_column(column, justify="right")
    rate, p99 = (count - len(refused)) / wall, pct(latencies, 99)
    table.add_row(f"{rate:,.0f}", f"{pct(latencies, 50):.1f}", f"{p99:.1f}", str(len(refused)))
    console.print(table)
    report.check("every booking taken (the hall has room for all)", refused, count)
    report.add(f"bookings/s ≥ {RATE_GOAL}", f"{rate:,.0f}", rate >= RATE_GOAL)
    report.add(f"booking p99 ≤ {P99_GOAL_MS:g} ms", f"{p99:.0f} ms", p99 <= P99_GOAL_MS)


async def _check_ledgers(store: DocumentStore, report: Report) -> None:
    """Each slot's ledger counts exactly the live bookings in it: no place lost or sold twice."""
    held: dict[str, int] = {}
    for b in await store.find(BOOKINGS, {"state": "booked"}):
        key = f"{b['department']}:{b['day']}:{b['slot']}"  # as ledger_id spells it
        held[key] = held.get(key, 0) + 1
    ledgers = {d["_id"]: d["taken"] for d in await store.find(LEDGERS)}
    wrong = [
        f"{key}: ledger {ledgers.get(key, 0)}, bookings {n}"
        for key, n in held.items()
        if ledgers.get(key, 0) != n
    ]
    report.check("every slot's ledger counts its bookings", wrong, len(held))
