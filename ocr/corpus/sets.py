"""Benchmark sets: genuine documents photographed as people do, and sets made to be caught.

A ``Shot`` is what the service receives (a WeChat JPEG) with what the slot expects and the
truth. Genuine sets should pass; each catch set names the finding it must raise.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from PIL import Image

from ocr.corpus.certificate import certificate
from ocr.corpus.driving import driving_licence, driving_licence_page2
from ocr.corpus.id_card import id_back, id_front
from ocr.corpus.licence import licence
from ocr.corpus.licence_portrait import licence_portrait
from ocr.corpus.numbers import citizen_id, uscc
from ocr.corpus.people import person_name
from ocr.corpus.permits import health_certificate, residence_permit
from ocr.corpus.photos import CONDITIONS, blurred, cut_off, photograph, wechat
from ocr.corpus.sheet import available, typeface
from ocr.rules import Expectation

__all__ = ["CATCHES", "CONDITIONS", "LAYOUTS", "TODAY", "Shot", "catch_shot", "genuine_shot"]

TODAY = date(2026, 11, 25)
Draw = Callable[[random.Random], tuple[Image.Image, dict[str, str]]]
# Layout -> (how to draw it, the catalog kind of its slot, corner radius).
LAYOUTS: dict[str, tuple[Draw, str, int]] = {
    "id_card_front": (id_front, "id_card_front", 30),
    "id_card_back": (id_back, "id_card_back", 30),
    "licence_landscape": (licence, "business_licence", 4),
    "licence_portrait": (licence_portrait, "business_licence", 4),
    "driving_licence": (driving_licence, "certificate", 12),
    "driving_licence_page2": (driving_licence_page2, "certificate", 12),
    "qualification": (certificate, "certificate", 4),
    "residence_permit": (residence_permit, "certificate", 30),
    "health_certificate": (health_certificate, "form", 0),
}
# Wrong documents: the slot's kind, and what is sent instead.
_WRONG = (
    ("id_card_front", "driving_licence"),
    ("id_card_front", "residence_permit"),
    ("id_card_front", "id_card_back"),
    ("id_card_back", "id_card_front"),
    ("business_licence", "id_card_front"),
    ("business_licence", "qualification"),
    ("certificate", "id_card_front"),
    ("certificate", "health_certificate"),
    ("certificate", "licence_landscape"),
    ("form", "driving_licence"),
)
# The expiry field of each layout that prints one.
_EXPIRY = {"id_card_back": "valid_to", "licence_landscape": "valid_to",
           "licence_portrait": "valid_to", "driving_licence": "expiry_date",
           "qualification": "expiry_date", "residence_permit": "expiry_date"}  # fmt: skip
CATCHES = {
    "wrong_document": "WRONG_KIND",
    "someone_else": "NOT_APPLICANT",
    "expired": "EXPIRED",
    "blurred_or_cut_off": "RETAKE",
}


@dataclass(frozen=True)
class Shot:
    """One photo as sent, the slot's expectation, and the truth printed on the document."""

    layout: str
    condition: str
    data: bytes
    expect: Expectation
    truth: dict[str, str]
    must: str | None = None  # the finding a catch set must raise; None: should pass
    spoiled: str = ""  # how a photo of the blurred-or-cut-off set was spoiled


def _owner(layout: str, truth: dict[str, str], kind: str, today: date) -> Expectation:
    expiry = truth.get(_EXPIRY.get(layout, ""), "长期")
    valid = expiry == "长期" or date.fromisoformat(expiry) >= today
    # A certificate's number is often its holder's ID number ("T" + it on some): the service
    # expects the applicant's bound ID number and name.
    number = truth.get("certificate_number", "")[-18:]
    return Expectation(
        kind,
        today,
        person_id=truth.get("id_number") or (number if len(number) == 18 else None),
        uscc=truth.get("uscc"),
        holder_name=truth.get("holder_name") if kind == "certificate" else None,
        must_be_valid=valid,
    )


def _draw(layout: str, rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    with typeface(rng.choice(available())):
        return LAYOUTS[layout][0](rng)


def genuine_shot(seed: int, index: int, condition: str, size: int) -> Shot:
    """Genuine document ``index`` (every layout in turn) photographed in ``condition``."""
    rng = random.Random(f"{seed}-{condition}-{size}-{index}")  # noqa: S311 -- test data
    layout = list(LAYOUTS)[index % len(LAYOUTS)]
    document, truth = _draw(layout, rng)
    _, kind, radius = LAYOUTS[layout]
    photo = photograph(document, rng, condition, radius=radius)
    expect = _owner(layout, truth, kind, TODAY)
    return Shot(layout, condition, wechat(photo, size, rng), expect, truth)


def catch_shot(seed: int, index: int, catch: str, size: int = 1280) -> Shot:
    """Photo ``index`` of a set that must raise the finding ``CATCHES[catch]`` names."""
    rng = random.Random(f"{seed}-{catch}-{size}-{index}")  # noqa: S311 -- test data
    condition = CONDITIONS[index % len(CONDITIONS)]
    if catch == "wrong_document":
        kind, layout = _WRONG[index % len(_WRONG)]
    else:
        pool = _CATCH_LAYOUTS.get(catch, _READABLE)
        layout = pool[index % len(pool)]
        kind = LAYOUTS[layout][1]
    document, truth = _draw(layout, rng)
    while catch == "expired" and truth[_EXPIRY[layout]] == "长期":
        document, truth = _draw(layout, rng)
    photo = photograph(document, rng, condition, radius=LAYOUTS[layout][2])
    expect = _owner(layout, truth, kind, TODAY)
    if catch == "wrong_document":
        expect = Expectation(kind, TODAY)
    elif catch == "someone_else":
        expect = _stranger(rng, expect)
    elif catch == "expired":
        ended = date.fromisoformat(truth[_EXPIRY[layout]])
        expect = replace(expect, today=ended + timedelta(rng.randint(1, 700)), must_be_valid=True)
    spoiled = ""
    if catch == "blurred_or_cut_off":
        spoiled = "blurred" if index % 2 == 0 else "cut off"
        photo = blurred(photo, rng) if spoiled == "blurred" else cut_off(photo, rng)
    data = wechat(photo, size, rng)
    return Shot(layout, condition, data, expect, truth, CATCHES[catch], spoiled)


_READABLE = tuple(name for name in LAYOUTS if name != "health_certificate")
_CATCH_LAYOUTS = {
    "someone_else": ("id_card_front", "licence_landscape", "licence_portrait",
                     "driving_licence", "qualification"),
    "expired": tuple(_EXPIRY),
}  # fmt: skip


def _stranger(rng: random.Random, expect: Expectation) -> Expectation:
    """The expectation of another applicant than the document's owner."""
    other = person_name(rng)
    while other == expect.holder_name:
        other = person_name(rng)
    birth = date(1960, 1, 1) + timedelta(rng.randrange(15_000))
    return replace(
        expect,
        person_id=citizen_id("110105", birth, rng.random() < 0.5, rng)
        if expect.person_id
        else None,
        uscc=uscc("310104", rng) if expect.uscc else None,
        holder_name=other if expect.holder_name else None,
    )
