"""Time pooling_core against PyTorch's CPU kernels and a sliding_window_view baseline.

Run from the repository root: ``python bench/bench_core.py`` (add ``--quick`` for
sizes 256 and 1024 only). PyTorch is a test-only dependency
(``pip install -r requirements-dev.txt``); without it the torch columns are empty.

For every input size (float32, shape ``(3, n, n)``), mode and setting it prints the
median time of pooling_core, of torch with ``torch.set_num_threads(2)`` on the same
array in the same process, and of ``sliding_window_view`` + reduce (run once); the ratio of
medians ours/torch; our time over one ``x.max()`` pass (the memory-bandwidth floor);
and our peak extra memory (``tracemalloc``) over the output's size. Issue 7's targets:
max <= 0.25x torch, avg <= 0.5x torch, k <= 3 within 5x of ``x.max()``, peak extra
memory <= 1.2x the output, min and lp within 1.5x of max and avg, padding and
dilation within 1.5x of the plain case.

Our calls of one size (and the ``x.max()`` floor) are timed in rounds, each round
running every one once, and each median is taken over the rounds: on this shared VM
slow runs come in bursts of a second or so, which would otherwise fall on all the runs
of one call. Torch's calls are timed apart, each run after run: its OpenMP threads
keep spinning for a while after each call, and slow down whatever runs next.
"""
import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from apptiming import median_time  # noqa: E402
from pooling_core import MODES, plan_axes, pool2d  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(2)
except ImportError:  # the torch columns stay empty
    torch = None

#: (kernel, stride) settings of issue 7, then padded, dilated and ceil-mode variants.
SETTINGS = [dict(k=2, s=2), dict(k=3, s=2), dict(k=3, s=1), dict(k=7, s=1), dict(k=15, s=1),
            dict(k=3, s=2, pad=1), dict(k=3, s=1, d=2), dict(k=3, s=2, pad=1, ceil=True)]
SWV_LIMIT = 3e8  # window cells above which the sliding_window_view baseline is skipped
ONCE_ABOVE = 3  # seconds: a call slower than this is timed once


def median_ms(fn, repeat):
    """Median wall time of ``fn()`` in ms; a call over ``ONCE_ABOVE`` s is not repeated."""
    return median_time(fn, repeat, once_above=ONCE_ABOVE) * 1e3


def interleaved_ms(calls: dict, repeat: int) -> dict:
    """Median wall time in ms of each of ``calls`` (name -> callable) over ``repeat``
    rounds, each round calling every one once; a call over ``ONCE_ABOVE`` s runs in
    the first round only."""
    times = {name: [] for name in calls}
    for round_ in range(repeat):
        for name, fn in calls.items():
            if round_ and times[name][0] > ONCE_ABOVE:
                continue
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(runs) * 1e3 for name, runs in times.items()}


def peak_extra(fn):
    """Peak bytes allocated while ``fn()`` runs (NumPy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, result


def ours(x, mode, k, s, pad=0, d=1, ceil=False):
    return lambda: pool2d(x, k, s, pad, d, mode, ceil)


def theirs(t, mode, k, s, pad=0, d=1, ceil=False):
    """The torch call for the setting, or None where torch has no such pooling."""
    if torch is None:
        return None
    if mode == "max":
        return lambda: F.max_pool2d(t, k, s, pad, d, ceil)
    if mode == "min":
        return lambda: -F.max_pool2d(-t, k, s, pad, d, ceil)
    if mode == "avg" and d == 1:
        return lambda: F.avg_pool2d(t, k, s, pad, ceil)
    if mode == "lp" and d == 1 and pad == 0:
        return lambda: F.lp_pool2d(t, 2, k, s, ceil)
    return None


def baseline(x, mode, k, s, pad=0, d=1, ceil=False):
    """Pad, take every window with sliding_window_view, reduce: the textbook NumPy way."""
    plans = plan_axes(x.shape[-2:], k, s, pad, d, ceil)
    if np.prod(x.shape[:-2]) * np.prod([p.out * p.kernel for p in plans]) > SWV_LIMIT:
        return None
    fill = -np.inf if mode == "max" else 0

    def run():
        padded = np.pad(x, [(0, 0), *((p.pad_before, p.extra_after) for p in plans)],
                        constant_values=fill)
        w = sliding_window_view(padded, [p.span for p in plans], axis=(-2, -1))
        w = w[..., ::s, ::s, ::d, ::d][..., :plans[0].out, :plans[1].out, :, :]
        return w.max(axis=(-2, -1)) if mode == "max" else w.mean(axis=(-2, -1))
    return run


def label(setting):
    extra = "".join([f" p{setting['pad']}" if setting.get("pad") else "",
                     f" d{setting['d']}" if setting.get("d", 1) > 1 else "",
                     " ceil" if setting.get("ceil") else ""])
    return f"k{setting['k']} s{setting['s']}{extra}"


def fmt(value, spec):
    """``format(value, spec)``, or a dash as wide as the column where there is no value."""
    return "—".rjust(int(spec.split(".")[0])) if value is None else format(value, spec)


def versus_torch(sizes, repeat):
    print(f"{'size':>5} {'mode':<4} {'setting':<16}{'ours ms':>9}{'torch ms':>10}{'swv ms':>9}"
          f"{'ours/torch':>11}{'ours/x.max':>11}{'peak/out':>9}")
    plain = {}
    for n in sizes:
        x = np.random.default_rng(0).standard_normal((3, n, n)).astype(np.float32)
        t = torch.from_numpy(x) if torch is not None else None
        cases = [(mode, setting) for mode in ("max", "avg", "min", "lp") for setting in SETTINGS
                 if mode in ("max", "avg") or setting in SETTINGS[:5]]
        calls = {"floor": lambda: x.max()}
        calls.update({(mode, label(setting)): ours(x, mode, **setting) for mode, setting in cases})
        ms = interleaved_ms(calls, max(repeat, 5))
        floor = ms["floor"]
        for mode, setting in cases:
            mine = ms[(mode, label(setting))]
            torch_fn = theirs(t, mode, **setting)
            torch_ms = median_ms(torch_fn, repeat) if torch_fn else None
            base_fn = baseline(x, mode, **setting) if mode in ("max", "avg") else None
            base_ms = median_ms(base_fn, 1) if base_fn else None
            peak, out = peak_extra(ours(x, mode, **setting))
            plain[(n, mode, label(setting))] = mine
            print(f"{n:>5} {mode:<4} {label(setting):<16}{mine:>9.1f}{fmt(torch_ms, '10.1f')}"
                  f"{fmt(base_ms, '9.0f')}{fmt(torch_ms and mine / torch_ms, '11.3f')}"
                  f"{mine / floor:>11.1f}{peak / out.nbytes:>9.2f}", flush=True)
        print(f"{n:>5} x.max() over the input: {floor:.1f} ms")
    return plain


def relative(plain, sizes):
    """The issue's relative targets: min vs max, lp vs avg, padding/dilation vs plain."""
    print("\nRelative costs (ratio of our medians; target <= 1.5)")
    n = max(sizes)
    for other, base in (("min", "max"), ("lp", "avg")):
        worst = max(plain[(n, other, label(s))] / plain[(n, base, label(s))] for s in SETTINGS[:5])
        print(f"  {other} / {base}, worst over the five settings at {n}: {worst:.2f}")
    for mode in ("max", "avg"):
        for variant, plain_setting in ((SETTINGS[5], SETTINGS[1]), (SETTINGS[6], SETTINGS[2]),
                                       (SETTINGS[7], SETTINGS[1])):
            ratio = plain[(n, mode, label(variant))] / plain[(n, mode, label(plain_setting))]
            print(f"  {mode} {label(variant)} / {label(plain_setting)} at {n}: {ratio:.2f}")


def all_modes(repeat):
    image = np.random.default_rng(0).integers(0, 256, size=(3, 3000, 4000), dtype=np.uint8)
    print("\n12-megapixel RGB uint8 (3, 3000, 4000), kernel 3x3, stride 2, every mode")
    for mode in MODES:
        ms = median_ms(lambda: pool2d(image, 3, 2, mode=mode, rng=0), repeat)
        print(f"  {mode:<12}{ms:>8.1f} ms")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 256 and 1024 only")
    parser.add_argument("--repeat", type=int, default=7, help="runs per median (default 7)")
    args = parser.parse_args(argv)
    sizes = [256, 1024] if args.quick else [256, 1024, 4096]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'} "
          f"(2 threads), load average {os.getloadavg()[0]:.2f}")
    plain = versus_torch(sizes, args.repeat)
    relative(plain, sizes)
    all_modes(3)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
