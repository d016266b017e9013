"""Where the document lies in the frame: whether it runs off it, whether it fills it, its box.

A document wholly in the frame shows background all round it: its straight edges end in
corners inside the frame and no print reaches the frame's sides. One that runs off the frame
has its straight edges, rules and text rows cut by the sides. That is judged on the picture's
structure, not its brightness: white paper, a light wall and vignetting change which pixels
are light, not where the document's lines end. Pure and synchronous; numpy only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

Box = tuple[int, int, int, int]  # top, left, bottom, right
Mask = NDArray[np.bool_]

# Straight lines are followed on a copy this size: print blurs into rows, the document's
# edges stay 1-2 px sharp.
EDGE_SCALE = 320
MIN_SIDE = 8  # px on that copy
# A pixel is on an edge when the level changes this much per pixel across it. A light card
# on white paper differs from the paper by about 5 % (12 levels over 2-3 px here); the soft
# edge of a cast shadow climbs under 3 levels a pixel, so it is no line.
EDGE_STEP = 4.0
# Near-horizontal (and, transposed, near-vertical) lines up to 0.2 (11°) off the frame's
# axes, 0.01 apart: a line 300 px long then stays within the ±1 px the edges are widened by.
SLOPES = np.linspace(-0.2, 0.2, 41)
LINE_GAP = 3  # a straight run survives gaps under 3 px (JPEG blocks, a stroke across it)
# A line meeting a side within 2 px of one that runs across the frame is the background's (a
# table's edge, a cast shadow), not the document's.
NEAR_ROWS = 2
EXIT_MARGIN = 4  # px: a run ending this close to a side of the frame runs across
# The photo's own border artefacts (the wedge a tilted frame is filled with) meet the sides
# next to the frame's corners; runs meeting a side there are not counted.
CORNER = 0.05
# Print: a pixel darker than the paper around it (a grey closing with a STROKE-wide square)
# by INK_STEP levels and INK_SHARE of the paper's level, on a copy PRINT_SCALE px long:
# sensor noise on a dark desk stays under both.
PRINT_SCALE = 640
STROKE = 7
INK_STEP = 25.0
INK_SHARE = 0.2
PRINT_DEPTH = 2  # px: print this close to a side crosses it
# When is a side crossed? Measured on the corpus (photos with the document inside the frame
# against ones cut off at two sides; see tests/unit/test_ocr_framing.py):
# - by three separate features, print among them (text rows, the document's edges, its
#   rules); a document inside the frame, however near, brings at most two (a corner close to
#   the side, a palm holding it), never print;
# - or, for a corner outside the frame, a long straight run (the document's edge or a rule
#   over 15 % of the frame, or print along 5 % of a side) into a side of one axis and any
#   straight run over 10 % or print into a side of the other. A palm's edge crosses the frame
#   over 5 % at most.
FEATURE_RUN = 0.05
MIN_FEATURES = 3
LONG_RUN = 0.15
SHORT_RUN = 0.10
PRINT_ALONG = 0.05
PRINT_SOME = 4  # px

# The document's box: on a small copy where print has blurred into paper, Otsu's threshold
# splits the frame into a light and a dark class.
FRAME_SCALE = 160
MIN_DOCUMENT_SHARE = 0.35  # below this the text is too few pixels for OCR
MIN_CLASS_GAP = 30.0  # mean luminance gap between document and background, else no framing
# When only the print can be located, its box is about 60-80 % of the document's area.
MIN_PRINT_SHARE = MIN_DOCUMENT_SHARE / 2
LIGHT_ONE_PIECE = 0.5
DARK_ONE_PIECE = 0.8  # see _document


@dataclass(frozen=True)
class Framing:
    """The document's place in the frame; ``box`` is in the given picture's pixels."""

    cut_off: bool = False
    not_filling: bool = False
    box: Box | None = None


def frame(gray: Image.Image) -> Framing:
    """Judge where the document lies in ``gray`` (a grayscale photo)."""
    box, small = _document(gray)
    if runs_off(gray):
        return Framing(cut_off=True, box=box)
    return Framing(not_filling=small, box=box)


def runs_off(gray: Image.Image) -> bool:
    """Whether the document runs off the frame (see the measured rules above)."""
    small = _shrink(gray, EDGE_SCALE)
    if min(small.shape) < MIN_SIDE:
        return False  # a sliver of a picture: nothing to follow a line through
    step = np.zeros_like(small)
    step[1:-1] = np.abs(small[2:] - small[:-2]) / 2
    across_rows = _widen(step >= EDGE_STEP)  # edges of near-horizontal lines
    step[:] = 0
    step[:, 1:-1] = np.abs(small[:, 2:] - small[:, :-2]) / 2
    across_cols = _widen((step >= EDGE_STEP).T).T  # and of near-vertical ones
    ink = _print(gray)
    left, right, top, bottom = (
        _Side(_runs(across_rows), ink[:, :PRINT_DEPTH]),
        _Side(_runs(across_rows[:, ::-1]), ink[:, -PRINT_DEPTH:]),
        _Side(_runs(across_cols.T), ink[:PRINT_DEPTH].T),
        _Side(_runs(across_cols[::-1].T), ink[-PRINT_DEPTH:].T),
    )
    if any(side.crossed_by_many() for side in (left, right, top, bottom)):
        return True
    sideways = left.crossed_long() or right.crossed_long()
    upright = top.crossed_long() or bottom.crossed_long()
    return (sideways and (top.crossed() or bottom.crossed())) or (
        upright and (left.crossed() or right.crossed())
    )


class _Side:
    """What meets one side of the frame, position by position along it."""

    def __init__(self, runs: NDArray[np.float32], strip: Mask) -> None:
        self.runs = runs  # the straight run from the side there, as a share of the frame
        self.ink = np.asarray(strip.any(axis=1), dtype=bool)  # print at the side there

    def crossed_by_many(self) -> bool:
        """Separate runs and strokes, 4 px apart or more, print among them."""
        hits = self.runs >= FEATURE_RUN
        hits[np.nonzero(self.ink)[0] * hits.size // self.ink.size] = True
        before = np.zeros_like(hits)
        for k in range(1, LINE_GAP + 1):
            before[k:] |= hits[:-k]
        return int((hits & ~before).sum()) >= MIN_FEATURES and bool(self.ink.any())

    def crossed_long(self) -> bool:
        return float(self.runs.max()) >= LONG_RUN or float(self.ink.mean()) >= PRINT_ALONG

    def crossed(self) -> bool:
        return float(self.runs.max()) >= SHORT_RUN or int(self.ink.sum()) >= PRINT_SOME


def _shrink(gray: Image.Image, long_side: int) -> NDArray[np.float32]:
    small = gray.copy()
    small.thumbnail((long_side, long_side), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32)


def _widen(mask: Mask) -> Mask:
    """``mask`` grown by a pixel up and down: a sampled line may step across its edge."""
    wide = mask.copy()
    wide[1:] |= mask[:-1]
    wide[:-1] |= mask[1:]
    return wide


def _runs(mask: Mask) -> NDArray[np.float32]:
    """Per row: the longest straight run of ``mask`` from the left side that ends inside.

    A run follows a near-horizontal line from column 0 while the mask holds (gaps under
    LINE_GAP allowed). It counts if it stops inside the frame, and no line starting there
    runs across. As a share of the frame's width.
    """
    rows, cols = mask.shape
    pad = int(np.ceil(SLOPES.max() * cols)) + 1
    padded = np.zeros((rows + 2 * pad, cols), dtype=bool)  # off the frame: no edge
    padded[pad : pad + rows] = mask
    xs = np.arange(cols)
    starts = np.nonzero(mask[:, 0] & mask[:, 1])[0]
    longest = np.zeros(rows, dtype=np.int64)
    across = np.zeros(rows, dtype=bool)
    for slope in SLOPES if starts.size else ():
        shift = np.round(slope * xs).astype(np.int64)
        gap = ~padded.ravel()[(starts + pad)[:, None] * cols + (shift * cols + xs)[None, :]]
        ends = gap[:, : cols - LINE_GAP + 1].copy()
        for k in range(1, LINE_GAP):
            ends &= gap[:, k : cols - LINE_GAP + 1 + k]
        run = np.where(ends.any(axis=1), ends.argmax(axis=1), cols)
        # A run ending at the frame's edge runs across (or, along a side, is the thin end of
        # a wedge between the frame and a tilted border); one ending inside stops there.
        end_x = np.maximum(run - 1, 0)
        end_y = starts + shift[end_x]
        across[starts] |= (
            (end_x >= cols - 1 - EXIT_MARGIN)
            | (end_y < EXIT_MARGIN)
            | (end_y > rows - 1 - EXIT_MARGIN)
        )
        longest[starts] = np.maximum(longest[starts], run)
    # Lines a little off the slope of one running across follow it part of the way and seem
    # to end inside: its start is background whatever the slope.
    near = np.pad(across, NEAR_ROWS)
    for dy in range(2 * NEAR_ROWS + 1):
        longest[near[dy : dy + rows]] = 0
    corner = max(2, round(CORNER * rows))
    longest[:corner] = 0
    longest[rows - corner :] = 0
    return np.asarray(longest / cols, dtype=np.float32)


def _print(gray: Image.Image) -> Mask:
    """Thin dark strokes on a copy PRINT_SCALE px long (a black top-hat)."""
    values = _shrink(gray, PRINT_SCALE)
    # Edges replicated outward: a sliver of background between a side and a light object
    # (a palm, the document's margin) is not thin, it goes on outside the frame.
    padded = np.pad(values, STROKE, mode="edge")
    closed = _min_filter(_max_filter(padded))[STROKE:-STROKE, STROKE:-STROKE]
    return (closed - values >= INK_STEP) & (closed - values >= INK_SHARE * closed)


def _max_filter(values: NDArray[np.float32]) -> NDArray[np.float32]:
    """Maximum over a STROKE-wide square, separably."""
    out = values
    for axis in (0, 1):
        spread = out.copy()
        for d in range(1, STROKE // 2 + 1):
            ahead = [slice(None)] * 2
            behind = [slice(None)] * 2
            ahead[axis], behind[axis] = slice(d, None), slice(None, -d)
            np.maximum(spread[tuple(ahead)], out[tuple(behind)], out=spread[tuple(ahead)])
            np.maximum(spread[tuple(behind)], out[tuple(ahead)], out=spread[tuple(behind)])
        out = spread
    return out


def _min_filter(values: NDArray[np.float32]) -> NDArray[np.float32]:
    return -_max_filter(-values)


def _document(gray: Image.Image) -> tuple[Box | None, bool]:
    """The document's box in ``gray`` (None where unknown) and whether it is too small.

    On a small copy, where print has blurred into paper, Otsu's threshold splits the frame
    into a light and a dark class, and the background is the class owning more of the image
    border. If the other class is one blob, that blob (holes filled) is the document. If it
    is scattered print instead, the document is as light as its background (or fills the
    whole frame) and only the extent of the print can be judged.
    """
    values = _shrink(gray, FRAME_SCALE)
    light = values > _otsu(values)
    if not light.any() or light.all():
        return None, False
    if float(values[light].mean() - values[~light].mean()) < MIN_CLASS_GAP:
        return None, False  # one even surface: nothing to frame against

    border = np.concatenate([light[0], light[-1], light[1:-1, 0], light[1:-1, -1]])
    doc_is_light = bool(border.mean() <= 0.5)
    doc_class = light if doc_is_light else ~light
    blob = _largest_blob(doc_class)
    # Light paper on a darker table is one piece with print-shaped holes. Dark print on a
    # light frame is many pieces, of which an ID card's portrait alone can be nearly half; so
    # a dark class counts as one object only when it is almost all one piece.
    one_piece = LIGHT_ONE_PIECE if doc_is_light else DARK_ONE_PIECE
    if blob.sum() >= one_piece * doc_class.sum():
        blob = _fill_holes(blob)
        small = float(blob.mean()) < MIN_DOCUMENT_SHARE
        ys, xs = np.nonzero(blob)
        top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    else:
        # Percentiles, so that a few background pixels in the corners (round card corners,
        # vignetting) do not stretch the print's extent to the frame.
        ys, xs = np.nonzero(doc_class)
        top, bottom = np.percentile(ys, [0.5, 99.5])
        left, right = np.percentile(xs, [0.5, 99.5])
        rows, cols = doc_class.shape
        small = (bottom - top) * (right - left) / (rows * cols) < MIN_PRINT_SHARE
        bottom, right = bottom + 1, right + 1
    scale_y = gray.height / values.shape[0]
    scale_x = gray.width / values.shape[1]
    box = (
        int(top * scale_y),
        int(left * scale_x),
        int(np.ceil(bottom * scale_y)),
        int(np.ceil(right * scale_x)),
    )
    return box, bool(small)


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


def _largest_blob(mask: Mask) -> Mask:
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


def _fill_holes(blob: Mask) -> Mask:
    """The blob plus whatever it encloses (a photo or a seal on the card is still the card)."""
    return ~reached_from_edge(~blob)


def reached_from_edge(mask: Mask) -> Mask:
    """The cells of ``mask`` connected (4-neighbour) to the border of the grid."""
    reached = np.zeros_like(mask)
    reached[0], reached[-1], reached[:, 0], reached[:, -1] = (
        mask[0],
        mask[-1],
        mask[:, 0],
        mask[:, -1],
    )
    # Grow from the border until it stops: a vectorised flood fill.
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
