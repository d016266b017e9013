"""ObjectStore.opener over every adapter: another process reads by key what this one stored."""

from __future__ import annotations

import pickle

import pytest

from storage.objects import ObjectNotFound, ObjectStore
from tests.contract.test_object_store import read_all, stream


async def test_a_store_built_from_the_pickled_opener_reads_what_was_stored(
    object_store: ObjectStore,
) -> None:
    data = bytes(range(256)) * 1000
    await object_store.put(
        "cases/BC1/photo.jpg", stream(data), content_type="image/jpeg", max_bytes=len(data)
    )
    opener = pickle.loads(pickle.dumps(object_store.opener()))  # noqa: S301 - as to a worker
    elsewhere = opener()
    try:
        assert await read_all(elsewhere, "cases/BC1/photo.jpg") == data
        with pytest.raises(ObjectNotFound):
            await read_all(elsewhere, "cases/BC1/gone.jpg")
    finally:
        await elsewhere.close()
