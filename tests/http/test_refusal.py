"""不予许可 (行政许可法 Art. 38): the applicant is told the reason, the basis and the right to
行政复议 or 行政诉讼 and where, in the chat and on the case page, and the API keeps it."""

from __future__ import annotations

from tests.http.chat_world import World, apply_by_chat, eventually, reviewer_of, sign_in


async def test_a_refusal_reaches_the_applicant_with_reason_basis_and_remedies(
    plain_world: World,
) -> None:
    world = plain_world
    number = await apply_by_chat(world)
    await world.api(
        "POST",
        f"/cases/{number}/reject",
        await reviewer_of(world, number),
        json={"reason": "申请人不符合申领条件", "basis": "《居住证暂行条例》第九条"},
    )
    await eventually(lambda: any("【不予许可决定】" in t for t in world.chat()))
    told = next(t for t in world.chat() if "【不予许可决定】" in t)
    assert "申请人不符合申领条件" in told and "《居住证暂行条例》第九条" in told
    assert "六十日内向福州市人民政府申请行政复议" in told
    assert "六个月内" in told and "提起行政诉讼" in told
    assert "查看决定书" in told and f"/h5/cases/{number}#decision" in told

    kept = await world.api("GET", f"/cases/{number}", "demo-admin")
    assert "申请行政复议" in kept["decision"]["remedy"]

    await sign_in(world, f"/h5/cases/{number}")
    page = await (await world.client.get(f"/h5/cases/{number}")).text()
    assert 'id="decision"' in page and "不予许可决定书" in page
    assert "申请人不符合申领条件" in page and "申请行政复议" in page
