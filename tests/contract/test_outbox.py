"""The transactional outbox over every document-store adapter."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.documents import DocumentStore, DuplicateKey
from storage.outbox import (
    OUTBOX,
    OutboxDispatcher,
    OutboxMessage,
    enqueue,
    enqueue_alone,
    outbox_message,
    purge_done,
    requeue,
)
from storage.outbox_trouble import StoreTrouble
from tests.conftest import Clock
from tests.full_disk import FullDocuments


class Recorder:
    """A handler that records what it receives and fails its first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[OutboxMessage] = []

    async def __call__(self, message: OutboxMessage) -> None:
        self.received.append(message)
        if len(self.received) <= self.failures:
            raise ConnectionError("courier API down")


async def queue(
    store: DocumentStore, key: str, now: datetime, topic: str = "chat", **payload: Any
) -> None:
    async with store.transaction() as tx:
        await tx.insert(OUTBOX, outbox_message(topic=topic, key=key, payload=payload, now=now))


async def outbox(store: DocumentStore, key: str) -> dict[str, Any]:
    doc = await store.get(OUTBOX, key)
    assert doc is not None
    return doc


def logged(buffer: io.StringIO) -> list[dict[str, Any]]:
    """The JSON lines the service's log configuration wrote to ``buffer``."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


async def test_a_message_from_a_rolled_back_transaction_is_never_dispatched(
    document_store: DocumentStore, clock: Clock
):
    with pytest.raises(RuntimeError):
        async with document_store.transaction() as tx:
            await tx.insert("cases", {"_id": "c1", "state": "accepted"})
            await tx.insert(
                OUTBOX, outbox_message(topic="chat", key="k", payload={}, now=clock.now)
            )
            raise RuntimeError("rule refused the change")
    handler = Recorder()

    assert (
        await OutboxDispatcher(document_store, {"chat": handler}, clock=clock).dispatch_once() == 0
    )
    assert handler.received == []


async def test_the_same_side_effect_cannot_be_queued_twice(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "BCM-1:accepted:chat", clock.now)
    with pytest.raises(DuplicateKey):
        await queue(document_store, "BCM-1:accepted:chat", clock.now)


async def test_a_message_is_dispatched_once_when_its_handler_succeeds(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "BCM-1:accepted:chat", clock.now, openid="o-1", text="受理")
    handler = Recorder()
    dispatcher = OutboxDispatcher(document_store, {"chat": handler}, clock=clock)

    assert await dispatcher.dispatch_once() == 1
    assert await dispatcher.dispatch_once() == 0

    assert handler.received == [
        OutboxMessage(
            "BCM-1:accepted:chat", "chat", {"openid": "o-1", "text": "受理"}, 1, clock.now
        )
    ]
    doc = await outbox(document_store, "BCM-1:accepted:chat")
    assert (doc["status"], doc["attempts"], doc["last_error"]) == ("done", 1, None)


async def test_notices_queued_together_reach_the_applicant_in_the_order_they_were_queued(
    document_store: DocumentStore, clock: Clock
):
    # One approval queues "approved" (event 9) then "awaiting pickup" (event 10) at one instant;
    # as strings their keys sort the other way round.
    async with document_store.transaction() as tx:
        for seq, text in ((9, "预审通过"), (10, "待取件"), (11, "已预约取件")):
            payload = {"text": text}
            message = outbox_message(topic="chat", key=f"n:{seq}", payload=payload, now=clock.now)
            await tx.insert(OUTBOX, message)
    handler = Recorder()

    assert await OutboxDispatcher(document_store, {"chat": handler}, clock=clock).dispatch_once()
    assert [m.payload["text"] for m in handler.received] == ["预审通过", "待取件", "已预约取件"]


async def test_a_failure_is_retried_later_with_exponential_backoff(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "k", clock.now)
    handler = Recorder(failures=3)
    dispatcher = OutboxDispatcher(document_store, {"chat": handler}, clock=clock, base_delay=10)

    for attempt, delay in [(1, 10), (2, 20), (3, 40)]:
        assert await dispatcher.dispatch_once() == 1
        doc = await outbox(document_store, "k")
        assert (doc["status"], doc["attempts"]) == ("pending", attempt)
        assert doc["last_error"] == "ConnectionError: courier API down"
        retry_at = datetime.fromisoformat(doc["next_attempt_at"])
        assert clock.now + timedelta(seconds=delay / 2) <= retry_at
        assert retry_at <= clock.now + timedelta(seconds=delay)

        clock.advance(seconds=delay / 2 - 0.001)  # before the earliest retry: not due
        assert await dispatcher.dispatch_once() == 0
        clock.advance(seconds=delay / 2 + 0.001)

    assert await dispatcher.dispatch_once() == 1
    assert [m.attempts for m in handler.received] == [1, 2, 3, 4]
    assert (await outbox(document_store, "k"))["status"] == "done"


async def test_a_message_failing_max_attempts_times_is_dead_and_kept(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "k", clock.now)
    handler = Recorder(failures=99)
    dispatcher = OutboxDispatcher(
        document_store, {"chat": handler}, clock=clock, max_attempts=3, max_delay=60
    )

    for _ in range(5):
        await dispatcher.dispatch_once()
        clock.advance(seconds=60)

    assert len(handler.received) == 3
    doc = await outbox(document_store, "k")
    assert (doc["status"], doc["attempts"]) == ("dead", 3)
    assert doc["last_error"] == "ConnectionError: courier API down"


async def test_a_dead_message_requeued_by_a_person_gets_a_fresh_round_and_is_delivered(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "k", clock.now)
    handler = Recorder(failures=2)
    dispatcher = OutboxDispatcher(
        document_store, {"chat": handler}, clock=clock, max_attempts=2, max_delay=60
    )
    for _ in range(3):
        await dispatcher.dispatch_once()
        clock.advance(seconds=60)
    assert (await outbox(document_store, "k"))["status"] == "dead"

    assert await requeue(document_store, "k", clock.now) is True
    assert await requeue(document_store, "k", clock.now) is False  # pending: nothing to do
    assert await requeue(document_store, "nope", clock.now) is False
    assert await dispatcher.dispatch_once() == 1
    doc = await outbox(document_store, "k")
    assert (doc["status"], doc["attempts"]) == ("done", 1)
    assert len(handler.received) == 3


async def test_a_message_whose_lease_expired_is_dispatched_again(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "k", clock.now)
    entered = asyncio.Event()

    async def hangs(message: OutboxMessage) -> None:
        entered.set()
        await asyncio.Event().wait()

    first = OutboxDispatcher(document_store, {"chat": hangs}, clock=clock, lease_seconds=60)
    killed = asyncio.create_task(first.dispatch_once())
    await entered.wait()
    killed.cancel()  # the process dies mid-message, leaving its lease behind
    with pytest.raises(asyncio.CancelledError):
        await killed
    assert (await outbox(document_store, "k"))["status"] == "leased"

    handler = Recorder()
    restarted = OutboxDispatcher(document_store, {"chat": handler}, clock=clock, lease_seconds=60)
    clock.advance(seconds=59)
    assert await restarted.dispatch_once() == 0  # the lease still holds
    clock.advance(seconds=1)
    assert await restarted.dispatch_once() == 1

    assert [m.attempts for m in handler.received] == [2]
    assert (await outbox(document_store, "k"))["status"] == "done"


async def test_a_message_whose_leases_keep_expiring_ends_dead(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "k", clock.now)
    doc = await outbox(document_store, "k")
    async with document_store.transaction() as tx:  # as a process that died on its last attempt
        await tx.replace(OUTBOX, {**doc, "status": "leased", "attempts": 3}, expected_version=1)
    handler = Recorder()

    dispatcher = OutboxDispatcher(document_store, {"chat": handler}, clock=clock, max_attempts=3)
    assert await dispatcher.dispatch_once() == 0

    assert handler.received == []
    doc = await outbox(document_store, "k")
    assert (doc["status"], doc["last_error"]) == ("dead", "lease expired")


async def test_two_dispatchers_never_run_one_message_at_the_same_time(
    document_store: DocumentStore, clock: Clock
):
    for n in range(6):
        await queue(document_store, f"k{n}", clock.now)
    running: set[str] = set()
    runs: list[str] = []
    overlaps: list[str] = []

    async def handler(message: OutboxMessage) -> None:
        if message.key in running:
            overlaps.append(message.key)
        running.add(message.key)
        runs.append(message.key)
        await asyncio.sleep(0.01)
        running.discard(message.key)

    one = OutboxDispatcher(document_store, {"chat": handler}, clock=clock)
    two = OutboxDispatcher(document_store, {"chat": handler}, clock=clock)
    handled = await asyncio.gather(one.dispatch_once(), two.dispatch_once())

    assert sum(handled) == 6
    assert overlaps == []
    assert sorted(runs) == [f"k{n}" for n in range(6)]


async def test_a_message_without_a_handler_stays_pending_until_one_exists(
    document_store: DocumentStore, clock: Clock, log_buffer: io.StringIO
):
    await queue(document_store, "k", clock.now, topic="sms")

    assert await OutboxDispatcher(document_store, {}, clock=clock).dispatch_once() == 0

    doc = await outbox(document_store, "k")
    assert (doc["status"], doc["attempts"]) == ("pending", 0)
    said = [line for line in logged(log_buffer) if line["event"] == "outbox_no_handler"]
    assert [(line["level"], line["topic"], line["key"]) for line in said] == [
        ("warning", "sms", "k")
    ]
    handler = Recorder()
    later = OutboxDispatcher(document_store, {"sms": handler}, clock=clock, unknown_topic_delay=60)
    clock.advance(seconds=60)
    assert await later.dispatch_once() == 1
    assert [m.key for m in handler.received] == ["k"]


async def test_run_dispatches_until_stopped(document_store: DocumentStore):
    delivered = asyncio.Event()

    async def handler(message: OutboxMessage) -> None:
        delivered.set()

    stop = asyncio.Event()
    worker = asyncio.create_task(
        OutboxDispatcher(document_store, {"chat": handler}).run(stop, interval=0.01)
    )
    await queue(document_store, "k", datetime.now(UTC))
    await asyncio.wait_for(delivered.wait(), 5)
    stop.set()
    await asyncio.wait_for(worker, 5)
    assert (await outbox(document_store, "k"))["status"] == "done"


async def test_slow_work_runs_on_its_own_dispatcher_and_never_holds_up_a_chat_notice(
    document_store: DocumentStore, clock: Clock
):
    release = asyncio.Event()
    started: list[str] = []

    async def slow_ocr(message: OutboxMessage) -> None:
        started.append(message.key)
        await release.wait()

    chat = Recorder()
    ocr = OutboxDispatcher(
        document_store, {"ocr": slow_ocr}, clock=clock, topics=["ocr"], concurrency=2
    )
    notices = OutboxDispatcher(document_store, {"chat": chat}, clock=clock, topics=["chat"])
    stop = asyncio.Event()
    # A long poll: only wake() can make these dispatchers look again in time.
    runs = [asyncio.create_task(d.run(stop, interval=60)) for d in (ocr, notices)]
    try:
        for n in range(3):
            await queue(document_store, f"photo-{n}", clock.now, topic="ocr")
        ocr.wake()
        await asyncio.wait_for(_until(lambda: len(started) == 2), 5)
        await queue(document_store, "notice", clock.now, topic="chat")
        notices.wake()
        # Two photos occupy both OCR slots; the notice goes out regardless.
        await asyncio.wait_for(_until(lambda: [m.key for m in chat.received] == ["notice"]), 5)
        assert started == ["photo-0", "photo-1"]  # the third waits for a free slot
        release.set()
        await asyncio.wait_for(_until(lambda: len(started) == 3), 5)
    finally:
        stop.set()
        await asyncio.gather(*runs)
    assert [d["status"] for d in await document_store.find(OUTBOX, {"topic": "ocr"})] == [
        "done"
    ] * 3


async def _until(check: Any) -> None:
    while not check():  # noqa: ASYNC110 - polls a condition set by handlers we do not own
        await asyncio.sleep(0.01)


async def test_delivered_messages_are_purged_after_a_while_and_dead_ones_kept(
    document_store: DocumentStore, clock: Clock
):
    for key in ("old-1", "old-2", "broken"):
        await queue(document_store, key, clock.now)
    assert (
        await OutboxDispatcher(document_store, {"chat": Recorder()}, clock=clock).dispatch_once()
        == 3
    )
    broken = await outbox(document_store, "broken")
    async with document_store.transaction() as tx:
        await tx.replace(OUTBOX, broken | {"status": "dead"}, expected_version=broken["_version"])
    clock.advance(days=8)
    await queue(document_store, "new", clock.now)
    await OutboxDispatcher(document_store, {"chat": Recorder()}, clock=clock).dispatch_once()
    assert await purge_done(document_store, clock.now, keep=timedelta(days=7)) == 2
    left = sorted(d["_id"] for d in await document_store.find(OUTBOX))
    assert left == ["broken", "new"]


async def test_a_key_is_queued_once_and_a_rerun_queues_nothing_new(
    document_store: DocumentStore, clock: Clock
):
    first = await enqueue_alone(
        document_store, topic="chat", key="told:1", payload={"n": 1}, now=clock.now
    )
    again = await enqueue_alone(
        document_store, topic="chat", key="told:1", payload={"n": 2}, now=clock.now
    )
    assert (first, again) == (True, False)
    async with document_store.transaction() as tx:  # in a change: once leaves the first alone
        await tx.insert("cases", {"_id": "c1"})
        assert not await enqueue(
            tx, topic="chat", key="told:1", payload={"n": 3}, now=clock.now, once=True
        )
    assert (await outbox(document_store, "told:1"))["payload"] == {"n": 1}
    assert await document_store.get("cases", "c1") is not None  # the change itself stood


async def test_a_dead_message_says_since_when_until_a_retry_delivers_it(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "k", clock.now)
    handler = Recorder(failures=4)
    dispatcher = OutboxDispatcher(
        document_store, {"chat": handler}, clock=clock, max_attempts=2, max_delay=60
    )

    async def two_attempts() -> datetime:
        for _ in range(2):
            await dispatcher.dispatch_once()
            last = clock.now
            clock.advance(seconds=60)
        return last

    died_at = await two_attempts()
    dead = await outbox(document_store, "k")
    assert (dead["status"], dead["dead_at"]) == ("dead", died_at.isoformat(timespec="microseconds"))

    await requeue(document_store, "k", clock.now)  # the cause was not fixed: it dies again
    await two_attempts()
    again = await outbox(document_store, "k")
    assert (again["status"], again["dead_at"]) == ("dead", dead["dead_at"])  # since the first time

    await requeue(document_store, "k", clock.now)
    assert (await outbox(document_store, "k"))["dead_at"] == dead["dead_at"]  # still undelivered
    await dispatcher.dispatch_once()
    delivered = await outbox(document_store, "k")
    assert (delivered["status"], delivered["dead_at"]) == ("done", None)


class NoAnswer(Exception):
    """What a client raises when its call went out and no answer came back."""


async def test_a_message_that_got_no_answer_waits_before_it_goes_again(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "k", clock.now)

    async def unanswered(message: OutboxMessage) -> None:
        raise NoAnswer("timed out")

    dispatcher = OutboxDispatcher(
        document_store, {"chat": unanswered}, clock=clock, unanswered=(NoAnswer,)
    )
    await dispatcher.dispatch_once()

    doc = await outbox(document_store, "k")
    retry_at = datetime.fromisoformat(doc["next_attempt_at"])
    assert retry_at >= clock.now + timedelta(seconds=30)  # not the 1 s an answered failure waits
    assert doc["unanswered"] == 1


async def test_a_message_unanswered_twice_goes_out_again_only_once_the_provider_answers(
    document_store: DocumentStore, clock: Clock
):
    await queue(document_store, "k", clock.now)
    sent: list[int] = []
    provider_answers = False

    async def send(message: OutboxMessage) -> None:
        sent.append(message.attempts)
        if not provider_answers:
            raise NoAnswer("connection dropped")

    async def probe() -> None:
        if not provider_answers:
            raise NoAnswer("no answer to the probe either")

    dispatcher = OutboxDispatcher(
        document_store,
        {"chat": send},
        clock=clock,
        unanswered=(NoAnswer,),
        probes={"chat": probe},
    )
    for _ in range(6):  # hours of silence
        await dispatcher.dispatch_once()
        clock.advance(hours=1)
    assert sent == [1, 2]
    doc = await outbox(document_store, "k")
    assert doc["status"] == "pending" and doc["last_error"].startswith("not sent")

    provider_answers = True
    await dispatcher.dispatch_once()
    assert sent == [1, 2, 7]
    doc = await outbox(document_store, "k")
    assert (doc["status"], doc["unanswered"]) == ("done", 0)


async def test_a_full_disk_makes_the_dispatcher_back_off_and_say_so_once(
    document_store: DocumentStore, log_buffer: io.StringIO
):
    await queue(document_store, "k", datetime.now(UTC))
    disk = FullDocuments(document_store)
    handler = Recorder()
    trouble = StoreTrouble("chat", first=0.02, most=0.1, log_every=60)
    dispatcher = OutboxDispatcher(disk, {"chat": handler}, trouble=trouble)
    stop = asyncio.Event()
    worker = asyncio.create_task(dispatcher.run(stop, interval=0.01))
    await asyncio.sleep(0.6)

    assert 2 <= disk.writes_tried <= 15  # without the back-off: one claim per poll, 60 or more
    said = [line for line in logged(log_buffer) if line["event"] == "outbox_store_failing"]
    assert len(said) == 1
    assert (said[0]["logger"], said[0]["dispatcher"]) == ("storage.outbox", "chat")
    assert said[0]["error_type"] == "StorageFull"
    assert "database or disk is full" in said[0]["error"]
    assert handler.received == []

    disk.full = False  # space again: it delivers by itself
    await asyncio.wait_for(_until(lambda: handler.received), 5)
    stop.set()
    await asyncio.wait_for(worker, 5)
    assert (await outbox(document_store, "k"))["status"] == "done"
    again = [line for line in logged(log_buffer) if line["event"] == "outbox_store_works_again"]
    assert len(again) == 1 and again[0]["dispatcher"] == "chat"
