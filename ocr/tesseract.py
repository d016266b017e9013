"""Tesseract adapter (pytesseract over Debian's tesseract-ocr with chi_sim)."""

from __future__ import annotations

from collections import defaultdict

import pytesseract
from PIL import Image

from ocr.engine import Line, OcrEngine


class TesseractEngine(OcrEngine):
    """Simplified Chinese plus English (digits and Latin letters in ID numbers and codes)."""

    name = "tesseract"

    def __init__(
        self, *, languages: str = "chi_sim+eng", psm: int = 6, timeout: float = 20
    ) -> None:
        self._languages = languages
        # psm 6: one uniform block of text, the layout of a card or a licence.
        self._config = f"--psm {psm}"
        self._timeout = timeout

    def recognize(self, image: Image.Image) -> list[Line]:
        data = pytesseract.image_to_data(
            image,
            lang=self._languages,
            config=self._config,
            timeout=self._timeout,
            output_type=pytesseract.Output.DICT,
        )
        words: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        for i, text in enumerate(data["text"]):
            if text.strip():
                words[(data["block_num"][i], data["par_num"][i], data["line_num"][i])].append(i)
        lines = []
        for indexes in words.values():
            left = min(data["left"][i] for i in indexes)
            top = min(data["top"][i] for i in indexes)
            right = max(data["left"][i] + data["width"][i] for i in indexes)
            bottom = max(data["top"][i] + data["height"][i] for i in indexes)
            confidences = [float(data["conf"][i]) for i in indexes if float(data["conf"][i]) >= 0]
            confidence = sum(confidences) / len(confidences) / 100 if confidences else 0.0
            # Tesseract splits CJK text into one "word" per character: join them back without
            # spaces, but keep a space between Latin/digit runs.
            text = _join([data["text"][i] for i in indexes])
            lines.append(Line(text, confidence, (left, top, right, bottom)))
        return sorted(lines, key=lambda line: (line.box[1], line.box[0]))


def _join(words: list[str]) -> str:
    out = ""
    for word in words:
        if (
            out
            and out[-1].isascii()
            and out[-1].isalnum()
            and word[:1].isascii()
            and word[:1].isalnum()
        ):
            out += " "
        out += word
    return out
