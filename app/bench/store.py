"""``buchumen bench store``: case throughput and lookup latency at 100k cases.

A sample of cases goes through the real use cases as the department meets them: open, attach,
submit; a fee paid before review is paid; then a third are approved (accepted on the spot)
and a third accepted. The rest of the store is bulk-loaded copies, since what is timed is
lookup latency at that size, not how the rows got there.
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.bench.figures import pct
from app.bench.goals import Report
from app.domain.actors import Actor, Role
from app.domain.case_states import BEFORE_ISSUE, State
from app.domain.cases import Case, MaterialRef
from app.services.case_records import case_to_doc
from app.services.catalog import list_matters
from app.settings import load_settings
from app.wiring.demo import load_demo_data
from app.wiring.services import Services, open_services

NOW = datetime(2026, 11, 2, 2, tzinfo=UTC)
SERVICE_SAMPLE = 3_000  # cases driven through the full use cases
BULK_BATCH = 2_000
LOOKUP_P99_MS = 20.0


def _ref(i: int) -> MaterialRef:
    return MaterialRef(f"cases/bench/{i}.jpg", "image/jpeg", 1024, f"{i:064x}")


async def _timed(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


async def run_store_bench(*, cases: int, console: Console, smoke: bool = False) -> Report:
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp:
        settings = load_settings({}, demo=True, data_dir=Path(tmp), log_level="WARNING")
        async with open_services(settings, lambda: NOW) as services:
            await load_demo_data(services.documents, settings, NOW)
            report = Report("store", smoke)
            await _bench(services, cases, console, report)
            return report


def _expected(case: Case, step: int) -> bool:
    """Whether the case stands where its use cases lead (step: 0 approve, 1 accept, 2 none)."""
    if step == 0:
        return case.state in BEFORE_ISSUE and case.accepted_on is not None
    if step == 1:
        return case.state is State.ACCEPTED
    return case.state is State.SUBMITTED


async def _drive(
    services: Services, sample: int, console: Console
) -> tuple[list[str], int, float, list[str]]:
    """The sample through the use cases: numbers, operations, seconds, and cases gone astray."""
    service = services.cases
    matters = [m for m in await list_matters(services.documents) if "citizen" in m.targets]
    citizens = [Actor(f"bench-{i}", Role.APPLICANT) for i in range(500)]
    numbers: list[str] = []
    astray: list[str] = []
    ops = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("use cases: open, attach, submit, pay, decide", total=sample)
        t0 = time.perf_counter()
        for i in range(sample):
            who = citizens[i % len(citizens)]
            matter = matters[i % len(matters)]
            case = await service.open(who, matter.code)
            ops += 1
            for slot in case.missing_materials():
                case = await service.attach(who, case.number, slot.id, _ref(i), version=None)
                ops += 1
            case = await service.submit(who, case.number, version=None)
            ops += 1
            if case.state is State.AWAITING_PAYMENT:  # paid before review: then reviewed
                case = await service.confirm_payment(case.number, trade_no=f"bench{i}")
                ops += 1
            reviewer = Actor("bench-r", Role.REVIEWER, department=case.terms.department)
            step = i % 3
            if step == 0:
                case = await service.approve(reviewer, case.number, version=case.version)
                ops += 1
            elif step == 1:
                case = await service.accept(reviewer, case.number, version=case.version)
                ops += 1
            if not _expected(case, step):
                astray.append(f"{case.number} ({matter.code}) is {case.state.value}")
            numbers.append(case.number)
            progress.advance(task)
    return numbers, ops, time.perf_counter() - t0, astray


async def _bench(services: Services, total: int, console: Console, report: Report) -> None:
    store, service = services.documents, services.cases
    sample = min(SERVICE_SAMPLE, total)
    numbers, ops, service_seconds, astray = await _drive(services, sample, console)
    report.check("every sampled case stands where its use cases lead", astray, sample)

    staff = Actor("bench-s", Role.SUPERVISOR)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("bulk load to size", total=total - sample)
        templates = [await service.get(staff, n) for n in numbers[:500]]
        template_docs = [case_to_doc(c, due_date=None, accept_by=None) for c in templates]
        rng = random.Random(7)  # noqa: S311 - reproducible load, not security
        done = sample
        while done < total:
            batch = min(BULK_BATCH, total - done)
            async with store.transaction() as tx:
                for j in range(batch):
                    doc = dict(template_docs[(done + j) % len(template_docs)])
                    number = f"BK{done + j:014d}"
                    doc.update(
                        _id=number,
                        number=number,
                        applicant_id=f"bench-{rng.randrange(500)}",
                        due_date=(NOW + timedelta(days=rng.randrange(60))).date().isoformat(),
                    )
                    await tx.insert("cases", doc)
                    numbers.append(number)
            done += batch
            progress.advance(task, batch)

    wrong: list[str] = []

    async def lookup() -> None:
        number = rng.choice(numbers)
        if (await service.get(staff, number)).number != number:
            wrong.append(number)

    lookups = await _timed(lookup, 200 if report.smoke else 2_000)
    report.check("get by number answers the case asked for", wrong, len(lookups))
    departments = sorted({c.terms.department for c in templates})

    async def queue_page() -> object:
        reviewer = Actor("bench-r", Role.REVIEWER, department=rng.choice(departments))
        return await service.list_for(reviewer, page=rng.randrange(1, 20), size=20)

    queue = await _timed(queue_page, 50 if report.smoke else 300)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    table = Table(title=f"bench store ({total:,} cases)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("use-case operations/s", f"{ops / service_seconds:,.0f}")
    table.add_row(
        "get case by number p50 / p99 (ms)", f"{pct(lookups, 50):.2f} / {pct(lookups, 99):.2f}"
    )
    table.add_row(
        "reviewer queue page p50 / p99 (ms)", f"{pct(queue, 50):.2f} / {pct(queue, 99):.2f}"
    )
    table.add_row("peak RSS (MB)", f"{rss_mb:,.0f}")
    console.print(table)
    p99 = pct(lookups, 99)
    report.add(f"get by number p99 ≤ {LOOKUP_P99_MS:g} ms", f"{p99:.2f} ms", p99 <= LOOKUP_P99_MS)
