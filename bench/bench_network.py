"""Train the tiny CNN of the "Pooling inside a network" page with every downsampling choice.

Run from the repository root::

    python bench/bench_network.py            # every choice, seeds 0-2, the default epochs
    python bench/bench_network.py --quick    # seed 0 only
    python bench/bench_network.py --seeds 5 --epochs 10

For each choice of :data:`pooling_core.network.DOWNSAMPLING` it trains
``pooling_core.network.train`` on the 1,438 training digits (16×16) and prints the
parameter count, the multiply-adds per image, the wall-clock training time (the
evaluation after each epoch included), the test accuracy on the 359 test digits and
the shift-robust accuracy (the mean over the four one-pixel shifts of the test
digits). With several seeds, the times are the median and the slowest, and the
accuracies the mean and the range. The verdicts: the default choice's run of the
default epochs in under 15 s (its slowest seed), and its seed 0 at 90 % or more.
The load average is printed before and after: the machine is shared, so re-run on a
quiet one for figures to quote.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pooling_core import network as nw  # noqa: E402

BUDGET = 15.0  # seconds for the default choice's default run
TARGET = 0.90  # test accuracy of the default choice and seed


def load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="seed 0 only")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per choice (default 3)")
    ap.add_argument("--epochs", type=int, default=nw.EPOCHS,
                    help=f"epochs per run (default {nw.EPOCHS}, the page's default)")
    args = ap.parse_args(argv)
    seeds = [0] if args.quick else list(range(max(1, args.seeds)))
    default = nw.Architecture().downsample
    print(f"load average at start: {load()}  (cores: {os.cpu_count()})")
    print(f"{len(nw.digits().y_train)} training and {len(nw.digits().y_test)} test digits, "
          f"16×16; {args.epochs} epochs, batch 32, Adam lr 0.01; seeds {seeds}")
    header = (f"{'downsampling':<48}{'params':>8}{'MACs':>9}{'epochs':>7}"
              f"{'train s (max)':>15}{'test acc (range)':>22}{'shift-robust (range)':>24}")
    print(header)
    print("-" * len(header))
    results = {}
    for choice, label in nw.DOWNSAMPLING.items():
        arch = nw.Architecture(choice)
        runs = [nw.train(arch, seed, args.epochs) for seed in seeds]
        results[choice] = runs
        secs = np.array([r.seconds for r in runs])
        acc = np.array([r.test_accuracy for r in runs])
        shift = np.array([r.shift_accuracy for r in runs])

        def spread(a):
            return f"{a.mean():.1%}" + (f" ({a.min():.1%}-{a.max():.1%})" if len(a) > 1 else "")

        print(f"{label:<48}{arch.params:>8,}{arch.macs:>9,}{args.epochs:>7}"
              f"{np.median(secs):>8.2f} ({secs.max():.2f}){spread(acc):>22}{spread(shift):>24}",
              flush=True)
    print(f"load average at end: {load()}")
    slowest = max(r.seconds for r in results[default])
    seed0 = results[default][0]
    print(f"\n{nw.DOWNSAMPLING[default]}, {args.epochs} epochs: slowest run {slowest:.2f} s "
          f"({'under' if slowest < BUDGET else 'OVER'} {BUDGET:.0f} s); seed {seeds[0]}: test "
          f"accuracy {seed0.test_accuracy:.1%} ({'at least' if seed0.test_accuracy >= TARGET else 'BELOW'}"
          f" {TARGET:.0%}), per epoch "
          + ", ".join(f"{h['test_accuracy']:.1%}" for h in seed0.history))
    return 0 if slowest < BUDGET and seed0.test_accuracy >= TARGET else 1


if __name__ == "__main__":
    t0 = time.perf_counter()
    status = main()
    print(f"(bench took {time.perf_counter() - t0:.0f} s)")
    sys.exit(status)
