"""Loading uploads: the type comes from the bytes, the picture comes out upright RGB, and
anything we cannot or should not decode is refused with a Chinese message."""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
import pytest
from PIL import Image

from ocr.errors import OcrError, UnreadableImage
from ocr.intake import MAX_SIDE, load_image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo(size: tuple[int, int] = (640, 480)) -> Image.Image:
    im = Image.new("RGB", size, (200, 190, 170))
    im.paste((20, 20, 20), (0, 0, size[0] // 4, size[1] // 4))  # a dark top-left corner
    return im


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width×height: a decompression bomb in 60 bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) declares width×height."""
    data = bytearray(encode(photo((64, 48)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def refused(data: bytes, **kwargs: int) -> UnreadableImage:
    with pytest.raises(UnreadableImage) as caught:
        load_image(data, **kwargs)
    error = caught.value
    assert isinstance(error, OcrError)
    assert "请" in error.message  # says what to do next
    return error


def test_a_jpeg_loads_as_rgb_with_its_size() -> None:
    intake = load_image(encode(photo(), "JPEG"))
    assert (intake.content_type, intake.image.mode, intake.image.size) == (
        "image/jpeg",
        "RGB",
        (640, 480),
    )
    assert intake.original_size == (640, 480)
    assert intake.pages == 1


def test_a_big_photo_is_shrunk_for_ocr_but_keeps_its_original_size() -> None:
    intake = load_image(encode(photo((4000, 3000)), "JPEG"))
    assert intake.image.size == (MAX_SIDE, 1500)
    assert intake.original_size == (4000, 3000)


def test_the_type_comes_from_the_bytes() -> None:
    assert load_image(encode(photo(), "PNG")).content_type == "image/png"
    assert load_image(encode(photo(), "WEBP")).content_type == "image/webp"


def test_exif_orientation_6_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    intake = load_image(encode(photo((300, 200)), "JPEG", exif=exif))
    assert intake.image.size == (200, 300)
    assert intake.original_size == (200, 300)
    # The dark corner was top-left as stored; turned clockwise it is top-right.
    assert intake.image.getpixel((195, 5))[0] < 60  # type: ignore[index]
    assert intake.image.getpixel((5, 5))[0] > 150  # type: ignore[index]


def test_a_heic_photo_round_trips() -> None:
    pillow_heif.register_heif_opener()
    intake = load_image(encode(photo((320, 240)), "HEIF"))
    assert (intake.content_type, intake.image.mode, intake.image.size) == (
        "image/heic",
        "RGB",
        (320, 240),
    )


def test_a_pdf_renders_its_first_page_at_about_200_dpi() -> None:
    first = Image.new("RGB", (425, 550), "white")  # a letter page at 50 dpi
    second = Image.new("RGB", (425, 550), "black")
    data = encode(first, "PDF", resolution=50, save_all=True, append_images=[second])
    intake = load_image(data)
    assert (intake.content_type, intake.pages) == ("application/pdf", 2)
    assert intake.original_size == (1700, 2200)  # 8.5 × 11 in at 200 dpi
    assert max(intake.image.size) == MAX_SIDE
    assert intake.image.getpixel((10, 10)) == (255, 255, 255)


def test_transparency_becomes_white_paper_not_black() -> None:
    intake = load_image(encode(Image.new("RGBA", (64, 48), (0, 0, 0, 0)), "PNG"))
    assert intake.image.getpixel((1, 1)) == (255, 255, 255)


def test_sixteen_bit_grayscale_and_cmyk_become_rgb() -> None:
    deep = load_image(encode(Image.new("I;16", (64, 48), 65535), "PNG"))
    assert deep.image.getpixel((1, 1)) == (255, 255, 255)
    assert load_image(encode(Image.new("CMYK", (64, 48), (0, 0, 0, 0)), "JPEG")).image.mode == "RGB"


def test_zero_bytes_are_refused() -> None:
    assert refused(b"").code == "EMPTY"


def test_something_that_is_not_an_image_is_refused() -> None:
    error = refused(b"not an image")
    assert error.code == "NOT_AN_IMAGE"
    assert "JPG" in error.message and "PDF" in error.message


def test_a_truncated_jpeg_is_refused_as_incomplete() -> None:
    data = encode(photo(), "JPEG")
    error = refused(data[: len(data) // 2])
    assert error.code == "DAMAGED"
    assert error.message == "照片文件不完整，请重新拍摄或上传"


def test_a_jpeg_with_a_broken_header_is_refused() -> None:
    assert refused(b"\xff\xd8\xff" + b"\x00" * 100).code == "DAMAGED"


def test_a_png_declaring_20000_by_20000_is_refused_before_decoding() -> None:
    error = refused(png_claiming(20000, 20000))
    assert error.code == "TOO_LARGE"
    assert error.message == "图片尺寸过大，请压缩后重新上传"


def test_a_108_megapixel_phone_jpeg_is_read_at_reduced_scale_but_a_png_that_size_is_not() -> None:
    # 12000 x 9000 = 108 MP, as some phones take; a flat picture keeps the file small.
    big = Image.new("RGB", (12000, 9000), (230, 228, 220))
    jpeg = load_image(encode(big, "JPEG"))
    assert jpeg.original_size == (12000, 9000)
    assert max(jpeg.image.size) == MAX_SIDE
    assert refused(png_claiming(12000, 9000)).code == "TOO_LARGE"
    assert refused(jpeg_claiming(16000, 14000)).code == "TOO_LARGE"


def test_the_pixel_limit_is_per_call() -> None:
    data = encode(photo((1000, 1000)), "PNG")
    assert refused(data, max_pixels=999_999).code == "TOO_LARGE"
    assert load_image(data, max_pixels=1_000_000).original_size == (1000, 1000)


def test_a_broken_pdf_is_refused() -> None:
    assert refused(b"%PDF-1.7\n garbage").code == "DAMAGED"
