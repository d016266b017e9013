"""The pre-check is handed a photo's key, and the OCR worker reads the photo from the store:
the process that asks (the web process) never holds it, whatever its size."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ocr.precheck import Prechecker
from ocr.rules import Expectation
from storage.files import FileObjectStore
from storage.objects import ObjectNotFound
from tests.service.photos import png
from tests.stores import DelegatingObjectStore


class ReadElsewhere(DelegatingObjectStore):
    """A store whose objects cannot be read in this process, only from its opener's copy."""

    def get(self, key: str) -> AsyncIterator[bytes]:
        raise AssertionError(f"the photo {key} was read in the process that asked")


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
def objects(tmp_path: Path) -> ReadElsewhere:
    return ReadElsewhere(FileObjectStore(tmp_path / "objects"))


async def test_the_worker_reads_the_photo_by_key_and_judges_it(
    prechecker: Prechecker, objects: ReadElsewhere, cards: dict[str, Any]
) -> None:
    card = cards["mine"]
    data = png(card.image)
    await objects.put("cases/BC1/id.png", once(data), content_type="image/png", max_bytes=len(data))
    expect = Expectation(
        "id_card_front",
        date(2026, 11, 2),
        person_id=card.truth["id_number"],
        holder_name=card.truth["name"],
    )
    verdict = await prechecker(objects, "cases/BC1/id.png", expect)
    assert verdict.status == "pass", verdict
    assert verdict.fields["id_number"] == card.truth["id_number"]


async def test_a_photo_gone_from_the_store_is_not_found_for_the_caller(
    prechecker: Prechecker, objects: ReadElsewhere
) -> None:
    with pytest.raises(ObjectNotFound):
        await prechecker(objects, "cases/BC1/gone.png", Expectation("photo", date(2026, 11, 2)))
