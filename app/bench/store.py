"""``buchumen bench store``: case throughput and lookup latency at 100k cases."""

from __future__ import annotations

import random
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.bench.figures import pct
from app.domain.actors import Actor, Role
from app.domain.cases import MaterialRef
from app.services.case_records import case_to_doc
from app.services.catalog import list_matters
from app.settings import Settings, load_settings
from app.wiring.demo import load_demo_data
from app.wiring.services import Services, open_services

NOW = datetime(2026, 11, 2, 2, tzinfo=UTC)
SERVICE_SAMPLE = 3_000  # cases driven through the full use cases (open, attach, submit, review)
BULK_BATCH = 2_000


def _ref(i: int) -> MaterialRef:
    return MaterialRef(f"cases/bench/{i}.jpg", "image/jpeg", 1024, f"{i:064x}")


async def _timed(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


async def run_store_bench(*, cases: int, console: Console) -> int:
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp:
        settings = load_settings({}, demo=True, data_dir=Path(tmp))
        async with open_services(settings, lambda: NOW) as services:
            return await _bench(services, settings, cases, console)


async def _bench(services: Services, settings: Settings, total: int, console: Console) -> int:
    store, service = services.documents, services.cases
    await load_demo_data(store, settings, NOW)
    # Matters decided before any fee: approve is the next step for every sampled case.
    matters = [
        m for m in await list_matters(store) if "citizen" in m.targets and not m.pay_before_review
    ]
    citizens = [Actor(f"bench-{i}", Role.APPLICANT) for i in range(500)]
    numbers: list[str] = []
    sample = min(SERVICE_SAMPLE, total)

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("use cases: open + attach + submit + approve", total=sample)
        ops = 0
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
            if i % 3 == 0:
                reviewer = Actor("bench-r", Role.REVIEWER, department=case.terms.department)
                await service.approve(reviewer, case.number, version=case.version)
                ops += 1
            numbers.append(case.number)
            progress.advance(task)
        service_seconds = time.perf_counter() - t0

        # The rest are copies of sampled cases under new numbers, written in large transactions:
        # what matters below is lookup latency at this size, not how the rows got there.
        task = progress.add_task("bulk load to size", total=total - sample)
        staff = Actor("bench-s", Role.SUPERVISOR)
        templates = [await service.get(staff, n) for n in numbers[: len(citizens)]]
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

    lookups = await _timed(lambda: service.get(staff, rng.choice(numbers)), 2_000)
    departments = sorted({m.department for m in matters})

    async def queue_page() -> object:
        reviewer = Actor("bench-r", Role.REVIEWER, department=rng.choice(departments))
        return await service.list_for(reviewer, page=rng.randrange(1, 20), size=20)

    queue = await _timed(queue_page, 300)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    table = Table(title=f"bench store ({settings.document_store}, {total:,} cases)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row(
        "use-case operations/s (open, attach, submit, approve)", f"{ops / service_seconds:,.0f}"
    )
    table.add_row(
        "get case by number p50 / p99 (ms)",
        f"{pct(lookups, 50):.2f} / {pct(lookups, 99):.2f}",
    )
    table.add_row(
        "reviewer queue page p50 / p99 (ms)",
        f"{pct(queue, 50):.2f} / {pct(queue, 99):.2f}",
    )
    table.add_row("mean get by number (ms)", f"{statistics.fmean(lookups):.2f}")
    table.add_row("peak RSS (MB)", f"{rss_mb:,.0f}")
    Console().print(table)
    goal = pct(lookups, 99) <= 20
    Console().print(f"goal get-by-number p99 <= 20 ms: {'met' if goal else 'NOT met'}")
    return 0 if goal else 1
