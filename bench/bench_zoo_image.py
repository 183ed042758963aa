"""Time the Image lab's modern modes and its ROI section on a 12-megapixel photo, as the page
calls them, beside the budget's estimate for each.

Run from the repository root: ``python bench/bench_zoo_image.py`` (``--repeat N``, default 3;
the median is shown). The photo is ``apptiming.photo`` (3 x 3000 x 4000 uint8, the Image
lab benchmark's). Each modern mode runs through ``ui.zoo.run_mode`` with the section's
defaults (window 2, stride 2, filter 3, p 3, alpha 0.5, ratio 0.7) and its estimate is
``ui.variants_view.estimate``; the ROI rows run ``ui.roi_view.roi_results`` on the
luminance map (the section's default) for the section's default box (the middle half)
and 7 x 7 bins. The load average is printed: on a shared machine every figure moves.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from apptiming import photo  # noqa: E402
from ui import imageio, roi_view, variants_view, zoo  # noqa: E402


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    image = np.ascontiguousarray(photo().transpose(2, 0, 1))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"photo {image.shape} {image.dtype}; median of {args.repeat}")
    params = zoo.ZooParams()
    print(f"{'mode':18} {'measured':>9} {'estimate':>9}")
    for mode in variants_view.MODES:
        took = median_time(lambda: zoo.run_mode(image, mode, params), args.repeat)
        est = variants_view.estimate(image.shape, mode, params)
        print(f"{zoo.MODES[mode][0]:18} {took:8.2f}s {est:8.2f}s")
    h, w = image.shape[-2:]
    plane = imageio.to_grayscale(image)[0]
    box = roi_view.default_box(h, w)
    for scale in (1.0, 0.0625):
        fmap = roi_view.feature_map(plane, scale)
        for sampling in (-1, 2):
            took = median_time(lambda: roi_view.roi_results(fmap, box, 7, scale, sampling, False),
                               args.repeat)
            print(f"ROI pool + align, spatial_scale {scale:g}, sampling_ratio {sampling:>2}: "
                  f"{took:.3f} s")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
