"""The exceptions ocr raises; each carries a Chinese message an applicant can act on."""

from __future__ import annotations


class OcrError(Exception):
    """Base of every error the ocr package raises."""


class UnreadableImage(OcrError):
    """The upload cannot be decoded into a picture we are willing to examine."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
