"""OCR engine port: an image in, text lines with confidence out; chosen by measurement."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class Line:
    """One line of recognised text, top to bottom; ``confidence`` in 0..1."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]  # left, top, right, bottom in the image's pixels


class OcrEngine(abc.ABC):
    """Port. Implementations are plain, synchronous and picklable: they run in worker processes."""

    name: str

    @abc.abstractmethod
    def recognize(self, image: Image.Image) -> list[Line]:
        """The text lines of ``image`` in reading order."""
