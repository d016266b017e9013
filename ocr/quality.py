"""Is a photo good enough to read? Cheap, measurable checks that tell the applicant what to fix.

Every check is a plain statistic on the grayscale picture with a threshold chosen for a
reason written next to it; the tests tune them on synthetic cards. Pure and synchronous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ocr.framing import frame, reached_from_edge


@dataclass(frozen=True)
class QualityFinding:
    code: str
    message: str


TOO_SMALL = QualityFinding("TOO_SMALL", "照片分辨率太低，请靠近拍摄，让证件占满画面")
BLURRY = QualityFinding("BLURRY", "照片模糊，请对焦后重新拍摄")
TOO_DARK = QualityFinding("TOO_DARK", "照片太暗，请在光线充足处拍摄")
OVEREXPOSED = QualityFinding("OVEREXPOSED", "照片过曝，请避开强光")
GLARE = QualityFinding("GLARE", "证件表面有反光，请调整角度避开灯光")
CUT_OFF = QualityFinding("CUT_OFF", "证件未完整拍摄，请让证件四角都在画面内")
NOT_FILLING = QualityFinding("NOT_FILLING", "证件在画面中太小，请靠近拍摄")

# WeChat sends chat photos at 1,280 px or less on the long side (800 px is common): those are
# read first, and a retake is asked only when the key fields could not be read. Below this
# floor (a thumbnail) an ID number's digits are under 5 px and no engine reads them.
MIN_SHORT_SIDE = 300
# Blur is measured as an edge width (Gaussian sigma, px) on the picture scaled to this long
# side, so the same defocus relative to the frame scores the same at any resolution.
BLUR_SCALE = 1000
# Blur is the edges' Gaussian sigma, estimated from how steep they are: a step of contrast C
# blurred by sigma rises at most C / (2.5 sigma) per pixel. C is the document's ink-to-paper
# range and the steepness a high percentile of the gradient, so JPEG blocks and sensor noise
# (small steps) do not count. On the corpus (bench ocr), genuine phone photos at 1,280 and
# 800 px measure 0.8-1.4 px, photos out of focus or shaken 4-12 px. (The ratio of Laplacian
# to gradient energy used before read blurred WeChat JPEGs as sharp: their blocks add
# curvature.) Text 2.5 mm high at this scale has strokes of 1-2 px, merged past about 2.5.
MAX_BLUR_SIGMA = 2.5
STEEP_PERCENTILE = 99.5
# Mean luminance (0–255). Below 60 the sensor noise rivals the ink/paper contrast.
MIN_MEAN = 60.0
CLIPPED = 250  # a pixel at or above this has lost its detail
# Overexposure is lost detail, not brightness: white paper around a document, or a white
# document, clips to 255 and is still perfectly readable. A photo is overexposed when a large
# part is clipped *and* the print itself has washed out: even the darkest 1 % of the document
# is lighter than INK_LOST, where dark ink (under 100 when exposed right) has risen into grey.
MAX_CLIPPED_SHARE = 0.25
INK_PERCENTILE = 1.0
INK_LOST = 150.0
# Glare: the document split into cells; a cell is blown when most of it is clipped. Two per
# cent of the document blown hides a field's worth of characters. Only blown patches enclosed
# by unblown document count: clipped paper reaching the frame's edge is background, not glare.
GLARE_CELLS = 24
GLARE_CELL_BLOWN = 0.6
MAX_GLARE_SHARE = 0.02


def check_quality(image: Image.Image, *, scanned: bool = False) -> list[QualityFinding]:
    """Return what is wrong with the photo, most fundamental first; empty when it will pass.

    ``scanned`` marks a scan or a PDF page: the page is the whole frame, so the framing
    checks (CUT_OFF, NOT_FILLING) do not apply.
    """
    found: set[QualityFinding] = set()
    if min(image.size) < MIN_SHORT_SIDE:
        found.add(TOO_SMALL)
    work = image.convert("L")  # a copy whatever the mode
    long_side = max(work.size)
    work.thumbnail((BLUR_SCALE, BLUR_SCALE), Image.Resampling.LANCZOS)
    gray = _as_array(work)

    box = None
    if not scanned:
        framing = frame(work)
        box = framing.box
        if framing.cut_off:
            found.add(CUT_OFF)
        elif framing.not_filling:
            found.add(NOT_FILLING)
    top, left, bottom, right = box if box is not None else (0, 0, *gray.shape)
    document = gray[top:bottom, left:right]

    mean = float(gray.mean())
    overexposed = _washed_out(gray, document)
    if mean < MIN_MEAN:
        found.add(TOO_DARK)
    elif overexposed:
        found.add(OVEREXPOSED)
    if _blur_sigma(document) * BLUR_SCALE / min(long_side, BLUR_SCALE) > MAX_BLUR_SIGMA:
        found.add(BLURRY)
    if not overexposed and _glare_share(document) > MAX_GLARE_SHARE:
        found.add(GLARE)
    return [f for f in _ORDER if f in found]


_ORDER = (TOO_SMALL, BLURRY, TOO_DARK, OVEREXPOSED, GLARE, CUT_OFF, NOT_FILLING)


def _as_array(gray: Image.Image) -> NDArray[np.float32]:
    return np.asarray(gray, dtype=np.float32)


def _blur_sigma(gray: NDArray[np.float32]) -> float:
    """Estimated blur sigma of the edges, in pixels; infinite where there are no edges."""
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return float("inf")
    gy, gx = np.gradient(gray)
    steep = float(np.percentile(np.hypot(gx, gy), STEEP_PERCENTILE))
    contrast = float(np.percentile(gray, 99.5) - np.percentile(gray, 0.5))
    if steep < 1.0 or contrast < 1.0:  # not one level per pixel: a featureless frame
        return float("inf")
    return contrast / (2.5 * steep)


def _washed_out(gray: NDArray[np.float32], document: NDArray[np.float32]) -> bool:
    """Much of the frame clipped and the print faded with it (see INK_LOST)."""
    if float((gray >= CLIPPED).mean()) <= MAX_CLIPPED_SHARE or document.size == 0:
        return False
    return float(np.percentile(document, INK_PERCENTILE)) > INK_LOST


def _glare_share(document: NDArray[np.float32]) -> float:
    """Share of the document's cells in blown patches that unblown document surrounds."""
    rows, cols = document.shape
    cell = max(1, min(rows, cols) // GLARE_CELLS)
    rows, cols = rows // cell * cell, cols // cell * cell
    if rows == 0 or cols == 0:
        return 0.0
    clipped = (document[:rows, :cols] >= CLIPPED).astype(np.float32)
    per_cell = clipped.reshape(rows // cell, cell, cols // cell, cell).mean(axis=(1, 3))
    blown = per_cell >= GLARE_CELL_BLOWN
    # Blown cells connected to the edge are the clipped paper or table around the document.
    return float((blown & ~reached_from_edge(blown)).mean())
