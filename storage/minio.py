"""Object store on MinIO (or any S3-compatible server) through the ``minio`` SDK.

The SDK blocks, so every call runs in a worker thread. A put reads the caller's stream up to one
part (5 MiB, the smallest S3 accepts): an object that ends within it goes up in one PUT with its
sha256 and content type as metadata. A longer one streams as a multipart upload to a staging
key under ``.uploads/`` (a name ``validate_key`` never allows), because S3 takes metadata when
an upload starts and the sha256 is known only at its end; a server-side copy then puts it under
its key with the metadata, and the staging object is removed. Either way the key changes in one
S3 operation: readers see the old object or the new one whole, never part of one. A stream that
fails or passes its cap aborts the upload and leaves nothing. Memory per upload: about two parts.

Staging objects and incomplete uploads that a crash leaves behind expire after a day by a
lifecycle rule set when this store creates the bucket.

Download links are presigned for ``public_url`` when the users' way to MinIO is not the app's
(``minio:9000`` inside a compose network, say): SigV4 signs the host, so a link cannot be
re-pointed after signing. The region is given, never asked for, so signing makes no request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import io
import itertools
import os
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, TypeVar, cast
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, REPLACE, CopySource, Filter
from minio.error import MinioException, S3Error
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, Expiration, LifecycleConfig, Rule

from storage.objects import (
    LINK_LIFETIME,
    InvalidKey,
    ListedObject,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    ObjectTooLarge,
    check_link_lifetime,
    check_older_than,
    validate_key,
    validate_prefix,
)

PART_SIZE = 5 * 1024 * 1024
CHUNK = 256 * 1024
STAGING = ".uploads/"
SHA256_HEADER = "x-amz-meta-sha256"
MISSING = {"NoSuchKey", "NoSuchObject"}
LIST_BATCH = 1000  # one ListObjectsV2 page: listed keys come over in batches of this many
T = TypeVar("T")
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MinioObjectStore(ObjectStore):
    """ObjectStore in one bucket; ``open`` creates the bucket if it is missing.

    ``public_url`` (``scheme://host[:port]``) is where download links point, by default the
    endpoint itself. ``clock`` is the signing time of links (the server checks them on its own).
    At most ``uploads`` multipart uploads stream at once; more wait their turn.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = True,
        region: str = "us-east-1",
        public_url: str | None = None,
        clock: Clock = _utcnow,
        uploads: int = 4,
    ) -> None:
        # Our own pool: short connect timeout and few retries, so a probe of an unreachable
        # server fails in seconds (the SDK's default waits minutes), holding no thread long.
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3, read=60),
            maxsize=16,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),  # as the SDK does
            retries=urllib3.Retry(
                total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
        )
        self._client = Minio(
            endpoint, access_key, secret_key, secure=secure, region=region, http_client=self._http
        )
        self._signer = self._client
        if public_url is not None:
            public = urlsplit(public_url)
            if public.scheme not in {"http", "https"} or public.path not in {"", "/"}:
                raise ValueError(f"public_url must be scheme://host[:port], not {public_url}")
            self._signer = Minio(
                public.netloc,
                access_key,
                secret_key,
                secure=public.scheme == "https",
                region=region,
            )
        self._bucket = bucket
        self._clock = clock
        # A multipart upload holds its thread while it waits for the caller's bytes: give those
        # threads their own pool, so they never starve the loop's default executor.
        self._uploads = ThreadPoolExecutor(max_workers=uploads, thread_name_prefix="minio-put")
        # What reading needs, for another process (see ``opener``); the bucket exists by then.
        self._opener = functools.partial(
            MinioObjectStore, endpoint, access_key, secret_key, bucket, secure=secure, region=region
        )

    def opener(self) -> Callable[[], ObjectStore]:
        return self._opener

    @property
    def bucket(self) -> str:
        return self._bucket

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one blocking SDK call in a thread; S3 and transport failures become ours."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except S3Error as exc:
            if exc.code in MISSING:
                raise ObjectNotFound(exc.object_name or "") from exc
            raise ObjectStoreError(f"{exc.code}: {exc.message}") from exc
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(str(exc)) from exc

    async def open(self) -> None:
        await self._call(self._ensure_bucket)

    def _ensure_bucket(self) -> None:
        if self._client.bucket_exists(self._bucket):
            return
        try:
            self._client.make_bucket(self._bucket)
        except S3Error as exc:
            if exc.code in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return  # another instance created it a moment ago, with the rule below
            raise
        rule = Rule(
            ENABLED,
            rule_filter=Filter(prefix=STAGING),
            rule_id="buchumen-staging",
            expiration=Expiration(days=1),
            abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(1),
        )
        self._client.set_bucket_lifecycle(self._bucket, LifecycleConfig([rule]))

    async def close(self) -> None:
        self._uploads.shutdown(wait=False, cancel_futures=True)
        self._http.clear()

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> ObjectInfo:
        validate_key(key)
        meter = _Meter(key, max_bytes)
        source = meter.count(chunks)
        head: list[bytes] = []
        held = 0
        async for chunk in source:
            head.append(chunk)
            held += len(chunk)
            if held > PART_SIZE:
                break
        else:  # the whole object fits in one part: one PUT, metadata and all
            info = meter.info(content_type)
            data = io.BytesIO(b"".join(head))
            await self._call(
                self._client.put_object,
                self._bucket,
                key,
                data,
                info.size,
                content_type=content_type,
                metadata={SHA256_HEADER: info.sha256},
            )
            return info
        staging = f"{STAGING}{uuid.uuid4().hex}"
        try:
            await self._stream_to(staging, _Reader(head, source), content_type)
            info = meter.info(content_type)
            metadata = {"Content-Type": content_type, SHA256_HEADER: info.sha256}
            await self._call(
                self._client.copy_object,
                self._bucket,
                key,
                CopySource(self._bucket, staging),
                metadata=metadata,
                metadata_directive=REPLACE,
            )
        finally:
            with contextlib.suppress(ObjectStoreError):
                await self._call(self._client.remove_object, self._bucket, staging)
        return info

    async def _stream_to(self, staging: str, reader: _Reader, content_type: str) -> None:
        """Multipart-upload ``reader`` to ``staging``; on any failure the SDK aborts the upload."""
        upload = asyncio.get_running_loop().run_in_executor(
            self._uploads,
            lambda: self._client.put_object(
                self._bucket,
                staging,
                cast(BinaryIO, reader),
                -1,
                content_type=content_type,
                part_size=PART_SIZE,
                num_parallel_uploads=1,  # one part in memory at a time
            ),
        )
        try:
            await asyncio.shield(upload)
        except BaseException as exc:
            # Cancelled, or the stream failed: make the reader fail so the SDK aborts the
            # multipart upload, and wait for that before the caller goes on.
            reader.abort()
            await asyncio.wait([upload])
            if isinstance(exc, MinioException | urllib3.exceptions.HTTPError):
                raise ObjectStoreError(str(exc)) from exc
            raise

    async def get(self, key: str) -> AsyncIterator[bytes]:
        validate_key(key)
        response = await self._call(self._client.get_object, self._bucket, key)
        try:
            while chunk := await self._call(response.read, CHUNK):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def stat(self, key: str) -> ObjectInfo:
        validate_key(key)
        obj = await self._call(self._client.stat_object, self._bucket, key)
        metadata = obj.metadata or {}
        return ObjectInfo(
            key,
            obj.size or 0,
            obj.content_type or "application/octet-stream",
            str(metadata.get(SHA256_HEADER, "")),
        )

    async def delete(self, key: str) -> None:
        validate_key(key)
        await self._call(self._client.remove_object, self._bucket, key)

    async def listing(
        self, prefix: str = "", *, older_than: datetime | None = None
    ) -> AsyncIterator[ListedObject]:
        """ListObjectsV2 page by page, ``last_modified`` as the time; staging objects (and
        names no key could have) are not ours to list."""
        validate_prefix(prefix)
        check_older_than(older_than)
        # The SDK's listing is a lazy generator: each batch pulls a page in a worker thread.
        listing = self._client.list_objects(self._bucket, prefix=prefix, recursive=True)
        while batch := await self._call(_take, listing, LIST_BATCH):
            for obj in batch:
                name, modified = obj.object_name, obj.last_modified
                if not name or obj.is_dir or name.startswith(STAGING) or not _is_key(name):
                    continue
                if modified is None:  # never seen from S3; taken as just put, so never old
                    modified = _utcnow()
                if older_than is None or modified < older_than:
                    yield ListedObject(name, modified)

    async def download_url(self, key: str, *, expires: timedelta = LINK_LIFETIME) -> str:
        validate_key(key)
        check_link_lifetime(expires)
        # Pure computation: the region is known, so the SDK makes no request.
        return self._signer.presigned_get_object(
            self._bucket, key, expires=expires, request_date=self._clock().astimezone(UTC)
        )

    async def ping(self) -> None:
        if not await self._call(self._client.bucket_exists, self._bucket):
            raise ObjectStoreError(f"bucket {self._bucket} does not exist")


def _take(items: Iterator[T], count: int) -> list[T]:
    return list(itertools.islice(items, count))


def _is_key(name: str) -> bool:
    try:
        validate_key(name)
    except InvalidKey:
        return False
    return True


class _Meter:
    """Counts and hashes the caller's chunks as they pass; past the cap, raises ObjectTooLarge."""

    def __init__(self, key: str, max_bytes: int) -> None:
        self._key = key
        self._max_bytes = max_bytes
        self._digest = hashlib.sha256()
        self._size = 0

    async def count(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self._size += len(chunk)
            if self._size > self._max_bytes:
                raise ObjectTooLarge(f"{self._key}: more than {self._max_bytes} bytes")
            self._digest.update(chunk)
            yield chunk

    def info(self, content_type: str) -> ObjectInfo:
        return ObjectInfo(self._key, self._size, content_type, self._digest.hexdigest())


class _Aborted(Exception):
    """The upload was called off on the loop's side (cancelled, or the put failed)."""


class _Reader:
    """A blocking ``read`` for the SDK's upload thread over chunks that arrive on the loop.

    Each read pulls chunks by scheduling ``anext`` on the loop and waiting for it, so at most
    one chunk beyond the part being read is held, and the caller's stream is never read ahead.
    """

    def __init__(self, head: list[bytes], source: AsyncIterator[bytes]) -> None:
        self._pending = deque(head)
        self._source = source
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._waiting: concurrent.futures.Future[bytes | None] | None = None
        self._aborted = False
        self._ended = False

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        got = 0
        while size < 0 or got < size:
            if not self._pending:
                chunk = self._pull()
                if chunk is None:
                    break
                self._pending.append(chunk)
            chunk = self._pending.popleft()
            if size >= 0 and got + len(chunk) > size:
                cut = size - got
                self._pending.appendleft(chunk[cut:])
                chunk = chunk[:cut]
            parts.append(chunk)
            got += len(chunk)
        # One bytes object per call: the SDK appends reads with +=, which copies each time.
        return b"".join(parts)

    def _pull(self) -> bytes | None:
        if self._ended:
            return None
        with self._lock:
            if self._aborted:
                raise _Aborted
            self._waiting = asyncio.run_coroutine_threadsafe(_next(self._source), self._loop)
        try:
            chunk = self._waiting.result()
        except concurrent.futures.CancelledError:
            raise _Aborted from None
        if chunk is None:
            self._ended = True
        return chunk

    def abort(self) -> None:
        """Make the next or current read fail (called on the loop)."""
        with self._lock:
            self._aborted = True
            if self._waiting is not None:
                self._waiting.cancel()


async def _next(source: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await anext(source)
    except StopAsyncIteration:
        return None
