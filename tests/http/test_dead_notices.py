"""A correction notice WeChat would not take: given up on, it is shown to the supervisors with
what, whose, why and since when; the reviewer's queue and case page say to phone the applicant;
a supervisor sends it back once WeChat works, and the applicant gets it in the chat."""

from __future__ import annotations

from typing import Any

from app import keys
from bot.simulator import Fault
from storage.outbox import OUTBOX, iso
from tests.conftest import Clock
from tests.http.chat_world import World, apply_by_chat, return_case
from tests.http.conftest import Api
from tests.http.courier_world import eventually
from tests.http.test_staff_pages import sign_in, token_of

FLAG = "通知未送达，请电话联系申请人"
RETRY = "/staff/dashboard/dead/retry"


async def given_up(world: World, clock: Clock, number: str) -> str:
    """The key of the case's correction notice, once the outbox has given up on it."""
    store = world.client.app[keys.DOCUMENTS]

    async def tried_once() -> dict[str, Any] | None:
        for doc in await store.find(OUTBOX, {"topic": "notify.applicant", "payload.case": number}):
            if "/notices/" in str(doc["payload"].get("path")) and doc["status"] == "pending":
                return doc if doc["attempts"] >= 1 else None
        return None

    await eventually(tried_once)
    doc = await tried_once()
    assert doc is not None and "HTTP 500" in doc["last_error"]
    # As if it had failed ten more times across the hour: its last attempt is due now.
    last = doc | {"attempts": 11, "next_attempt_at": iso(clock())}
    async with store.transaction() as tx:
        await tx.replace(OUTBOX, last, expected_version=doc["_version"])

    async def dead() -> bool:
        return ((await store.get(OUTBOX, doc["_id"])) or {}).get("status") == "dead"

    await eventually(dead)
    return str(doc["_id"])


async def test_a_correction_notice_wechat_refused_is_flagged_and_sent_again_by_a_supervisor(
    plain_world: World, clock: Clock
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    world.sim.faults.fault = Fault.SERVER_ERROR  # WeChat answers 500 to everything
    remark = "请重新拍摄白底证件照"
    corrections = [{"slot_id": "photo", "defects": ["blurry"], "remark": remark}]
    await return_case(world, number, corrections=corrections)
    key = await given_up(world, clock, number)

    await sign_in(http, "reviewer-mz")
    queue = await (await http.get("/staff/queue")).text()
    assert FLAG in queue and f"/staff/cases/{number}" in queue
    assert FLAG in await (await http.get(f"/staff/cases/{number}")).text()
    assert (await http.post(RETRY, data={"key": key})).status == 403  # supervisors only

    await sign_in(http, "demo-supervisor")
    page = await (await http.get("/staff/dashboard")).text()
    assert "处理失败的通知任务（1）" in page
    for shown in ("办件通知", number, "张*", "微信接口不可用", "HTTP 500", "起未完成"):
        assert shown in page
    assert "张三" not in page

    forged = await http.post(RETRY, data={"csrf": "forged", "key": key})
    assert forged.status == 403
    world.sim.faults.fault = None  # WeChat is back
    sent = await http.post(RETRY, data={"csrf": token_of(page), "key": key}, allow_redirects=False)
    assert (
        sent.status == 303 and sent.headers["Location"] == "/staff/dashboard?requeued=1#dead-work"
    )

    await eventually(lambda: any(remark in t for t in world.chat()))
    store = http.app[keys.DOCUMENTS]
    [audit] = await store.find("audit", {"subject": f"outbox:{key}"})
    assert (audit["action"], audit["actor"]) == ("outbox.requeued", "demo-supervisor")
    await sign_in(http, "reviewer-mz")
    assert FLAG not in await (await http.get("/staff/queue")).text()


async def test_a_supervisor_sends_back_every_dead_job_of_one_kind_at_once(
    api: Api, clock: Clock
) -> None:
    store = api.client.app[keys.DOCUMENTS]
    async with store.transaction() as tx:
        for n in (1, 2):
            await tx.insert(
                OUTBOX,
                {
                    "_id": f"courier.book:BC{n}-P1",
                    "topic": "courier.book",
                    "payload": {"case": f"BC{n}"},
                    "status": "dead",
                    "attempts": 12,
                    "next_attempt_at": iso(clock()),
                    "created_at": iso(clock()),
                    "dead_at": iso(clock()),
                    "last_error": "CourierUnavailable: SF did not answer",
                },
            )
    await sign_in(api.client, "demo-supervisor")
    page = await (await api.client.get("/staff/dashboard")).text()
    assert "处理失败的快递任务（2）" in page and "预约上门取件：全部重新处理（2 条）" in page

    sent = await api.client.post(
        "/staff/dashboard/dead/retry-topic",
        data={"csrf": token_of(page), "topic": "courier.book"},
        allow_redirects=False,
    )
    assert (
        sent.status == 303 and sent.headers["Location"] == "/staff/dashboard?requeued=2#dead-work"
    )
    assert await store.count(OUTBOX, {"topic": "courier.book", "status": "dead"}) == 0
    after = await (await api.client.get(sent.headers["Location"])).text()
    assert "已将 2 条任务重新交付处理" in after and "处理失败的快递任务" not in after
