"""Transactional outbox: side effects stored with the state change, then dispatched at least once.

A service queues a message with ``enqueue(tx, ...)`` in the same transaction as the change that
implies it, so the side effect is queued if and only if the change commits (``enqueue_alone``
when there is no change to go with it). The store wakes the dispatchers after every commit that
wrote to the outbox (``DocumentStore.watch``). ``OutboxDispatcher`` claims due
messages by compare-and-set (a lease), calls the topic's handler with the idempotency key, and
records the outcome. A process killed mid-message leaves a lease that expires and is claimed
again: delivery is at least once, so handlers pass the key on for the third party to dedupe.

Status: pending -> leased -> done | pending (retry after backoff) | dead (after max_attempts,
kept for supervisors). While leased, ``next_attempt_at`` is the lease's expiry. ``dead_at`` says
since when a message has been undelivered: set when it first dies, kept while a person's
``requeue`` tries it again, cleared once it is delivered.

A third party that takes a message but loses its answer (a timeout, a dropped connection) may
have acted, so a retry may duplicate it. Such a failure (``unanswered`` errors, and the handler's
own timeout) waits at least ``no_answer_delay``; after ``UNANSWERED_IN_A_ROW`` of them in a row
(``unanswered`` on the message) the next attempt waits ``silence_delay`` and, where the topic
has a ``probe``, goes out only once the third party has answered the probe. A store that fails
the dispatcher (a full disk) makes it back off too, and say so once per ``log_every``.

Order: messages due at one instant go in the order they were queued. A dispatcher given
``lanes`` also keeps each lane (one applicant's notices) in order across failures and restarts:
a message waits while one queued before it in its lane is being sent (leased, perhaps by a
process that died mid-send: it goes again once the lease expires) or not tried yet (queued on
another instance), so a later notice never overtakes it. One that failed holds no one up: refused,
it backs off, dies within the hour and is flagged for a person (``requeue``); sent unanswered, it
is most likely on the phone already.

Stopping: a dispatcher stops claiming, gives what it runs ``grace`` seconds, and releases what
is still running then as a send left unanswered (it may have gone out: ``no_answer_delay``, and
the count of unanswered sends that keeps duplicates down), holding its lane as a lease would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog

from storage.documents import (
    Document,
    DocumentStore,
    DuplicateKey,
    NotFound,
    Transaction,
    VersionConflict,
)
from storage.outbox_trouble import StoreTrouble

OUTBOX = "outbox"
PENDING, LEASED, DONE, DEAD = "pending", "leased", "done", "dead"
SHUTDOWN_GRACE = 5.0  # seconds a stopping dispatcher gives the messages it is running
UNANSWERED_IN_A_ROW = 2  # sends without an answer before the third party must answer again

log = structlog.get_logger(__name__)

# Messages queued at the same instant (one transaction's notices: 预审通过, then 待取件) keep
# the order they were queued in; keys such as "notify:N:10" and "notify:N:9" sort the wrong way.
_queued = itertools.count()


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC, so string order is time order in every store."""
    if moment.tzinfo is None:
        raise ValueError("outbox times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def outbox_message(*, topic: str, key: str, payload: dict[str, Any], now: datetime) -> Document:
    """A document for the "outbox" collection; ``key`` is its ``_id`` and idempotency key.

    Inserting the same key twice raises DuplicateKey: the side effect is already queued.
    """
    return {
        "_id": key,
        "topic": topic,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": iso(now),
        "created_at": iso(now),
        "seq": next(_queued),
        "last_error": None,
    }


async def enqueue(
    tx: Transaction,
    *,
    topic: str,
    key: str,
    payload: dict[str, Any],
    now: datetime,
    once: bool = False,
) -> bool:
    """Queue a message in ``tx``: the one way a side effect is queued; True when it was.

    ``key`` is the idempotency key. ``once``: a key queued before is left as it is (False),
    where a plain enqueue of it makes the transaction fail with DuplicateKey.
    """
    if once and await tx.get(OUTBOX, key) is not None:
        return False
    await tx.insert(OUTBOX, outbox_message(topic=topic, key=key, payload=payload, now=now))
    return True


async def enqueue_alone(
    store: DocumentStore, *, topic: str, key: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Queue a message in a transaction of its own; False when ``key`` was queued before (a
    rerun of the job that queues it)."""
    try:
        async with store.transaction() as tx:
            await enqueue(tx, topic=topic, key=key, payload=payload, now=now)
    except DuplicateKey:
        return False
    return True


@dataclass(frozen=True)
class OutboxMessage:
    """What a handler receives; ``attempts`` counts this delivery (1 on the first)."""

    key: str
    topic: str
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime


Handler = Callable[[OutboxMessage], Awaitable[None]]
Probe = Callable[[], Awaitable[object]]  # asks a third party something harmless; raises unanswered
# What came of a failed attempt: the third party answered (a refusal, an error), the message went
# out and no answer came back, or it never went out (the probe before it got no answer).
Outcome = Literal["answered", "unanswered", "not sent"]
Place = tuple[str, int, str]  # created_at, seq, key: the order messages were queued in


class OutboxDispatcher:
    """Delivers due outbox messages to their topic's handler; safe to run on many instances."""

    def __init__(
        self,
        store: DocumentStore,
        handlers: Mapping[str, Handler],
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 50,
        max_attempts: int = 12,
        lease_seconds: int = 60,
        base_delay: float = 1.0,
        max_delay: float = 3600.0,
        unknown_topic_delay: float = 60.0,
        topics: Collection[str] | None = None,
        concurrency: int = 1,
        unanswered: tuple[type[BaseException], ...] = (),
        probes: Mapping[str, Probe] | None = None,
        no_answer_delay: float = 60.0,
        silence_delay: float = 900.0,
        trouble: StoreTrouble | None = None,
        lanes: Mapping[str, str] | None = None,
    ) -> None:
        """``topics`` limits this dispatcher to some topics (None: all), so slow work such as
        OCR gets its own dispatcher and never holds up chat notices; ``concurrency`` messages
        run at once (1 keeps one applicant's notices in order). ``unanswered``: the handlers'
        errors that mean the third party may have acted without answering; ``probes``: per
        topic, a question the third party must answer before a message it left unanswered
        twice goes out again. ``lanes``: per topic, the payload field naming its lane (the
        applicant), whose messages go one after another in the order they were queued."""
        self._store = store
        self._handlers = handlers
        self._topics = sorted(topics) if topics is not None else None
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._clock = clock
        self._batch = batch
        self._max_attempts = max_attempts
        self._lease = timedelta(seconds=lease_seconds)
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._unknown_topic_delay = timedelta(seconds=unknown_topic_delay)
        # Our own timeout too: the handler may have acted before it was cut off.
        self._unanswered: tuple[type[BaseException], ...] = (TimeoutError, *unanswered)
        self._probes = probes or {}
        self._no_answer_delay = no_answer_delay
        self._silence_delay = silence_delay
        self._trouble = trouble or StoreTrouble(",".join(self._topics or ["*"]))
        self._lanes = dict(lanes or {})

    def wake(self) -> None:
        """Something was just queued: look now rather than at the next poll."""
        self._wake.set()

    async def run(
        self, stop: asyncio.Event, interval: float = 0.5, *, grace: float = SHUTDOWN_GRACE
    ) -> None:
        """Dispatch until ``stop`` is set, up to ``concurrency`` messages at a time.

        A message starts as soon as a slot is free, never waiting for others to finish. With
        nothing due, it waits ``interval`` seconds: the poll finds what other instances
        queued, and ``wake`` saves this instance's own messages the wait. While the store
        fails (a full disk), it waits as ``StoreTrouble`` says instead of trying again at once.
        Once stopped, what runs has ``grace`` seconds; what is still running then is released.
        """
        running: dict[str, asyncio.Task[int]] = {}

        def finished(task: asyncio.Task[int]) -> None:
            running.pop(task.get_name(), None)
            self._wake.set()  # a slot is free: look again

        try:
            while not stop.is_set():
                if (pause := self._trouble.pause()) > 0:
                    await _first_of(stop, seconds=pause)
                    continue
                self._wake.clear()  # before looking: a wake while looking is not lost
                try:
                    waits: dict[tuple[str, str], Place | None] = {}
                    for doc in await self._due():
                        if len(running) >= self._concurrency:
                            break
                        key = doc["_id"]
                        if key not in running and await self._in_turn(doc, waits):
                            running[key] = asyncio.create_task(self._guarded(doc), name=key)
                            running[key].add_done_callback(finished)
                except Exception as e:  # the store may be down for a while: keep the worker alive
                    self._trouble.failed(e)
                    continue
                await _first_of(stop, self._wake, seconds=interval)
        finally:
            # Let what is running finish for a moment; a message cut off after that is released
            # (if the process dies first, it is delivered again once its lease expires).
            if running:
                await asyncio.wait(list(running.values()), timeout=grace)
            cut = list(running)
            for task in list(running.values()):
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
            for key in cut:
                await self._release(key)

    async def dispatch_once(self) -> int:
        """Claim and handle up to ``batch`` due messages, oldest first; return how many ran."""

        async def one(doc: Document) -> int:
            async with self._slots:
                return await self._dispatch(doc)

        waits: dict[tuple[str, str], Place | None] = {}
        due = [doc for doc in await self._due() if await self._in_turn(doc, waits)]
        return sum(await asyncio.gather(*(one(doc) for doc in due)))

    async def _guarded(self, doc: Document) -> int:
        """``_dispatch``, with the store's failures (the handler's are recorded) backing off."""
        try:
            ran = await self._dispatch(doc)
        except Exception as e:
            self._trouble.failed(e)
            return 0
        self._trouble.ok()
        return ran

    async def _due(self) -> list[Document]:
        """Up to ``batch`` messages due now, oldest first (an expired lease counts as due);
        messages due at the same instant in the order they were queued."""
        now = iso(self._clock())
        due: list[Document] = []
        for status in (PENDING, LEASED):
            where: dict[str, Any] = {"status": status, "next_attempt_at": {"$lte": now}}
            if self._topics is not None:
                where["topic"] = {"$in": self._topics}
            due += await self._store.find(
                OUTBOX, where, sort=[("next_attempt_at", 1)], limit=self._batch
            )
        due.sort(key=lambda doc: (doc["next_attempt_at"], doc.get("seq", 0), doc["_id"]))
        return due[: self._batch]

    async def _in_turn(self, doc: Document, waits: dict[tuple[str, str], Place | None]) -> bool:
        """Whether ``doc`` may go now: no message queued before it in its lane holds it up.

        One holds up those after it while it is being sent, was cut off mid-send (leased by a
        process that died, or released by a stop) or is not tried yet. One that failed backs
        off on its own (see the module's docstring); one that died and was sent back by a
        person is late already.
        ``waits`` keeps each lane's first holder for one look at the due messages.
        """
        field = self._lanes.get(doc["topic"])
        lane = doc["payload"].get(field) if field else None
        if not field or not lane or doc.get("dead_at"):
            return True
        if (field, lane) not in waits:
            where = {
                "status": {"$in": [PENDING, LEASED]},
                "dead_at": None,
                "topic": {"$in": sorted(t for t, f in self._lanes.items() if f == field)},
                f"payload.{field}": lane,
            }
            sort = [("created_at", 1), ("seq", 1)]
            ahead = await self._store.find(OUTBOX, where, sort=sort, limit=self._batch)
            holder = next((d for d in ahead if _holds_its_lane(d)), None)
            if holder is None and len(ahead) == self._batch:
                holder = ahead[-1]  # more than one look reads: wait behind what was read
            waits[field, lane] = _place(holder) if holder else None
        first = waits[field, lane]
        return first is None or _place(doc) <= first

    async def _dispatch(self, doc: Document) -> int:
        key, topic, attempts = doc["_id"], doc["topic"], doc["attempts"]
        handler = self._handlers.get(topic)
        now = self._clock()
        if handler is None:
            log.warning("outbox_no_handler", topic=topic, key=key)  # left pending
            await self._update(doc, next_attempt_at=iso(now + self._unknown_topic_delay))
            return 0
        if attempts >= self._max_attempts:  # its last lease expired: the process died handling it
            error = doc.get("last_error") or "lease expired"
            await self._update(doc, status=DEAD, last_error=error, dead_at=_dead_since(doc, now))
            return 0
        lease = iso(now + self._lease)
        claimed = await self._update(
            doc, status=LEASED, attempts=attempts + 1, next_attempt_at=lease, cut_off=False
        )
        if claimed is None:
            return 0  # another dispatcher claimed it first
        if (probe := self._probes.get(topic)) and _unanswered(claimed) >= UNANSWERED_IN_A_ROW:
            try:  # sent twice without an answer: not a third time until the provider answers
                async with asyncio.timeout(self._lease.total_seconds() / 4):
                    await probe()
            except Exception as e:
                error = f"not sent, the probe got no answer: {_said(e)}"
                await self._failed(claimed, error, "not sent")
                return 1
        message = OutboxMessage(
            key, topic, doc["payload"], attempts + 1, datetime.fromisoformat(doc["created_at"])
        )
        try:
            # Finish well inside the lease, so no other dispatcher can claim it while it runs.
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                await handler(message)
        except Exception as e:
            outcome: Outcome = "unanswered" if isinstance(e, self._unanswered) else "answered"
            await self._failed(claimed, _said(e), outcome)
        else:
            done = {"done_at": iso(self._clock()), "dead_at": None, "unanswered": 0}
            await self._update(claimed, status=DONE, last_error=None, **done)
        return 1

    async def _release(self, key: str) -> None:
        """A message cut off by a stop may have gone out: it waits as an unanswered send does
        and says why; like a lease, it holds back the rest of its lane until it is sent again."""
        with contextlib.suppress(Exception):  # the store may be what stops: the lease remains
            doc = await self._store.get(OUTBOX, key)
            if doc is not None and doc["status"] == LEASED:
                await self._failed(doc | {"cut_off": True}, "cut off by a stop", "unanswered")

    async def _failed(self, claimed: Document, error: str, outcome: Outcome) -> None:
        """Record a failed attempt, counting the sends in a row that got no answer."""
        attempts, now = claimed["attempts"], self._clock()
        silent = {"answered": 0, "unanswered": _unanswered(claimed) + 1}.get(
            outcome, _unanswered(claimed)
        )
        if attempts >= self._max_attempts:
            log.error("outbox_dead", key=claimed["_id"], attempts=attempts, error=error)
            dead = {"dead_at": _dead_since(claimed, now), "unanswered": silent}
            await self._update(claimed, status=DEAD, last_error=error, **dead)
            return
        delay = min(self._max_delay, self._base_delay * 2 ** (attempts - 1))
        if silent >= UNANSWERED_IN_A_ROW:
            delay = max(delay, self._silence_delay)  # a wait is better than a duplicate storm
        elif silent:
            delay = max(delay, self._no_answer_delay)
        delay *= random.uniform(0.5, 1.0)  # noqa: S311 -- jitter spreads retries, not a secret
        log.warning("outbox_retry", key=claimed["_id"], attempt=attempts, delay_s=round(delay, 1))
        retry_at = iso(now + timedelta(seconds=delay))
        await self._update(
            claimed, status=PENDING, last_error=error, next_attempt_at=retry_at, unanswered=silent
        )

    async def _update(self, doc: Document, **changes: Any) -> Document | None:
        """Compare-and-set ``doc`` with ``changes``; None if someone else changed it first."""
        try:
            async with self._store.transaction() as tx:
                return await tx.replace(
                    OUTBOX, {**doc, **changes}, expected_version=doc["_version"]
                )
        except (VersionConflict, NotFound):
            return None


def _holds_its_lane(doc: Document) -> bool:
    """Being sent, cut off mid-send (by a crash: leased; by a stop: ``cut_off``), or untried."""
    return doc["status"] == LEASED or bool(doc.get("cut_off")) or not doc["attempts"]


def _place(doc: Document) -> Place:
    """Where a message stands in the order of queueing."""
    return (doc["created_at"], doc.get("seq", 0), doc["_id"])


def _unanswered(doc: Document) -> int:
    """How many times in a row the message went out and no answer came back."""
    return int(doc.get("unanswered") or 0)


def _dead_since(doc: Document, now: datetime) -> str:
    return str(doc.get("dead_at") or iso(now))  # a requeued message that died again: since then


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


async def _first_of(*events: asyncio.Event, seconds: float) -> None:
    """Wait until one of ``events`` is set, or ``seconds``."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def requeued(doc: Document, now: datetime) -> Document:
    """A dead message with a fresh round of attempts, due ``now``: for ``tx.replace``.

    It stays ``dead_at`` (undelivered since then) until delivered, and keeps its count of
    unanswered sends: a person's retry never lets a notice go out a third time unanswered.
    """
    return {**doc, "status": PENDING, "attempts": 0, "next_attempt_at": iso(now)}


async def requeue(store: DocumentStore, key: str, now: datetime) -> bool:
    """Give a dead message a fresh round of attempts (once a person fixed what killed it).

    False if there is no such message or it is not dead (delivered, or still being tried).
    """
    async with store.transaction() as tx:
        doc = await tx.get(OUTBOX, key)
        if doc is None or doc["status"] != DEAD:
            return False
        await tx.replace(OUTBOX, requeued(doc, now), expected_version=doc["_version"])
    return True


async def purge_done(
    store: DocumentStore, now: datetime, *, keep: timedelta, batch: int = 500
) -> int:
    """Delete delivered messages older than ``keep``; dead ones stay for supervisors to see.

    The idempotency a key gives lasts as long as its message is kept: ``keep`` must outlast
    any retry of the change that queued it (days, not minutes).
    """
    cutoff = iso(now - keep)
    old = await store.find(
        OUTBOX, {"status": DONE, "done_at": {"$lt": cutoff}}, sort=[("done_at", 1)], limit=batch
    )
    for doc in old:
        try:
            async with store.transaction() as tx:
                await tx.delete(OUTBOX, doc["_id"], expected_version=doc["_version"])
        except (VersionConflict, NotFound):
            continue  # touched meanwhile: the next purge decides again
    return len(old)
