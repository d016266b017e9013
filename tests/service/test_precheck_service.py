"""Photo -> verdict through the real service path: upload, outbox job, OCR pool, case, chat notice.

Runs the default engine in a real process pool on synthetic cards from the corpus generator,
and the bad inputs an applicant's phone can produce. Nothing here is mocked.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.domain.actors import Actor, Role
from app.domain.errors import ValidationFailed
from storage.files import FileObjectStore
from storage.sqlite import SqliteDocumentStore
from tests.service.photos import ME, World, open_case, png
from tests.unit.test_ocr_intake import png_claiming


async def test_the_applicants_own_id_card_passes_and_they_are_told_in_the_chat(
    world: World, cards: dict[str, Any]
) -> None:
    number = await open_case(world)
    verdict = await world.photo(number, "id_card_front", png(cards["mine"].image))
    assert verdict["status"] == "pass", verdict
    assert verdict["check"].fields["id_number"] == cards["mine"].truth["id_number"]
    [told] = await world.chat_notices(number)
    assert "居民身份证人像面" in told and "预审通过" in told


async def test_a_strangers_card_and_the_wrong_side_are_caught_with_what_to_do(
    world: World, cards: dict[str, Any]
) -> None:
    number = await open_case(world)
    stranger = await world.photo(number, "id_card_front", png(cards["stranger"].image))
    assert stranger["status"] == "fix" and stranger["codes"] == ["NOT_APPLICANT"]
    wrong_side = await world.photo(number, "id_card_back", png(cards["mine"].image))
    assert wrong_side["status"] == "fix" and wrong_side["codes"] == ["WRONG_KIND"]
    told = await world.chat_notices(number)
    assert any("与申请人不一致" in t for t in told)
    assert any("上传的不是居民身份证国徽面" in t for t in told)
    # The ID number read from the stranger's card is never repeated in the chat (PIPL).
    assert all(cards["stranger"].truth["id_number"] not in t for t in told)


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((800, 600), 60).convert("RGB").save(out, "JPEG")
    return out.getvalue()[: len(out.getvalue()) // 2]


def hundred_megapixels(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10_000, 10_000), (236, 234, 228)).save(out, fmt)
    return out.getvalue()


async def test_broken_and_hostile_files_get_a_clear_message_and_no_worker_is_lost(
    world: World, cards: dict[str, Any]
) -> None:
    number = await open_case(world)
    hostile = {
        "DAMAGED": truncated_jpeg(),
        "TOO_LARGE": png_claiming(60_000, 60_000),  # a decompression bomb
        "TOO_LARGE ": hundred_megapixels("PNG"),  # 100 MP that would have to be decoded whole
    }
    for code, data in hostile.items():
        assert len(data) < 20 * 1024 * 1024  # under the upload cap: the pre-check must cope
        verdict = await world.photo(number, "photo", data)
        assert verdict["status"] == "fix" and verdict["codes"] == [code.strip()], code
        assert "请" in verdict["check"].findings[0].message
    # A 100-megapixel phone JPEG is read at reduced scale, not refused: this one is blank.
    verdict = await world.photo(number, "photo", hundred_megapixels("JPEG"))
    assert "TOO_LARGE" not in verdict["codes"] and verdict["status"] == "fix"
    # Files that are no picture at all never reach the pre-check: the upload refuses them.
    for data in (b"", b"%!PS-Adobe-3.0 not an image"):
        with pytest.raises(ValidationFailed):
            await world.photo(number, "photo", data)
    # The pool still works: the next real photo is read.
    verdict = await world.photo(number, "id_card_front", png(cards["mine"].image))
    assert verdict["status"] == "pass"


async def test_a_verdict_arriving_while_a_reviewer_reads_does_not_void_their_decision(
    world: World, cards: dict[str, Any]
) -> None:
    number = await open_case(world)

    async def once(data: bytes) -> Any:
        yield data

    for slot in ("id_card_front", "id_card_back", "photo"):
        await world.materials.upload(ME, number, slot, once(png(cards["mine"].image)), version=None)
    case = await world.cases.submit(ME, number, version=None)
    reviewer = Actor("reviewer-mz", Role.REVIEWER, department=case.terms.department)
    seen = await world.cases.get(reviewer, number)  # the reviewer opens the case...
    assert await world.dispatcher.dispatch_once() == 3  # ...the machine finishes meanwhile
    assert len((await world.cases.get(reviewer, number)).prechecks) == 3
    approved = await world.cases.approve(reviewer, number, version=seen.version)
    assert approved.state.value == "approved"


async def test_a_verdict_job_run_twice_tells_the_applicant_once(
    world: World, cards: dict[str, Any]
) -> None:
    number = await open_case(world)
    verdict = await world.photo(number, "id_card_front", png(cards["mine"].image))
    before = await world.store.count("outbox")
    # The job kept the verdict, then its process died before the outbox marked it done.
    assert await world.cases.record_precheck(number, "id_card_front", verdict["check"])
    assert await world.store.count("outbox") == before
    assert len(await world.chat_notices(number)) == 1


async def test_a_photo_the_case_still_names_but_the_store_lost_is_never_done_unjudged(
    world: World, store: SqliteDocumentStore, tmp_path: Path, cards: dict[str, Any]
) -> None:
    number = await open_case(world)

    async def once() -> AsyncIterator[bytes]:
        yield png(cards["mine"].image)

    await world.materials.upload(ME, number, "id_card_front", once(), version=None)
    case = await world.cases.get(ME, number)
    lost = case.materials["id_card_front"].object_key
    await FileObjectStore(tmp_path / "objects").delete(lost)  # the disk lost it
    await world.dispatcher.dispatch_once()
    [job] = await store.find("outbox", {"topic": "ocr.precheck"})
    assert job["status"] != "done" and "not in the object store" in job["last_error"]
    assert "id_card_front" not in (await world.cases.get(ME, number)).prechecks
