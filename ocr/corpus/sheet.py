"""Drawing a document: the CJK fonts, the ink colours and a sheet of paper to set text on."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "FAMILIES", "FONT_DIR", "FONT_PATH", "INK", "LABEL", "RED", "RGB", "Sheet", "available",
    "typeface",
]  # fmt: skip

# Debian's fonts-noto-cjk; app/provision.py installs it. Index 2 of each collection is the SC face.
FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_PATH = FONT_DIR / "NotoSansCJK-Regular.ttc"
_WQY = Path("/usr/share/fonts/truetype/wqy")
_ARPL = Path("/usr/share/fonts/truetype/arphic")
# Typeface families from Debian (fonts-noto-cjk, fonts-wqy-*, fonts-arphic-*), each as the
# (file, collection index) of its sans, bold and serif faces. Real documents mix a Song/Ming
# face for values with a Hei face for labels; the corpus draws each document in one family.
FAMILIES: dict[str, dict[str, tuple[Path, int]]] = {
    "noto": {
        "sans": (FONT_DIR / "NotoSansCJK-Regular.ttc", 2),
        "bold": (FONT_DIR / "NotoSansCJK-Bold.ttc", 2),
        "serif": (FONT_DIR / "NotoSerifCJK-Bold.ttc", 2),
    },
    "wenquanyi": {
        "sans": (_WQY / "wqy-microhei.ttc", 0),
        "bold": (_WQY / "wqy-zenhei.ttc", 0),
        "serif": (_WQY / "wqy-zenhei.ttc", 0),
    },
    "arphic": {
        "sans": (_ARPL / "uming.ttc", 0),
        "bold": (_ARPL / "uming.ttc", 0),
        "serif": (_ARPL / "ukai.ttc", 0),
    },
}
_family: ContextVar[str] = ContextVar("family", default="noto")


def available() -> tuple[str, ...]:
    """The families whose every face is installed."""
    return tuple(
        name
        for name, faces in FAMILIES.items()
        if all(path.is_file() for path, _ in faces.values())
    )


@contextmanager
def typeface(family: str) -> Iterator[None]:
    """Draw the documents made inside the block in ``family``."""
    token = _family.set(family)
    try:
        yield
    finally:
        _family.reset(token)


INK = (22, 22, 24)
LABEL = (52, 92, 140)
RED = (200, 36, 36)
RGB = tuple[int, int, int]


def _font(face: str, size: int) -> ImageFont.FreeTypeFont:
    return _loaded(_family.get(), face, size)


@lru_cache(maxsize=256)
def _loaded(family: str, face: str, size: int) -> ImageFont.FreeTypeFont:
    path, index = FAMILIES[family][face]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: python3 -m tests installs the CJK fonts")
    return ImageFont.truetype(str(path), size, index=index)


class Sheet:
    """A document being drawn at the base scale; coordinates are text baselines."""

    def __init__(self, size: tuple[int, int], paper: RGB, rng: random.Random) -> None:
        tint = tuple(min(255, c + rng.randint(-6, 4)) for c in paper)
        self.paper: RGB = (tint[0], tint[1], tint[2])
        self.image = Image.new("RGB", size, self.paper)
        self.draw = ImageDraw.Draw(self.image)
        self._guilloche(rng)

    def _guilloche(self, rng: random.Random) -> None:
        # Faint security waves, as on real cards: texture an engine must ignore.
        width, height = self.image.size
        shade = tuple(c - 14 for c in self.paper)
        for _ in range(6):
            amp, period = rng.uniform(8, 30), rng.uniform(120, 320)
            phase, y0 = rng.uniform(0, 2 * math.pi), rng.uniform(0, height)
            points = [
                (x, y0 + amp * math.sin(phase + 2 * math.pi * x / period))
                for x in range(0, width + 8, 8)
            ]
            self.draw.line(points, fill=(shade[0], shade[1], shade[2]), width=1)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: int,
        face: str = "sans",
        fill: RGB = INK,
        spacing: float = 0.0,
    ) -> float:
        """Draw ``text`` with ``spacing`` extra pixels between characters; return its right edge."""
        font = _font(face, size)
        for char in text if spacing else [text]:
            self.draw.text((x, y), char, font=font, fill=fill, anchor="ls")
            x += font.getlength(char) + spacing
        return x - spacing

    def label(
        self, x: float, y: float, text: str, width: float, *, size: int, fill: RGB = LABEL
    ) -> None:
        """Draw a label spread over ``width``, the way 名　　称 is set on printed forms."""
        gap = (width - _font("sans", size).getlength(text)) / max(len(text) - 1, 1)
        self.text(x, y, text, size=size, fill=fill, spacing=max(gap, 0))

    def centred(
        self, y: float, text: str, *, size: int, face: str, fill: RGB = INK, spacing: float = 0.0
    ) -> None:
        width = _font(face, size).getlength(text) + spacing * (len(text) - 1)
        x = (self.image.width - width) / 2
        self.text(x, y, text, size=size, face=face, fill=fill, spacing=spacing)

    def paragraph(
        self, x: float, y: float, text: str, width: float, *, size: int, leading: float
    ) -> float:
        """Draw ``text`` wrapped to ``width``; return the baseline after its last line."""
        font, line = _font("sans", size), ""
        for char in text:
            # Closing punctuation never starts a line (the 禁则 of Chinese typesetting).
            if line and font.getlength(line + char) > width and char not in "，。；、）":
                self.text(x, y, line, size=size)
                line, y = "", y + leading
            line += char
        self.text(x, y, line, size=size)
        return y + leading

    def star(self, cx: float, cy: float, r: float, fill: RGB) -> None:
        points = [
            (
                cx + (r if i % 2 == 0 else r * 0.4) * math.sin(i * math.pi / 5),
                cy - (r if i % 2 == 0 else r * 0.4) * math.cos(i * math.pi / 5),
            )
            for i in range(10)
        ]
        self.draw.polygon(points, fill=fill)

    def portrait(self, box: tuple[int, int, int, int]) -> None:
        left, top, right, bottom = box
        width = right - left
        photo = Image.new("RGB", (width, bottom - top), (214, 222, 230))
        draw, cx, grey = ImageDraw.Draw(photo), width / 2, (150, 160, 172)
        draw.ellipse((cx - width * 0.22, width * 0.2, cx + width * 0.22, width * 0.72), fill=grey)
        draw.ellipse((cx - width * 0.45, width * 0.8, cx + width * 0.45, width * 1.9), fill=grey)
        self.image.paste(photo, (left, top))
