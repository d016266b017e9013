"""The electronic certificate (电子证照) as a picture: what it says, laid out for a phone screen.

Pure drawing with Pillow and Debian's Noto CJK font; the QR code (segno) carries the link
where anyone holding the certificate can check it against the case.
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
    qr = segno.make(face.verify_url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=2)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    image.paste(code, (SIZE[0] - code.width - 80, SIZE[1] - code.height - 80))
    draw.ellipse((SIZE[0] - 420, 560, SIZE[0] - 260, 720), outline=SEAL, width=6)
    draw.text((SIZE[0] - 340, 640), "专用章", font=_font(True, 30), fill=SEAL, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()
