"""WebP and HEIC location removal: the upload is spooled to a temporary file, then cleaned.

In both formats the metadata may sit anywhere (WebP puts EXIF and XMP after the image data;
a HEIC's ``iloc`` may point anywhere in the file) and WebP's RIFF size at the very start
depends on it, so nothing can go out before the whole file is in. The spool is an unnamed
temporary file: it is gone from the disk the moment it is closed, whatever happens.

WebP: the EXIF chunk is scrubbed in place, the XMP chunk is reduced to the orientation or
dropped, and the VP8X flags and the RIFF size follow. HEIC: the Exif and XMP items are
rewritten in place at the same length, so no offset in the file moves and nothing is
re-encoded; the orientation of a HEIC is its ``irot``/``imir`` properties, which stay.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ocr.metadata_tags import MetadataError, TiffError, minimal_xmp, scrub_tiff, xmp_orientation

CHUNK = 64 * 1024
MAX_METADATA = 4 * 1024 * 1024  # an EXIF or XMP block, or a HEIC meta box, held to be edited
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04

Part = bytes | tuple[int, int]  # literal bytes, or (offset, length) copied from the spool


class _Spooled:
    spools = True

    def __init__(self, spool_dir: Path | None) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115 - closed by close()
        self._size = 0

    def feed(self, data: bytes) -> bytes:
        self._file.write(data)
        self._size += len(data)
        return b""

    def finish(self) -> Iterator[bytes]:
        self._file.flush()
        for part in self._plan():
            if isinstance(part, bytes):
                if part:
                    yield part
                continue
            at, left = part
            while left > 0:
                self._file.seek(at)
                data = self._file.read(min(CHUNK, left))
                if not data:
                    break
                yield data
                at, left = at + len(data), left - len(data)

    def close(self) -> None:
        self._file.close()

    def _read(self, at: int, n: int) -> bytes:
        self._file.seek(at)
        return self._file.read(n)

    def _plan(self) -> list[Part]:
        raise NotImplementedError


class WebpStripper(_Spooled):
    def _plan(self) -> list[Part]:
        head = self._read(0, 12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WEBP":
            raise MetadataError("not a WebP")
        end = min(self._size, 8 + struct.unpack("<I", head[4:8])[0])  # trailing bytes go
        parts: list[Part] = []
        vp8x: tuple[int, bytes] | None = None
        flags_off = 0
        at = 12
        while at + 8 <= end:
            kind, length = struct.unpack("<4sI", self._read(at, 8))
            padded = length + (length & 1)
            whole = at + 8 + padded <= end
            if kind in (b"EXIF", b"XMP "):
                if length > MAX_METADATA:
                    raise MetadataError("WebP metadata chunk too large")
                body = self._read(at + 8, length) if whole else b""  # one cut short goes
                cleaned = _clean_webp(kind, body)
                if cleaned:
                    parts.append(_riff_chunk(kind, cleaned))
                else:
                    flags_off |= _VP8X_EXIF if kind == b"EXIF" else _VP8X_XMP
            elif kind == b"VP8X" and at == 12 and length == 10:
                vp8x = (len(parts), self._read(at, 18))
                parts.append(vp8x[1])
            else:
                parts.append((at, min(8 + padded, end - at)))
            at += 8 + padded
        if not parts:
            raise MetadataError("WebP without image data")
        if vp8x is not None:
            index, chunk = vp8x
            parts[index] = chunk[:8] + bytes([chunk[8] & ~flags_off & 0xFF]) + chunk[9:]
        size = 4 + sum(len(p) if isinstance(p, bytes) else p[1] for p in parts)
        return [b"RIFF" + struct.pack("<I", size) + b"WEBP", *parts]


def _clean_webp(kind: bytes, body: bytes) -> bytes:
    if not body:
        return b""
    if kind == b"XMP ":
        orientation = xmp_orientation(body)
        return minimal_xmp(orientation) if orientation else b""
    exif = bytearray(body)
    try:
        scrub_tiff(exif)
    except TiffError:
        return b""
    return bytes(exif)


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)


class HeifStripper(_Spooled):
    def _plan(self) -> list[Part]:
        meta_at, meta = self._meta()
        items = _items(meta)
        for item in items.values():
            if item.kind is None:
                continue
            ranges = item.ranges(meta_at, meta, self._size)
            payload = bytearray(b"".join(self._read(at, n) for at, n in ranges))
            if item.kind == "exif":
                _scrub_heif_exif(payload)
            else:
                payload[:] = minimal_xmp(xmp_orientation(bytes(payload)), len(payload))
            done = 0
            for at, n in ranges:
                self._file.seek(at)
                self._file.write(payload[done : done + n])
                done += n
        self._file.flush()
        return [(0, self._size)]

    def _meta(self) -> tuple[int, bytes]:
        """The top-level ``meta`` box: its file offset (of the payload) and payload."""
        at = 0
        while at + 8 <= self._size:
            size, kind = struct.unpack(">I4s", self._read(at, 8))
            header = 8
            if size == 1:
                size, header = struct.unpack(">Q", self._read(at + 8, 8))[0], 16
            elif size == 0:
                size = self._size - at
            if size < header:
                raise MetadataError("HEIF box size")
            if kind == b"meta":
                if size > MAX_METADATA or at + size > self._size:
                    raise MetadataError("HEIF meta box too large or cut short")
                return at + header, self._read(at + header, size - header)
            at += size
        raise MetadataError("HEIF without a meta box")


def _scrub_heif_exif(payload: bytearray) -> None:
    """An Exif item: a 4-byte offset to the TIFF header, then the EXIF (ISO/IEC 23008-12 A.2)."""
    try:
        if len(payload) < 4:
            raise TiffError("Exif item too short")
        scrub_tiff(payload, 4 + struct.unpack(">I", payload[:4])[0])
    except TiffError:
        payload[4:] = bytes(len(payload) - 4)  # unreadable: nothing of it stays


class _Item:
    def __init__(self) -> None:
        self.kind: str | None = None  # "exif", "xmp" or None (image data, thumbnails, ...)
        self.method = 0
        self.external = False
        self.base = 0
        self.extents: list[tuple[int, int]] = []

    def ranges(self, meta_at: int, meta: bytes, file_size: int) -> list[tuple[int, int]]:
        """Where the item's bytes are in the file, cut to the file's end."""
        if self.external:
            return []  # in another file: nothing of it is here
        if self.method == 1:
            idat = _child(meta, 4, b"idat")
            if idat is None:
                raise MetadataError("HEIF item in a missing idat")
            origin, limit = meta_at + idat[0], meta_at + idat[0] + idat[1]
        elif self.method == 0:
            origin, limit = 0, file_size
        else:
            raise MetadataError("HEIF metadata item built from other items")
        out = []
        for offset, length in self.extents:
            at = origin + self.base + offset
            n = (limit - at) if length == 0 else min(length, limit - at)
            if n > 0:
                out.append((at, n))
        if sum(n for _, n in out) > MAX_METADATA:
            raise MetadataError("HEIF metadata item too large")
        return out


def _child(payload: bytes, start: int, kind: bytes) -> tuple[int, int] | None:
    """(offset, length) of the payload of the first child box ``kind`` at ``payload[start:]``."""
    at = start
    while at + 8 <= len(payload):
        size, found = struct.unpack_from(">I4s", payload, at)
        header = 8
        if size == 1 and at + 16 <= len(payload):
            size, header = struct.unpack_from(">Q", payload, at + 8)[0], 16
        elif size == 0:
            size = len(payload) - at
        if size < header or at + size > len(payload):
            raise MetadataError("HEIF box inside meta")
        if found == kind:
            return at + header, size - header
        at += size
    return None


def _items(meta: bytes) -> dict[int, _Item]:
    """Every item with its kind (from ``iinf``) and location (from ``iloc``)."""
    items: dict[int, _Item] = {}
    try:
        iinf, iloc = _child(meta, 4, b"iinf"), _child(meta, 4, b"iloc")
        if iinf is not None:
            _read_iinf(meta[iinf[0] : iinf[0] + iinf[1]], items)
        if iloc is not None:
            _read_iloc(meta[iloc[0] : iloc[0] + iloc[1]], items)
    except (struct.error, IndexError) as exc:
        raise MetadataError("HEIF item tables") from exc
    return items


def _read_iinf(box: bytes, items: dict[int, _Item]) -> None:
    count_size = 2 if box[0] == 0 else 4
    at = 4 + count_size
    while at + 8 <= len(box):
        size, kind = struct.unpack_from(">I4s", box, at)
        if size < 8 or at + size > len(box):
            raise MetadataError("HEIF infe box")
        if kind == b"infe":
            item_id, item_kind = _read_infe(box[at + 8 : at + size])
            items.setdefault(item_id, _Item()).kind = item_kind
        at += size


def _read_infe(box: bytes) -> tuple[int, str | None]:
    version = box[0]
    if version < 2:  # item_ID, protection, name, content_type, ... (no item_type)
        item_id = struct.unpack_from(">H", box, 4)[0]
        fields = box[8:].split(b"\x00")
        return item_id, "xmp" if fields[1:2] == [b"application/rdf+xml"] else None
    if version == 2:
        item_id, at = struct.unpack_from(">H", box, 4)[0], 8
    else:
        item_id, at = struct.unpack_from(">I", box, 4)[0], 10
    item_type = box[at : at + 4]
    if item_type == b"Exif":
        return item_id, "exif"
    if item_type == b"mime":
        fields = box[at + 4 :].split(b"\x00")  # item_name, content_type, content_encoding
        if fields[1:2] == [b"application/rdf+xml"]:
            return item_id, "xmp"
    return item_id, None


def _read_iloc(box: bytes, items: dict[int, _Item]) -> None:
    version = box[0]
    sizes = box[4], box[5]
    offset_size, length_size = sizes[0] >> 4, sizes[0] & 15
    base_size, index_size = sizes[1] >> 4, (sizes[1] & 15) if version else 0
    if not {offset_size, length_size, base_size, index_size} <= {0, 4, 8}:
        raise MetadataError("HEIF iloc field size")
    at = 6
    if version < 2:
        count, at = struct.unpack_from(">H", box, at)[0], at + 2
    else:
        count, at = struct.unpack_from(">I", box, at)[0], at + 4

    def uint(n: int) -> int:
        nonlocal at
        value = int.from_bytes(box[at : at + n], "big") if n else 0
        if len(box[at : at + n]) != n:
            raise MetadataError("HEIF iloc cut short")
        at += n
        return value

    for _ in range(count):
        item = items.setdefault(uint(2 if version < 2 else 4), _Item())
        if version:
            item.method = uint(2) & 15
        item.external = uint(2) != 0
        item.base = uint(base_size)
        extents = uint(2)
        item.extents = []
        for _ in range(extents):
            uint(index_size)
            item.extents.append((uint(offset_size), uint(length_size)))
