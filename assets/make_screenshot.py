"""Take the README's screenshot of the Matrix playground.

Usage (from the repository root; needs the test dependencies, see requirements-dev.txt)::

    python assets/make_screenshot.py

Starts ``streamlit run app.py`` on a free port (the load benchmark's ``Server``), opens
the playground in Debian's Chromium through Playwright at 1280×1040, waits for the
animation, clicks output cell (1, 2) so that its window shows and the output is half
filled, and saves ``assets/playground.png`` as a 256-colour PNG (kept under 200 kB).
"""
from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import Server, free_port  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, wait_for_app  # noqa: E402

OUT = ROOT / "assets" / "playground.png"
VIEWPORT = {"width": 1280, "height": 1040}
# the seed example (4×4 → [[8 5] [7 9]]) at 3×3 stride 1 with padding 1: overlapping
# windows, a padding ring, and an output as large as the input
LINK = "/playground?src=preset&sq=true&kh=3&sk=false&sh=1&ph=1"
CLICKED = 1 * 4 + 2  # output cell (1, 2) of the 4×4 output
MAX_BYTES = 200_000


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(free_port(), Path(tmp) / "server.log")
        try:
            server.start(timeout=90)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(server.url + LINK)
                wait_for_app(page, ".st-key-animation .main-svg")
                wait_for_app(page)
                cells = page.locator(".st-key-animation .scatterlayer path.point")
                box = cells.nth(CLICKED).bounding_box()  # the click targets, row by row
                page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.wait_for_function(
                    "() => document.querySelector('.st-key-animation .scatterlayer .textpoint text')"
                    ".textContent"
                    ".startsWith('out[1, 2]')", timeout=30_000)
                wait_for_app(page)
                page.mouse.move(0, 0)  # no hover label over the figure
                page.wait_for_timeout(500)
                png = page.screenshot()
                browser.close()
        finally:
            server.stop()
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(256)
    image.save(OUT, optimize=True)
    size = OUT.stat().st_size
    print(f"{OUT.relative_to(ROOT)}: {image.width}×{image.height}, {size:,} bytes")
    if size > MAX_BYTES:
        raise SystemExit(f"the screenshot is over {MAX_BYTES:,} bytes")


if __name__ == "__main__":
    main()
