"""Documents photographed on a desk, generated from a seed, and saved for a person to look at."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter

from ocr.corpus.certificate import certificate
from ocr.corpus.id_card import id_back, id_front
from ocr.corpus.licence import licence
from ocr.corpus.sheet import RGB

__all__ = ["ALL", "Kind", "Sample", "generate", "write_corpus"]

Kind = Literal["id_card_front", "id_card_back", "business_licence", "certificate"]
ALL: tuple[Kind, ...] = ("id_card_front", "id_card_back", "business_licence", "certificate")

_LAYOUTS: dict[Kind, Callable[[random.Random], tuple[Image.Image, dict[str, str]]]] = {
    "id_card_front": id_front,
    "id_card_back": id_back,
    "business_licence": licence,
    "certificate": certificate,
}
_DESKS: tuple[RGB, ...] = ((96, 70, 50), (68, 70, 74), (42, 54, 72), (50, 72, 58), (120, 96, 72))


@dataclass(frozen=True)
class Sample:
    """One photographed document and the exact value of every field an engine should read."""

    kind: Kind
    image: Image.Image
    truth: dict[str, str]


def _on_desk(document: Image.Image, rng: random.Random, *, radius: int) -> Image.Image:
    """Photograph ``document`` from above: a desk around it, filling ~60-80 % of the frame."""
    fill = rng.uniform(0.78, 0.89)  # per side, so the document covers 61-79 % of the area
    frame = (round(document.width / fill), round(document.height / fill))
    free_x, free_y = frame[0] - document.width, frame[1] - document.height
    x = rng.randint(free_x // 4, free_x - free_x // 4)
    y = rng.randint(free_y // 4, free_y - free_y // 4)
    desk = tuple(c + rng.randint(-10, 10) for c in rng.choice(_DESKS))
    photo = Image.new("RGB", frame, (desk[0], desk[1], desk[2]))
    mask = Image.new("L", document.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *document.size), radius=radius, fill=255)
    shadow = Image.new("L", frame, 0)
    shadow.paste(mask.point(lambda v: v * 110 // 255), (x + 6, y + 9))
    photo.paste((10, 10, 10), (0, 0), shadow.filter(ImageFilter.GaussianBlur(9)))
    photo.paste(document, (x, y), mask)
    return photo


def generate(seed: int, count: int, *, kinds: Sequence[Kind] = ALL) -> Iterator[Sample]:
    """Yield ``count`` samples cycling through ``kinds``; the same seed gives identical images."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    for i in range(count):
        kind = kinds[i % len(kinds)]
        document, truth = _LAYOUTS[kind](rng)
        radius = 30 if kind.startswith("id_card") else 4
        yield Sample(kind=kind, image=_on_desk(document, rng, radius=radius), truth=truth)


def write_corpus(directory: Path, seed: int, count: int, *, degraded: bool = False) -> None:
    """Save ``count`` samples as PNGs with a truth.jsonl beside them, for a person to look at."""
    from ocr.degrade import degrade

    directory.mkdir(parents=True, exist_ok=True)
    noise = random.Random(f"degrade-{seed}")  # noqa: S311 -- a separate stream keeps clean images stable
    with (directory / "truth.jsonl").open("w", encoding="utf-8") as lines:
        for i, sample in enumerate(generate(seed, count)):
            name = f"{i:04d}_{sample.kind}.png"
            level: Literal["clean", "degraded"] = "degraded" if degraded else "clean"
            degrade(sample.image, noise, level=level).save(directory / name)
            record = {"file": name, "kind": sample.kind, "truth": sample.truth}
            lines.write(json.dumps(record, ensure_ascii=False) + "\n")
