"""Location inside EXIF (TIFF) and XMP payloads, removed in place without moving other bytes.

EXIF: the GPS IFD (0x8825) goes, and so do the XMP (0x02BC), IPTC (0x83BB) and Photoshop
(0x8649) blocks a TIFF directory may embed (IPTC and XMP name cities and coordinates). An
entry is removed by sliding the entries after it up and zeroing what is left over and the
values it pointed at, so every other offset in the payload stays valid: Orientation, the
Exif IFD, the thumbnail and the maker note keep working. XMP: a packet is replaced by one
that says nothing but the orientation it carried (Pillow and phones read ``tiff:Orientation``
from XMP when EXIF has none), padded to the old length where the container cannot shrink.
"""

from __future__ import annotations

import re
import struct

from ocr.errors import OcrError

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
REMOVED_TAGS = frozenset({GPS_IFD, 0x02BC, 0x83BB, 0x8649})
EXIF_HEADER = b"Exif\x00\x00"
# TIFF field type -> bytes per value (TIFF 6.0 and the Exif IFD type 13).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_MAX_IFDS = 16  # IFD0, the thumbnail's IFD1 and any a camera chains after them

_ORIENTATION = re.compile(rb"tiff:Orientation(?:=[\"']|>)\s*([1-8])")
_XMP_TAIL = b'<?xpacket end="w"?>'
_XMP_HEAD = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_XMP_EMPTY = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'


class MetadataError(OcrError):
    """The file is broken where its metadata lives, so we cannot vouch that it has no location."""


class TiffError(MetadataError):
    """An EXIF payload whose TIFF structure cannot be walked."""


def scrub_tiff(buf: bytearray, start: int = 0) -> None:
    """Remove location from the TIFF structure at ``buf[start:]``, in place; TiffError if broken.

    A payload prefixed by ``Exif\\0\\0`` (as JPEG and some PNG and WebP writers store it) is
    accepted at ``start`` too.
    """
    if buf[start : start + 6] == EXIF_HEADER:
        start += 6
    _Tiff(buf, start).scrub()


class _Tiff:
    def __init__(self, buf: bytearray, start: int) -> None:
        self.buf, self.start, self.size = buf, start, len(buf) - start
        order = bytes(buf[start : start + 2])
        if order not in (b"II", b"MM"):
            raise TiffError("not a TIFF header")
        self.end = "<" if order == b"II" else ">"
        if self.u16(2) != 42:
            raise TiffError("not a TIFF header")

    def u16(self, at: int) -> int:
        return int(self._unpack("H", at, 2))

    def u32(self, at: int) -> int:
        return int(self._unpack("I", at, 4))

    def _unpack(self, code: str, at: int, n: int) -> int:
        if not 0 <= at <= self.size - n:
            raise TiffError(f"offset {at} outside the payload")
        value: int = struct.unpack_from(self.end + code, self.buf, self.start + at)[0]
        return value

    def zero(self, at: int, n: int) -> None:
        lo, hi = max(0, at), min(self.size, at + n)
        if lo < hi:
            self.buf[self.start + lo : self.start + hi] = bytes(hi - lo)

    def scrub(self) -> None:
        seen: set[int] = set()
        at = self.u32(4)
        if not 8 <= at < self.size:  # no IFD0: nothing can be read, nor vouched for
            raise TiffError("IFD0 outside the payload")
        chain = 0
        while at and chain < _MAX_IFDS:
            if at in seen or at >= self.size:  # a loop or a stale next pointer: the chain ends
                break
            seen.add(at)
            exif_ifd = self._scrub_ifd(at)
            if exif_ifd and exif_ifd not in seen:
                seen.add(exif_ifd)
                self._scrub_ifd(exif_ifd)
            at = self.u32(at + 2 + 12 * self.u16(at))
            chain += 1

    def _scrub_ifd(self, at: int) -> int:
        """Drop the removed tags from the IFD at ``at``; return its Exif IFD offset, if any."""
        count = self.u16(at)
        first, tail = at + 2, at + 2 + 12 * count
        next_ifd = self.u32(tail)
        kept: list[bytes] = []
        exif_ifd = 0
        for i in range(count):
            entry = first + 12 * i
            tag, kind, n, value = self._entry(entry)
            if tag == EXIF_IFD:
                exif_ifd = value
            if tag not in REMOVED_TAGS:
                kept.append(bytes(self.buf[self.start + entry : self.start + entry + 12]))
            elif tag == GPS_IFD:
                self._wipe_ifd(value)
            elif _TYPE_SIZES.get(kind, 0) * n > 4:
                self.zero(value, _TYPE_SIZES[kind] * n)
        if len(kept) == count:
            return exif_ifd
        packed = b"".join(kept)
        o = self.start + first
        self.buf[o - 2 : o] = struct.pack(self.end + "H", len(kept))
        self.buf[o : o + len(packed)] = packed
        self.buf[o + len(packed) : o + len(packed) + 4] = struct.pack(self.end + "I", next_ifd)
        self.zero(first + len(packed) + 4, tail + 4 - (first + len(packed) + 4))
        return exif_ifd

    def _entry(self, at: int) -> tuple[int, int, int, int]:
        return self.u16(at), self.u16(at + 2), self.u32(at + 4), self.u32(at + 8)

    def _wipe_ifd(self, at: int) -> None:
        """Zero a GPS IFD and every value it points at (what lies outside is nobody's data)."""
        if not 0 <= at <= self.size - 2:
            return
        count = min(self.u16(at), (self.size - at - 2) // 12)
        for i in range(count):
            _, kind, n, value = self._entry(at + 2 + 12 * i)
            if _TYPE_SIZES.get(kind, 0) * n > 4:
                self.zero(value, _TYPE_SIZES[kind] * n)
        self.zero(at, 2 + 12 * count + 4)


def xmp_orientation(packet: bytes) -> int | None:
    """The ``tiff:Orientation`` an XMP packet states (1-8), or None."""
    found = _ORIENTATION.search(packet)
    return int(found[1]) if found else None


def minimal_xmp(orientation: int | None, size: int | None = None) -> bytes:
    """An XMP packet holding only ``orientation``; exactly ``size`` bytes when given."""
    rdf = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about=""'
        + (
            b' xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="%d"' % orientation
            if orientation
            else b""
        )
        + b"/></rdf:RDF></x:xmpmeta>"
    )
    packet = _XMP_HEAD + rdf + b"\n" + _XMP_TAIL
    if size is None:
        return packet
    # XMP is made to be edited in place: whitespace before the trailer is padding.
    for body, tail in ((_XMP_HEAD + rdf + b"\n", _XMP_TAIL), (rdf, b""), (_XMP_EMPTY, b"")):
        if len(body) + len(tail) <= size:
            return body + b" " * (size - len(body) - len(tail)) + tail
    return b" " * size
