"""Location data removed from an upload as it streams by (PIPL): nothing else changes.

``location_stripper(content_type)`` gives a transform: ``feed`` each chunk as it arrives and
store what it returns, then store what ``finish`` yields. JPEG and PNG are rewritten on the
fly, one header segment or chunk at a time, and their image data passes through untouched;
WebP and HEIC go through a temporary file (``ocr.metadata_spool``). Orientation survives.
A file whose structure is broken where its metadata lives raises ``MetadataError``: we cannot
vouch that it carries no location, so none of it may be stored.

What counts as location inside EXIF and XMP is ``ocr.metadata_tags``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from ocr.metadata_spool import HeifStripper, WebpStripper
from ocr.metadata_tags import (
    EXIF_HEADER,
    MetadataError,
    TiffError,
    minimal_xmp,
    scrub_tiff,
    xmp_orientation,
)

__all__ = ["MetadataError", "location_stripper", "strip_location"]

# Segments are at most 64 KiB each and go out one at a time, so this is no memory bound: it
# stops a "header" that never reaches its image. Phones write well under 1 MiB.
MAX_JPEG_HEADER = 8 * 1024 * 1024
MAX_PNG_METADATA_CHUNK = 4 * 1024 * 1024  # eXIf and text chunks are held whole to be edited
MAX_XMP_TEXT = 4 * 1024 * 1024  # a compressed XMP chunk is inflated up to this, no further

XMP_NAMESPACE = b"http://ns.adobe.com/xap/1.0/\x00"


class LocationStripper(Protocol):
    spools: bool  # True when ``feed`` writes to a temporary file (blocking I/O)

    def feed(self, data: bytes) -> bytes:
        """Take the next bytes of the upload; return the cleaned bytes ready so far."""

    def finish(self) -> Iterator[bytes]:
        """Yield the rest of the cleaned file; raise MetadataError if it cannot be cleaned."""

    def close(self) -> None:
        """Drop anything held (the temporary file); idempotent."""


def location_stripper(content_type: str, *, spool_dir: Path | None = None) -> LocationStripper:
    """The transform for an upload whose type ``ocr.intake.sniff`` decided."""
    if content_type == "image/jpeg":
        return JpegStripper()
    if content_type == "image/png":
        return PngStripper()
    if content_type == "image/webp":
        return WebpStripper(spool_dir)
    if content_type == "image/heic":
        return HeifStripper(spool_dir)
    if content_type == "application/pdf":
        # A PDF has no EXIF or GPS fields of its own. A JPEG embedded as a DCTDecode stream may
        # keep its camera's APP1 segment; rewriting PDF streams needs a PDF editor, and scanning
        # apps re-encode their pages, so PDFs are stored as received.
        return Passthrough()
    raise ValueError(f"no location stripper for {content_type}")


def strip_location(content_type: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Synchronous convenience: the cleaned chunks of ``chunks``."""
    stripper = location_stripper(content_type)
    try:
        for chunk in chunks:
            if out := stripper.feed(chunk):
                yield out
        yield from stripper.finish()
    finally:
        stripper.close()


class Passthrough:
    spools = False

    def feed(self, data: bytes) -> bytes:
        return data

    def finish(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        pass


def _segment(marker: int, payload: bytes | bytearray) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


class JpegStripper:
    """Rewrites the segments before the first SOS; the scans and what follows pass through.

    Kept: APP0 (JFIF), APP2 (ICC profile, MPF, gain maps), APP14 (Adobe colour transform) and
    every non-APP segment. APP1 Exif is scrubbed in place, APP1 XMP is reduced to the
    orientation, and other APPn (IPTC in APP13, vendor blocks such as GoPro's GPS track in
    APP6) are dropped. After an MPF segment nothing may change length, because MPF locates
    the secondary images by their distance from it: a dropped segment becomes a COM of zeros.
    """

    spools = False

    def __init__(self) -> None:
        self._buf = bytearray()
        self._read = 0  # header bytes consumed so far
        self._started = False
        self._in_scan = False
        self._mpf = False

    def feed(self, data: bytes) -> bytes:
        if self._in_scan:
            return data
        self._buf += data
        out = bytearray()
        pos = self._parse(out)
        self._read += pos
        del self._buf[:pos]
        if self._in_scan:
            out += self._buf
            self._buf.clear()
        return bytes(out)

    def _parse(self, out: bytearray) -> int:
        buf, pos = self._buf, 0
        if not self._started:
            if len(buf) < 2:
                return 0
            if buf[:2] != b"\xff\xd8":
                raise MetadataError("not a JPEG")
            out += b"\xff\xd8"
            self._started, pos = True, 2
        while not self._in_scan:
            at = pos
            if at >= len(buf):
                break
            if buf[at] != 0xFF:
                raise MetadataError("JPEG marker expected")
            while at < len(buf) and buf[at] == 0xFF:  # fill bytes may precede a marker
                at += 1
            if at + 3 > len(buf):
                break
            marker = buf[at]
            if marker in (0x00, 0x01, 0xD8, 0xD9) or 0xD0 <= marker <= 0xD7:
                raise MetadataError(f"JPEG marker {marker:#x} before the image data")
            length = (buf[at + 1] << 8) | buf[at + 2]
            if length < 2:
                raise MetadataError("JPEG segment length")
            end = at + 1 + length
            if self._read + end > MAX_JPEG_HEADER:
                raise MetadataError("JPEG header too large")
            if end > len(buf):
                break
            payload = bytes(buf[at + 3 : end])
            if marker == 0xDA:  # SOS: the entropy-coded data begins after this segment
                out += _segment(marker, payload)
                self._in_scan = True
            else:
                out += self._clean(marker, payload)
            pos = end
        return pos

    def _clean(self, marker: int, payload: bytes) -> bytes:
        if marker == 0xE2 and payload.startswith(b"MPF\x00"):
            self._mpf = True
        if not 0xE0 <= marker <= 0xEF or marker in (0xE0, 0xE2, 0xEE):
            return _segment(marker, payload)
        if marker == 0xE1 and payload.startswith(EXIF_HEADER[:5]):
            exif = bytearray(payload)
            try:
                scrub_tiff(exif, 6)
            except TiffError:
                return self._drop(payload)  # unreadable EXIF: nobody can read orientation either
            return _segment(marker, exif)
        if marker == 0xE1 and payload.startswith(XMP_NAMESPACE):
            packet = payload[len(XMP_NAMESPACE) :]
            orientation = xmp_orientation(packet)
            if self._mpf:
                return _segment(marker, XMP_NAMESPACE + minimal_xmp(orientation, len(packet)))
            if orientation is None:
                return b""
            return _segment(marker, XMP_NAMESPACE + minimal_xmp(orientation))
        return self._drop(payload)

    def _drop(self, payload: bytes) -> bytes:
        return _segment(0xFE, bytes(len(payload))) if self._mpf else b""

    def finish(self) -> Iterator[bytes]:
        if not self._in_scan:
            raise MetadataError("the JPEG ends before its image data")
        return iter(())

    def close(self) -> None:
        self._buf.clear()


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt"}
_XMP_KEYWORD = b"XML:com.adobe.xmp"
_RAW_EXIF = {b"Raw profile type exif", b"Raw profile type APP1"}  # ImageMagick's hex EXIF
_RAW_LOCATION = {b"Raw profile type iptc", b"Raw profile type 8bim", b"Raw profile type xmp"}


def _chunk(kind: bytes, body: bytes | bytearray) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind))
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


class PngStripper:
    """Rewrites eXIf and text chunks wherever they are; every other chunk passes through.

    eXIf is scrubbed in place; XMP text chunks are reduced to the orientation; ImageMagick's
    hex-encoded EXIF text is scrubbed and its IPTC/8BIM/XMP text dropped. Bytes after IEND
    are no part of the image and are dropped. A file cut short after its first IDAT is stored
    as far as it goes (the pre-check tells the applicant it is damaged).
    """

    spools = False

    def __init__(self) -> None:
        self._buf = bytearray()
        self._signed = False
        self._chunks = 0
        self._image = False
        self._through = 0  # bytes of the current chunk still to pass through untouched
        self._last = False  # the chunk passing through is IEND
        self._ended = False

    def feed(self, data: bytes) -> bytes:
        if self._ended:
            return b""
        if self._through > len(data) and not self._buf:  # inside IDAT: the common case
            self._through -= len(data)
            return data
        self._buf += data
        out = bytearray()
        pos = self._parse(out)
        del self._buf[:pos]
        if self._ended:
            self._buf.clear()
        return bytes(out)

    def _parse(self, out: bytearray) -> int:
        buf, pos = self._buf, 0
        while not self._ended:
            if self._through:
                take = min(self._through, len(buf) - pos)
                out += buf[pos : pos + take]
                pos += take
                self._through -= take
                if self._through:
                    break
                if self._last:
                    self._ended = True
                    break
            if not self._signed:
                if len(buf) - pos < 8:
                    break
                if buf[pos : pos + 8] != _PNG_SIGNATURE:
                    raise MetadataError("not a PNG")
                out += _PNG_SIGNATURE
                self._signed, pos = True, pos + 8
            if len(buf) - pos < 8:
                break
            length, kind = struct.unpack_from(">I4s", buf, pos)
            if not kind.isalpha() or length > 0x7FFFFFFF:
                raise MetadataError("PNG chunk header")
            if self._chunks == 0 and kind != b"IHDR":
                raise MetadataError("PNG without IHDR")
            if kind in _PNG_METADATA:
                if length > MAX_PNG_METADATA_CHUNK:
                    raise MetadataError("PNG metadata chunk too large")
                if len(buf) - pos < 12 + length:
                    break
                out += _clean_chunk(kind, bytes(buf[pos + 8 : pos + 8 + length]))
                pos += 12 + length
            else:
                out += buf[pos : pos + 8]
                self._through, pos = length + 4, pos + 8
                self._image |= kind == b"IDAT"
                self._last = kind == b"IEND"
            self._chunks += 1
        return pos

    def finish(self) -> Iterator[bytes]:
        if not self._image:
            raise MetadataError("the PNG ends before its image data")
        return iter(())  # a metadata chunk cut short is not stored

    def close(self) -> None:
        self._buf.clear()


def _clean_chunk(kind: bytes, body: bytes) -> bytes:
    if kind == b"eXIf":
        exif = bytearray(body)
        try:
            scrub_tiff(exif)
        except TiffError:
            return b""
        return _chunk(kind, exif)
    keyword, _, rest = body.partition(b"\x00")
    if keyword == _XMP_KEYWORD:
        orientation = xmp_orientation(_text(kind, rest))
        if orientation is None:
            return b""
        return _chunk(b"iTXt", _XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + minimal_xmp(orientation))
    if keyword in _RAW_LOCATION:
        return b""
    if keyword in _RAW_EXIF:
        cleaned = _raw_profile(_text(kind, rest))
        return _chunk(b"tEXt", keyword + b"\x00" + cleaned) if cleaned else b""
    return _chunk(kind, body)


def _text(kind: bytes, rest: bytes) -> bytes:
    """The text of a tEXt/zTXt/iTXt chunk after its keyword; empty if it cannot be read."""
    if kind == b"tEXt":
        return rest
    if kind == b"zTXt":
        compressed, data = True, rest[1:]
    else:  # iTXt: flag, method, language\0, translated keyword\0, text
        compressed = rest[:1] == b"\x01"
        parts = rest[2:].split(b"\x00", 2)
        data = parts[2] if len(parts) == 3 else b""
    if not compressed:
        return data
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_XMP_TEXT)
    except zlib.error:
        return b""
    return b"" if inflater.unconsumed_tail else text


def _raw_profile(text: bytes) -> bytes:
    """ImageMagick's ``\\nexif\\n<len>\\n<hex lines>`` with its EXIF scrubbed; empty if broken."""
    lines = text.split(b"\n")
    try:
        exif = bytearray(bytes.fromhex(b"".join(lines[3:]).decode("ascii")))
        scrub_tiff(exif)
    except (ValueError, TiffError):
        return b""
    hexed = exif.hex().encode()
    body = b"\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
    return b"\n" + lines[1] + b"\n" + b"%8d" % len(exif) + b"\n" + body + b"\n"
