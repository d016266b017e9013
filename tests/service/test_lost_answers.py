"""Chat notices when WeChat takes a message and its answer is lost or late: no duplicate storm.

The production client and the chat's dispatcher as the app wires them, against the local WeChat
set to carry out every call and then drop the connection (or answer after our client gave up).
What is measured is what the applicant sees: how many times each notice reaches the phone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from app.wiring.background import chat_dispatcher
from bot.client import WeChatClient
from bot.simulator import SIMULATOR, Fault, Simulator, create_simulator, start_simulator
from bot.token_cache import TokenCache
from storage.outbox import OUTBOX, OutboxMessage, enqueue_alone
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

APPID, SECRET = "wx5f3e9b1c7a2d4e60", "0f6b7c3d9e1a4b5c8d2e7f0a1b3c5d7e"
OPENID = "o_citizen_wangwu"
NOTICES = [f"您的办件 BC2026110200000{n} 状态更新为：待补正" for n in range(5)]


@pytest.fixture
async def wechat() -> AsyncIterator[tuple[Simulator, str]]:
    app = create_simulator(
        token="t",
        encoding_aes_key="kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
        appid=APPID,
        secret=SECRET,
        callback_url="http://127.0.0.1:9/wechat",  # nobody pushes here
    )
    runner, base_url = await start_simulator(app)
    app[SIMULATOR].state.user_acted(OPENID)  # the applicant wrote lately: custom messages go
    yield app[SIMULATOR], base_url
    await runner.cleanup()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "s.sqlite3")
    await store.open()
    yield store
    await store.close()


def on_phone(sim: Simulator) -> Counter[str]:
    return Counter(e.text or "" for e in sim.messages(OPENID) if e.source == "custom")


@pytest.mark.parametrize("fault", [Fault.LOST_ANSWER, Fault.SLOW_ANSWER])
async def test_a_notice_whose_answer_is_lost_reaches_the_phone_at_most_twice_until_wechat_answers(
    wechat: tuple[Simulator, str], store: SqliteDocumentStore, clock: Clock, fault: Fault
) -> None:
    sim, base_url = wechat
    async with aiohttp.ClientSession() as session:
        # Our client waits 0.1 s here (10 s in service); the slow answer comes after 1 s.
        client = WeChatClient(
            session,
            base_url=base_url,
            appid=APPID,
            secret=SECRET,
            tokens=TokenCache(store, APPID, clock=clock),
            timeout=0.1,
        )
        await client.ping()  # a token in hand, as in service

        async def notify(msg: OutboxMessage) -> None:
            await client.send_text(msg.payload["openid"], msg.payload["text"])

        dispatcher = chat_dispatcher(store, {"wechat.text": notify}, client, clock)
        for n, text in enumerate(NOTICES):
            payload = {"openid": OPENID, "text": text}
            await enqueue_alone(
                store, topic="wechat.text", key=f"n{n}", payload=payload, now=clock()
            )
        sim.faults.fault, sim.faults.slow_seconds = fault, 1.0

        for _ in range(150):  # 25 minutes of the fault, looked at every 10 seconds
            await dispatcher.dispatch_once()
            clock.advance(seconds=10)
        during = on_phone(sim)
        assert set(during) == set(NOTICES)  # each went out, and reached the phone
        assert max(during.values()) <= 2, during  # the storm was 6 a notice in 25 s

        sim.faults.fault = None
        for _ in range(120):  # WeChat answers again: within the hour, every notice is done
            await dispatcher.dispatch_once()
            clock.advance(seconds=30)
    after = on_phone(sim)
    assert [d["status"] for d in await store.find(OUTBOX)] == ["done"] * len(NOTICES)
    assert max(after.values()) <= 3, after  # two unanswered, then one WeChat answered
