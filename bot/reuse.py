"""Offering documents from the personal space in the chat, and taking one (回复“调用”)."""

from __future__ import annotations

from datetime import datetime

from app.domain.cases import CHINA, Case, Slot, china_date
from app.domain.space import SpaceDocument, case_owner
from app.services.space import SpaceService
from bot import texts


async def reusable_for(
    space: SpaceService, case: Case, now: datetime
) -> tuple[Slot, SpaceDocument] | None:
    """The slot a photo would go to next and a valid document from the space that fits it."""
    slot = case.next_slot_for_photo()
    if slot is None or not slot.reusable or slot.id in case.materials:
        return None
    owner = case_owner(case.applicant_id, case.enterprise_uscc)
    doc = await space.matching(owner, slot.expected_kind)
    days = slot.min_valid_days if slot.must_be_valid else 0
    if doc is None or (slot.must_be_valid and not doc.usable_on(china_date(now), min_days=days)):
        return None
    return slot, doc


async def offer(space: SpaceService, case: Case, now: datetime) -> str:
    """A line offering the space's document for the next material, or nothing."""
    found = await reusable_for(space, case, now)
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
    nxt = case.next_slot_for_photo()
    still = case.slots_to_correct() or case.missing_materials()
    if nxt is not None and still:
        names = "、".join(s.name for s in still)
        return texts.STILL_MISSING.format(missing=names, next=nxt.name)
    return texts.ALL_PRESENT
