"""Time the Image lab on a 12-megapixel photo: decode, pool every mode, redraw.

Run from the repository root: ``python bench/bench_image_lab.py`` (add ``--quick``
to skip the end-to-end AppTest part). Prints median times (``time.perf_counter``)
of several runs, and whether each per-change path stays under 1 second.

Part 1 times the page's own steps (pages/image_lab.py helpers) in isolation.
Part 2 drives the real page script with Streamlit's AppTest: upload the JPEG,
then change one sidebar setting at a time; each ``at.run()`` is one "change"
(the whole script, st.cache_data lookups and image encoding included; the
browser's drawing is not).
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pooling_core import MODES, pool2d  # noqa: E402
from ui import figures, imageio, pool_settings  # noqa: E402
from ui import imagelab as lab  # noqa: E402
from apptiming import median_time, photo, time_reruns  # noqa: E402

BUDGET = 1.0  # seconds per change
KWARGS = dict(kernel_size=(3, 3), stride=(2, 2), padding=(0, 0))


def encode(hwc: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(hwc).save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def row(name, seconds, budget=None):
    verdict = "" if budget is None else ("  under 1 s" if seconds < budget else "  OVER 1 s")
    print(f"  {name:<46}{seconds:>8.3f}{verdict}")


def part1(lab, jpeg: bytes, png: bytes) -> None:
    print("Part 1: the page's steps, 12-megapixel RGB (4000×3000), kernel 3×3, stride 2")
    print(f"  {'step':<46}{'seconds':>8}")
    row(f"decode JPEG ({len(jpeg) / 2**20:.1f} MB)", median_time(lambda: imageio.load_image(jpeg)))
    row(f"decode PNG ({len(png) / 2**20:.1f} MB)", median_time(lambda: imageio.load_image(png), 3))
    array = imageio.load_image(jpeg).array
    row("blake2b digest of the JPEG bytes (cache key)", median_time(lambda: lab.digest(jpeg)))
    target = lab.screen_target(array.shape[-2:])
    row("original -> screen preview (once per image)",
        median_time(lambda: lab.screen_view(array, np.uint8, target)))
    screen = lab.screen_view(array, np.uint8, target)
    row("screen preview -> PNG (what st.image sends)", median_time(lambda: lab.png(screen)))
    row("grayscale version (toggle, once per image)",
        median_time(lambda: imageio.to_grayscale(array), 3))
    settings = pool_settings.PoolSettings(kernel=(3, 3), stride=(2, 2))
    small, _ = lab.compare_copy(array)
    row("mode grid: downscaled copy (once per image)", median_time(lambda: lab.compare_copy(array)))
    row("mode grid: 6 modes on the copy", median_time(
        lambda: [pool2d(small, **lab.mode_kwargs(settings, m, small.shape[-2:])[0])
                 for m in lab.COMPARE_MODES], 3))
    for size in lab.ZOOM_SIZES:
        region = lab.region_matrix(array, 1500, 2000, size, "Luminance")
        rk = settings.pool_kwargs(region.shape)
        row(f"zoom: {size}×{size} region animation figure + JSON",
            median_time(lambda: figures.animation_figure(region, rk)[0].to_json(), 3))
    print()
    print(f"  {'mode':<12}{'pool2d':>8}{'+ redraw':>10}"
          f"{'= change':>10}{'PNG dl':>9}  verdict (change = pool2d + redraw)")
    for mode in MODES:
        kw = dict(KWARGS, mode=mode, **({"rng": 0} if mode == "stochastic" else {}))
        core = median_time(lambda: pool2d(array, **kw), 3)
        out = pool2d(array, **kw)
        redraw = median_time(lambda: (lab.png(lab.screen_view(out, np.uint8, target)),
                                      lab.clipped_share(out, np.uint8)), 3)
        png_dl = median_time(lambda: imageio.to_png_bytes(out, np.uint8), 1)
        total = core + redraw
        print(f"  {mode:<12}{core:>8.3f}{redraw:>10.3f}{total:>10.3f}"
              f"{png_dl:>9.3f}  {'under 1 s' if total < BUDGET else 'OVER 1 s'}")
    out = pool2d(array, **dict(KWARGS, mode="avg"))
    row("download .npy (avg, float64) on click", median_time(lambda: imageio.to_npy_bytes(out), 3))
    row("download side-by-side PNG on click", median_time(
        lambda: lab.side_by_side_bytes(lab.display_hwc(array, np.uint8),
                                       lab.display_hwc(out, np.uint8)), 1))


def part2(jpeg: bytes, repeat: int = 3) -> list[dict]:
    """The page script per change (AppTest); returns ``apptiming.time_reruns``' rows."""
    print()
    print(f"Part 2: the whole page script (AppTest), 12 MP JPEG; seconds per at.run(), "
          f"median of {repeat} sessions (caches cleared before each)")
    rows = time_reruns("pages/image_lab.py", lambda at: changes_for(at, jpeg), repeat=repeat)
    for r in rows:
        note = f"  [{r['note']}]" if r["note"] else ""
        print(f"  {r['label']:<46}{r['seconds']:>8.3f}  "
              f"{'under 1 s' if r['seconds'] < BUDGET else 'OVER 1 s'}{note}")
    return rows


def changes_for(at, jpeg: bytes):
    """One user session: (label, action) pairs, each followed by one script run. The zoom
    and the mode comparison (expanders drawn only while open) are opened first, so every
    change below pays for them: the page's worst case."""
    def open_sections():
        at.session_state["img_zoom"] = at.session_state["img_compare"] = True
    yield ("open the zoom and the mode comparison", open_sections)
    yield ("upload the 12 MP JPEG (decode, pool, grid, zoom)",
           lambda: at.file_uploader(key="img_file").set_value(("photo.jpg", jpeg, "image/jpeg")))
    yield ("kernel 3, stride 2 (unlock stride)",
           lambda: (at.slider(key="kh").set_value(3), at.checkbox(key="sk").uncheck()))
    for mode in ("avg", "lp", "max"):
        yield (f"mode {mode}", lambda mode=mode: at.selectbox(key="mode").set_value(mode))
    yield ("framework Caffe (max)", lambda: at.selectbox(key="fw").set_value("caffe"))
    yield ("mode stochastic (Caffe)", lambda: at.selectbox(key="mode").set_value("stochastic"))
    # no framework has min/median with overlapping windows: scikit-image, stride 3
    yield ("scikit-image, min, 3×3 stride 3", lambda: (
        at.selectbox(key="fw").set_value("skimage"), at.selectbox(key="mode").set_value("min"),
        at.checkbox(key="sk").check()))
    yield ("scikit-image, median, 3×3 stride 3",
           lambda: at.selectbox(key="mode").set_value("median"))
    yield ("back to PyTorch max, 3×3 stride 2", lambda: (
        at.selectbox(key="fw").set_value("pytorch"), at.selectbox(key="mode").set_value("max"),
        at.checkbox(key="sk").uncheck()))
    yield ("grayscale toggle on", lambda: at.toggle(key="img_gray").set_value(True))
    yield ("pyramid: 3 passes", lambda: at.slider(key="img_times").set_value(3))
    yield ("move the zoom region", lambda: at.slider(key="zoom_left").set_value(
        at.slider(key="zoom_left").value + 40))
    yield ("zoom region 12 px", lambda: at.radio(key="zoom_size").set_value(12))
    yield ("repeat the last change (all cached)", lambda: None)


def main() -> None:
    import os
    print(f"{os.cpu_count()} CPU(s), numpy {np.__version__}")
    hwc = photo()
    jpeg, png = encode(hwc, "JPEG"), encode(hwc, "PNG")
    part1(lab, jpeg, png)
    if "--quick" not in sys.argv:
        part2(jpeg)


if __name__ == "__main__":
    main()
