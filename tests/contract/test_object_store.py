"""ObjectStore contract, run over every adapter (see conftest.OBJECT_STORES)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.files import FileObjectStore
from storage.objects import InvalidKey, ObjectNotFound, ObjectStore, ObjectTooLarge

MiB = 1024 * 1024


async def stream(data: bytes, chunk: int = 100_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        await asyncio.sleep(0)
        yield data[start : start + chunk]


async def read_all(store: ObjectStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.get(key)])


async def test_a_streamed_object_round_trips_in_chunks(object_store: ObjectStore):
    data = os.urandom(3 * MiB + 123)

    info = await object_store.put(
        "cases/BCM-1/id-front.jpg", stream(data), content_type="image/jpeg", max_bytes=4 * MiB
    )

    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    chunks = [chunk async for chunk in object_store.get("cases/BCM-1/id-front.jpg")]
    assert len(chunks) > 1
    assert b"".join(chunks) == data
    assert await object_store.stat("cases/BCM-1/id-front.jpg") == info
    assert info.content_type == "image/jpeg"


async def test_an_empty_object_is_stored(object_store: ObjectStore):
    info = await object_store.put("empty", stream(b""), content_type="text/plain", max_bytes=10)
    assert info.size == 0
    assert await read_all(object_store, "empty") == b""


async def test_a_stream_past_the_cap_is_refused_and_leaves_nothing(object_store: ObjectStore):
    with pytest.raises(ObjectTooLarge):
        await object_store.put(
            "big.bin", stream(os.urandom(MiB + 1)), content_type="image/png", max_bytes=MiB
        )

    with pytest.raises(ObjectNotFound):
        await object_store.stat("big.bin")
    with pytest.raises(ObjectNotFound):
        await read_all(object_store, "big.bin")


async def test_a_stream_of_exactly_the_cap_is_stored(object_store: ObjectStore):
    info = await object_store.put("cap", stream(b"x" * 1000), content_type="a/b", max_bytes=1000)
    assert info.size == 1000


async def test_a_stream_that_fails_midway_stores_nothing(object_store: ObjectStore):
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await object_store.put("half", broken(), content_type="a/b", max_bytes=MiB)
    with pytest.raises(ObjectNotFound):
        await object_store.stat("half")


@pytest.mark.parametrize(
    "key", ["../x", "/etc/passwd", "a/../../b", "a//b", "", "a/./b", "a\\b", "a/", "~/x", ".x"]
)
async def test_keys_that_could_escape_the_store_are_invalid(object_store: ObjectStore, key: str):
    with pytest.raises(InvalidKey):
        await object_store.put(key, stream(b"x"), content_type="a/b", max_bytes=10)
    with pytest.raises(InvalidKey):
        await object_store.stat(key)
    with pytest.raises(InvalidKey):
        await read_all(object_store, key)
    with pytest.raises(InvalidKey):
        await object_store.delete(key)


async def test_a_missing_object_is_not_found(object_store: ObjectStore):
    with pytest.raises(ObjectNotFound):
        await object_store.stat("nothing/here")
    with pytest.raises(ObjectNotFound):
        await read_all(object_store, "nothing/here")


async def test_delete_removes_and_is_idempotent(object_store: ObjectStore):
    await object_store.put("a/b.txt", stream(b"hello"), content_type="text/plain", max_bytes=10)

    await object_store.delete("a/b.txt")
    await object_store.delete("a/b.txt")
    await object_store.delete("never/was")

    with pytest.raises(ObjectNotFound):
        await object_store.stat("a/b.txt")


async def test_an_overwrite_replaces_the_object_whole(object_store: ObjectStore):
    old, new = os.urandom(2 * MiB), os.urandom(MiB // 2)
    await object_store.put("photo", stream(old), content_type="image/png", max_bytes=4 * MiB)

    reading = object_store.get("photo")
    first = await anext(reading)  # a reader already under way keeps the old bytes
    info = await object_store.put(
        "photo", stream(new), content_type="image/jpeg", max_bytes=4 * MiB
    )

    assert first + b"".join([chunk async for chunk in reading]) == old
    assert await read_all(object_store, "photo") == new
    assert await object_store.stat("photo") == info
    assert (info.size, info.content_type) == (len(new), "image/jpeg")


async def test_an_oversized_overwrite_keeps_the_old_object(object_store: ObjectStore):
    await object_store.put("photo", stream(b"old"), content_type="image/png", max_bytes=10)
    with pytest.raises(ObjectTooLarge):
        await object_store.put("photo", stream(b"x" * 11), content_type="image/png", max_bytes=10)
    assert await read_all(object_store, "photo") == b"old"


async def test_ping_succeeds_on_a_usable_store(object_store: ObjectStore):
    await object_store.ping()


# Filesystem only: what stays on disk.


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_the_filesystem_store_leaves_no_temporary_or_replaced_files(tmp_path: Path):
    store = FileObjectStore(tmp_path)
    await store.put("k", stream(b"one"), content_type="a/b", max_bytes=10)
    await store.put("k", stream(b"two"), content_type="a/b", max_bytes=10)
    with pytest.raises(ObjectTooLarge):
        await store.put("k2", stream(b"x" * 11), content_type="a/b", max_bytes=10)
    kinds = [f.split("/")[0] for f in files_under(tmp_path)]
    assert sorted(kinds) == ["blobs", "keys"]  # one record, one blob, nothing in tmp/
    assert (tmp_path / "keys" / "k.json").is_file()

    await store.delete("k")
    assert files_under(tmp_path) == []


async def test_the_filesystem_store_refuses_a_key_through_a_symlink_out_of_root(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    store = FileObjectStore(tmp_path / "root")
    await store.ping()
    (tmp_path / "root" / "keys").mkdir()
    (tmp_path / "root" / "keys" / "evil").symlink_to(outside)
    with pytest.raises(InvalidKey):
        await store.put("evil/x", stream(b"x"), content_type="a/b", max_bytes=10)
    assert list(outside.iterdir()) == []
