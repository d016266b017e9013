"""Real-name binding: verified or nothing, one WeChat account per person, capped attempts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.realname.demo import DemoVerifier, demo_verifier
from app.realname.simulator import Fault
from app.services.accounts import account_of_openid
from app.services.binding import PER_ACCOUNT, BindingService
from storage.outbox import OutboxDispatcher
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

ZHANG = ("张三", "11010519491231002X")
A, B = "oPhone-A", "oPhone-B"


@pytest.fixture
async def faceid() -> AsyncIterator[DemoVerifier]:
    async with demo_verifier() as running:
        yield running


@pytest.fixture
def binding(store: SqliteDocumentStore, clock: Clock, faceid: DemoVerifier) -> BindingService:
    return BindingService(store, faceid.verifier, clock=clock)


async def bind(
    binding: BindingService, store: SqliteDocumentStore, openid: str, name: str, number: str
) -> str:
    """Ask, run the queued check, return what the chat is told (the reply if nothing queued)."""
    reply = await binding.request(openid, name=name, id_number=number, consent="v1")
    jobs = OutboxDispatcher(store, binding.handlers(), topics=binding.handlers())
    if await jobs.dispatch_once() == 0:
        return reply
    docs = await store.find("outbox", {"topic": "wechat.text", "payload.openid": openid})
    return sorted(docs, key=lambda d: d["seq"])[-1]["payload"]["text"]


async def test_a_wrong_name_or_unknown_number_binds_nothing_and_says_what_to_fix(
    binding: BindingService, store: SqliteDocumentStore
) -> None:
    told = await bind(binding, store, A, "李四", ZHANG[1])
    assert "姓名与身份证号码不一致" in told
    told = await bind(binding, store, A, "张三", "110101200001010010")  # valid, not on record
    assert "未查询到" in told
    assert await account_of_openid(store, A) is None
    assert await store.count("users", {"id_number": ZHANG[1]}) == 0


@pytest.mark.parametrize("fault", [Fault.INTERNAL_ERROR, Fault.GARBAGE, Fault.RATE_LIMITED])
async def test_an_unavailable_register_never_becomes_verified(
    binding: BindingService, store: SqliteDocumentStore, faceid: DemoVerifier, fault: Fault
) -> None:
    faceid.simulator.simulator.fault = fault
    told = await bind(binding, store, A, *ZHANG)
    assert "暂时不可用" in told and "未绑定" in told
    assert await account_of_openid(store, A) is None


async def test_a_days_attempts_are_capped_per_account_before_the_provider_is_paid(
    binding: BindingService, store: SqliteDocumentStore, faceid: DemoVerifier
) -> None:
    for _ in range(PER_ACCOUNT):
        await bind(binding, store, A, "李四", ZHANG[1])
    calls = faceid.simulator.simulator.calls
    told = await bind(binding, store, A, *ZHANG)  # even the right pair, today
    assert "次数已用完" in told
    assert faceid.simulator.simulator.calls == calls
    assert await account_of_openid(store, A) is None


async def test_guessing_one_number_from_many_accounts_is_capped_too(
    binding: BindingService, store: SqliteDocumentStore, faceid: DemoVerifier
) -> None:
    for n in range(PER_ACCOUNT):
        await bind(binding, store, f"oGuess-{n}", f"王{n}{n}", ZHANG[1])
    calls = faceid.simulator.simulator.calls
    assert "次数已用完" in await bind(binding, store, "oGuess-x", *ZHANG)
    assert faceid.simulator.simulator.calls == calls


async def test_binding_a_held_number_elsewhere_moves_the_person_and_tells_the_old_account(
    binding: BindingService, store: SqliteDocumentStore
) -> None:
    assert "绑定成功" in await bind(binding, store, A, *ZHANG)
    first = await account_of_openid(store, A)
    assert first is not None
    told = await bind(binding, store, B, *ZHANG)  # a new phone, verified again
    assert "绑定成功" in told
    moved = await account_of_openid(store, B)
    assert moved is not None and moved.id == first.id  # the same person: cases follow
    assert await account_of_openid(store, A) is None
    old = await store.find("outbox", {"topic": "wechat.text", "payload.openid": A})
    assert any("解除" in d["payload"]["text"] and "12345" in d["payload"]["text"] for d in old)
    assert await store.count("users", {"id_number": ZHANG[1]}) == 1


async def test_a_bound_account_cannot_take_on_a_second_person(
    binding: BindingService, store: SqliteDocumentStore, faceid: DemoVerifier
) -> None:
    await bind(binding, store, A, *ZHANG)
    calls = faceid.simulator.simulator.calls
    reply = await bind(binding, store, A, "李四", "110105198001010032")
    assert "只能绑定一个身份" in reply and "1101**********002X" in reply
    assert faceid.simulator.simulator.calls == calls  # refused before paying for a check
