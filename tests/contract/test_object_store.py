"""ObjectStore contract, run over every adapter (see conftest.OBJECT_STORES)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest
from minio import Minio

from storage.files import FileObjectStore
from storage.minio import PART_SIZE, STAGING, MinioObjectStore
from storage.objects import (
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    ObjectTooLarge,
)
from tests.contract.conftest import MOTO_CREDENTIALS, SigningClock, StoreSite, minio_on
from tests.contract.s3_server import CheckedMotoServer

MiB = 1024 * 1024
LARGE = 2 * PART_SIZE + 7  # a multipart upload of three parts on S3


async def stream(data: bytes, chunk: int = 100_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        await asyncio.sleep(0)
        yield data[start : start + chunk]


async def read_all(store: ObjectStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.get(key)])


async def fetch(url: str) -> tuple[int, str, bytes]:
    """GET a download link as a browser would: status, media type, body."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.content_type, await response.read()


def with_query(url: str, change: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=urlencode({**query, **change})))


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


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


@pytest.mark.parametrize("size", [7, LARGE], ids=["small", "multipart"])
async def test_a_stream_that_fails_midway_stores_nothing(object_store: ObjectStore, size: int):
    async def broken() -> AsyncIterator[bytes]:
        async for chunk in stream(os.urandom(size)):
            yield chunk
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await object_store.put("half", broken(), content_type="a/b", max_bytes=4 * LARGE)
    with pytest.raises(ObjectNotFound):
        await object_store.stat("half")


async def test_an_object_of_several_parts_streams_through_whole(object_store: ObjectStore):
    data = os.urandom(LARGE)

    info = await object_store.put(
        "big/scan.pdf", stream(data), content_type="application/pdf", max_bytes=LARGE
    )

    assert (info.size, info.sha256) == (LARGE, hashlib.sha256(data).hexdigest())
    assert await object_store.stat("big/scan.pdf") == info
    assert await read_all(object_store, "big/scan.pdf") == data


async def test_a_long_stream_past_the_cap_after_the_first_part_leaves_nothing(
    object_store: ObjectStore,
):
    with pytest.raises(ObjectTooLarge):
        await object_store.put(
            "big.bin", stream(os.urandom(LARGE)), content_type="a/b", max_bytes=PART_SIZE + MiB
        )
    with pytest.raises(ObjectNotFound):
        await object_store.stat("big.bin")


async def test_a_cancelled_put_stores_nothing(object_store: ObjectStore):
    past_first_part = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        async for chunk in stream(os.urandom(PART_SIZE + MiB)):
            yield chunk
        past_first_part.set()
        await asyncio.Event().wait()  # the client stops sending; the request is cancelled
        yield b"never"

    put = asyncio.create_task(
        object_store.put("stalled", stalls(), content_type="a/b", max_bytes=4 * LARGE)
    )
    await asyncio.wait_for(past_first_part.wait(), timeout=30)
    put.cancel()
    with pytest.raises(asyncio.CancelledError):
        await put
    with pytest.raises(ObjectNotFound):
        await object_store.stat("stalled")


async def test_concurrent_puts_of_different_keys_each_keep_their_bytes(object_store: ObjectStore):
    sizes = [1, 300_000, 700_000, PART_SIZE + 1, PART_SIZE + 3 * MiB]
    blobs = {f"many/{n}.bin": os.urandom(size) for n, size in enumerate(sizes)}

    infos = await asyncio.gather(
        *(
            object_store.put(key, stream(data), content_type="a/b", max_bytes=LARGE)
            for key, data in blobs.items()
        )
    )

    for info, (key, data) in zip(infos, blobs.items(), strict=True):
        assert info.sha256 == hashlib.sha256(data).hexdigest()
        assert await object_store.stat(key) == info
        assert await read_all(object_store, key) == data


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
    with pytest.raises(InvalidKey):
        await object_store.download_url(key)


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


# Listing.


async def listed(store: ObjectStore, prefix: str = "", **kw: datetime) -> list[str]:
    return sorted([o.key async for o in store.listing(prefix, **kw)])


async def test_listing_gives_the_objects_under_a_prefix_and_nothing_else(object_store: ObjectStore):
    names = ["cases/BC1/a.jpg", "cases/BC1/id/b", "cases/BC10/c.jpg", "space/d.png", "top"]
    for name in names:
        await object_store.put(name, stream(b"x"), content_type="image/jpeg", max_bytes=10)

    assert await listed(object_store) == sorted(names)
    assert await listed(object_store, "cases/") == names[:3]
    assert await listed(object_store, "cases/BC1/") == names[:2]
    assert await listed(object_store, "cases/BC1") == names[:3]  # a prefix, not a folder
    assert await listed(object_store, "cases/BC1/id/b") == [names[1]]
    assert await listed(object_store, "cases/BC1/id/b.j") == []  # a name, not its record's
    assert await listed(object_store, "to") == ["top"]
    assert await listed(object_store, "nothing/") == []


async def test_a_deleted_object_or_a_put_in_progress_is_not_listed(object_store: ObjectStore):
    await object_store.put("gone/a.jpg", stream(b"x"), content_type="image/jpeg", max_bytes=10)
    await object_store.delete("gone/a.jpg")
    halfway = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield os.urandom(PART_SIZE + MiB)  # past one part: a multipart upload on S3
        halfway.set()
        await asyncio.Event().wait()
        yield b"never"

    put = asyncio.create_task(
        object_store.put("busy/b.bin", stalls(), content_type="a/b", max_bytes=LARGE)
    )
    try:
        await asyncio.wait_for(halfway.wait(), timeout=30)
        assert await listed(object_store) == []
    finally:
        put.cancel()
        await asyncio.gather(put, return_exceptions=True)


async def test_listing_older_than_goes_by_when_each_object_was_last_put(object_store: ObjectStore):
    for name in ("old.txt", "redone.txt"):
        await object_store.put(name, stream(b"1"), content_type="text/plain", max_bytes=9)
    # S3 gives times to the second: a second and more between the puts and the cut.
    await asyncio.sleep(1.1)
    cut = datetime.now(UTC)
    await asyncio.sleep(1.1)
    for name in ("redone.txt", "new.txt"):
        await object_store.put(name, stream(b"2"), content_type="text/plain", max_bytes=9)

    assert await listed(object_store, older_than=cut) == ["old.txt"]
    assert await listed(object_store, older_than=cut - timedelta(minutes=1)) == []
    assert await listed(object_store) == ["new.txt", "old.txt", "redone.txt"]
    times = {o.key: o.modified async for o in object_store.listing()}
    assert times["old.txt"] < cut <= times["new.txt"] + timedelta(seconds=1)
    assert abs(times["new.txt"] - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize("prefix", ["../", "/cases/", "cases/../x", "a//b", ".hidden", "a b"])
async def test_a_prefix_no_key_could_start_with_is_invalid(object_store: ObjectStore, prefix: str):
    with pytest.raises(InvalidKey):
        await listed(object_store, prefix)


async def test_listing_refuses_a_time_without_a_zone(object_store: ObjectStore):
    with pytest.raises(ValueError, match="timezone"):
        await listed(object_store, older_than=datetime.now())


# Download links.


async def test_a_download_link_fetches_the_bytes_with_their_type(object_store: ObjectStore):
    data = os.urandom(200_000)
    await object_store.put(
        "cases/BCM-2/licence.png", stream(data), content_type="image/png", max_bytes=MiB
    )

    url = await object_store.download_url("cases/BCM-2/licence.png", expires=timedelta(minutes=5))

    assert await fetch(url) == (200, "image/png", data)


async def test_a_link_works_until_its_expiry_and_not_after(
    object_store: ObjectStore, signing_clock: SigningClock
):
    await object_store.put("k.txt", stream(b"hello"), content_type="text/plain", max_bytes=10)

    signing_clock.offset = -timedelta(minutes=4)  # signed 4 minutes ago, for 5: 1 minute left
    fresh = await object_store.download_url("k.txt", expires=timedelta(minutes=5))
    signing_clock.offset = -timedelta(minutes=6)  # signed 6 minutes ago, for 5: expired
    stale = await object_store.download_url("k.txt", expires=timedelta(minutes=5))

    assert (await fetch(fresh))[::2] == (200, b"hello")
    status, _, body = await fetch(stale)
    assert status == 403
    assert b"hello" not in body


async def test_a_link_with_a_changed_signature_key_or_expiry_is_refused(object_store: ObjectStore):
    for name in ("docs/one.txt", "docs/two.txt"):
        await object_store.put(
            name, stream(b"secret " + name.encode()), content_type="text/plain", max_bytes=100
        )
    url = await object_store.download_url("docs/one.txt", expires=timedelta(minutes=5))
    query = query_of(url)
    # Our own links carry sig and exp; S3's, X-Amz-Signature and X-Amz-Expires.
    [sig] = [name for name in query if name.lower() in {"sig", "x-amz-signature"}]
    [exp] = [name for name in query if name.lower() in {"exp", "x-amz-expires"}]
    forged_sig = query[sig][:-1] + ("0" if query[sig][-1] != "0" else "1")

    forgeries = [
        with_query(url, {sig: forged_sig}),
        with_query(url, {exp: str(int(query[exp]) + 3600)}),
        url.replace("/docs/one.txt", "/docs/two.txt"),
        urlunsplit(urlsplit(url)._replace(query="")),
    ]

    assert (await fetch(url))[0] == 200
    for forged in forgeries:
        status, _, body = await fetch(forged)
        assert status == 403, forged
        assert b"secret" not in body


async def test_a_link_to_a_missing_object_answers_not_found(object_store: ObjectStore):
    url = await object_store.download_url("not/there.jpg", expires=timedelta(minutes=5))
    assert (await fetch(url))[0] == 404


@pytest.mark.parametrize("expires", [timedelta(0), timedelta(seconds=-1), timedelta(days=8)])
async def test_a_link_lives_one_second_to_seven_days(object_store: ObjectStore, expires: timedelta):
    with pytest.raises(ValueError, match="7 days"):
        await object_store.download_url("k", expires=expires)


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


async def test_the_filesystem_store_lists_neither_its_tmp_nor_its_blobs(tmp_path: Path):
    store = FileObjectStore(tmp_path)
    await store.put("cases/BC1/a.jpg", stream(b"x"), content_type="image/jpeg", max_bytes=9)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    (tmp_path / "tmp" / "cut-upload").write_bytes(b"left by a crash")
    (tmp_path / "tmp" / "cut-upload.json").write_bytes(b"{}")
    assert [o.key async for o in store.listing()] == ["cases/BC1/a.jpg"]
    old = time.time() - 3600
    os.utime(next((tmp_path / "keys").rglob("*.json")), (old, old))
    [entry] = [o async for o in store.listing()]
    assert abs(entry.modified.timestamp() - old) < 1


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


# MinIO adapter only: what is left in the bucket.


@pytest.fixture
async def moto_minio(
    moto_server: CheckedMotoServer,
    tmp_path: Path,
    signing_clock: SigningClock,
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[MinioObjectStore, Minio]]:
    [(access_key, secret_key)] = MOTO_CREDENTIALS.items()
    site = StoreSite(tmp_path, signing_clock, request)
    async with minio_on(site, moto_server.endpoint, access_key, secret_key, secure=False) as store:
        assert isinstance(store, MinioObjectStore)
        yield store, Minio(moto_server.endpoint, access_key, secret_key, secure=False)


def bucket_contents(client: Minio, bucket: str) -> tuple[list[str], int]:
    """Every object name (staging ones too) and how many multipart uploads are unfinished."""
    names = [str(o.object_name) for o in client.list_objects(bucket, recursive=True)]
    return names, len(client._list_multipart_uploads(bucket).uploads)  # no public SDK call


async def test_the_minio_store_leaves_no_staging_objects_or_unfinished_uploads(
    moto_minio: tuple[MinioObjectStore, Minio],
):
    store, client = moto_minio

    async def broken() -> AsyncIterator[bytes]:
        async for chunk in stream(os.urandom(LARGE)):
            yield chunk
        raise ConnectionResetError

    stalled = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        async for chunk in stream(os.urandom(LARGE)):
            yield chunk
        stalled.set()
        await asyncio.Event().wait()
        yield b"never"

    await store.put("kept", stream(os.urandom(LARGE)), content_type="a/b", max_bytes=LARGE)
    with pytest.raises(ObjectTooLarge):
        await store.put("big", stream(os.urandom(LARGE)), content_type="a/b", max_bytes=LARGE - 1)
    with pytest.raises(ConnectionResetError):
        await store.put("broken", broken(), content_type="a/b", max_bytes=4 * LARGE)
    put = asyncio.create_task(
        store.put("stalled", stalls(), content_type="a/b", max_bytes=4 * LARGE)
    )
    await asyncio.wait_for(stalled.wait(), timeout=30)  # two parts sent, the third waits
    put.cancel()
    with pytest.raises(asyncio.CancelledError):
        await put

    assert await asyncio.to_thread(bucket_contents, client, store.bucket) == (["kept"], 0)


async def test_the_minio_store_lists_neither_staging_leftovers_nor_foreign_names(
    moto_minio: tuple[MinioObjectStore, Minio],
):
    store, client = moto_minio
    await store.put("cases/BC1/a.jpg", stream(b"x"), content_type="image/jpeg", max_bytes=9)
    for name in (f"{STAGING}0123abcd", "not a key", "x/-y*"):  # a crash's, another tool's
        await asyncio.to_thread(client.put_object, store.bucket, name, io.BytesIO(b"z"), 1)
    assert [o.key async for o in store.listing()] == ["cases/BC1/a.jpg"]


async def test_the_minio_store_creates_its_bucket_with_a_rule_expiring_staging_leftovers(
    moto_minio: tuple[MinioObjectStore, Minio],
):
    store, client = moto_minio
    config = await asyncio.to_thread(client.get_bucket_lifecycle, store.bucket)
    assert config is not None
    [rule] = config.rules
    assert rule.rule_filter is not None and rule.rule_filter.prefix == ".uploads/"
    assert rule.expiration is not None and rule.expiration.days == 1


async def test_the_minio_store_reports_an_unreachable_server_as_a_store_error():
    with socket.socket() as sock:  # a port nothing listens on once this socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = MinioObjectStore(f"127.0.0.1:{port}", "a", "b", "bucket-x", secure=False)
    try:
        with pytest.raises(ObjectStoreError):
            await asyncio.wait_for(store.ping(), timeout=10)
    finally:
        await store.close()
