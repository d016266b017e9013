"""RapidOCR adapter (PP-OCRv4 models on onnxruntime, shipped inside the wheel: no download)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from ocr.engine import Line, OcrEngine


class RapidOcrEngine(OcrEngine):
    """Detection + recognition per text line; loads its models once per worker process."""

    name = "rapidocr"

    def __init__(self, *, threads: int = 0) -> None:
        self._engine: Any = None  # created lazily: the models load in the worker, not the parent
        self._threads = threads  # per inference; 0: onnxruntime's default (every core)

    def recognize(self, image: Image.Image) -> list[Line]:
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR

            options = {"intra_op_num_threads": self._threads} if self._threads else {}
            self._engine = RapidOCR(**options)
        # RapidOCR takes OpenCV's BGR order.
        result, _ = self._engine(np.asarray(image.convert("RGB"))[:, :, ::-1])
        lines = []
        for box, text, score in result or []:
            xs = [int(p[0]) for p in box]
            ys = [int(p[1]) for p in box]
            lines.append(Line(str(text), float(score), (min(xs), min(ys), max(xs), max(ys))))
        return sorted(lines, key=lambda line: (line.box[1], line.box[0]))
