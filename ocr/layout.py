"""Engine lines regrouped into printed rows, so a label and the value beside it read as one line.

Engines box a label and its value separately when a gap divides them ("姓名" | "王小红"), and
box the characters of a label spread across its column one by one ("名" | "称福州…"). Sorted by
their top edges alone, a value printed a few pixels higher comes before its label. ``rows``
puts boxes that share a vertical band on one row, left to right with a tab between them (the
extractors in ocr.fields end a name at its box), and the rows top to bottom.
"""

from __future__ import annotations

from collections.abc import Sequence

from ocr.engine import Line
from ocr.text import cjk

__all__ = ["rows"]

Box = tuple[int, int, int, int]
# Two neighbouring boxes are on one row when they share half the height of the shorter one;
# on a page tilted a few degrees a long box grows taller, but still covers its neighbour.
_SAME_ROW = 0.5
# ... and a third of the taller one: a title set three times larger (营业执照) is not on the
# row of a label whose box just touches its bottom.
_SAME_ROW_TALLER = 0.3
# A box this many times taller than wide holds a vertical line of characters.
_VERTICAL = 1.5


def _centre(box: Box) -> float:
    return (box[1] + box[3]) / 2


def _overlap(a: Box, b: Box) -> float:
    """How much of the shorter box's height two boxes share; 0 under a third of the taller."""
    shared = min(a[3], b[3]) - max(a[1], b[1])
    if shared < _SAME_ROW_TALLER * max(a[3] - a[1], b[3] - b[1]):
        return 0.0
    return shared / max(min(a[3] - a[1], b[3] - b[1]), 1)


def _gap(a: Box, b: Box) -> int:
    """Horizontal distance between two boxes; 0 when they overlap."""
    return max(a[0] - b[2], b[0] - a[2], 0)


def _unstack(line: Line) -> list[Line]:
    """A vertical box split into one box per character, each on its own row.

    Detectors read the first characters of spread labels stacked in one column ("姓", "性",
    "证" of 姓　名, 性　别, 证　号) as one vertical line "姓性证": it spans as many rows as
    it has characters.
    """
    left, top, right, bottom = line.box
    text = line.text.strip()
    # Only CJK: a Chinese character is about as wide as high, so two or more side by side are
    # never this narrow; "11" may be.
    if len(text) < 2 or not all(map(cjk, text)) or bottom - top < _VERTICAL * (right - left):
        return [line]
    edges = [round(top + i * (bottom - top) / len(text)) for i in range(len(text) + 1)]
    return [
        Line(char, line.confidence, (left, edges[i], right, edges[i + 1]))
        for i, char in enumerate(text)
    ]


def rows(lines: Sequence[Line]) -> list[str]:
    """The texts of ``lines`` joined row by row, a tab between boxes, top to bottom."""
    grouped: list[list[Line]] = []
    pieces = [piece for line in lines for piece in _unstack(line)]
    for line in sorted(pieces, key=lambda line: _centre(line.box)):
        # Compare with the horizontally nearest box of each recent row: on a tilted page,
        # boxes far apart on one row drift vertically, neighbours hardly do.
        best, best_overlap = None, _SAME_ROW
        for row in grouped[-3:]:
            nearest = min(row, key=lambda other: _gap(other.box, line.box))
            if (overlap := _overlap(nearest.box, line.box)) >= best_overlap:
                best, best_overlap = row, overlap
        if best is None:
            grouped.append([line])
        else:
            best.append(line)
    ordered = sorted(grouped, key=lambda row: min(_centre(line.box) for line in row))
    return [
        "\t".join(line.text.strip() for line in sorted(row, key=lambda line: line.box[0]))
        for row in ordered
    ]
