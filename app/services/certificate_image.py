"""The electronic certificate (电子证照) as a picture: what it says, laid out for a phone screen.

Pure drawing with Pillow and Debian's Noto CJK font; the QR code (segno) carries the link
where anyone holding the certificate can check it against the case. The seal is placed from
the QR code's box, never over it or its quiet zone: a stamped code is a code nobody can scan.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
SC_FACE = 2  # the Simplified Chinese face in each collection
SIZE = (1240, 880)
PAPER, INK, SEAL = (252, 250, 244), (30, 30, 34), (196, 40, 40)
MARGIN = 80  # from the paper's edge to the QR code's quiet zone
QR_MAX = 300  # the code's side with its quiet zone, in pixels, at most
QUIET = 4  # modules of blank paper around the code, as ISO/IEC 18004 asks
SEAL_RADIUS = 80
SEAL_GAP = 48  # blank paper between the seal and the code's quiet zone

Box = tuple[int, int, int, int]  # left, top, right, bottom


@dataclass(frozen=True)
class CertificateFace:
    title: str  # 老年人优待证
    number: str  # 电子证照号
    holder: str  # a person's name or an enterprise's
    department: str
    issued_on: str  # YYYY-MM-DD
    valid_to: str  # YYYY-MM-DD or 长期
    verify_url: str


@cache
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(BOLD if bold else FONT), size, index=SC_FACE)


def render(face: CertificateFace) -> bytes:
    """A PNG of the certificate; the same face always gives the same bytes."""
    image = Image.new("RGB", SIZE, PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 24, SIZE[0] - 24, SIZE[1] - 24), outline=SEAL, width=6)
    draw.text((SIZE[0] // 2, 110), face.title, font=_font(True, 64), fill=INK, anchor="mm")
    draw.text((SIZE[0] // 2, 180), "电子证照", font=_font(False, 30), fill=SEAL, anchor="mm")
    rows = (
        ("证照编号", face.number),
        ("持证主体", face.holder),
        ("发证机关", face.department),
        ("发证日期", face.issued_on),
        ("有效期至", face.valid_to),
    )
    for n, (label, value) in enumerate(rows):
        y = 280 + n * 90
        draw.text((110, y), label, font=_font(False, 34), fill=(90, 90, 96))
        draw.text((330, y), value, font=_font(True, 38), fill=INK)
    code, qr_box = _qr(face.verify_url)
    image.paste(code, qr_box[:2])
    draw.text(
        ((qr_box[0] + qr_box[2]) // 2, qr_box[3] + 4), "扫码核验", font=_font(False, 24),
        fill=(90, 90, 96), anchor="mt",
    )  # fmt: skip
    _seal(draw, seal_box(qr_box))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def _qr(url: str) -> tuple[Image.Image, Box]:
    """The check code with its quiet zone, as large as fits ``QR_MAX``, at the bottom right."""
    qr = segno.make(url, error="m")
    modules = qr.symbol_size(scale=1, border=QUIET)[0]
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(2, QR_MAX // modules), border=QUIET)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    left, top = SIZE[0] - MARGIN - code.width, SIZE[1] - MARGIN - code.height - 20
    return code, (left, top, left + code.width, top + code.height)


def seal_box(qr_box: Box) -> Box:
    """Where the seal goes: left of the code's quiet zone by ``SEAL_GAP``, level with it."""
    right = qr_box[0] - SEAL_GAP
    middle = (qr_box[1] + qr_box[3]) // 2
    return (right - 2 * SEAL_RADIUS, middle - SEAL_RADIUS, right, middle + SEAL_RADIUS)


def _seal(draw: ImageDraw.ImageDraw, box: Box) -> None:
    draw.ellipse(box, outline=SEAL, width=6)
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    draw.text((cx, cy - 16), "★", font=_font(True, 40), fill=SEAL, anchor="mm")
    draw.text((cx, cy + 34), "专用章", font=_font(True, 28), fill=SEAL, anchor="mm")
