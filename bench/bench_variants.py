"""Time every pooling variant of issue 18 on a 12-megapixel photo, against the 1-second budget.

Run from the repository root: ``python bench/bench_variants.py`` (``--quick``: one run
per call, uint8 input only, no backward passes). The input is the Image lab's case: a
photo-like RGB image of 3 x 3000 x 4000 uint8 (``apptiming.photo``, the Image lab
benchmark's), passed as it is (each variant computes in float64, as the core does for
integers) and, in the full run, converted to float32 first (a network's feature map).
Each row is the median wall time of several calls (``--repeat``); calls of one table
are timed in rounds, every call once a round, so a burst of load on the shared
machine lands on one run of many calls rather than on every run of one. ROI pool and
ROI align take the image as a batch of one, ``(1, 3, 3000, 4000)``, with one box
covering it (the largest bins: 429 x 572 cells at 7 x 7) or 64 boxes of 50-400 px.
The backward passes (full run only) are not in the budget: they are for learning.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from apptiming import load_average, photo  # noqa: E402
from pooling_core import (blur_pool2d, blur_pool2d_backward, fractional_max_pool2d,  # noqa: E402
                          fractional_max_pool2d_backward, gem_pool2d, gem_pool2d_backward,
                          max_blur_pool2d, mixed_pool2d, mixed_pool2d_backward, pool2d,
                          roi_align, roi_align_backward, roi_pool, softpool2d,
                          softpool2d_backward, spatial_pyramid_pool2d)

BUDGET = 1.0  # seconds: the Image lab's budget per change


def boxes(n, h, w, seed=0):
    """``n`` boxes of 50-400 px (objects in a photo) inside an ``h x w`` image, as ``(n, 5)``
    rows."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(50, 400, (n, 2))
    x1 = rng.uniform(0, w - size[:, 0])
    y1 = rng.uniform(0, h - size[:, 1])
    return np.column_stack([np.zeros(n), x1, y1, x1 + size[:, 0], y1 + size[:, 1]])


def forward_calls(image):
    """(variant, setting, call) for every forward mode; ``image`` is ``(3, H, W)``."""
    h, w = image.shape[-2:]
    batch = image[None]
    whole = [[0, 0, 0, w - 1, h - 1]]
    many = boxes(64, h, w)
    return [
        ("max (reference)", "k3 s2: pool2d", lambda: pool2d(image, 3, 2)),
        ("avg (reference)", "k3 s2: pool2d", lambda: pool2d(image, 3, 2, mode="avg")),
        ("GeM", "k3 s2, p=3", lambda: gem_pool2d(image, 3, 2, p=3)),
        ("GeM", "k3 s2, p=inf", lambda: gem_pool2d(image, 3, 2, p=np.inf)),
        ("GeM", "global (one value a plane), p=3", lambda: gem_pool2d(image, p=3)),
        ("GeM", "k3 s2, p=400 (rescaled window by window)",
         lambda: gem_pool2d(image, 3, 2, p=400.0)),
        ("mixed", "k3 s2, alpha=0.5", lambda: mixed_pool2d(image, 3, 2, alpha=0.5)),
        ("SoftPool", "k2 s2", lambda: softpool2d(image, 2)),
        ("SoftPool", "k3 s2", lambda: softpool2d(image, 3, 2)),
        ("BlurPool", "filter 3, s2, zeros", lambda: blur_pool2d(image, 3)),
        ("BlurPool", "filter 7, s2, reflect", lambda: blur_pool2d(image, 7,
                                                                   padding_mode="reflect")),
        ("MaxBlurPool", "filter 3, s2, max 2", lambda: max_blur_pool2d(image, 3)),
        ("fractional max", "k2, ratio 0.7", lambda: fractional_max_pool2d(
            image, 2, output_ratio=0.7, rng=0)),
        ("fractional max", "k2, ratio 0.7, indices", lambda: fractional_max_pool2d(
            image, 2, output_ratio=0.7, return_indices=True, rng=0)),
        ("fractional max", "k3, ratio 0.5", lambda: fractional_max_pool2d(
            image, 3, output_ratio=0.5, rng=0)),
        ("spatial pyramid", "levels (1, 2, 4), max", lambda: spatial_pyramid_pool2d(image)),
        ("spatial pyramid", "levels (1, 2, 4, 8), avg", lambda: spatial_pyramid_pool2d(
            image, (1, 2, 4, 8), "avg")),
        ("ROI pool", "whole image, 7x7", lambda: roi_pool(batch, whole, 7)),
        ("ROI pool", "64 boxes, 7x7", lambda: roi_pool(batch, many, 7)),
        ("ROI align", "whole image, 7x7, sampling -1", lambda: roi_align(batch, whole, 7)),
        ("ROI align", "whole image, 7x7, sampling 2", lambda: roi_align(batch, whole, 7, 1.0, 2)),
        ("ROI align", "64 boxes, 7x7, sampling -1, aligned", lambda: roi_align(
            batch, many, 7, 1.0, -1, True)),
        ("ROI align max", "whole image, 7x7, sampling -1", lambda: roi_align(
            batch, whole, 7, mode="max")),
        ("ROI align max", "64 boxes, 7x7, sampling 2", lambda: roi_align(
            batch, many, 7, 1.0, 2, mode="max")),
    ]


def backward_calls(image):
    h, w = image.shape[-2:]
    g2 = np.ones((3, (h - 1) // 2 + 1, (w - 1) // 2 + 1))
    g3 = np.ones((3, (h - 3) // 2 + 1, (w - 3) // 2 + 1))
    fractional = fractional_max_pool2d(image, 2, output_ratio=0.7, rng=0)
    many = boxes(64, h, w)
    return [
        ("GeM", "k3 s2, p=3", lambda: gem_pool2d_backward(g3, image, 3, 2, p=3)),
        ("mixed", "k3 s2", lambda: mixed_pool2d_backward(g3, image, 3, 2)),
        ("SoftPool", "k3 s2", lambda: softpool2d_backward(g3, image, 3, 2)),
        ("BlurPool", "filter 3, s2", lambda: blur_pool2d_backward(g2, image, 3)),
        ("fractional max", "k2, ratio 0.7", lambda: fractional_max_pool2d_backward(
            np.ones(fractional.shape), image, 2, output_ratio=0.7, rng=0)),
        ("ROI align", "64 boxes, 7x7", lambda: roi_align_backward(
            np.ones((64, 3, 7, 7)), image[None], many, 7)),
    ]


def timed_in_rounds(calls, repeat):
    """Median seconds of each call over ``repeat`` rounds (every call once a round)."""
    times = [[] for _ in calls]
    for _ in range(repeat):
        for i, (_, _, fn) in enumerate(calls):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def table(title, columns, calls_per_column, repeat, budget=True):
    print(f"\n{title}")
    head = "".join(f"{c:>12}" for c in columns)
    print(f"  {'variant':<18}{'setting':<42}{head}" + ("  budget" if budget else ""))
    medians = [timed_in_rounds(calls, repeat) for calls in calls_per_column]
    over = 0
    for i, (variant, setting, _) in enumerate(calls_per_column[0]):
        cells = [m[i] for m in medians]
        verdict = ""
        if budget and not variant.endswith("(reference)"):
            worst = max(cells)
            verdict = "  ok" if worst < BUDGET else "  OVER"
            over += worst >= BUDGET
        print(f"  {variant:<18}{setting:<42}" + "".join(f"{c * 1e3:>10.0f}ms" for c in cells)
              + verdict)
    return over


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one run per call, uint8 only, no backward passes")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per median (default 5)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy "
          f"{np.__version__}, load average {load_average()}")
    image = np.ascontiguousarray(photo().transpose(2, 0, 1))  # (3, 3000, 4000) uint8
    columns = [("uint8", image)] if args.quick else [("uint8", image),
                                                     ("float32", image.astype(np.float32))]
    over = table(f"Forward, 12-megapixel photo {image.shape}, median of {repeat} "
                 f"(1-second budget)", [name for name, _ in columns],
                 [forward_calls(a) for _, a in columns], repeat)
    if not args.quick:
        table("Backward (not in the budget)", ["uint8"], [backward_calls(image)],
              max(1, repeat // 2), budget=False)
    print(f"\n{'every variant within' if not over else f'{over} over'} the 1-second budget; "
          f"load average at the end {load_average()}")


if __name__ == "__main__":
    main()
