"""督办: a case turning yellow, then red, is pushed to its department's reviewers and to the
supervisors once per colour, and lifted when it is decided."""

from __future__ import annotations

import pytest

from app import keys
from app.services.notify import NOTIFY_TOPIC
from app.services.staff import link_staff_wechat
from storage.outbox import OUTBOX
from tests.conftest import Clock
from tests.http.chat_world import OPENID, World, apply_by_chat, eventually
from tests.http.conftest import Api, fill_and_submit, open_case
from tests.http.test_staff_pages import sign_in as staff_sign_in


async def _pushes(api: Api) -> list[dict[str, object]]:
    docs = await api.client.app[keys.DOCUMENTS].find(OUTBOX, {"topic": NOTIFY_TOPIC})
    return [d for d in docs if d["_id"].startswith("urge:")]


async def test_a_card_is_pushed_once_per_colour_to_the_department_and_the_supervisors(
    api: Api, clock: Clock
) -> None:
    case = await fill_and_submit(api, await open_case(api))
    number, department = case["number"], case["department"]
    urging = api.client.app[keys.URGING]
    assert await urging.push_cards() == 0  # green: nothing to push

    while not await urging.push_cards():  # the days pass until the case turns yellow
        clock.advance(days=1)
    yellow = await _pushes(api)
    assert {p["payload"]["applicant_id"] for p in yellow} == {
        f"reviewer-{department}",
        "demo-supervisor",
    }  # the other departments' reviewers are not told
    text = yellow[0]["payload"]["text"]
    assert text.startswith("【督办·黄牌】") and number in text and "剩余" in text
    assert yellow[0]["payload"]["path"] == f"/staff/cases/{number}"
    assert await urging.push_cards() == 0  # the same card again: no second push
    assert await urging.standing(department) == 1
    assert await urging.standing("nobody") == 0
    await staff_sign_in(api.client, f"reviewer-{department}")
    queue = await (await api.client.get("/staff/queue")).text()
    assert 'id="urged"' in queue and "黄牌" in queue and number in queue

    while len(await _pushes(api)) == len(yellow):
        clock.advance(days=1)
        await urging.push_cards()
    red = [p for p in await _pushes(api) if p["_id"] not in {y["_id"] for y in yellow}]
    assert len(red) == 2 and all(p["payload"]["text"].startswith("【督办·红牌】") for p in red)
    assert await urging.standing(department) == 1  # the yellow card was lifted by the red

    status, _ = await api.call(
        "POST",
        f"/cases/{number}/reject",
        f"reviewer-{department}",
        json={"reason": "不符合条件", "basis": "《行政许可法》第三十八条"},
    )
    assert status == 200
    await urging.push_cards()
    assert await urging.standing(department) == 0


async def test_a_reviewer_who_linked_wechat_gets_the_push_in_the_chat(
    plain_world: World, clock: Clock
) -> None:
    world = plain_world
    number = await apply_by_chat(world)  # the chat user's own case, submitted
    case = await world.api("GET", f"/cases/{number}", "demo-admin")
    store = world.client.app[keys.DOCUMENTS]
    # The same phone is also the department's duty WeChat (a small office).
    await link_staff_wechat(store, f"reviewer-{case['department']}", OPENID)
    with pytest.raises(ValueError, match="no staff account"):
        await link_staff_wechat(store, "demo-citizen", OPENID)  # not a staff account
    urging = world.client.app[keys.URGING]
    while not await urging.push_cards():
        clock.advance(days=1)
    await eventually(lambda: any(t.startswith("【督办·黄牌】") for t in world.chat()))
    told = next(t for t in world.chat() if t.startswith("【督办"))
    assert number in told and f"/staff/cases/{number}" in told
