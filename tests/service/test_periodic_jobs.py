"""The service's periodic jobs run only in the periods their instance claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from app.wiring.background import _every
from storage.periodic import claim_slot
from storage.sqlite import SqliteDocumentStore

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


async def test_two_instances_start_together_and_the_job_runs_once(
    store: SqliteDocumentStore,
) -> None:
    runs: list[str] = []
    stop = asyncio.Event()

    def instance(name: str) -> asyncio.Task[None]:
        async def claim(now: datetime) -> bool:
            return await claim_slot(store, "reconcile", 300, now, name)

        return asyncio.create_task(
            _every(300, lambda: runs.append(name), stop, claim=claim, clock=lambda: NOW)
        )

    tasks = [instance("a"), instance("b")]
    await asyncio.sleep(0.2)  # both have woken once; the next period is minutes away
    stop.set()
    await asyncio.gather(*tasks)
    assert len(runs) == 1
