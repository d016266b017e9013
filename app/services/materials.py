"""Material uploads: authorise, sniff the type from the bytes, strip location, store, attach."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator

import structlog

from app.domain.actors import Actor
from app.domain.cases import Case, MaterialRef, Slot
from app.domain.errors import DomainError, NotPermitted, ValidationFailed
from app.services.cases import CaseService
from ocr.intake import DAMAGED
from ocr.intake import sniff as sniff_bytes
from ocr.metadata import LocationStripper, MetadataError, location_stripper
from storage.documents import (
    DuplicateKey,
    NotFound,
    StorageFull,
    TransactionAborted,
    VersionConflict,
)
from storage.objects import ObjectStore, ObjectStoreError, ObjectTooLarge

MAX_MATERIAL_BYTES = 20 * 1024 * 1024
TOO_LARGE = "单个文件不能超过 20 MB，请压缩后重试"

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
}
# Failures after which the case is known to name nothing new: refused by its rules, or a
# transaction that wrote nothing. After any other (a lost connection at commit, say) the photo
# may be named already, so it is left to the sweep of unreferenced objects (object_sweep).
NOTHING_WRITTEN = (
    DomainError, StorageFull, VersionConflict, DuplicateKey, NotFound, TransactionAborted
)  # fmt: skip

log = structlog.get_logger(__name__)


def sniff(head: bytes) -> tuple[str, str]:
    """Content type and extension of a photo or PDF, decided by its bytes, never by its name.

    One list for upload and OCR intake, so nothing accepted here is refused by the pre-check.
    """
    content_type = sniff_bytes(head)
    if content_type is None:
        raise ValidationFailed(
            "只接受 JPG、PNG、HEIC、WEBP 格式的照片或 PDF 文件，请重新拍照或选择文件"
        )
    return content_type, EXTENSIONS[content_type]


class MaterialService:
    def __init__(self, objects: ObjectStore, cases: CaseService) -> None:
        self._objects = objects
        self._cases = cases
        self._attaching: set[asyncio.Task[Case]] = set()

    async def upload(
        self,
        actor: Actor,
        number: str,
        slot_id: str,
        chunks: AsyncIterable[bytes],
        *,
        version: int | None,
        source: str = "upload",
    ) -> Case:
        case = await self._cases.get(actor, number)
        if not case.is_owner(actor):
            raise NotPermitted("只有申请人本人可以上传该办件的材料")
        case.slot(slot_id)  # an unknown slot is refused before any byte is stored
        ref = await store_photo(self._objects, f"cases/{number}/{slot_id}", chunks, source)
        # Stored: now the case takes the photo or it goes, even if the upload is cancelled
        # meanwhile (the client gone, the server stopping), so that nothing is left unnamed.
        attaching = asyncio.create_task(self._attach(actor, number, slot_id, ref, version))
        self._attaching.add(attaching)  # held until done: the loop keeps only weak references
        attaching.add_done_callback(self._attached)
        return await asyncio.shield(attaching)

    async def _attach(
        self, actor: Actor, number: str, slot_id: str, ref: MaterialRef, version: int | None
    ) -> Case:
        try:
            return await self._cases.attach(actor, number, slot_id, ref, version=version)
        except NOTHING_WRITTEN:
            with contextlib.suppress(ObjectStoreError):  # else the sweep removes it later
                await self._objects.delete(ref.object_key)  # the case refused it
            raise

    def _attached(self, task: asyncio.Task[Case]) -> None:
        self._attaching.discard(task)
        exc = None if task.cancelled() else task.exception()  # retrieved, even if unawaited
        if exc is not None and not isinstance(exc, NOTHING_WRITTEN):
            log.warning(  # the photo is stored; the sweep removes it if no case holds it
                "photo_attach_unknown_left_to_sweep",
                error_type=type(exc).__name__,
                error=str(exc),
            )

    async def file_once(
        self, actor: Actor, case: Case, *, source: str, fetch: Callable[[], Awaitable[bytes]]
    ) -> tuple[Case, Slot] | None:
        """File the photo ``source`` names (a chat message) in ``case``, at most once.

        A rerun finds the slot an earlier run filed it in; otherwise it goes to the next slot
        waiting for a photo, and ``fetch`` is called for its bytes only then. None when no slot
        waits. A photo the case refuses raises, saying why.
        """
        done = next((s for s in case.slots if _source(case, s.id) == source), None)
        if done is not None:
            return case, done
        slot = case.next_slot_for_photo()
        if slot is None:
            return None
        data = await fetch()
        case = await self.upload(
            actor, case.number, slot.id, as_chunks(data), version=None, source=source
        )
        return case, slot


def _source(case: Case, slot_id: str) -> str | None:
    ref = case.materials.get(slot_id)
    return ref.source if ref else None


async def as_chunks(data: bytes) -> AsyncIterator[bytes]:
    """Bytes already in memory (a chat photo) as the stream an upload takes."""
    yield data


async def store_photo(
    objects: ObjectStore, prefix: str, chunks: AsyncIterable[bytes], source: str
) -> MaterialRef:
    """Store an uploaded photo or PDF under ``prefix`` without its location data.

    The type comes from the first bytes; empty, unknown or malformed files are refused with a
    sentence saying what to do, and nothing is kept of them.
    """
    stream = aiter(chunks)
    head = b""
    async for chunk in stream:
        head += chunk
        if len(head) >= 16:
            break
    if not head:
        raise ValidationFailed("上传的文件是空的，请重新选择")
    content_type, ext = sniff(head)
    key = f"{prefix}/{uuid.uuid4().hex}.{ext}"
    # PIPL: what is stored is the photo without its location, never the bytes as received.
    stripper = location_stripper(content_type)
    try:
        info = await objects.put(
            key,
            _stripped(stripper, _prepend(head, stream)),
            content_type=content_type,
            max_bytes=MAX_MATERIAL_BYTES,
        )
    except MetadataError as exc:  # the store kept nothing of the failed put
        raise ValidationFailed(DAMAGED) from exc
    finally:
        stripper.close()
    return MaterialRef(key, content_type, info.size, info.sha256, source)


async def _prepend(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk


async def _stripped(
    stripper: LocationStripper, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """The upload with its location removed; the cap counts the bytes as received.

    JPEG and PNG are cleaned inline (microseconds a chunk); WebP and HEIC are written to and
    read back from a temporary file, which is blocking I/O and so runs in a worker thread.
    """
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > MAX_MATERIAL_BYTES:  # WebP and HEIC are spooled whole before any output
            raise ObjectTooLarge(f"more than {MAX_MATERIAL_BYTES} bytes")
        out = (
            await asyncio.to_thread(stripper.feed, chunk)
            if stripper.spools
            else stripper.feed(chunk)
        )
        if out:
            yield out
    rest = stripper.finish()
    if not stripper.spools:
        for out in rest:
            yield out
        return
    while out := await asyncio.to_thread(_next, rest):
        yield out


def _next(chunks: Iterator[bytes]) -> bytes:
    return next(chunks, b"")
