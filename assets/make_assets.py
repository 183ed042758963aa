"""Regenerate Poolscope's sample images deterministically.

Usage (from the repository root)::

    python assets/make_assets.py

Uses only NumPy (fixed seed) and Pillow (ImageDraw with Pillow's built-in
bitmap font), so the pixels are identical on every run; no third-party content.
Every image is at most 256×256 pixels and 60 kB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent
SEED = 20240601


def scene(h: int = 192, w: int = 256) -> np.ndarray:
    """Photo-like RGB scene: sky gradient, sun disc, two hill layers, grass noise."""
    rng = np.random.default_rng(SEED)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    t = (y / (h - 1))[..., None]
    img = (1 - t) * np.array([70, 130, 210]) + t * np.array([200, 225, 245])  # sky
    sun = np.clip(24 - np.hypot(x - 0.72 * w, y - 0.28 * h), 0, 3) / 3  # soft-edged disc
    img = img * (1 - sun[..., None]) + sun[..., None] * np.array([255, 215, 90])
    far = 0.62 * h + 14 * np.sin(x / 31.0) + 8 * np.sin(x / 11.0 + 1.0)
    near = 0.78 * h + 12 * np.sin(x / 23.0 + 2.0) + 5 * np.sin(x / 7.0)
    img = np.where((y > far)[..., None], np.array([90, 130, 95]), img)
    img = np.where((y > near)[..., None], np.array([60, 140, 50]), img)
    ground = (y > far)[..., None]
    grass = rng.integers(-6, 7, size=(h, w, 1)) + rng.integers(-2, 3, size=(h, w, 3))
    img = img + ground * grass
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def text(h: int = 96, w: int = 256) -> np.ndarray:
    """Black text on white (grayscale), bitmap font drawn at 1× then scaled 2× nearest."""
    small = Image.new("L", (w // 2, h // 2), 255)
    draw = ImageDraw.Draw(small)
    font = ImageFont.load_default_imagefont()
    for i, line in enumerate(["Poolscope", "2x2 max pool", "stride 2, no padding"]):
        draw.text((4, 4 + 14 * i), line, fill=0, font=font)
    return np.repeat(np.repeat(np.asarray(small), 2, axis=0), 2, axis=1)


def checkerboard(size: int = 128, square: int = 8) -> np.ndarray:
    """Grayscale checkerboard of ``square``-pixel squares (0 and 255)."""
    y, x = np.mgrid[0:size, 0:size]
    return np.where(((y // square) + (x // square)) % 2 == 0, 255, 0).astype(np.uint8)


def thin_lines(size: int = 128) -> np.ndarray:
    """1-pixel white lines on black: 2×2 max pooling keeps them, average pooling greys them.

    Top-left: vertical lines every 3 px; top-right: horizontal lines every 4 px;
    bottom: diagonal lines every 5 px.
    """
    y, x = np.mgrid[0:size, 0:size]
    half = size // 2
    lines = np.where(x < half, x % 3 == 1, y % 4 == 1)
    lines = np.where(y < half, lines, (x + y) % 5 == 0)
    return np.where(lines, 255, 0).astype(np.uint8)


def main() -> None:
    images = {f"{f.__name__}.png": f() for f in (scene, text, checkerboard, thin_lines)}
    for name, arr in images.items():
        path = OUT / name
        Image.fromarray(arr).save(path, format="PNG", optimize=True)
        size = f"{arr.shape[1]}×{arr.shape[0]}"
        print(f"{path.name}: {size} {Image.open(path).mode}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
