"""A stored photo is filed in its case or removed, whatever happens to the upload after it is
stored: a cancelled upload (the client gone, the server stopping) still files it; a refusal
removes it; a failure that may have happened after the commit never removes a photo the case
may already name (it is left to the sweep of unreferenced objects)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PIL import Image

from app.domain.actors import Actor, Role
from app.domain.errors import StaleVersion
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.services.materials import MaterialService
from app.settings import Settings
from app.wiring.demo import load_demo_data
from storage.documents import StorageFull, Transaction
from storage.files import FileObjectStore
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.photos import png
from tests.stores import DelegatingStore

CITIZEN = Actor("demo-citizen", Role.APPLICANT)
PHOTO = png(Image.new("RGB", (64, 48), "white"))


class SlowCommit(DelegatingStore):
    """Holds each commit until ``go`` (once ``hold``); with ``full``, the commit then fails as
    on a full disk, writing nothing; with ``lost_answer``, a commit that went through raises
    as a connection lost before its answer would."""

    def __init__(self, inner: SqliteDocumentStore) -> None:
        super().__init__(inner)
        self.hold = False
        self.full = False
        self.lost_answer = False
        self.committing = asyncio.Event()
        self.go = asyncio.Event()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:  # type: ignore[override]
        async with self.inner.transaction() as tx:
            yield tx
            if self.hold:
                self.committing.set()
                await self.go.wait()
            if self.full:
                raise StorageFull("database or disk is full")
        if self.lost_answer:
            raise ConnectionResetError("the answer to the commit was lost")


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
async def rig(
    store: SqliteDocumentStore, settings: Settings, clock: Clock, tmp_path: Path
) -> tuple[MaterialService, CaseService, SlowCommit, FileObjectStore, str]:
    await load_demo_data(store, settings, clock())
    slow = SlowCommit(store)
    cases = CaseService(slow, CalendarService(store), clock=clock)
    objects = FileObjectStore(tmp_path / "objects")
    matter = next(m for m in await list_matters(store) if "citizen" in m.targets)
    number = (await cases.open(CITIZEN, matter.code)).number
    return MaterialService(objects, cases), cases, slow, objects, number


async def stored(objects: FileObjectStore) -> list[str]:
    return [o.key async for o in objects.listing()]


async def test_an_upload_cancelled_while_its_case_takes_the_photo_still_files_it(
    rig: tuple[MaterialService, CaseService, SlowCommit, FileObjectStore, str],
) -> None:
    materials, cases, slow, objects, number = rig
    slot = (await cases.get(CITIZEN, number)).missing_materials()[0].id
    slow.hold = True
    upload = asyncio.create_task(materials.upload(CITIZEN, number, slot, once(PHOTO), version=None))
    await asyncio.wait_for(slow.committing.wait(), timeout=10)
    upload.cancel()  # the client went away while the case was taking the photo
    with pytest.raises(asyncio.CancelledError):
        await upload
    slow.go.set()

    for _ in range(100):  # the attach goes on without the cancelled upload
        if slot in (await cases.get(CITIZEN, number)).materials:
            break
        await asyncio.sleep(0.01)
    ref = (await cases.get(CITIZEN, number)).materials[slot]
    assert await stored(objects) == [ref.object_key]  # filed, and nothing else left


async def test_a_cancelled_upload_whose_commit_fails_leaves_no_photo(
    rig: tuple[MaterialService, CaseService, SlowCommit, FileObjectStore, str],
) -> None:
    materials, cases, slow, objects, number = rig
    slot = (await cases.get(CITIZEN, number)).missing_materials()[0].id
    slow.hold = slow.full = True
    upload = asyncio.create_task(materials.upload(CITIZEN, number, slot, once(PHOTO), version=None))
    await asyncio.wait_for(slow.committing.wait(), timeout=10)
    assert len(await stored(objects)) == 1
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    slow.go.set()  # the disk is full: the case takes nothing

    for _ in range(100):
        if not await stored(objects):
            break
        await asyncio.sleep(0.01)
    assert await stored(objects) == []
    assert slot not in (await cases.get(CITIZEN, number)).materials


async def test_a_photo_is_kept_when_the_commit_naming_it_may_have_gone_through(
    rig: tuple[MaterialService, CaseService, SlowCommit, FileObjectStore, str],
) -> None:
    materials, cases, slow, objects, number = rig
    slot = (await cases.get(CITIZEN, number)).missing_materials()[0].id
    slow.lost_answer = True

    with pytest.raises(ConnectionResetError):
        await materials.upload(CITIZEN, number, slot, once(PHOTO), version=None)

    ref = (await cases.get(CITIZEN, number)).materials[slot]  # the commit went through
    assert b"".join([c async for c in objects.get(ref.object_key)]).startswith(b"\x89PNG")


async def test_a_refused_upload_leaves_no_photo(
    rig: tuple[MaterialService, CaseService, SlowCommit, FileObjectStore, str],
) -> None:
    materials, cases, _, objects, number = rig
    case = await cases.get(CITIZEN, number)
    slot = case.missing_materials()[0].id
    with pytest.raises(StaleVersion):  # someone else changed the case first
        await materials.upload(CITIZEN, number, slot, once(PHOTO), version=case.version + 1)
    assert await stored(objects) == []
