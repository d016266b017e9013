"""What a correction notice asks for beyond the checklist (申请事项: "请补充提交户口簿") can be
uploaded like any material, and the chat keeps asking for it until it is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.domain.actors import Actor, Role
from app.domain.notices import Correction
from bot import reuse
from tests.service.photos import ME, World, open_case, png

REVIEWER = Actor("reviewer-mz", Role.REVIEWER, department="mz")


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_notice_item_beyond_the_checklist_gets_a_slot_and_is_asked_for(
    world: World, cards: dict[str, Any]
) -> None:
    number = await open_case(world)
    case = await world.cases.get(ME, number)
    for slot in case.missing_materials():
        await world.materials.upload(
            ME, number, slot.id, _once(png(cards["mine"].image)), version=None
        )
    await world.cases.submit(ME, number, version=None)
    asked = Correction(None, ("other",), "请补充提交户口簿")
    await world.cases.return_for_correction(REVIEWER, number, [asked], version=None)

    case = await world.cases.get(ME, number)  # as stored
    [extra] = case.supplements
    assert extra.name == "补充材料：请补充提交户口簿"
    assert "补充材料：请补充提交户口簿" in reuse.still_needed(case)  # the chat asks for it
    case = await world.materials.upload(
        ME, number, extra.id, _once(png(cards["mine"].image)), version=None
    )
    assert extra.id in case.materials and case.slots_to_correct() == []
    case = await world.cases.submit(ME, number, version=None)
    assert case.state.value == "resubmitted"
