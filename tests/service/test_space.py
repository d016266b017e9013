"""The personal document space through the real services: kept once, reused, private, deleted."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from app.domain.actors import Actor, Authority, Role, enterprise
from app.domain.case_states import Action
from app.domain.errors import NotFoundError, ValidationFailed
from app.domain.mandates import Mandate, Status
from app.domain.space import RETENTION, Version, owner_of
from app.services.case_effects import DEPOSIT_TOPIC
from app.services.mandate_records import enterprise_doc, mandate_to_doc
from storage.objects import ObjectNotFound
from tests.conftest import Clock
from tests.service.photos import ME, STRANGER, World, open_case, png


async def kept_card(world: World, cards: dict[str, Any]) -> tuple[str, Any]:
    """A case whose ID card passed; its deposit job run. Returns the case and the document."""
    number = await open_case(world)
    assert (await world.photo(number, "id_card_front", png(cards["mine"].image)))[
        "status"
    ] == "pass"
    assert await world.deposits.dispatch_once() == 1
    [doc] = await world.space.documents(ME)
    return number, doc


async def test_a_card_that_passed_is_kept_in_the_space_with_what_was_read(
    world: World, cards: dict[str, Any]
) -> None:
    number, doc = await kept_card(world, cards)
    assert doc.kind == "id_card_front" and doc.title == "居民身份证人像面"
    assert doc.identifier == cards["mine"].truth["id_number"]
    assert [(v.n, v.source) for v in doc.versions] == [(1, f"case:{number}")]
    assert doc.current.fields["name"] == cards["mine"].truth["name"]


async def test_a_new_case_reuses_the_kept_card_and_pins_that_version(
    world: World, cards: dict[str, Any]
) -> None:
    _, doc = await kept_card(world, cards)
    second = await open_case(world)
    case = await world.cases.attach_from_space(ME, second, "id_card_front", doc.id, version=None)
    ref = case.materials["id_card_front"]
    assert ref.source == f"space:{doc.id}:1" and ref.object_key == doc.current.object_key
    [pinned] = await world.space.documents(ME)
    assert pinned.pins == {second: 1}
    # The reused photo is checked again for today, but not deposited a second time.
    assert (await world.dispatcher.dispatch_once()) == 1
    assert (await world.cases.get(ME, second)).prechecks["id_card_front"].status == "pass"
    assert await world.store.count("outbox", {"topic": DEPOSIT_TOPIC}) == 1


async def test_the_same_photo_twice_adds_nothing_and_a_new_photo_is_a_new_version(
    world: World, cards: dict[str, Any]
) -> None:
    await kept_card(world, cards)
    again = await open_case(world)
    await world.photo(again, "id_card_front", png(cards["mine"].image))
    await world.deposits.dispatch_once()
    [doc] = await world.space.documents(ME)
    assert len(doc.versions) == 1
    third = await open_case(world)
    retaken = cards["mine"].image.rotate(0.5, fillcolor=(120, 120, 120))
    assert (await world.photo(third, "id_card_front", png(retaken)))["status"] == "pass"
    await world.deposits.dispatch_once()
    [doc] = await world.space.documents(ME)
    assert [v.n for v in doc.versions] == [1, 2]  # the old photo stays


async def test_nobody_else_can_see_use_or_delete_a_document_not_even_by_guessing(
    world: World, cards: dict[str, Any]
) -> None:
    _, doc = await kept_card(world, cards)
    assert await world.space.documents(STRANGER) == []
    theirs = await open_case(world, STRANGER)
    for doc_id in (doc.id, secrets.token_hex(16)):
        with pytest.raises(NotFoundError) as seen:
            await world.space.view(STRANGER, doc_id, purpose="h5")
        message = seen.value.message
        with pytest.raises(NotFoundError) as used:
            await world.cases.attach_from_space(
                STRANGER, theirs, "id_card_front", doc_id, version=None
            )
        assert used.value.message == message  # the same answer as for no document at all
        with pytest.raises(NotFoundError):
            await world.space.delete(STRANGER, doc_id)
    assert "id_card_front" not in (await world.cases.get(STRANGER, theirs)).materials


async def test_every_look_at_a_document_is_listed_for_its_owner(
    world: World, cards: dict[str, Any]
) -> None:
    _, doc = await kept_card(world, cards)
    await world.space.view(ME, doc.id, purpose="h5")
    log = await world.space.access_log(ME, doc.id)
    assert [(e["actor"], e["detail"]["purpose"]) for e in log] == [(ME.id, "h5")]


async def test_a_deleted_document_is_hidden_at_once_and_its_photo_goes_after_retention(
    world: World, cards: dict[str, Any], clock: Clock
) -> None:
    _, doc = await kept_card(world, cards)
    pinning = await open_case(world)
    await world.cases.attach_from_space(ME, pinning, "id_card_front", doc.id, version=None)
    await world.space.delete(ME, doc.id)
    assert await world.space.documents(ME) == []
    other = await open_case(world)
    with pytest.raises(NotFoundError):
        await world.cases.attach_from_space(ME, other, "id_card_front", doc.id, version=None)

    key = doc.current.object_key
    clock.advance(days=RETENTION.days + 1)
    assert await world.space.purge() == 0  # an open case still uses the photo
    assert await world.store.get("space_documents", doc.id) is not None
    await world.cases.act(ME, pinning, Action.WITHDRAW, version=None, reason="不办了")
    assert await world.space.purge() == 0  # the document goes; its photo is a case's own
    assert await world.store.get("space_documents", doc.id) is None
    await world.space._objects.stat(key)  # the case it was kept from still names it


async def test_a_deleted_upload_of_the_spaces_own_goes_after_retention_and_a_case_copy_stays(
    world: World, cards: dict[str, Any], clock: Clock
) -> None:
    _, from_case = await kept_card(world, cards)  # the case's photo, kept as a copy
    uploaded = await world.space._objects.put(
        "space/uploads/own.png", _once(png(cards["mine"].image)), content_type="image/png",
        max_bytes=10**7,
    )  # fmt: skip
    version = Version(
        1, uploaded.key, "image/png", uploaded.size, uploaded.sha256, "upload", clock(), {}
    )
    own = await world.space.deposit(f"person:{ME.id}", "certificate", "机动车驾驶证", version)
    await world.space.delete(ME, own.id)
    await world.space.delete(ME, from_case.id)

    clock.advance(days=RETENTION.days - 1)
    assert await world.space.purge() == 0  # within retention: both kept
    clock.advance(days=2)
    assert await world.space.purge() == 1  # the upload, the space's own photo
    with pytest.raises(ObjectNotFound):
        await world.space._objects.stat(uploaded.key)
    await world.space._objects.stat(from_case.current.object_key)  # its case names it
    assert await world.space.documents(ME) == []
    assert await world.store.count("space_documents") == 0


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def licence_version(clock: Clock, valid_to: str, sha: str = "3") -> Version:
    fields = {"certificate_number": "350102199001010011", "expiry_date": valid_to}
    return Version(1, "space/dl.jpg", "image/jpeg", 10, sha * 64, "chat", clock(), fields)


async def test_a_document_about_to_expire_is_reminded_at_30_and_7_days_once_each(
    world: World, clock: Clock
) -> None:
    until = clock() + timedelta(days=20)
    doc = await world.space.deposit(
        f"person:{ME.id}",
        "certificate",
        "机动车驾驶证",
        licence_version(clock, f"{until:%Y-%m-%d}"),
    )
    assert await world.space.remind_expiring() == 1
    assert await world.space.remind_expiring() == 0  # a second sweep sends nothing new
    clock.advance(days=14)
    assert await world.space.remind_expiring() == 1
    where = {"topic": "notify.applicant"}
    sent = await world.store.find("outbox", where, sort=[("created_at", 1)])
    texts = [m["payload"]["text"] for m in sent if m["_id"].startswith(f"expiry:{doc.id}")]
    assert len(texts) == 2 and "还有 20 天到期" in texts[0] and "还有 6 天到期" in texts[1]
    assert all("回复“换证”即可在线办理“机动车驾驶证有效期满换证”" in t for t in texts)
    assert all(m["payload"]["applicant_id"] == ME.id for m in sent)


async def test_an_enterprises_expiring_licence_is_told_to_whoever_acts_for_it_fully(
    world: World, clock: Clock
) -> None:
    uscc = "91350102TEST00001X"  # not the demo agent's enterprise
    firm = f"enterprise:{uscc}"
    year = (clock() + timedelta(days=365)).date()
    grants = [  # agent-1 for every matter; agent-2 for one; agent-3 revoked
        Mandate("g1", firm, "agent-1", "甲", Status.GRANTED, clock(), None, year),
        Mandate("g2", firm, "agent-2", "乙", Status.GRANTED, clock(), ("X",), year),
        Mandate("g3", firm, "agent-3", "丙", Status.REVOKED, clock(), None, year),
    ]
    async with world.store.transaction() as tx:
        await tx.insert(
            "enterprises", enterprise_doc(uscc, "测试", "rep", "丁", how="t", at=clock())
        )
        for grant in grants:
            await tx.insert("mandates", mandate_to_doc(grant))
    until = clock() + timedelta(days=5)
    version = licence_version(clock, f"{until:%Y-%m-%d}")
    await world.space.deposit(firm, "certificate", "食品经营许可证", version)
    assert await world.space.remind_expiring() == 2
    sent = await world.store.find("outbox", {"topic": "notify.applicant"})
    assert sorted(m["payload"]["applicant_id"] for m in sent) == ["agent-1", "rep"]
    assert "食品经营许可证延续" in sent[0]["payload"]["text"]


async def test_a_card_photographed_straight_into_the_space_is_kept_only_if_it_is_theirs(
    world: World, cards: dict[str, Any]
) -> None:
    async def once(data: bytes) -> AsyncIterator[bytes]:
        yield data

    await world.space.upload(ME, "居民身份证人像面", once(png(cards["mine"].image)))
    await world.space.upload(ME, "居民身份证人像面", once(png(cards["stranger"].image)))
    assert await world.dispatcher.dispatch_once() == 2
    [doc] = await world.space.documents(ME)
    assert doc.identifier == cards["mine"].truth["id_number"] and doc.current.source == "upload"
    jobs = await world.store.find("outbox", {"topic": "space.precheck"})
    kept = {j["payload"]["object_key"] for j in jobs} - {doc.current.object_key}
    with pytest.raises(ObjectNotFound):  # the stranger's card was not kept, not even its bytes
        await world.space._objects.stat(kept.pop())
    told = [
        m["payload"]["text"]
        for m in await world.store.find("outbox", {"topic": "notify.applicant"})
    ]
    assert any("已保存" in t for t in told)
    assert any("未能保存" in t and "与申请人不一致" in t for t in told)
    with pytest.raises(ValidationFailed):  # only the documents the catalog reuses
        await world.space.upload(ME, "户口本", once(png(cards["mine"].image)))


async def test_an_agent_sees_only_their_own_enterprises_space(world: World, clock: Clock) -> None:
    firm, other = enterprise("91350100M000100Y43"), enterprise("91110000100000000D")
    mine = Actor("agent-a", Role.APPLICANT, authorities=(Authority(firm),))
    theirs = Actor("agent-b", Role.APPLICANT, authorities=(Authority(other),))
    scoped = Actor("agent-d", Role.APPLICANT, authorities=(Authority(firm, frozenset({"X"})),))
    version = Version(1, "space/l.jpg", "image/jpeg", 1, "9" * 64, "upload", clock())
    doc = await world.space.deposit(owner_of(mine, firm), "business_licence", "营业执照", version)
    colleague = Actor("agent-c", Role.APPLICANT, authorities=(Authority(firm),))
    assert [d.id for d in await world.space.documents(colleague, firm)] == [doc.id]
    assert await world.space.documents(theirs, other) == []
    for outsider in (theirs, scoped):  # another firm's agent; one granted a single matter
        with pytest.raises(NotFoundError):
            await world.space.documents(outsider, firm)
    with pytest.raises(NotFoundError):
        await world.space.view(theirs, doc.id, purpose="h5")
    with pytest.raises(NotFoundError):
        await world.space.delete(theirs, doc.id)


async def test_empty_and_non_image_uploads_are_refused_and_nothing_is_queued(
    world: World,
) -> None:
    async def once(data: bytes) -> AsyncIterator[bytes]:
        yield data

    for data in (b"", b"hello, this is not a photo"):
        with pytest.raises(ValidationFailed):
            await world.space.upload(ME, "居民身份证人像面", once(data))
    assert await world.store.count("outbox", {"topic": "space.precheck"}) == 0


async def test_the_space_offers_a_slot_only_the_certificate_it_asks_for(world: World) -> None:
    matters = await world.store.find("matters", {"name": "道路运输从业人员从业资格证换证"})
    case = await world.cases.open(ME, matters[0]["_id"])
    old_licence = case.terms.slot("driving_licence")  # 机动车驾驶证, a certificate
    owner = owner_of(ME)
    now = world.cases.now()

    def version(sha: str) -> Version:
        return Version(1, f"space/{sha[:6]}.png", "image/png", 10, sha * 8, "chat", now)

    await world.space.deposit(owner, "certificate", "老年人优待证", version("a1b2c3d4"))
    assert await world.space.usable_for(owner, old_licence) is None  # a certificate, not this one
    with pytest.raises(ValidationFailed, match="不能用作"):
        [elder] = await world.space.documents(ME)
        await world.cases.attach_from_space(ME, case.number, old_licence.id, elder.id, version=None)
    issued = await world.space.deposit(
        owner, "certificate", "中华人民共和国机动车驾驶证", version("e5f6a7b8")
    )
    offered = await world.space.usable_for(owner, old_licence)
    assert offered is not None and offered.id == issued.id
