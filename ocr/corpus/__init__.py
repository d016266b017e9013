"""A seeded synthetic corpus of photographed Chinese documents, each with its true field values.

``numbers`` makes ID numbers and USCCs, ``people`` the names, places and dates printed on the
documents, ``sheet`` draws text on paper, ``id_card``, ``licence`` and ``certificate`` lay out
one kind each, and ``samples`` photographs them on a desk.
"""

from ocr.corpus.samples import ALL, Kind, Sample, generate, write_corpus
from ocr.corpus.sheet import FONT_DIR, FONT_PATH

__all__ = ["ALL", "FONT_DIR", "FONT_PATH", "Kind", "Sample", "generate", "write_corpus"]
