"""Time pooling_core against PyTorch's CPU kernels, a per-tap version and sliding_window_view.

Run from the repository root: ``python bench/bench_core.py`` (sizes 32, 256, 2048 and
4096; ``--quick`` for 32, 256 and 1024 only; ``--sizes 32 256`` for others). PyTorch is
a test-only dependency (``pip install -r requirements-dev.txt``); without it the torch
columns are empty.

For every input size (float32, shape ``(3, n, n)``), mode and setting it prints the
median time of pooling_core; of :func:`per_tap`, the 25-line version issue 23 holds the
fast path to (``pool2d`` with a 25-line reduction in place of the fast path: pad the
whole input, then along each axis one strided slice per kernel tap, reduced in place);
of :func:`banded_reduce`, the same held to issue 7's memory rule (output rows in bands
that fit the core's own budget); of torch with ``torch.set_num_threads(2)`` on the same
array in the same process; and of ``sliding_window_view`` + reduce (run once). Then the
ratios ours/per-tap, ours/banded and ours/torch, our time over one ``x.max()`` pass (the
memory-bandwidth floor; meaningless at small sizes, where the input sits in the cache)
and our peak extra memory (``tracemalloc``) over the output's size. Issue 7's targets:
max <= 0.25x torch, avg <= 0.5x torch, k <= 3 within 5x of ``x.max()``, peak extra memory
<= 1.2x the output, min and lp within 1.5x of max and avg, padding and dilation within
1.5x of the plain case. Issue 23's: ours <= per-tap at 32 and 256 in every mode.

Our calls and the per-tap ones of one size (and the ``x.max()`` floor) are timed in
rounds, each round running every one once, and each median is taken over the rounds:
on this shared VM slow runs come in bursts of a second or so, which would otherwise
fall on all the runs of one call. A call faster than ``BATCH_MS`` is run as many times
a round as it takes to fill that, and its time is the batch's over the count; sizes up
to 256 get three times the rounds. Torch's
calls are timed apart, each run after run: its OpenMP threads keep spinning for a
while after each call, and slow down whatever runs next.
"""
import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from functools import partial
from math import prod
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from apptiming import median_time  # noqa: E402
from pooling_core import MODES, plan_axes, pool2d, reductions, separable  # noqa: E402

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
BATCH_MS = 2.0  # a call faster than this runs in batches that take about this long
MODES_TIMED = ("max", "avg", "sum", "min", "lp")


def batch_of(fn) -> int:
    """How many calls of ``fn`` take about ``BATCH_MS`` (1 for calls slower than that)."""
    fn()  # first-use costs (imports, caches) are not timed
    start = time.perf_counter()
    fn()
    once = (time.perf_counter() - start) * 1e3
    return max(1, min(1000, int(BATCH_MS / max(once, 1e-3))))


def batched(fn, count):
    """``fn`` called ``count`` times."""
    def run():
        for _ in range(count):
            fn()
    return run


def median_ms(fn, repeat):
    """Median wall time of ``fn()`` in ms; a call over ``ONCE_ABOVE`` s is not repeated."""
    count = batch_of(fn)
    return median_time(batched(fn, count), repeat, once_above=ONCE_ABOVE) * 1e3 / count


def interleaved_ms(calls: dict, repeat: int) -> dict:
    """Median wall time in ms of each of ``calls`` (name -> callable) over ``repeat``
    rounds, each round calling every one once (fast calls in batches, see ``BATCH_MS``);
    a call over ``ONCE_ABOVE`` s runs in the first round only."""
    counts = {name: batch_of(fn) for name, fn in calls.items()}
    times = {name: [] for name in calls}
    for round_ in range(repeat):
        for name, fn in calls.items():
            if round_ and times[name][0] > ONCE_ABOVE:
                continue
            start = time.perf_counter()
            for _ in range(counts[name]):
                fn()
            times[name].append((time.perf_counter() - start) / counts[name])
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


def per_tap_reduce(x, plans, op, fill, out_dtype, power=None, finish=None, **_):
    """The 25-line per-tap strided version, in place of ``separable_reduce``: pad the
    whole input, then along each axis one strided slice per kernel tap, reduced in
    place, and ``finish`` (avg's divisors, lp's root) over the whole output."""
    ufunc = {"max": np.maximum, "min": np.minimum, "sum": np.add}[op]
    nd = len(plans)
    a = x.astype(out_dtype, copy=False)
    if power is not None:
        a = np.square(a) if power == 2 else np.power(a, power)
    widths = [(0, 0)] * (x.ndim - nd) + [(p.pad_before, p.extra_after) for p in plans]
    if any(w for pair in widths for w in pair):
        a = np.pad(a, widths, constant_values=fill)
    for axis, p in zip(range(x.ndim - nd, x.ndim), plans):
        index, acc = [slice(None)] * a.ndim, None
        for tap in range(p.kernel):
            start = tap * p.dilation
            index[axis] = slice(start, start + (p.out - 1) * p.stride + 1, p.stride)
            acc = a[tuple(index)].copy() if acc is None else ufunc(acc, a[tuple(index)], out=acc)
        a = acc
    if finish is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            finish(a.reshape((-1,) + a.shape[x.ndim - nd:]), slice(0, plans[0].out))
    return a


def banded_reduce(x, plans, op, fill, out_dtype, power=None, finish=None, **_):
    """The per-tap version within issue 7's memory rule (extra memory at most 0.2x the
    output): output rows in bands whose buffers (the band's padded, cast input rows and
    its first pass, every channel) fit the core's own budget, each band reduced as
    :func:`per_tap_reduce` reduces the whole. What the rule costs a version that plans
    nothing."""
    ufunc = {"max": np.maximum, "min": np.minimum, "sum": np.add}[op]
    (ph, pw), lead = plans, x.shape[:-2]
    out = np.empty(lead + (ph.out, pw.out), out_dtype)
    # a band of r rows holds (r - 1)*stride + span input rows in each of its copies (cast,
    # powered, padded), r rows of the first pass and r rows of divisors
    line = prod(lead) * (pw.pad_before + pw.n + pw.extra_after) * np.dtype(out_dtype).itemsize
    copies = (x.dtype != out_dtype) + (power is not None) + any(
        p.pad_before or p.extra_after for p in plans)
    fixed = line * (ph.span - ph.stride) * copies
    # the core's budget less 8 KiB more for what else it holds (loop buffers, objects)
    budget = separable.POLICY.budget(out.nbytes, 1) - (8 << 10)
    rows = max(1, (budget - fixed) // (line * (ph.stride * copies + 1) + pw.out * 8))
    old = np.setbufsize(separable.POLICY.loop_buffer(budget))  # NumPy's own, as the core does
    try:
        _bands(x, out, plans, ufunc, fill, out_dtype, power, finish, rows)
    finally:
        np.setbufsize(old)
    return out


def _bands(x, out, plans, ufunc, fill, out_dtype, power, finish, rows):
    (ph, pw), lead = plans, x.shape[:-2]
    for r0 in range(0, ph.out, rows):
        r1 = min(ph.out, r0 + rows)
        lo, hi = r0 * ph.stride - ph.pad_before, (r1 - 1) * ph.stride + ph.span - ph.pad_before
        a = x[..., max(lo, 0):min(hi, ph.n), :].astype(out_dtype, copy=False)
        if power is not None:
            a = np.square(a) if power == 2 else np.power(a, power)
        top = max(-lo, 0)
        if top or hi > ph.n or pw.pad_before or pw.extra_after:  # the band, padded
            band = np.full(lead + (hi - lo, pw.pad_before + pw.n + pw.extra_after), fill,
                           out_dtype)
            band[..., top:top + a.shape[-2], pw.pad_before:pw.pad_before + pw.n] = a
            a = band
        for axis, n, p, dest in ((-2, r1 - r0, ph, None), (-1, pw.out, pw, out[..., r0:r1, :])):
            index, acc = [slice(None)] * a.ndim, None
            for tap in range(p.kernel):
                start = tap * p.dilation
                index[axis] = slice(start, start + (n - 1) * p.stride + 1, p.stride)
                view = a[tuple(index)]
                if acc is None:
                    acc = view.copy() if dest is None else dest
                    if dest is not None:
                        np.copyto(dest, view)
                else:
                    ufunc(acc, view, out=acc)
            a = acc
        if finish is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                finish(out[..., r0:r1, :].reshape((-1, r1 - r0, pw.out)), slice(r0, r1))


def per_tap(x, mode, k, s, pad=0, d=1, ceil=False, reduce=per_tap_reduce):
    """``pool2d`` with :func:`per_tap_reduce` (or ``reduce``) as its fast path (the same
    checks and finish as ours: only the reduction differs)."""
    fast = reductions.separable_reduce
    reductions.separable_reduce = reduce
    try:
        return pool2d(x, k, s, pad, d, mode, ceil)
    finally:
        reductions.separable_reduce = fast


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
    if mode == "sum" and d == 1:
        return lambda: F.avg_pool2d(t, k, s, pad, ceil, divisor_override=k * k)
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


def fmt(value, width, digits=None):
    """``value`` right-aligned in ``width`` columns (three significant digits, or
    ``digits`` decimals), or a dash where there is no value."""
    if value is None:
        return "—".rjust(width)
    if digits is None:
        digits = max(0, 2 - int(np.floor(np.log10(abs(value))))) if value else 0
    return f"{value:>{width}.{digits}f}"


def cases_of():
    """``(mode, setting)`` pairs: max and avg at every setting, the others at the five of
    issue 7."""
    return [(mode, setting) for mode in MODES_TIMED for setting in SETTINGS
            if mode in ("max", "avg") or setting in SETTINGS[:5]]


def versus_torch(sizes, repeat):
    print(f"{'size':>5} {'mode':<4} {'setting':<16}{'ours ms':>9}{'per-tap':>9}{'banded':>9}"
          f"{'torch ms':>10}{'swv ms':>9}{'/per-tap':>9}{'/banded':>8}{'/torch':>8}{'/x.max':>8}"
          f"{'peak/out':>9}")
    plain, taps = {}, {}
    for n in sizes:
        x = np.random.default_rng(0).standard_normal((3, n, n)).astype(np.float32)
        t = torch.from_numpy(x) if torch is not None else None
        cases = cases_of()
        for mode, setting in cases:  # the per-tap versions compute what pool2d does
            for reduce in (per_tap_reduce, banded_reduce):
                np.testing.assert_allclose(per_tap(x, mode, reduce=reduce, **setting),
                                           ours(x, mode, **setting)(), rtol=1e-4, atol=1e-5)
        calls = {"floor": lambda: x.max()}
        calls.update({(mode, label(setting)): ours(x, mode, **setting) for mode, setting in cases})
        calls.update({("per-tap", mode, label(setting)): partial(per_tap, x, mode, **setting)
                      for mode, setting in cases})
        calls.update({("banded", mode, label(setting)):
                      partial(per_tap, x, mode, reduce=banded_reduce, **setting)
                      for mode, setting in cases})
        # calls of a few µs see more of the machine's bursts: three times the rounds
        ms = interleaved_ms(calls, max(repeat, 5) * (3 if n <= 256 else 1))
        floor = ms["floor"]
        for mode, setting in cases:
            mine, tap = ms[(mode, label(setting))], ms[("per-tap", mode, label(setting))]
            banded = ms[("banded", mode, label(setting))]
            torch_fn = theirs(t, mode, **setting)
            torch_ms = median_ms(torch_fn, repeat) if torch_fn else None
            base_fn = baseline(x, mode, **setting) if mode in ("max", "avg") else None
            base_ms = median_ms(base_fn, 1) if base_fn else None
            peak, out = peak_extra(ours(x, mode, **setting))
            plain[(n, mode, label(setting))] = mine
            taps[(n, mode, label(setting))] = mine / tap, mine / banded
            print(f"{n:>5} {mode:<4} {label(setting):<16}{fmt(mine, 9)}{fmt(tap, 9)}"
                  f"{fmt(banded, 9)}{fmt(torch_ms, 10)}{fmt(base_ms, 9)}{fmt(mine / tap, 9, 2)}"
                  f"{fmt(mine / banded, 8, 2)}"
                  f"{fmt(torch_ms and mine / torch_ms, 8, 3)}{fmt(mine / floor, 8, 1)}"
                  f"{fmt(peak / out.nbytes, 9, 2)}", flush=True)
        print(f"{n:>5} x.max() over the input: {fmt(floor, 0)} ms")
    return plain, taps


def per_tap_summary(taps, sizes):
    """Issue 23's target: at 32 and 256, ours at most the per-tap version's time; and
    ours over the per-tap version held to issue 7's memory rule (``banded``)."""
    for which, name in ((0, "per-tap (target <= 1 at 32 and 256)"),
                        (1, "banded per-tap, within the memory rule")):
        print(f"\nOurs / {name}, median ratio, worst setting per mode")
        for n in sizes:
            worst = {mode: max((ratios[which], setting)
                               for (size, m, setting), ratios in taps.items()
                               if size == n and m == mode) for mode in MODES_TIMED}
            print(f"  {n:>5}: " + ", ".join(f"{mode} {ratio:.2f} ({setting})"
                                           for mode, (ratio, setting) in worst.items()))


def relative(plain, sizes):
    """The issue's relative targets: min vs max, lp vs avg, padding/dilation vs plain."""
    print("\nRelative costs (ratio of our medians; target <= 1.5)")
    n = max(sizes)
    if n < 256:
        return
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
    parser.add_argument("--quick", action="store_true", help="sizes 32, 256 and 1024 only")
    parser.add_argument("--sizes", type=int, nargs="+", help="input sizes n (default 32 256 "
                        "2048 4096)")
    parser.add_argument("--repeat", type=int, default=7, help="runs per median (default 7)")
    parser.add_argument("--no-image", action="store_true", help="skip the 12-megapixel table")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([32, 256, 1024] if args.quick else [32, 256, 2048, 4096])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'} "
          f"(2 threads), load average {os.getloadavg()[0]:.2f}")
    plain, taps = versus_torch(sizes, args.repeat)
    per_tap_summary(taps, sizes)
    relative(plain, sizes)
    if not args.no_image:
        all_modes(3)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
