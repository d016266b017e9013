"""Turn uploaded bytes into one upright RGB picture sized for OCR, or refuse them in Chinese.

Pure CPU and synchronous: it runs inside a worker process. The type is decided from the
bytes (magic numbers), never from a file name or a client's Content-Type, and the declared
pixel count is checked before anything is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
import pillow_heif
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps

from ocr.errors import UnreadableImage

# OCR gains nothing above this; a 12-megapixel phone photo shrinks 2x and decodes faster.
MAX_SIDE = 2000
PDF_DPI = 200
DEFAULT_MAX_PIXELS = 40_000_000
# A JPEG decodes at 1/2, 1/4 or 1/8 scale (DCT scaling), so a 108-megapixel phone photo costs
# what a 7-megapixel one does: up to this size JPEGs are read, not refused. Pillow's own bomb
# check (2 x 89 MP) would stop them before ours, so ours is the only one (set below).
JPEG_MAX_PIXELS = 220_000_000
Image.MAX_IMAGE_PIXELS = JPEG_MAX_PIXELS // 2  # Pillow errors above twice this

EMPTY = "照片文件是空的，请重新拍摄或上传"
NOT_AN_IMAGE = "无法识别该文件，请上传 JPG、PNG、WEBP、HEIC 格式的照片或 PDF 文件"
DAMAGED = "照片文件不完整，请重新拍摄或上传"
TOO_LARGE = "图片尺寸过大，请压缩后重新上传"
PDF_LOCKED = "PDF 文件设置了密码，请取消密码后重新上传"
PDF_NO_PAGES = "PDF 文件没有页面，请重新导出后上传"

_HEIF_BRANDS = {
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"hevm",
    b"hevs",
    b"mif1",
    b"msf1",
}
# Content type -> the only Pillow plugin allowed to open it.
_PILLOW_FORMAT = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
}


@dataclass(frozen=True)
class Intake:
    """An upright RGB picture (long side ≤ MAX_SIDE) and what the upload was."""

    image: Image.Image
    original_size: tuple[int, int]  # upright, full resolution; a PDF page at PDF_DPI
    content_type: str
    pages: int


def sniff(data: bytes) -> str | None:
    """Return the content type the magic bytes announce, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def load_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Intake:
    """Decode a photo or a PDF's first page; raise UnreadableImage if we cannot or should not."""
    if not data:
        raise UnreadableImage("EMPTY", EMPTY)
    content_type = sniff(data)
    if content_type is None:
        raise UnreadableImage("NOT_AN_IMAGE", NOT_AN_IMAGE)
    if content_type == "application/pdf":
        return _load_pdf(data)
    return _load_raster(data, content_type, max_pixels)


@cache
def _register_heif() -> None:
    pillow_heif.register_heif_opener()


def _load_raster(data: bytes, content_type: str, max_pixels: int) -> Intake:
    fmt = _PILLOW_FORMAT[content_type]
    if fmt == "HEIF":
        _register_heif()
    try:
        # Pillow warns between its own limit and twice it; ours below is stricter and per call.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        raise UnreadableImage("TOO_LARGE", TOO_LARGE) from exc
    except Exception as exc:  # the magic matched, so the rest of the file is broken
        raise UnreadableImage("DAMAGED", DAMAGED) from exc
    with im:
        width, height = im.size
        if width <= 0 or height <= 0:
            raise UnreadableImage("DAMAGED", DAMAGED)
        # Checked on the header, before a pixel is decoded.
        limit = max(max_pixels, JPEG_MAX_PIXELS) if fmt == "JPEG" else max_pixels
        if width * height > limit:
            raise UnreadableImage("TOO_LARGE", TOO_LARGE)
        # JPEG only: decode at 1/2, 1/4 or 1/8 scale when that still leaves MAX_SIDE.
        im.draft(None, _draft_size(width, height))
        try:
            im.load()
        except Exception as exc:  # truncated or corrupt pixel data
            raise UnreadableImage("DAMAGED", DAMAGED) from exc
        loaded = im.size
        upright = _exif_transpose(im)
        if upright.size != loaded and upright.size == loaded[::-1]:
            width, height = height, width
        image = _to_rgb(upright)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return Intake(image, (width, height), content_type, 1)


def _draft_size(width: int, height: int) -> tuple[int, int]:
    shrink = max(width, height) / MAX_SIDE
    if shrink <= 1:
        return width, height
    return max(1, int(width / shrink)), max(1, int(height / shrink))


def _exif_transpose(im: Image.Image) -> Image.Image:
    try:
        upright = ImageOps.exif_transpose(im)
    except Exception:  # a malformed EXIF block must not cost the applicant the photo
        return im
    return upright if upright is not None else im


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im.copy()
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        values = np.asarray(im, dtype=np.float64)
        if values.size and values.max() > 255:  # 16-bit samples
            values = values / 257.0
        gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        # Transparent areas of a scan or screenshot are paper, so they become white, not black.
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        paper.alpha_composite(rgba)
        return paper.convert("RGB")
    return im.convert("RGB")  # L, P, 1, CMYK, YCbCr


def _load_pdf(data: bytes) -> Intake:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise UnreadableImage("PDF_LOCKED", PDF_LOCKED) from exc
        raise UnreadableImage("DAMAGED", DAMAGED) from exc
    try:
        pages = len(pdf)
        if pages == 0:
            raise UnreadableImage("PDF_NO_PAGES", PDF_NO_PAGES)
        page = pdf[0]
        try:
            width_pt, height_pt = page.get_size()
            if width_pt <= 0 or height_pt <= 0:
                raise UnreadableImage("DAMAGED", DAMAGED)
            nominal = PDF_DPI / 72
            # Render straight at the OCR size: a poster-sized page never costs more than
            # MAX_SIDE², so the page needs no pixel limit of its own.
            scale = min(nominal, MAX_SIDE / max(width_pt, height_pt))
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil().convert("RGB")  # a copy that outlives the bitmap
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise UnreadableImage("DAMAGED", DAMAGED) from exc
    finally:
        pdf.close()
    original = (round(width_pt * nominal), round(height_pt * nominal))
    return Intake(image, original, "application/pdf", pages)
