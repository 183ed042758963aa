"""Draw Poolscope's page icon (the browser tab's favicon): ``assets/icon.png``.

Usage (from the repository root)::

    python assets/make_icon.py

A 4×4 grid of blue cells with the red 2×2 window of max pooling on its top-left
corner, 64×64 pixels, drawn with Pillow alone: shipped with the app, so the browser
never fetches an icon from a font server.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent / "icon.png"
SIZE, CELLS, GAP = 64, 4, 2
BLUES = ((198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107))
WINDOW = (214, 39, 40)


def icon() -> Image.Image:
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    cell = (SIZE - GAP * (CELLS + 1)) / CELLS
    for r in range(CELLS):
        for c in range(CELLS):
            x0, y0 = GAP + c * (cell + GAP), GAP + r * (cell + GAP)
            draw.rectangle([x0, y0, x0 + cell, y0 + cell], fill=BLUES[(r * 3 + c * 5) % 4])
    edge = GAP + 2 * cell + GAP
    draw.rectangle([1, 1, edge, edge], outline=WINDOW, width=4)
    return img


if __name__ == "__main__":
    icon().save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
