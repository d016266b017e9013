"""Is a photo good enough to read? Cheap, measurable checks that tell the applicant what to fix.

Every check is a plain statistic on the grayscale picture with a threshold chosen for a
reason written next to it; the tests tune them on synthetic cards. Pure and synchronous.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image


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
# Framing is judged on a small copy where print blurs into paper and only shapes remain.
FRAME_SCALE = 160
MIN_DOCUMENT_SHARE = 0.35  # below this the text is too few pixels for OCR
# A side counts as touched when the document covers this share of that image border; two
# touched sides mean a corner is outside the frame.
TOUCH_SHARE = 0.05
MIN_CLASS_GAP = 30.0  # mean luminance gap between document and background, else no framing
# When only the print can be located, its box is about 60–80 % of the document's area.
MIN_PRINT_SHARE = MIN_DOCUMENT_SHARE / 2
PRINT_MARGIN = 0.02  # print this close to a border runs off it
PRINT_CONTRAST = 25.0  # print is this much darker than the document's median, on the small copy
LIGHT_ONE_PIECE = 0.5
DARK_ONE_PIECE = 0.8  # see _framing


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
        framing, box = _framing(work)
        found.update(framing)
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
    return float((blown & ~_reached_from_edge(blown)).mean())


def _reached_from_edge(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The cells of ``mask`` connected (4-neighbour) to the border of the grid."""
    reached = np.zeros_like(mask)
    reached[0], reached[-1], reached[:, 0], reached[:, -1] = (
        mask[0],
        mask[-1],
        mask[:, 0],
        mask[:, -1],
    )
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= mask
        if (grown == reached).all():
            return reached
        reached = grown


Box = tuple[int, int, int, int]  # top, left, bottom, right


def _framing(gray: Image.Image) -> tuple[set[QualityFinding], Box | None]:
    """Find the document against its background: CUT_OFF / NOT_FILLING and its box in gray.

    On a small copy, where print has blurred into paper, Otsu's threshold splits the frame
    into a light and a dark class, and the background is the class owning more of the image
    border. If the other class is one blob, that blob (holes filled) is the document. If it
    is scattered print instead, the document is as light as its background (or fills the
    whole frame) and only the extent of the print can be judged.
    """
    small = gray.copy()
    small.thumbnail((FRAME_SCALE, FRAME_SCALE), Image.Resampling.BOX)
    values = _as_array(small)
    light = values > _otsu(values)
    if not light.any() or light.all():
        return set(), None
    if float(values[light].mean() - values[~light].mean()) < MIN_CLASS_GAP:
        return set(), None  # one even surface: nothing to frame against

    border = np.concatenate([light[0], light[-1], light[1:-1, 0], light[1:-1, -1]])
    doc_is_light = bool(border.mean() <= 0.5)
    doc_class = light if doc_is_light else ~light
    blob = _largest_blob(doc_class)
    # Light paper on a darker table is one piece with print-shaped holes. Dark print on a
    # light frame is many pieces, of which an ID card's portrait alone can be nearly half; so
    # a dark class counts as one object only when it is almost all one piece.
    one_piece = LIGHT_ONE_PIECE if doc_is_light else DARK_ONE_PIECE
    found: set[QualityFinding] = set()
    if blob.sum() >= one_piece * doc_class.sum():
        blob = _fill_holes(blob)
        if _sides_cut(blob, values) >= 2:
            found.add(CUT_OFF)
        elif float(blob.mean()) < MIN_DOCUMENT_SHARE:
            found.add(NOT_FILLING)
        ys, xs = np.nonzero(blob)
        top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    else:
        # Percentiles, so that a few background pixels in the corners (round card corners,
        # vignetting) do not stretch the print's extent to the frame.
        ys, xs = np.nonzero(doc_class)
        top, bottom = np.percentile(ys, [0.5, 99.5])
        left, right = np.percentile(xs, [0.5, 99.5])
        rows, cols = doc_class.shape
        margin_y, margin_x = PRINT_MARGIN * rows, PRINT_MARGIN * cols
        sides_touched = (
            int(top < margin_y)
            + int(bottom > rows - 1 - margin_y)
            + int(left < margin_x)
            + int(right > cols - 1 - margin_x)
        )
        if sides_touched >= 2:
            found.add(CUT_OFF)  # print running off the frame: shot too close
        elif (bottom - top) * (right - left) / (rows * cols) < MIN_PRINT_SHARE:
            found.add(NOT_FILLING)
        bottom, right = bottom + 1, right + 1
    scale_y = gray.height / values.shape[0]
    scale_x = gray.width / values.shape[1]
    box = (
        int(top * scale_y),
        int(left * scale_x),
        int(np.ceil(bottom * scale_y)),
        int(np.ceil(right * scale_x)),
    )
    return found, box


def _sides_cut(blob: NDArray[np.bool_], values: NDArray[np.float32]) -> int:
    """How many frame sides the document runs off: touched by it, with print reaching them.

    A light wall or white paper under the light of a lamp joins a light document's class and
    touches the frame too; only the document's print tells the two apart. A document cut by
    the frame has print (text, rules, a seal) up to the cut; the background has none.
    """
    inside = values[blob]
    if inside.size == 0:
        return 0
    print_mask = blob & (values < float(np.median(inside)) - PRINT_CONTRAST)
    rows, cols = blob.shape
    my, mx = max(2, round(PRINT_MARGIN * 2 * rows)), max(2, round(PRINT_MARGIN * 2 * cols))
    sides = (
        (blob[0], print_mask[:my]),
        (blob[-1], print_mask[-my:]),
        (blob[:, 0], print_mask[:, :mx]),
        (blob[:, -1], print_mask[:, -mx:]),
    )
    return sum(float(edge.mean()) >= TOUCH_SHARE and bool(near.any()) for edge, near in sides)


def _otsu(values: NDArray[np.float32]) -> float:
    hist = np.bincount(values.astype(np.uint8).ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(hist)
    total = weight[-1]
    cum_mean = np.cumsum(hist * levels)
    between = np.zeros(256)
    inner = (weight > 0) & (weight < total)
    w0 = weight[inner]
    m0 = cum_mean[inner] / w0
    m1 = (cum_mean[-1] - cum_mean[inner]) / (total - w0)
    between[inner] = w0 * (total - w0) * (m0 - m1) ** 2
    return float(np.argmax(between))


def _largest_blob(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The largest 4-connected region of mask (the mask is at most FRAME_SCALE² pixels)."""
    rows, cols = mask.shape
    seen = np.zeros_like(mask)
    best: list[tuple[int, int]] = []
    for start in zip(*np.nonzero(mask), strict=True):
        y0, x0 = int(start[0]), int(start[1])
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        region = [(y0, x0)]
        queue = deque(region)
        while queue:
            y, x = queue.popleft()
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < rows and 0 <= nx < cols and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    region.append((ny, nx))
                    queue.append((ny, nx))
        if len(region) > len(best):
            best = region
    blob = np.zeros_like(mask)
    if best:
        ys, xs = zip(*best, strict=True)
        blob[list(ys), list(xs)] = True
    return blob


def _fill_holes(blob: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The blob plus whatever it encloses (a photo or a seal on the card is still the card)."""
    outside = ~blob
    padded = np.pad(outside, 1, constant_values=True)
    reached = np.zeros_like(padded)
    reached[0, 0] = True
    # Grow the outside from the padding's corner until it stops: vectorised flood fill.
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= padded
        if (grown == reached).all():
            break
        reached = grown
    return ~reached[1:-1, 1:-1]
