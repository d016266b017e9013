"""One applicant's notices arrive in the order they were queued, through a process that died
mid-send and through WeChat refusing for a while: the chat's dispatcher as the app wires it.

Issue 20 saw a 补正告知书 arrive 90 s after the 预审通过 that followed it: the notice was leased
by a process killed mid-send, and the restarted one sent the next notice at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.services.notify import NOTIFY_TOPIC, notice_payload
from app.wiring.background import chat_dispatcher
from storage.outbox import OUTBOX, OutboxMessage, enqueue_alone
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

CORRECTION = "【补正告知】您的办件 BC20261102000001 需补正：身份证照片模糊"
APPROVED = "您的办件 BC20261102000001 状态更新为：预审通过"
OTHER = "您的办件 BC20261102000002 状态更新为：已受理"


class WeChat:
    """What reached each phone, in order; ``refusing`` makes every send fail as a 500 does."""

    def __init__(self) -> None:
        self.phones: dict[str, list[str]] = {}
        self.refusing = False
        self.hang = asyncio.Event()  # set: the next send hangs (the process dies in it)
        self.hanging = asyncio.Event()  # the send hangs now, its message leased

    async def ping(self) -> None:
        pass

    async def send(self, msg: OutboxMessage) -> None:
        if self.hang.is_set():
            self.hang.clear()
            self.hanging.set()
            await asyncio.Event().wait()
        if self.refusing:
            raise RuntimeError("WeChat answered 500")
        self.phones.setdefault(msg.payload["applicant_id"], []).append(msg.payload["text"])


def dispatcher(store: SqliteDocumentStore, wechat: WeChat, clock: Clock) -> Any:
    return chat_dispatcher(store, {NOTIFY_TOPIC: wechat.send}, wechat, clock)  # type: ignore[arg-type]


async def tell(store: SqliteDocumentStore, key: str, person: str, text: str, clock: Clock) -> None:
    payload = notice_payload(person, text, case="BC20261102000001")
    await enqueue_alone(store, topic=NOTIFY_TOPIC, key=key, payload=payload, now=clock())


async def test_a_notice_cut_off_by_a_crash_still_arrives_before_the_one_queued_after_it(
    store: SqliteDocumentStore, clock: Clock
) -> None:
    wechat = WeChat()
    await tell(store, "correction", "p-1", CORRECTION, clock)
    wechat.hang.set()
    dying = asyncio.create_task(dispatcher(store, wechat, clock).dispatch_once())
    await wechat.hanging.wait()
    dying.cancel()  # kill -9: the lease stays behind, held by no one
    await asyncio.gather(dying, return_exceptions=True)

    clock.advance(seconds=20)  # restarted; the applicant corrected, the reviewer approved
    await tell(store, "approved", "p-1", APPROVED, clock)
    restarted = dispatcher(store, wechat, clock)
    for _ in range(12):  # two minutes, looked at every 10 seconds
        await restarted.dispatch_once()
        clock.advance(seconds=10)

    assert wechat.phones["p-1"] == [CORRECTION, APPROVED]


async def test_a_notice_being_sent_by_one_instance_holds_back_its_applicants_next_on_another(
    store: SqliteDocumentStore, clock: Clock
) -> None:
    wechat = WeChat()
    await tell(store, "correction", "p-1", CORRECTION, clock)
    clock.advance(seconds=1)
    await tell(store, "approved", "p-1", APPROVED, clock)
    await tell(store, "other", "p-2", OTHER, clock)
    wechat.hang.set()
    first = asyncio.create_task(dispatcher(store, wechat, clock).dispatch_once())
    await wechat.hanging.wait()

    await dispatcher(store, wechat, clock).dispatch_once()  # the second instance
    assert wechat.phones == {"p-2": [OTHER]}  # someone else's notice does not wait
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)


async def test_a_notice_wechat_refuses_backs_off_without_holding_back_the_next_one(
    store: SqliteDocumentStore, clock: Clock
) -> None:
    """Refused, it dies within the hour and is flagged for the department to phone (the
    dead-letter flag): it must not make every later notice of the applicant wait for that."""
    wechat = WeChat()
    chat = dispatcher(store, wechat, clock)
    await tell(store, "correction", "p-1", CORRECTION, clock)
    wechat.refusing = True
    await chat.dispatch_once()
    wechat.refusing = False
    clock.advance(seconds=0.1)
    await tell(store, "approved", "p-1", APPROVED, clock)

    await chat.dispatch_once()
    assert wechat.phones == {"p-1": [APPROVED]}


async def test_a_stop_releases_the_notice_it_cut_off_which_still_goes_before_the_next(
    store: SqliteDocumentStore, clock: Clock
) -> None:
    wechat = WeChat()
    await tell(store, "correction", "p-1", CORRECTION, clock)
    wechat.hang.set()
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher(store, wechat, clock).run(stop, grace=0.1))
    await wechat.hanging.wait()
    stop.set()
    await asyncio.wait_for(running, timeout=5)

    doc = await store.get(OUTBOX, "correction")
    assert doc is not None
    assert (doc["status"], doc["last_error"], doc["unanswered"]) == (
        "pending",
        "cut off by a stop",
        1,  # it may have gone out: the no-duplicate rule counts it as a send left unanswered
    )
    clock.advance(seconds=5)  # restarted
    await tell(store, "approved", "p-1", APPROVED, clock)
    restarted = dispatcher(store, wechat, clock)
    for _ in range(8):
        await restarted.dispatch_once()
        clock.advance(seconds=10)
    assert wechat.phones["p-1"] == [CORRECTION, APPROVED]
