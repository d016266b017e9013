"""The personal space keeps a person's documents only with their consent, read at each deposit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.domain.errors import ValidationFailed
from app.services.privacy import PrivacyService
from app.services.space import SPACE_OFF
from storage.objects import ObjectNotFound
from tests.conftest import Clock
from tests.service.photos import ME, World, open_case, png


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def never_asked(world: World) -> None:
    user = await world.store.get("users", ME.id)
    assert user is not None
    del user["space_opt_in"]
    async with world.store.transaction() as tx:
        await tx.replace("users", user, expected_version=user["_version"])


async def passed_card(world: World, cards: dict[str, Any]) -> None:
    """A case whose ID card passed the pre-check; its deposit job run."""
    number = await open_case(world)
    check = await world.photo(number, "id_card_front", png(cards["mine"].image))
    assert check["status"] == "pass"
    assert await world.deposits.dispatch_once() == 1


async def test_a_card_that_passed_is_kept_only_after_the_person_said_yes(
    world: World, cards: dict[str, Any], clock: Clock
) -> None:
    privacy = PrivacyService(world.store, world.space._objects, clock=clock)
    await never_asked(world)
    await passed_card(world, cards)
    assert await world.space.documents(ME) == []  # never asked is no
    await privacy.set_space_opt_in(ME, False)
    await passed_card(world, cards)
    assert await world.space.documents(ME) == []
    await privacy.set_space_opt_in(ME, True)
    await passed_card(world, cards)
    [doc] = await world.space.documents(ME)
    assert doc.identifier == cards["mine"].truth["id_number"]
    audit = await world.store.find("audit", {"action": "person.space_opt_in"})
    assert sorted(r["detail"]["keep"] for r in audit) == [False, True]  # each choice recorded


async def test_a_photo_sent_to_the_space_is_kept_unless_the_person_said_no(
    world: World, cards: dict[str, Any], clock: Clock
) -> None:
    privacy = PrivacyService(world.store, world.space._objects, clock=clock)
    await never_asked(world)
    image = png(cards["mine"].image)
    await world.space.upload(ME, "居民身份证人像面", once(image))  # sending it is the choice
    assert await world.dispatcher.dispatch_once() == 1
    [doc] = await world.space.documents(ME)

    await privacy.set_space_opt_in(ME, False)
    with pytest.raises(ValidationFailed) as refused:
        await world.space.upload(ME, "居民身份证人像面", once(image))
    assert refused.value.message == SPACE_OFF

    # Turned off while the check ran: not kept, not even its bytes; the person is told why.
    await privacy.set_space_opt_in(ME, True)
    retaken = png(cards["mine"].image.rotate(0.5, fillcolor=(120, 120, 120)))
    await world.space.upload(ME, "居民身份证人像面", once(retaken))
    await privacy.set_space_opt_in(ME, False)
    assert await world.dispatcher.dispatch_once() == 1
    [same] = await world.space.documents(ME)
    assert same.id == doc.id and len(same.versions) == 1
    jobs = await world.store.find("outbox", {"topic": "space.precheck"})
    [dropped] = {j["payload"]["object_key"] for j in jobs} - {doc.current.object_key}
    with pytest.raises(ObjectNotFound):
        await world.space._objects.stat(dropped)
    told = [
        m["payload"]["text"]
        for m in await world.store.find("outbox", {"topic": "notify.applicant"})
    ]
    assert any("未保存" in t and "我的信息" in t for t in told)
