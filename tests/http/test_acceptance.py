"""受理 (行政许可法 Art. 32) and the limits after it (Art. 42, 45), as the applicant meets them:
the 受理通知书 with its seal, the chat told of acceptance, an extension and its reason, a pause
with its basis; nobody else sees the notice."""

from __future__ import annotations

from tests.http.chat_world import World, apply_by_chat, eventually, reviewer_of, sign_in
from tests.http.test_receipt_and_rating import other_citizen


async def test_acceptance_reaches_the_chat_and_the_sealed_notice_opens_for_the_applicant_only(
    plain_world: World,
) -> None:
    world = plain_world
    number = await apply_by_chat(world)
    reviewer = await reviewer_of(world, number)
    page = f"/h5/cases/{number}/acceptance"
    await sign_in(world, f"/h5/cases/{number}")
    early = await world.client.get(page)
    assert early.status == 404 and "尚未受理" in await early.text()

    await world.api("POST", f"/cases/{number}/accept", reviewer, json={})
    await eventually(lambda: any("【受理通知】" in t for t in world.chat()))
    told = next(t for t in world.chat() if "【受理通知】" in t)
    assert number in told and "受理" in told and "查看受理通知书" in told and page in told

    notice = await (await world.client.get(page)).text()
    assert "行政许可申请受理通知书" in notice and number in notice
    assert "第三十二条" in notice and "电子印章" in notice and "市民政局" in notice
    shown = await (await world.client.get(f"/h5/cases/{number}")).text()
    assert 'id="accepted"' in shown and "作出决定" in shown
    async with other_citizen(world) as someone:
        theirs = await someone.get(page)
        assert theirs.status == 404 and "行政许可申请受理通知书" not in await theirs.text()


async def test_an_extension_and_an_art_45_pause_are_told_with_their_reasons(
    plain_world: World,
) -> None:
    world = plain_world
    number = await apply_by_chat(world)
    reviewer = await reviewer_of(world, number)
    await world.api("POST", f"/cases/{number}/accept", reviewer, json={})
    body = {"approved_by": "局长 王某", "reason": "需要到居住地现场核查"}
    extended = await world.api("POST", f"/cases/{number}/extend", reviewer, json=body)
    await eventually(lambda: any("【延长办理期限】" in t for t in world.chat()))
    told = next(t for t in world.chat() if "【延长办理期限】" in t)
    assert "需要到居住地现场核查" in told and extended["extension"]["due"] in told
    assert "第四十二条" in told

    await world.api(
        "POST", f"/cases/{number}/pause", reviewer, json={"kind": "检验", "expected_days": 5}
    )
    await eventually(lambda: any("【暂停计时】" in t for t in world.chat()))
    told = next(t for t in world.chat() if "【暂停计时】" in t)
    assert "检验，预计 5 天" in told and "第四十五条" in told
    await sign_in(world, f"/h5/cases/{number}")
    shown = await (await world.client.get(f"/h5/cases/{number}")).text()
    assert 'id="extension"' in shown and "检验，预计 5 天" in shown
    await world.api("POST", f"/cases/{number}/resume", reviewer, json={})
    await eventually(lambda: any("检验已结束" in t for t in world.chat()))
