"""A document photographed as people do: on a desk, in a hand, on white paper, with glare or a
shadow; then sent through WeChat (downscaled, JPEG); or spoiled on purpose (blurred, cut off).

Every function draws from the ``rng`` it is given only, so a seed gives the same photo.
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ocr.degrade import camera

__all__ = ["CONDITIONS", "blurred", "cut_off", "photograph", "wechat"]

CONDITIONS = ("desk", "hand", "white_paper", "glare_shadow")
# Documents are drawn at the base scale (an ID card 856 px wide); a phone's original frame is
# about twice that, so WeChat's sizes are downscales, as they are for real photos.
SCALE = 1.5
_DESKS = ((96, 70, 50), (68, 70, 74), (42, 54, 72), (50, 72, 58), (120, 96, 72), (150, 140, 128))
_WALLS = ((180, 176, 168), (120, 128, 136), (200, 196, 186), (90, 84, 80))
_SKIN = ((224, 180, 150), (200, 150, 118), (236, 196, 170))


def _mask(size: tuple[int, int], radius: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius, fill=255)
    return mask


def _place(
    document: Image.Image,
    surface: tuple[int, int, int],
    rng: random.Random,
    *,
    radius: int,
    fill: tuple[float, float],
    shadow: int = 110,
) -> tuple[Image.Image, tuple[int, int]]:
    """``document`` on a plain surface covering ``fill`` of each side; the photo and its offset."""
    share = rng.uniform(*fill)
    frame = (round(document.width / share), round(document.height / share))
    free_x, free_y = frame[0] - document.width, frame[1] - document.height
    x = rng.randint(free_x // 4, free_x - free_x // 4)
    y = rng.randint(free_y // 4, free_y - free_y // 4)
    tint = tuple(min(255, max(0, c + rng.randint(-8, 8))) for c in surface)
    photo = Image.new("RGB", frame, (tint[0], tint[1], tint[2]))
    mask = _mask(document.size, radius)
    dark = Image.new("L", frame, 0)
    dark.paste(
        mask.point(lambda v: v * shadow // 255), (x + round(6 * SCALE), y + round(9 * SCALE))
    )
    photo.paste((10, 10, 10), (0, 0), dark.filter(ImageFilter.GaussianBlur(9 * SCALE)))
    photo.paste(document, (x, y), mask)
    return photo, (x, y)


def _hand(
    photo: Image.Image, at: tuple[int, int], size: tuple[int, int], rng: random.Random
) -> None:
    """A thumb over the document's left margin and the palm beside it, off the print."""
    x, y = at
    skin = rng.choice(_SKIN)
    draw = ImageDraw.Draw(photo)
    cy = y + size[1] * rng.uniform(0.35, 0.65)
    draw.ellipse((x - 90 * SCALE, cy - 110 * SCALE, x - 5 * SCALE, cy + 160 * SCALE), fill=skin)
    thumb = (x - 30 * SCALE, cy - 28 * SCALE, x + 22 * SCALE, cy + 40 * SCALE)
    draw.ellipse(thumb, fill=tuple(c - 12 for c in skin))


def _glare(
    photo: Image.Image, at: tuple[int, int], size: tuple[int, int], rng: random.Random
) -> Image.Image:
    """A soft lamp reflection on the document, bright but with the print still showing."""
    pixels = np.array(photo, dtype=np.float32)
    cx = at[0] + size[0] * rng.uniform(0.15, 0.85)
    cy = at[1] + size[1] * rng.uniform(0.15, 0.85)
    radius = size[0] * rng.uniform(0.06, 0.12)
    xs = np.exp(-((np.arange(pixels.shape[1], dtype=np.float32) - cx) ** 2) / (2 * radius**2))
    ys = np.exp(-((np.arange(pixels.shape[0], dtype=np.float32) - cy) ** 2) / (2 * radius**2))
    weight = ys[:, None] * xs[None, :] * np.float32(rng.uniform(0.45, 0.6))
    pixels += (255 - pixels) * weight[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255, out=pixels).astype(np.uint8))


def _shadow(photo: Image.Image, rng: random.Random) -> Image.Image:
    """The phone's or the photographer's shadow: one side of a soft line darker."""
    pixels = np.asarray(photo, dtype=np.float32)
    height, width = pixels.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    xs = (np.arange(width, dtype=np.float32) - width / 2) * np.float32(np.cos(angle))
    ys = (np.arange(height, dtype=np.float32) - height / 2) * np.float32(np.sin(angle))
    edge = rng.uniform(-0.25, 0.25) * min(width, height)
    soft = np.float32(0.03 * min(width, height))
    side = 1 / (1 + np.exp(-(xs[None, :] + ys[:, None] - np.float32(edge)) / soft))
    gain = 1 - np.float32(rng.uniform(0.3, 0.45)) * side
    pixels *= gain[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255, out=pixels).astype(np.uint8))


def photograph(
    document: Image.Image, rng: random.Random, condition: str, *, radius: int = 4
) -> Image.Image:
    """``document`` photographed in ``condition`` (one of ``CONDITIONS``) at full resolution."""
    doc = document.resize(
        (round(document.width * SCALE), round(document.height * SCALE)), Image.Resampling.LANCZOS
    )
    radius = round(radius * SCALE)
    if condition == "white_paper":
        # White paper around a light document: the phone exposes for the page, so the paper
        # clips to pure white while the print keeps its contrast.
        photo, _ = _place(doc, (250, 250, 248), rng, radius=radius, fill=(0.7, 0.88), shadow=40)
        photo = camera(photo, rng)
        gain = rng.uniform(1.04, 1.12)
        return photo.point(lambda v: min(255, round(v * gain)))
    if condition == "hand":
        wall = rng.choice(_WALLS)
        photo, at = _place(doc, wall, rng, radius=radius, fill=(0.72, 0.85), shadow=60)
        _hand(photo, at, doc.size, rng)
        return camera(photo, rng, tilt=6.0)
    photo, at = _place(doc, rng.choice(_DESKS), rng, radius=radius, fill=(0.74, 0.88))
    if condition == "glare_shadow":
        photo = _glare(photo, at, doc.size, rng) if rng.random() < 0.5 else _shadow(photo, rng)
    return camera(photo, rng)


def wechat(photo: Image.Image, long_side: int, rng: random.Random) -> bytes:
    """The JPEG WeChat sends for ``photo``: at most ``long_side`` pixels, quality 70-85."""
    small = photo.copy()
    small.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=rng.randint(70, 85))
    return out.getvalue()


def blurred(photo: Image.Image, rng: random.Random) -> Image.Image:
    """Out of focus or shaken: the print smeared beyond what a reader would accept."""
    sigma = rng.uniform(4.0, 7.0) * SCALE
    return photo.filter(ImageFilter.GaussianBlur(sigma))


def cut_off(photo: Image.Image, rng: random.Random) -> Image.Image:
    """Shot too close or aside: a corner of the document and a part of two sides outside."""
    width, height = photo.size
    dx, dy = round(width * rng.uniform(0.25, 0.4)), round(height * rng.uniform(0.25, 0.4))
    corner = rng.randrange(4)
    left, top = (dx if corner in (0, 3) else 0), (dy if corner in (0, 1) else 0)
    return photo.crop((left, top, left + width - dx, top + height - dy))
