"""Material uploads: authorise, sniff the type from the bytes, store, attach to the slot."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator

from app.domain.actors import Actor
from app.domain.cases import Case, MaterialRef
from app.domain.errors import NotPermitted, ValidationFailed
from app.services.cases import CaseService
from ocr.intake import sniff as sniff_bytes
from storage.objects import ObjectStore

MAX_MATERIAL_BYTES = 20 * 1024 * 1024

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
}


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
        case.terms.slot(slot_id)  # an unknown slot is refused before any byte is stored
        stream = aiter(chunks)
        head = b""
        async for chunk in stream:
            head += chunk
            if len(head) >= 16:
                break
        if not head:
            raise ValidationFailed("上传的文件是空的，请重新选择")
        content_type, ext = sniff(head)
        key = f"cases/{number}/{slot_id}/{uuid.uuid4().hex}.{ext}"
        info = await self._objects.put(
            key, _prepend(head, stream), content_type=content_type, max_bytes=MAX_MATERIAL_BYTES
        )
        ref = MaterialRef(key, content_type, info.size, info.sha256, source)
        try:
            return await self._cases.attach(actor, number, slot_id, ref, version=version)
        except Exception:
            await self._objects.delete(key)  # the case refused it: keep no orphan photo
            raise


async def _prepend(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk
