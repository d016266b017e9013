"""The sweep of unreferenced objects deletes exactly the old objects no document names: those a
crash or a cut request left before the naming write committed, and those whose reference went.
A referenced object stays wherever it is named (a case, a space document, a pending or dead
outbox job, a certificate, a proxy request), so does a young one, one a kind keeps, and one
under a prefix no kind claims. Issue 20 item 5 found 12 such objects after 16 kill -9.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.domain.actors import Actor, Role
from app.domain.space import SpaceDocument, Version
from app.services.case_effects import PRECHECK_TOPIC
from app.services.case_records import CASES
from app.services.catalog import list_matters
from app.services.certificates import CERTIFICATES
from app.services.mandate_records import MANDATES
from app.services.mandates import CLAIM_TOPIC
from app.services.object_kinds import kind_of
from app.services.object_sweep import SAFE_AGE, sweep_orphans
from app.services.space_records import SPACE, doc_to_record
from app.settings import Settings
from app.wiring.demo import load_demo_data
from app.wiring.services import Services, build_services
from ocr.rules import PASS, Verdict
from storage.documents import Document, DocumentStore, Filter, Sort
from storage.files import FileObjectStore
from storage.objects import ObjectStore
from storage.outbox import DEAD, DONE, OUTBOX, OutboxMessage
from storage.pairing import MARK_KEY, check_pairing
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.photos import png
from tests.stores import DelegatingStore

CITIZEN = Actor("demo-citizen", Role.APPLICANT)
PHOTO = png(Image.new("RGB", (64, 48), "white"))
LICENCE = Verdict(
    PASS,
    "business_licence",
    (),
    {"uscc": "91330106MACL12TH2J", "legal_representative": "张三", "company_name": "福州测试"},
)


def as_message(job: Document) -> OutboxMessage:
    return OutboxMessage(job["_id"], job["topic"], job["payload"], 1, datetime.now(UTC))


async def never_checked(*_: object) -> Verdict:
    raise AssertionError("no pre-check runs in these tests")


async def once(data: bytes = PHOTO) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
async def services(
    store: SqliteDocumentStore, settings: Settings, clock: Clock, tmp_path: Path
) -> Services:
    await load_demo_data(store, settings, clock())
    return build_services(settings, clock, store, FileObjectStore(tmp_path / "o"), never_checked)


async def stored(objects: ObjectStore) -> set[str]:
    return {o.key async for o in objects.listing()}


async def put(objects: ObjectStore, key: str) -> str:
    await objects.put(key, once(), content_type="image/png", max_bytes=len(PHOTO))
    return key


async def set_jobs(store: DocumentStore, where: Filter, status: str) -> None:
    for doc in await store.find(OUTBOX, where):
        async with store.transaction() as tx:
            await tx.replace(OUTBOX, doc | {"status": status}, expected_version=doc["_version"])


async def insert(store: DocumentStore, collection: str, doc: Document) -> None:
    async with store.transaction() as tx:
        await tx.insert(collection, doc)


def space_doc(key: str) -> dict[str, Any]:
    version = Version(1, key, "image/png", 1, "0" * 64, "case:BC0", datetime.now(UTC))
    return doc_to_record(SpaceDocument("d1", "person:demo-citizen", "photo", "照片", [version],
                                       datetime.now(UTC)))  # fmt: skip


async def old_and_young(
    services: Services, store: SqliteDocumentStore
) -> tuple[set[str], set[str], datetime]:
    """Objects of every kind, put before and after the returned instant: (kept, swept, cut)."""
    objects, materials, cases = services.objects, services.materials, services.cases
    matter = next(m for m in await list_matters(store) if "citizen" in m.targets)
    number = (await cases.open(CITIZEN, matter.code)).number
    slot = (await cases.get(CITIZEN, number)).missing_materials()[0].id

    await check_pairing(store, objects)  # system/: the stores' mark, named by no document
    await materials.upload(CITIZEN, number, slot, once(), version=None)
    replaced = (await cases.get(CITIZEN, number)).materials[slot].object_key
    filed = (await materials.upload(CITIZEN, number, slot, once(), version=None)).materials[slot]
    await set_jobs(store, {"topic": PRECHECK_TOPIC}, DONE)  # judged: nothing names `replaced`
    cut_off = await put(objects, f"cases/{number}/{slot}/0cut0ff.png")  # crashed before attach
    in_space = await put(objects, "cases/BC0/photo/kept-in-space.png")
    await insert(store, SPACE, space_doc(in_space))  # named only in another collection

    _, name = (await services.space.upload_choices(CITIZEN))[0]
    await services.space.upload(CITIZEN, name, once())  # named only by its pending job
    [waiting] = [k for k in await stored(objects) if k.startswith("space/uploads/")]
    await services.mandates.claim(CITIZEN, once(), key="m1")
    await services.mandates.claim(CITIZEN, once(), key="m2")
    await services.mandates.claim(CITIZEN, once(), key="m3")
    jobs = await store.find(OUTBOX, {"topic": CLAIM_TOPIC})
    dead_claim, judged_claim, founding = (job["payload"]["object_key"] for job in jobs)
    await set_jobs(store, {"payload.object_key": dead_claim}, DEAD)  # may be sent back
    await set_jobs(store, {"payload.object_key": judged_claim}, DONE)  # refused: not kept
    founded = next(job for job in jobs if job["payload"]["object_key"] == founding)
    await services.mandates.accept_claim(as_message(founded), LICENCE)  # 张三 represents it
    await set_jobs(store, {"payload.object_key": founding}, DONE)  # named by the enterprise

    id_card = await services.proxies.keep_photo(once())
    proof = await services.proxies.keep_photo(once())
    abandoned = await services.proxies.keep_photo(once())  # the form was never sent
    await insert(store, MANDATES, {"_id": "m1", "evidence": {"id_card": id_card, "proof": proof}})
    certificate = await put(objects, "certificates/C1.png")
    await insert(store, CERTIFICATES, {"_id": "C1", "case": number, "object_key": certificate})
    unrecorded = await put(objects, "certificates/C2.png")  # issued, crashed before its record
    bench = await put(objects, "bench/direct/0/1.jpg")  # a bench killed before cleaning up
    unclaimed = await put(objects, "hall/photos/x.png")  # a kind nobody registered

    await asyncio.sleep(0.05)  # file times are finer than this; a margin either side of the cut
    cut = datetime.now(UTC)
    await asyncio.sleep(0.05)
    young = {await put(objects, "cases/BC9/photo/young.png"), await put(objects, "bench/young")}
    kept = {MARK_KEY, filed.object_key, in_space, waiting, dead_claim, founding, id_card,
            proof, certificate, unclaimed} | young  # fmt: skip
    swept = {replaced, cut_off, judged_claim, abandoned, unrecorded, bench}
    assert await stored(objects) == kept | swept
    return kept, swept, cut


async def test_the_sweep_removes_exactly_the_old_objects_no_document_names(
    services: Services, store: SqliteDocumentStore, log_buffer: io.StringIO
) -> None:
    kept, swept, cut = await old_and_young(services, store)

    removed = await sweep_orphans(store, services.objects, cut + SAFE_AGE)

    assert await stored(services.objects) == kept
    assert removed == len(swept) == 6
    said = {line["event"]: line for line in map(json.loads, log_buffer.getvalue().splitlines())}
    assert said["unreferenced_objects_removed"]["count"] == 6
    # Kept, and said, until a kind claims it.
    assert said["objects_of_no_kind_kept"]["prefixes"] == {"hall": 1}
    assert await sweep_orphans(store, services.objects, cut + SAFE_AGE) == 0  # again: nothing


async def test_nothing_is_swept_before_it_is_a_day_old(
    services: Services, store: SqliteDocumentStore
) -> None:
    kept, swept, cut = await old_and_young(services, store)
    assert await sweep_orphans(store, services.objects, cut + SAFE_AGE / 2) == 0
    assert await stored(services.objects) == kept | swept


async def test_every_object_the_services_wrote_is_of_a_registered_kind(
    services: Services, store: SqliteDocumentStore
) -> None:
    await old_and_young(services, store)
    unregistered = {k for k in await stored(services.objects) if kind_of(k) is None}
    assert unregistered == {"hall/photos/x.png"}  # the test's own stranger, and nothing else


class MovesWhileRead(DelegatingStore):
    """Moves a space copy into a case (and drops the space document) just before the sweep
    first reads the space: the first reading finds it in neither place."""

    def __init__(self, inner: SqliteDocumentStore, move: Any) -> None:
        super().__init__(inner)
        self.move = move

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        *,
        sort: Sort = (),
        limit: int | None = None,
        skip: int = 0,
        fields: Sequence[str] | None = None,
    ) -> list[Document]:
        if collection == SPACE and self.move is not None:
            move, self.move = self.move, None
            await move()
        return await super().find(
            collection, where, sort=sort, limit=limit, skip=skip, fields=fields
        )


async def test_a_reference_that_moves_while_the_sweep_reads_keeps_its_object(
    services: Services, store: SqliteDocumentStore
) -> None:
    objects = services.objects
    key = await put(objects, "space/uploads/moving.png")
    await insert(store, SPACE, space_doc(key))
    matter = next(m for m in await list_matters(store) if "citizen" in m.targets)
    number = (await services.cases.open(CITIZEN, matter.code)).number

    async def move() -> None:  # as a reuse and a purge would, in the worst order for the sweep
        case = await store.get(CASES, number)
        assert case is not None
        ref = {"object_key": key, "content_type": "image/png", "size": 1, "sha256": "0" * 64,
               "source": "space:d1:1"}  # fmt: skip
        moved = case | {"materials": {"photo": ref}}
        async with store.transaction() as tx:
            await tx.replace(CASES, moved, expected_version=case["_version"])
            await tx.delete(SPACE, "d1")

    await asyncio.sleep(0.05)
    swept = await sweep_orphans(MovesWhileRead(store, move), objects, datetime.now(UTC) + SAFE_AGE)
    assert swept == 0
    assert await stored(objects) == {key}
