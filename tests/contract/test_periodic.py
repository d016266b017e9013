"""Two instances on one database: a periodic job runs once per period, and cleanups that race
each other both finish (one deletes, the other finds it gone)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.documents import DocumentStore
from storage.periodic import RUNS, claim_slot, purge_runs
from storage.purges import delete_each
from tests.contract.conftest import MakeStore

AT = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


async def _two_instances(make: MakeStore) -> tuple[DocumentStore, DocumentStore]:
    first, second = make(), make()
    await first.open()
    await second.open()
    return first, second


async def test_each_period_runs_on_exactly_one_instance(document_backend: MakeStore) -> None:
    first, second = await _two_instances(document_backend)
    try:
        ran = []
        for minute in range(0, 60, 4):  # both wake every 4 minutes in 5-minute periods
            now = AT + timedelta(minutes=minute)
            claims = await asyncio.gather(
                claim_slot(first, "reconcile", 300, now, "a"),
                claim_slot(second, "reconcile", 300, now + timedelta(seconds=30), "b"),
            )
            ran += [now for won in claims if won]
        periods = {int(t.timestamp() // 300) for t in ran}
        assert len(ran) == len(periods) == 12  # twelve periods in the hour, each run once
        assert await claim_slot(first, "purge", 300, AT, "a")  # another job has its own slots
    finally:
        await first.close()
        await second.close()


async def test_racing_cleanups_both_finish_and_delete_each_record_once(
    document_backend: MakeStore,
) -> None:
    first, second = await _two_instances(document_backend)
    try:
        for n in range(6):
            await claim_slot(first, "job", 60, AT - timedelta(days=3, minutes=n), "a")
        old = await first.find(RUNS)
        gone = await asyncio.gather(delete_each(first, RUNS, old), delete_each(second, RUNS, old))
        assert sum(gone) == 6 and await first.find(RUNS) == []
        await claim_slot(first, "job", 60, AT - timedelta(days=3), "a")
        await claim_slot(first, "job", 60, AT, "a")
        assert sum(await asyncio.gather(purge_runs(first, AT), purge_runs(second, AT))) == 1
        assert [d["at"] for d in await second.find(RUNS)] == [AT.isoformat()]
    finally:
        await first.close()
        await second.close()
