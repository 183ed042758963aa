"""Time the pooling core on a 12-megapixel image and measure its peak memory.

Run from the repository root: ``python bench/bench_core.py``.
"""
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pooling_core import MODES, pool2d  # noqa: E402


def median_time(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(3, 3000, 4000), dtype=np.uint8)  # 12 MP, RGB
    print("12-megapixel RGB uint8 (3, 3000, 4000), kernel 3x3, stride 2")
    print(f"{'mode':<12}{'seconds':>10}")
    for mode in MODES:
        seconds = median_time(lambda: pool2d(image, 3, 2, mode=mode, rng=0))
        print(f"{mode:<12}{seconds:>10.3f}")

    x = np.zeros((3, 4096, 4096), dtype=np.float32)
    for mode in ("max", "avg"):
        tracemalloc.start()
        t0 = time.perf_counter()
        pool2d(x, 3, 1, mode=mode)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"4096x4096x3 float32, 3x3 stride 1, {mode}: {seconds:.2f} s, "
              f"peak extra memory {peak / 2**20:.0f} MiB (input is {x.nbytes / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
