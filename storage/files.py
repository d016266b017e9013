"""Object store in a local directory: a JSON record per key names an immutable blob file.

Layout under ``root``: ``tmp/`` holds uploads in progress; ``blobs/ab/<uuid>`` holds bytes that
never change once written; ``keys/<key>.json`` records size, content type, sha256 and the blob
(``listing`` reads these records, and takes a record's mtime for the time its object was put).
A put swaps the record with ``os.replace`` (the commit point) and only then removes the blob
it replaced, so a reader sees the old object or the new one whole, never a mix, and a put that
fails or overflows leaves nothing visible. A crash between the swap and the removal leaves an
unreferenced blob behind: garbage, never a wrong answer. A crash in the middle of an upload
leaves its file in ``tmp/``; ``open`` removes those no upload has written to for an hour
(``TMP_SAFE_AGE``), so that instances sharing the directory never lose one in progress. File I/O
runs in worker threads.

Download links point at our own service (``storage.links``), which must serve ``/files/``
with a verifier holding the same ``url_secret``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode

import structlog

from storage.links import LINK_PATH, Clock, LinkSigner
from storage.objects import (
    LINK_LIFETIME,
    InvalidKey,
    ListedObject,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectTooLarge,
    check_older_than,
    validate_key,
    validate_prefix,
)

CHUNK = 64 * 1024
# An upload writes as its bytes arrive; a file in tmp/ untouched this long was left by a crash.
TMP_SAFE_AGE = timedelta(hours=1)

log = structlog.get_logger(__name__)


def _write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class FileObjectStore(ObjectStore):
    """ObjectStore under one directory; nothing is touched until the first call.

    Download links are ``{base_url}/files/<key>?exp=&sig=`` signed with ``url_secret`` (by
    default a random one: links that no server accepts, for stores that never hand any out).
    """

    def __init__(
        self,
        root: Path,
        *,
        url_secret: bytes | None = None,
        base_url: str = "http://127.0.0.1:8080",
        clock: Clock | None = None,
    ) -> None:
        self._root = Path(root)
        secret = url_secret if url_secret is not None else secrets.token_bytes(32)
        self._signer = LinkSigner(secret) if clock is None else LinkSigner(secret, clock=clock)
        self._base_url = base_url.rstrip("/")

    def opener(self) -> Callable[[], ObjectStore]:
        # Reading needs only the directory; links are never handed out by that copy.
        return functools.partial(FileObjectStore, self._root)

    async def open(self) -> None:
        """Remove what uploads cut off by a crash left in ``tmp/`` (see ``TMP_SAFE_AGE``)."""
        removed = await asyncio.to_thread(
            self._clear_tmp, time.time() - TMP_SAFE_AGE.total_seconds()
        )
        if removed:
            log.info("cut_upload_files_removed", count=removed, directory=str(self._root / "tmp"))

    def _clear_tmp(self, before: float) -> int:
        removed = 0
        try:
            entries = list(os.scandir(self._root / "tmp"))
        except (FileNotFoundError, NotADirectoryError):
            return 0
        for entry in entries:
            # Another instance's upload, or a later start's, may finish or go meanwhile.
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < before:
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def _record_path(self, key: str) -> Path:
        """Where ``key``'s record lives, refusing any key that would resolve outside the root."""
        validate_key(key)
        keys = (self._root / "keys").resolve()
        path = (keys / f"{key}.json").resolve()
        if not path.is_relative_to(keys):
            raise InvalidKey(key)
        return path

    def _blob_path(self, blob: str) -> Path:
        return self._root / "blobs" / blob[:2] / blob

    def _read_record(self, key: str) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(self._record_path(key).read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            return None
        return record

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> ObjectInfo:
        record_path = await asyncio.to_thread(self._record_path, key)
        tmp_dir = self._root / "tmp"
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        blob = uuid.uuid4().hex
        tmp = tmp_dir / blob
        digest = hashlib.sha256()
        size = 0
        f: IO[bytes] = await asyncio.to_thread(tmp.open, "wb")
        try:
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise ObjectTooLarge(f"{key}: more than {max_bytes} bytes")
                    await asyncio.to_thread(_absorb, f, digest, chunk)
                await asyncio.to_thread(_seal, f)
            finally:
                await asyncio.to_thread(f.close)
            info = ObjectInfo(key, size, content_type, digest.hexdigest())
            await asyncio.to_thread(self._commit, record_path, tmp, blob, info)
        except BaseException:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
            raise
        return info

    def _commit(self, record_path: Path, tmp: Path, blob: str, info: ObjectInfo) -> None:
        blob_path = self._blob_path(blob)
        blob_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, blob_path)
        record = {"size": info.size, "content_type": info.content_type, "sha256": info.sha256}
        tmp_record = self._root / "tmp" / f"{blob}.json"
        try:
            _write_file(tmp_record, json.dumps({**record, "blob": blob}).encode())
            previous = self._read_record(info.key)
            try:
                record_path.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as e:  # "a" is an object, "a/b" can't be
                raise InvalidKey(f"{info.key}: a prefix of it is an object") from e
            os.replace(tmp_record, record_path)
        except BaseException:
            tmp_record.unlink(missing_ok=True)
            blob_path.unlink(missing_ok=True)
            raise
        if previous is not None:
            self._blob_path(previous["blob"]).unlink(missing_ok=True)

    async def get(self, key: str) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(self._open_blob, key)
        try:
            while chunk := await asyncio.to_thread(f.read, CHUNK):
                yield chunk
        finally:
            await asyncio.to_thread(f.close)

    def _open_blob(self, key: str) -> IO[bytes]:
        # A put may replace the record and remove its old blob between our two reads: read again.
        for _ in range(3):
            record = self._read_record(key)
            if record is None:
                break
            with contextlib.suppress(FileNotFoundError):
                return self._blob_path(record["blob"]).open("rb")
        raise ObjectNotFound(key)

    async def stat(self, key: str) -> ObjectInfo:
        record = await asyncio.to_thread(self._read_record, key)
        if record is None:
            raise ObjectNotFound(key)
        return ObjectInfo(key, record["size"], record["content_type"], record["sha256"])

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    def _delete(self, key: str) -> None:
        record = self._read_record(key)
        if record is not None:
            self._record_path(key).unlink(missing_ok=True)
            self._blob_path(record["blob"]).unlink(missing_ok=True)

    async def listing(
        self, prefix: str = "", *, older_than: datetime | None = None
    ) -> AsyncIterator[ListedObject]:
        """The records under ``keys/`` (never ``tmp/``), one folder read at a time; an object's
        time is its record's, which every put writes anew."""
        validate_prefix(prefix)
        check_older_than(older_than)
        before = older_than.timestamp() if older_than else None
        folder, _, start = prefix.rpartition("/")
        pending = [(folder, start)]
        while pending:
            folder, start = pending.pop()
            records, folders = await asyncio.to_thread(self._scan, folder, start)
            for name in folders:
                pending.append((f"{folder}/{name}" if folder else name, ""))
            for name, mtime in records:
                if before is None or mtime < before:
                    key = f"{folder}/{name}" if folder else name
                    yield ListedObject(key, datetime.fromtimestamp(mtime, UTC))

    def _scan(self, folder: str, start: str) -> tuple[list[tuple[str, float]], list[str]]:
        """(key name, mtime) of the records in one folder of ``keys/`` whose names begin with
        ``start``, and its sub-folders whose names do; only those records are stat'ed."""
        records: list[tuple[str, float]] = []
        folders: list[str] = []
        try:
            entries = list(os.scandir(self._root / "keys" / folder))
        except (FileNotFoundError, NotADirectoryError):
            return records, folders
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                if entry.is_dir(follow_symlinks=False):
                    if entry.name.startswith(start):
                        folders.append(entry.name)
                elif entry.name.endswith(".json"):
                    name = entry.name.removesuffix(".json")
                    if name.startswith(start):  # stat only what is asked for
                        records.append((name, entry.stat().st_mtime))
        return records, folders

    async def download_url(self, key: str, *, expires: timedelta = LINK_LIFETIME) -> str:
        validate_key(key)
        query = urlencode(self._signer.sign(key, expires))
        return f"{self._base_url}{LINK_PATH}{quote(key)}?{query}"

    async def ping(self) -> None:
        """Raise unless the root is writable (a probe file is written, synced and removed)."""
        await asyncio.to_thread(self._probe)

    def _probe(self) -> None:
        tmp_dir = self._root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        probe = tmp_dir / f"ping-{uuid.uuid4().hex}"
        try:
            _write_file(probe, b"ok")
        finally:
            probe.unlink(missing_ok=True)


def _absorb(f: IO[bytes], digest: Any, chunk: bytes) -> None:
    digest.update(chunk)
    f.write(chunk)


def _seal(f: IO[bytes]) -> None:
    f.flush()
    os.fsync(f.fileno())
