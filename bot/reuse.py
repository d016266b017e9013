"""Offering documents from the personal space in the chat, and taking one (回复“调用”)."""

from __future__ import annotations

from app.domain.actors import Actor
from app.domain.cases import CHINA, Case, Slot
from app.domain.space import SpaceDocument, case_owner
from app.services.cases import CaseService
from app.services.space import SpaceService
from bot import texts


async def reusable_for(space: SpaceService, case: Case) -> tuple[Slot, SpaceDocument] | None:
    """The slot a photo would go to next and a valid document from the space that fits it."""
    slot = case.next_slot_for_photo()
    if slot is None or slot.id in case.materials:
        return None
    doc = await space.usable_for(case_owner(case.applicant_id, case.enterprise_uscc), slot)
    return (slot, doc) if doc else None


async def prefill(
    space: SpaceService, cases: CaseService, actor: Actor, case: Case
) -> tuple[Case, list[str]]:
    """Fill every empty reusable material the space has a valid document for."""
    owner = case_owner(case.applicant_id, case.enterprise_uscc)
    taken = []
    for slot in case.slots:
        doc = None if slot.id in case.materials else await space.usable_for(owner, slot)
        if doc is not None:
            case = await cases.attach_from_space(actor, case.number, slot.id, doc.id, version=None)
            taken.append(slot.name)
    return case, taken


async def offer(space: SpaceService, case: Case) -> str:
    """A line offering the space's document for the next material, or nothing."""
    found = await reusable_for(space, case)
    if found is None:
        return ""
    _, doc = found
    until = doc.current.valid_to
    return texts.REUSE_OFFER.format(
        title=doc.title,
        when=f"{doc.current.added_at.astimezone(CHINA):%Y-%m-%d} ",
        valid=f"，有效期至 {until}" if until else "",
    )


def still_needed(case: Case) -> str:
    """What to send next, or that everything is there: the tail of every filing reply."""
    return case.what_next()
