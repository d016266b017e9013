"""Location never reaches the store: GPS goes, orientation and pixels stay, chunking is moot."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from ocr.intake import load_image
from ocr.metadata import MAX_JPEG_HEADER, MetadataError, location_stripper, strip_location
from ocr.metadata_tags import minimal_xmp, scrub_tiff
from tests.gps_photos import PLACE, TYPES, XMP, gps_exif, photo, picture, pixels


def clean(data: bytes, content_type: str, chunk: int | None = None) -> bytes:
    step = chunk or len(data)
    return b"".join(
        strip_location(content_type, (data[i : i + step] for i in range(0, len(data), step)))
    )


@pytest.mark.parametrize("fmt", list(TYPES))
def test_gps_goes_and_orientation_pixels_and_other_tags_stay(fmt: str) -> None:
    before = photo(fmt)
    after = clean(before, TYPES[fmt])
    assert PLACE in before and PLACE not in after
    assert b"GPSLatitude" not in after and b"Beijing" not in after
    with Image.open(io.BytesIO(after)) as im:
        exif = im.getexif()
        assert 0x8825 not in exif and exif.get_ifd(0x8825) == {}
        assert exif[0x010F] == "PhoneMaker"
        assert exif.get_ifd(0x8769)[0x9003] == "2026:11:02 09:30:00"
    assert pixels(after) == pixels(before)
    upright_before, upright_after = load_image(before), load_image(after)
    assert upright_after.original_size == upright_before.original_size == (64, 96)
    assert upright_after.image.tobytes() == upright_before.image.tobytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_the_exif_orientation_itself_is_kept(fmt: str) -> None:
    with Image.open(io.BytesIO(clean(photo(fmt), TYPES[fmt]))) as im:
        assert im.getexif()[0x0112] == 6


@pytest.mark.parametrize("fmt", list(TYPES))
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_any_chunking_gives_the_same_bytes_as_one_chunk(fmt: str, chunk: int) -> None:
    data = photo(fmt)
    assert clean(data, TYPES[fmt], chunk) == clean(data, TYPES[fmt])


def test_jpeg_image_data_passes_through_byte_for_byte() -> None:
    before = photo("JPEG")
    after = clean(before, "image/jpeg")
    assert after[after.index(b"\xff\xda") :] == before[before.index(b"\xff\xda") :]


def test_png_image_chunks_pass_through_and_rewritten_chunks_have_valid_crcs() -> None:
    before = photo("PNG")
    after = clean(before, "image/png")
    idat = before.index(b"IDAT") - 4
    assert after[after.index(b"IDAT") - 4 :] == before[idat:]
    at = 8
    while at < len(after):
        (length,) = struct.unpack_from(">I", after, at)
        body = after[at + 4 : at + 8 + length]
        assert struct.unpack_from(">I", after, at + 8 + length)[0] == zlib.crc32(body)
        at += 12 + length


def test_orientation_stated_only_in_xmp_survives() -> None:
    exif = gps_exif()
    del exif[0x0112]
    before = photo("JPEG", exif=exif, xmp=XMP)
    after = clean(before, "image/jpeg")
    assert load_image(before).original_size == load_image(after).original_size == (64, 96)
    assert b"GPS" not in after


def test_a_webp_riff_size_and_flags_follow_the_dropped_chunks() -> None:
    before = photo("WEBP", xmp=XMP.replace(b'tiff:Orientation="6" ', b""))
    after = clean(before, "image/webp")
    assert struct.unpack_from("<I", after, 4)[0] == len(after) - 8
    assert b"XMP " not in after
    flags = after[after.index(b"VP8X") + 8]
    assert flags & 0x04 == 0 and flags & 0x08  # XMP gone, EXIF still there (orientation)
    assert pixels(after) == pixels(before)


def test_heic_is_cleaned_in_place_without_reencoding() -> None:
    before = photo("HEIF")
    after = clean(before, "image/heic")
    assert len(after) == len(before)
    exif = before.index(b"\x00\x00\x00\x06Exif\x00\x00")  # the item, not its type in iinf
    xmp = before.index(b"<?xpacket")
    in_metadata = range(exif, exif + 4 + len(gps_exif().tobytes())), range(xmp, xmp + len(XMP))
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed and all(any(i in r for r in in_metadata) for i in changed)


def test_imagemagick_hex_exif_in_png_text_is_scrubbed() -> None:
    raw = gps_exif().tobytes()  # with its "Exif\0\0" prefix, as ImageMagick writes it
    text = b"\nexif\n%8d\n" % len(raw) + raw.hex().encode() + b"\n"
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", text.decode(), zip=True)
    out = io.BytesIO()
    picture().save(out, "PNG", pnginfo=info)
    after = clean(out.getvalue(), "image/png")
    with Image.open(io.BytesIO(after)) as im:
        exif = im.getexif()
        assert exif[0x0112] == 6 and exif.get_ifd(0x8825) == {}
    assert PLACE.hex().encode() not in after


def test_after_an_mpf_segment_nothing_changes_length() -> None:
    seg = lambda marker, body: struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body  # noqa: E731
    header = seg(0xE2, b"MPF\x00II*\x00" + bytes(40)) + seg(0xED, b"Photoshop 3.0\x00" + PLACE)
    data = b"\xff\xd8" + header + seg(0xDA, bytes(10)) + b"scan data\xff\xd9"
    after = clean(data, "image/jpeg", 3)
    assert len(after) == len(data) and PLACE not in after
    assert after.index(b"scan data") == data.index(b"scan data")


def test_a_pdf_is_stored_as_received() -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 10
    assert clean(data, "application/pdf", 100) == data


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 256),  # segment length 0
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),  # ends inside the header
        ("image/jpeg", b"\xff\xd8\x00\x00"),  # no marker
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # chunk type of zeros
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND\xaeB`\x82"),  # no IHDR
        ("image/webp", b"RIFF\x04\x00\x00\x00WEBP"),  # no chunk at all
        ("image/heic", b"\x00\x00\x00\x18ftyphevc" + b"\x00" * 64),  # no meta box
    ],
)
def test_files_broken_where_metadata_lives_are_refused(content_type: str, data: bytes) -> None:
    with pytest.raises(MetadataError):
        clean(data, content_type)


def test_a_jpeg_header_that_never_reaches_its_image_is_refused_without_being_held() -> None:
    segment = b"\xff\xe3\xff\xff" + bytes(0xFFFD)
    stripper = location_stripper("image/jpeg")
    assert stripper.feed(b"\xff\xd8") == b"\xff\xd8"
    with pytest.raises(MetadataError):
        for _ in range(MAX_JPEG_HEADER // len(segment) + 1):
            assert stripper.feed(segment) == b""  # dropped as it goes: nothing piles up


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow, reading the broken original
def test_broken_exif_costs_the_exif_not_the_photo() -> None:
    data = bytearray(photo("JPEG", xmp=None))
    tiff = data.index(b"Exif\x00\x00") + 6
    data[tiff + 4 : tiff + 8] = b"\xff\xff\xff\x00"  # IFD0 far outside the segment
    after = clean(bytes(data), "image/jpeg")
    assert b"Exif" not in after and PLACE not in after
    assert pixels(after) == pixels(bytes(data))


def test_a_truncated_photo_is_kept_as_far_as_it_goes() -> None:
    for fmt in ("JPEG", "PNG"):
        data = photo(fmt)
        cut = data[: len(data) * 3 // 4]
        after = clean(cut, TYPES[fmt])
        assert PLACE not in after and after.endswith(cut[-100:])


def test_the_spool_leaves_nothing_on_disk(tmp_path: Path) -> None:
    stripper = location_stripper("image/webp", spool_dir=tmp_path)
    stripper.feed(photo("WEBP"))
    assert list(tmp_path.iterdir()) == []  # an unnamed file: gone with the process at worst
    assert b"".join(stripper.finish()).startswith(b"RIFF")
    stripper.close()


def test_scrubbing_an_exif_keeps_its_length_and_every_other_offset() -> None:
    raw = bytearray(gps_exif().tobytes())
    size = len(raw)
    scrub_tiff(raw)
    assert len(raw) == size
    exif = Image.Exif()
    exif.load(bytes(raw))
    assert exif[0x0112] == 6 and 0x8825 not in exif and PLACE not in raw


def test_a_minimal_xmp_fits_the_room_it_is_given() -> None:
    for size in (0, 10, 40, 200, 5000):
        assert len(minimal_xmp(6, size)) == size
    assert b'tiff:Orientation="6"' in minimal_xmp(6, 5000)
