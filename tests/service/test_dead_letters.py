"""Work the outbox gave up on: every topic listed for supervisors (what, whose, why, since when),
sent back one by one or a topic at a time, each retry audited; a correction notice that cannot
reach its applicant flags the case for the department until it is delivered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from app.domain.actors import Actor, Role
from app.domain.cases import MaterialRef
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted
from app.domain.notices import Correction
from app.services.audit import AUDIT
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.dead_letters import DeadLetters
from app.services.notify import NOTIFY_TOPIC
from app.settings import Settings
from app.wiring.demo import load_demo_data
from bot.client import WeChatUnavailable
from payments.port import GatewayRefused
from storage.outbox import OUTBOX, OutboxDispatcher, OutboxMessage, enqueue_alone
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

CITIZEN = Actor("demo-citizen", Role.APPLICANT)  # 张三 in the demo accounts
GA = Actor("r-ga", Role.REVIEWER, department="ga")
SUPERVISOR = Actor("demo-supervisor", Role.SUPERVISOR)
RESIDENCE = "11350100MB0315387H-QR-00101"  # 居住证首次申领, ga
WECHAT_DOWN = WeChatUnavailable("POST /cgi-bin/message/custom/send: HTTP 500, not a JSON object")
Handler = Callable[[OutboxMessage], Awaitable[None]]


@pytest.fixture
async def cases(store: SqliteDocumentStore, settings: Settings, clock: Clock) -> CaseService:
    await load_demo_data(store, settings, clock())
    return CaseService(
        store, CalendarService(store, statutory=lambda d: d.weekday() < 5), clock=clock
    )


@pytest.fixture
def dead(store: SqliteDocumentStore, clock: Clock) -> DeadLetters:
    return DeadLetters(store, clock=clock)


async def returned(cases: CaseService) -> str:
    """A submitted case its department returns: a correction notice is queued for 张三."""
    case = await cases.open(CITIZEN, RESIDENCE)
    for slot in case.missing_materials():
        ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
        case = await cases.attach(CITIZEN, case.number, slot.id, ref, version=None)
    number = (await cases.submit(CITIZEN, case.number, version=None)).number
    fix = [Correction(None, ("blurry",), "请重新拍摄")]
    await cases.return_for_correction(GA, number, fix, version=None)
    return number


async def run(store: SqliteDocumentStore, clock: Clock, handlers: dict[str, Handler]) -> None:
    """Deliver what is due with ``handlers``, giving up on a message at its first failure."""
    await OutboxDispatcher(store, handlers, clock=clock, max_attempts=1).dispatch_once()


def failing(error: Exception) -> Handler:
    async def handler(message: OutboxMessage) -> None:
        raise error

    return handler


async def test_every_topic_given_up_on_is_listed_with_whose_why_and_since_when(
    store: SqliteDocumentStore, cases: CaseService, dead: DeadLetters, clock: Clock
) -> None:
    number = await returned(cases)
    refund = {"case": number, "out_request_no": f"{number}-R1"}
    await enqueue_alone(store, topic="payment.refund", key="refund:R1", payload=refund, now=clock())
    died_at = clock()
    await run(store, clock, {
        NOTIFY_TOPIC: failing(WECHAT_DOWN),
        "payment.refund": failing(GatewayRefused("ACQ.SELLER_BALANCE_NOT_ENOUGH", "余额不足")),
    })  # fmt: skip
    clock.advance(hours=2)

    families = await dead.listing(SUPERVISOR)
    assert [(f.name, f.count) for f in families] == [
        ("通知", 2),
        ("支付", 1),
    ]  # submitted, returned
    [notices] = families[0].topics
    assert (notices.topic, notices.label) == (NOTIFY_TOPIC, "办件通知")
    for letter in notices.letters:
        assert (letter.case, letter.whom) == (number, "张*")  # never the whole name
        assert letter.why == "微信接口不可用" and "HTTP 500" in letter.error
        assert letter.since == died_at.isoformat(timespec="microseconds")  # not the time now
    [[refunds]] = [f.topics for f in families[1:]]
    [refund_letter] = refunds.letters
    assert (refunds.label, refund_letter.why) == ("退款", "支付宝拒绝")
    assert "ACQ.SELLER_BALANCE_NOT_ENOUGH" in refund_letter.error

    with pytest.raises(NotPermitted):
        await dead.listing(GA)


async def test_a_supervisor_sends_work_back_one_by_one_or_a_topic_at_once_each_time_audited(
    store: SqliteDocumentStore, cases: CaseService, dead: DeadLetters, clock: Clock
) -> None:
    number = await returned(cases)
    await run(store, clock, {NOTIFY_TOPIC: failing(WECHAT_DOWN)})
    first, second = [d["_id"] for d in await store.find(OUTBOX, {"status": "dead"})]

    with pytest.raises(NotPermitted):
        await dead.retry(GA, first)
    await dead.retry(SUPERVISOR, first)
    back = await store.get(OUTBOX, first)
    assert back is not None and (back["status"], back["attempts"]) == ("pending", 0)
    with pytest.raises(InvalidTransition):
        await dead.retry(SUPERVISOR, first)  # already back at work
    with pytest.raises(NotFoundError):
        await dead.retry(SUPERVISOR, "no-such-key")

    clock.advance(minutes=1)
    assert await dead.retry_topic(SUPERVISOR, NOTIFY_TOPIC) == 1  # the other one
    assert (await store.get(OUTBOX, second) or {})["status"] == "pending"
    with pytest.raises(NotFoundError):
        await dead.retry_topic(SUPERVISOR, NOTIFY_TOPIC)
    audits = await store.find(AUDIT, {"action": "outbox.requeued"}, sort=[("at", 1)])
    assert [(a["subject"], a["actor"], a["detail"]["bulk"]) for a in audits] == [
        (f"outbox:{first}", SUPERVISOR.id, False),
        (f"outbox:{second}", SUPERVISOR.id, True),
    ]
    assert all(a["detail"]["case"] == number for a in audits)


async def test_an_undelivered_correction_notice_flags_the_case_until_it_is_delivered(
    store: SqliteDocumentStore, cases: CaseService, dead: DeadLetters, clock: Clock
) -> None:
    number = await returned(cases)
    await run(store, clock, {NOTIFY_TOPIC: failing(WECHAT_DOWN)})

    [flag] = await dead.unreached("ga")
    assert (flag.case, flag.notice) == (number, f"/h5/cases/{number}/notices/1")
    assert await dead.unreached("mz") == []  # another department's reviewers are not asked
    assert await dead.unreached_case(number) == flag  # only the correction notice flags

    await dead.retry_topic(SUPERVISOR, NOTIFY_TOPIC)
    assert await dead.unreached("ga") == [flag]  # tried again: still not through

    sent: list[str] = []

    async def deliver(message: OutboxMessage) -> None:
        sent.append(message.payload["text"])

    await OutboxDispatcher(store, {NOTIFY_TOPIC: deliver}, clock=clock).dispatch_once()
    assert len(sent) == 2
    assert await dead.unreached("ga") == [] and await dead.unreached_case(number) is None


async def test_a_case_that_moved_on_is_no_longer_flagged(
    store: SqliteDocumentStore, cases: CaseService, dead: DeadLetters, clock: Clock
) -> None:
    number = await returned(cases)
    await run(store, clock, {NOTIFY_TOPIC: failing(WECHAT_DOWN)})
    assert await dead.unreached_case(number) is not None

    # The department phoned; the applicant corrected and sent the case back.
    await cases.submit(CITIZEN, number, version=None)
    assert await dead.unreached_case(number) is None
    assert len(await dead.listing(SUPERVISOR)) == 1  # the notice is still there to retry
