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

Part 2 (skipped by ``--quick``) times two choices the code rests on, A and B interleaved
in one process: the convolutions' matrix products of one batch as one product each
against one product per image (``Conv2d``'s docstring says why), and two trainings in
two threads against one after the other (``ui/training.py`` trains one run at a time).
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
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


def conv_products(n=32, rounds=7, reps=20) -> None:
    """One batch's conv products (both convolutions, forward and weight gradient) as one
    matrix product each, and as one product per image: the median ms of ``rounds``."""
    rng = np.random.default_rng(0)
    c2, w2 = rng.random((n, 64, 72), np.float32), rng.random((16, 72), np.float32)
    g2 = rng.random((n, 64, 16), np.float32)
    c1, w1 = rng.random((n, 256, 9), np.float32), rng.random((8, 9), np.float32)
    g1 = rng.random((n, 256, 8), np.float32)

    def single():
        c2.reshape(-1, 72) @ w2.T, g2.reshape(-1, 16).T @ c2.reshape(-1, 72), g2.reshape(-1, 16) @ w2
        c1.reshape(-1, 9) @ w1.T, g1.reshape(-1, 8).T @ c1.reshape(-1, 9)

    def per_image():
        c2 @ w2.T, (g2.transpose(0, 2, 1) @ c2).sum(0), g2 @ w2
        c1 @ w1.T, (g1.transpose(0, 2, 1) @ c1).sum(0)

    times = {single: [], per_image: []}
    for _ in range(rounds):
        for f in times:
            t0 = time.perf_counter()
            for _ in range(reps):
                f()
            times[f].append((time.perf_counter() - t0) / reps * 1e3)
    for f, name in ((single, "one product each"), (per_image, "one product per image")):
        a = np.array(times[f])
        print(f"  conv products of a batch of {n}, {name:<22}: median {np.median(a):6.2f} ms "
              f"(range {a.min():.2f}-{a.max():.2f})")


def two_trainings(epochs=2, rounds=2) -> None:
    """Two runs one after the other, and in two threads at once (seconds, each round)."""
    def one(seed):
        nw.train(nw.Architecture(), seed, epochs)

    for r in range(rounds):
        t0 = time.perf_counter()
        one(0), one(1)
        seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        threads = [threading.Thread(target=one, args=(s,)) for s in (0, 1)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        print(f"  two runs of {epochs} epochs, round {r + 1}: one after the other {seq:.2f} s, "
              f"in two threads {time.perf_counter() - t0:.2f} s")


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
    if not args.quick:
        print(f"\nPart 2, A and B interleaved (load average {load()}):")
        conv_products()
        two_trainings()
    return 0 if slowest < BUDGET and seed0.test_accuracy >= TARGET else 1


if __name__ == "__main__":
    t0 = time.perf_counter()
    status = main()
    print(f"(bench took {time.perf_counter() - t0:.0f} s)")
    sys.exit(status)
