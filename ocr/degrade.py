"""Phone-camera flaws for corpus images, each mild enough that a person still reads every field."""

from __future__ import annotations

import io
import random
from typing import Literal

import numpy as np
from PIL import Image, ImageFilter

__all__ = ["camera", "degrade"]


def degrade(
    image: Image.Image, rng: random.Random, *, level: Literal["clean", "degraded"]
) -> Image.Image:
    """Return ``image`` as a hand-held phone would take it; the flaws depend on ``rng`` only."""
    if level == "clean":
        return image
    # Camera pose first, then light on the page, then the lens, the sensor, and the encoder.
    photo = _perspective(image.convert("RGB"), rng)
    photo = _rotate(photo, rng)
    photo = _uneven_light(photo, rng)
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    photo = _noise(photo, rng)
    return _jpeg(photo, rng)


def _background(image: Image.Image) -> tuple[int, int, int]:
    red, green, blue = image.getpixel((0, 0))  # type: ignore[misc]  # an RGB pixel is a triple
    return int(red), int(green), int(blue)


def _perspective(image: Image.Image, rng: random.Random) -> Image.Image:
    # Move each corner by up to 3 % of the side and solve for the 8 coefficients that map the
    # output's corners back to the input's (PIL's PERSPECTIVE works from output to input).
    width, height = image.size
    corners = [(0, 0), (width, 0), (width, height), (0, height)]
    moved = [
        (x + rng.uniform(-0.03, 0.03) * width, y + rng.uniform(-0.03, 0.03) * height)
        for x, y in corners
    ]
    rows, values = [], []
    for (x, y), (u, v) in zip(moved, corners, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    coeffs = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(values, dtype=np.float64))
    return image.transform(
        image.size,
        Image.Transform.PERSPECTIVE,
        tuple(float(c) for c in coeffs),
        Image.Resampling.BICUBIC,
        fillcolor=_background(image),
    )


def _rotate(image: Image.Image, rng: random.Random) -> Image.Image:
    return image.rotate(
        rng.uniform(-3.0, 3.0),
        resample=Image.Resampling.BICUBIC,
        expand=True,
        fillcolor=_background(image),
    )


def _uneven_light(image: Image.Image, rng: random.Random) -> Image.Image:
    # A lamp to one side: brightness falls off linearly across the frame in a random direction.
    pixels = np.asarray(image, dtype=np.float32)
    height, width = pixels.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    xs = np.arange(width, dtype=np.float32)[None, :] / width
    ys = np.arange(height, dtype=np.float32)[:, None] / height
    along = xs * np.cos(angle) + ys * np.sin(angle)
    along = (along - along.min()) / max(float(along.max() - along.min()), 1e-6)
    gain = 1.0 - rng.uniform(0.15, 0.35) * along + rng.uniform(0.0, 0.05)
    return Image.fromarray(np.clip(pixels * gain[..., None], 0, 255).astype(np.uint8))


def _noise(image: Image.Image, rng: random.Random) -> Image.Image:
    sensor = np.random.default_rng(rng.getrandbits(64))
    pixels = np.asarray(image, dtype=np.float32)
    pixels += sensor.normal(0.0, rng.uniform(3.0, 7.0), pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, rng: random.Random) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=rng.randint(35, 70))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def camera(image: Image.Image, rng: random.Random, *, tilt: float = 3.0) -> Image.Image:
    """``image`` through a hand-held phone (pose, light, lens, sensor) without the encoder.

    Cheaper than ``degrade`` on large frames: the pose is one perspective warp (the tilt turns
    its corners) and light and noise are one pass over the pixels.
    """
    width, height = image.size
    turn = np.radians(rng.uniform(-tilt, tilt))
    cx, cy = width / 2, height / 2
    corners = [(0, 0), (width, 0), (width, height), (0, height)]
    moved = []
    for x, y in corners:
        rx = cx + (x - cx) * np.cos(turn) - (y - cy) * np.sin(turn)
        ry = cy + (x - cx) * np.sin(turn) + (y - cy) * np.cos(turn)
        moved.append(
            (rx + rng.uniform(-0.03, 0.03) * width, ry + rng.uniform(-0.03, 0.03) * height)
        )
    rows, values = [], []
    for (x, y), (u, v) in zip(moved, corners, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    coeffs = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(values, dtype=np.float64))
    photo = image.convert("RGB").transform(
        image.size,
        Image.Transform.PERSPECTIVE,
        tuple(float(c) for c in coeffs),
        Image.Resampling.BILINEAR,
        fillcolor=_background(image.convert("RGB")),
    )
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    angle = rng.uniform(0, 2 * np.pi)
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :] * np.float32(np.cos(angle))
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None] * np.float32(np.sin(angle))
    along = xs + ys
    along = (along - along.min()) / max(float(along.max() - along.min()), 1e-6)
    gain = 1.0 - np.float32(rng.uniform(0.15, 0.35)) * along + np.float32(rng.uniform(0.0, 0.05))
    sensor = np.random.default_rng(rng.getrandbits(64))
    pixels = np.asarray(photo, dtype=np.float32) * gain[..., None]
    noise = sensor.standard_normal(pixels.shape, dtype=np.float32)
    pixels += noise * np.float32(rng.uniform(3.0, 7.0))
    return Image.fromarray(np.clip(pixels, 0, 255, out=pixels).astype(np.uint8))
