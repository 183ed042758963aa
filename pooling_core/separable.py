"""The fast path for max, min and window sums: one 1-D pass per pooled axis, over bands.

A box window is separable: the max (or the sum) over a ``kH x kW`` window is the max
over ``kH`` rows of the max over ``kW`` columns. So :func:`separable_reduce` pools
one axis at a time, with one 1-D *pass* per axis, and loops over bands, passes and
doubling levels, never over output positions::

      x, one channel             pass along H              pass along W
    +----------------+          (stride sH)               (stride sW)
    | band 0         |  --->  +----------------+  --->  +--------+
    |................|        | 1/sH of band 0 |        | output |
    | band 1         |        +----------------+        | rows of|
    |................|        a buffer the next         | band 0 |
    | ...            |        band reuses               +--------+
    +----------------+                                  written in place

**Passes.** A pass applies its stride as it reads (strided views), so the passes
after it see ``1/stride`` of the data: a strided first axis goes first (its taps are
whole contiguous rows); otherwise the contiguous last axis does. The last pass
writes straight into the output.

**Doubling.** A pass builds partial reductions over 1, 2, 4, ... taps, each level
from the one before in one call, then combines the few pieces each window needs::

    level 0    x[t]                            taps t
    level 1    max(L0[t], L0[t + d])           taps t, t+d
    level 2    max(L1[t], L1[t + 2d])          taps t .. t+3d
    window j   max(L2[js], L2[js + d])         taps js .. js+4d: two pieces of 4

A max or min of ``k`` taps costs about ``log2(k)`` operations per cell instead of
``k - 1``; a sum needs pieces that do not overlap (``5 = 4 + 1``). :func:`_plan_pass`
picks the depth that costs least.

**Three paths.** A small input is reduced in one go: the direct path, one band
padded whole, each pass tap by tap, no threads, its views worked out once per shape
(:class:`_Layout`). A mid-sized call with a kernel of a few cells
(:meth:`Policy.taps_fit`) takes the tap path: every tap of the window reduced straight
into the output from one strided view of the input, padding left out, no buffer but
NumPy's loop buffers (``k*k`` calls over the output instead of two passes over
bands), and an average's divisors applied a few rows at a time. Everything else goes
in bands.

**Bands.** A larger input is cut into equal bands along the first pooled axis
(whole planes, several channels at a time, when a plane fits). A band is read in
place where it needs no padding; only a band that reaches the padding is copied
into a padded buffer of its own. :class:`Policy` sets how large bands are:
``band_bytes`` of buffers a thread, which keeps them in a core's cache; taller for a
tall kernel, whose bands would otherwise read mostly rows their neighbours read too
(``halo``); and over all threads at most ``output_share`` of the output
(``min_band_bytes`` at least), so a call's extra memory stays within about 0.2x its
output. Large calls share their bands among a few threads: NumPy releases the GIL
inside its loops. Each thread reuses its buffers from band to band
(:class:`_Workspace`).

Kept, as each gains at least 20% at 2048 or 4096 px in ``bench/bench_core.py``:
cache-sized bands, and taller bands for tall kernels. Not kept, as each gained less
(figures in ``docs/performance.md``): recording a band's NumPy calls to replay them on
the next, reading padded bands in place into a buffer framed with the padding,
squaring Lp's taps inside the first pass, and searching the band size that fills the
budget exactly (bands are sized from two counts of their buffers instead).

The result equals the straightforward reduction of every window: max and min pick
the same element; integer sums are exact; floating-point sums add the same numbers in
another order, so they may differ in the last bits. float32 data adds in float32, as
PyTorch's CPU kernels do (so sums past 3.4e38 overflow to inf there too); float16 adds
in float32.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import product
from math import prod

import numpy as np

_UFUNC = {"max": np.maximum, "min": np.minimum, "sum": np.add}


@dataclass(frozen=True)
class Policy:
    """How :func:`separable_reduce` sizes its bands and shares them among threads.

    Attributes
    ----------
    tap_cells, tap_bytes : the tap path takes kernels of at most ``tap_cells`` cells
        (a NumPy call each) in calls whose kernel cells times output bytes are at most
        ``tap_bytes``: ``k*k`` calls over the output, each reading a strided view, beat
        two passes over bands until then (float32 at 256 px: kernels of 3 with stride
        2, 0.72x the bands' time; of 3 with stride 1, past it, 1.7x).
    tap_loop_bytes : bytes of NumPy's loop buffers on the tap path (about four buffers
        of ``bufsize`` elements: 1024 float32 values each).
    direct_bytes : an input of at most this many bytes, padding included and in the
        accumulator's dtype, is reduced in one band (the direct path); its buffers
        take a few times that.
    band_bytes : bytes of buffers one thread holds for its band (the padded band, its
        cast copy, the pass results, the doubling levels): bands about this small
        stay in a core's cache (the project's machine has 1 MiB of L2 a core, and 32
        MiB of L3) and ran faster than bands of 8 MiB ...
    halo, tall_band_bytes : ... unless the input rows a band shares with the next
        (``span - stride``, read by both) would then be more than ``1/halo`` of its
        own: a tall kernel's bands grow up to ``tall_band_bytes``.
    output_share, reserve_bytes, min_band_bytes : all threads' buffers together hold
        at most ``output_share`` of the output's bytes less ``reserve_bytes`` (what
        else a call allocates: Python objects, NumPy's loop buffers), but each
        thread at least ``min_band_bytes`` (small outputs).
    threads : threads that share the bands of a large call.
    parallel_bytes, thread_band_bytes : a call uses more than one thread from this
        many input + output bytes on, if each thread then gets bands of at least
        ``thread_band_bytes``.
    bufsize : NumPy's ufunc buffer size (elements) while bands are reduced. With the
        default 8192 NumPy copies strided views through its buffers whenever a row
        fits in them; below the row lengths it loops over the views in place, which
        is faster for strided passes. Small bands get smaller loop buffers
        (``budget // 128`` elements, 16 at least): NumPy allocates a few per call.
    """

    tap_cells: int = 49
    tap_bytes: int = 3 << 20
    tap_loop_bytes: int = 16 << 10
    direct_bytes: int = 16 << 10
    band_bytes: int = 2 << 20
    halo: int = 8
    tall_band_bytes: int = 8 << 20
    output_share: float = 0.18
    reserve_bytes: int = 8 << 10
    min_band_bytes: int = 16 << 10
    threads: int = max(1, min(4, os.cpu_count() or 1))
    parallel_bytes: int = 8 << 20
    thread_band_bytes: int = 2 << 20
    bufsize: int = 1024

    def taps_fit(self, plans, out_bytes: int) -> bool:
        """Whether the tap path suits a call: at most ``tap_cells`` kernel cells, and
        those times the output's bytes at most ``tap_bytes``."""
        cells = prod(p.kernel for p in plans)
        return cells <= self.tap_cells and cells * out_bytes <= self.tap_bytes

    def workers(self, in_bytes: int, out_bytes: int) -> int:
        """Threads for a call with these input and output sizes."""
        large = in_bytes + out_bytes >= self.parallel_bytes
        if large and self._share(out_bytes) >= self.threads * self.thread_band_bytes:
            return self.threads
        return 1

    def budget(self, out_bytes: int, workers: int) -> int:
        """Bytes of buffers each of ``workers`` threads may hold at most."""
        return min(max(self.band_bytes, self.tall_band_bytes),
                   max(self.min_band_bytes, self._share(out_bytes) // workers))

    def tap_buffer(self, itemsize: int) -> int:
        """NumPy's ufunc buffer size (elements) on the tap path: its about four buffers
        within ``tap_loop_bytes``, ``bufsize`` at most."""
        return max(16, min(self.bufsize, self.tap_loop_bytes // (4 * itemsize)))

    def loop_buffer(self, budget: int) -> int:
        """NumPy's ufunc buffer size (elements) for bands of ``budget`` bytes."""
        return min(self.bufsize, max(16, budget // 128 // 16 * 16))

    def _share(self, out_bytes: int) -> int:
        return int(out_bytes * self.output_share) - self.reserve_bytes


#: The policy :func:`separable_reduce` uses unless it is given another.
POLICY = Policy()


class _Workspace:
    """Buffers reused from band to band: fresh memory for every band would cost a
    page fault per 4 KiB written, more than the arithmetic itself."""

    def __init__(self):
        self._buffers = {}

    def get(self, key, shape, dtype) -> np.ndarray:
        size = prod(shape)
        buf = self._buffers.get(key)
        if buf is None or buf.dtype != dtype or buf.size < size:
            buf = self._buffers[key] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)


# ----------------------------------------------------------------------------- one pass


def _piece_count(kernel: int, q: int, overlap: bool) -> int:
    """How many pieces :func:`_pieces` returns, without listing them."""
    if overlap:
        return -(-kernel // q)
    return kernel // q + bin(kernel % q).count("1")


def _pieces(kernel: int, q: int, overlap: bool) -> list[tuple[int, int]]:
    """``(level, first_tap)`` pieces whose taps make up ``range(kernel)``.

    A piece at ``level`` covers ``2**level`` consecutive taps. With ``overlap``
    (max, min) pieces of size ``q`` may overlap; for sums they partition the
    kernel: whole ``q``-pieces, then the binary digits of the remainder.
    """
    level = q.bit_length() - 1
    if overlap:
        firsts = list(range(0, kernel - q + 1, q))
        if firsts[-1] != kernel - q:
            firsts.append(kernel - q)
        return [(level, f) for f in firsts]
    pieces = [(level, f) for f in range(0, kernel - kernel % q, q)]
    first = kernel - kernel % q
    for bit in reversed(range(level)):
        if kernel % q & (1 << bit):
            pieces.append((bit, first))
            first += 1 << bit
    return pieces


#: A NumPy call on a view costs about as much as this many element operations (a few µs).
_CALL_COST = 10_000


@lru_cache(maxsize=256)
def _plan_pass(kernel: int, stride: int, out: int, overlap: bool) -> tuple[tuple[int, ...], ...]:
    """The first taps of the pieces of each doubling level, for the depth that costs
    least: ``plan[j]`` lists the pieces of ``2**j`` taps (``len(plan) - 1`` levels).

    Building each level costs about one full-resolution pass (``out * stride``
    cells); combining ``m`` pieces costs ``m - 1`` passes over ``out`` cells;
    every call adds ``_CALL_COST``.
    """
    def cost(q):
        levels, pieces = q.bit_length() - 1, _piece_count(kernel, q, overlap)
        return levels * out * stride + (pieces - 1) * out + (levels + pieces) * _CALL_COST

    q = min((1 << j for j in range(kernel.bit_length())), key=cost)
    pieces = _pieces(kernel, q, overlap)
    return tuple(tuple(f for lv, f in pieces if lv == j) for j in range(q.bit_length()))


def _axis_pass(a: np.ndarray, axis: int, kernel: int, stride: int, dilation: int, out: int,
               op: str, work: _Workspace | None, dest: np.ndarray | None = None) -> np.ndarray:
    """Reduce ``kernel`` taps along ``axis``: ``r[j] = op(a[j*stride + i*dilation], i < kernel)``.

    ``a`` (any layout) must reach the last tap: ``a.shape[axis] >= (out-1)*stride +
    (kernel-1)*dilation + 1``. The result, ``a.shape`` with ``out`` on ``axis``, goes
    into ``dest`` when given (computed there when it has ``a``'s dtype), else into a
    buffer of ``work`` (new arrays if ``work`` is None). The doubling levels
    alternate between two buffers of ``work``; each piece joins the result as soon as
    its level exists.
    """
    ufunc = _UFUNC[op]
    if dest is not None and dest.dtype == a.dtype:
        target = dest
    else:
        shape = a.shape[:axis] + (out,) + a.shape[axis + 1:]
        target = np.empty(shape, a.dtype) if work is None else \
            work.get((axis, "result"), shape, a.dtype)
    lead = (slice(None),) * axis  # index[lead + (part,)] takes part of the axis
    reach = (out - 1) * stride + 1
    level, started = a, False
    for j, firsts in enumerate(_plan_pass(kernel, stride, out, op != "sum")):
        if j:  # level j reduces taps t, t+d, ..., t+(2**j - 1)*d
            shift = (1 << (j - 1)) * dilation
            length = level.shape[axis] - shift
            head = level[lead + (slice(0, length),)]
            nxt = np.empty(head.shape, a.dtype) if work is None else \
                work.get(("level", j % 2), head.shape, a.dtype)
            ufunc(head, level[lead + (slice(shift, shift + length),)], out=nxt)
            level = nxt
        # window i reads cell i of these views of the level
        pieces = [level[lead + (slice(f * dilation, f * dilation + reach, stride),)]
                  for f in firsts]
        if pieces and not started:  # the first one or two pieces start the result
            if len(pieces) == 1:
                np.copyto(target, pieces[0], casting="unsafe")
            else:
                ufunc(pieces[0], pieces[1], out=target)
            pieces, started = pieces[2:], True
        for piece in pieces:
            ufunc(target, piece, out=target)
    if dest is None or target is dest:
        return target
    np.copyto(dest, target, casting="unsafe")
    return dest


def _accumulator(dtype: np.dtype, op: str, plans, power) -> np.dtype:
    """The dtype a band is reduced in: the data's own for max/min; for sums one
    that holds every window sum exactly (small integers) or the data's float
    precision (float32 stays float32; float16 adds in float32)."""
    if op != "sum":
        return dtype
    if power is None and dtype.kind in "iu" and dtype.itemsize <= 2:
        info = np.iinfo(dtype)
        if prod(p.kernel for p in plans) * max(abs(info.min), info.max) < 2**31:
            return np.dtype(np.int32)
    if dtype == np.float32 or dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


# ----------------------------------------------------------------------------- bands


def _steps(plans, rows: int) -> list[tuple]:
    """``(axis, kernel, stride, dilation, out)`` of each pass over ``rows`` output rows
    of the first axis (axes counted after one leading channel axis), in order: a
    strided first axis first, else the contiguous last axis."""
    first = plans[0]
    steps = [(1, first.kernel, first.stride, first.dilation, rows)]
    steps += [(axis, p.kernel, p.stride, p.dilation, p.out) for axis, p in enumerate(plans[1:], 2)]
    return steps if first.stride > 1 else steps[::-1]


def _pad_into(band: np.ndarray, src: np.ndarray, inside: tuple, fill) -> None:
    """``band`` holding ``src`` at ``inside`` (slices of the axes after the first) and
    ``fill`` around it: two strips per axis, then the copy."""
    for axis, part in enumerate(inside, 1):
        for strip in (slice(0, part.start), slice(part.stop, None)):
            band[(slice(None),) * axis + (strip,)] = fill
    if src.size:  # a band may lie wholly in the padding
        band[(slice(None),) + inside] = src


def _to_acc(band: np.ndarray, acc: np.dtype, power, cast: np.ndarray) -> np.ndarray:
    """``band`` in the accumulator's dtype, raised to ``power``, written into ``cast``."""
    if power is None:
        np.copyto(cast, band, casting="unsafe")
    else:  # without a cast NumPy resolves its loop faster with no dtype given
        dtype = {} if band.dtype == acc else {"dtype": acc}
        if power == 2:
            np.square(band, out=cast, **dtype)
        else:
            np.power(band, power, out=cast, **dtype)
    return cast


class _Layout:
    """What a call's geometry fixes, worked out once per shape (:func:`_layout`): the
    padded input's shape and where the input sits in it, and the output's shape."""

    def __init__(self, plans, shape):
        self.plans = plans
        self.padded = shape[:1] + tuple(p.pad_before + p.n + p.extra_after for p in plans)
        self.cells = prod(self.padded)
        self.inside = tuple(slice(p.pad_before, p.pad_before + p.n) for p in plans)
        self.out = shape[:1] + tuple(p.out for p in plans)

    @cached_property
    def passes(self) -> list[tuple[tuple, tuple]]:
        """The direct path's passes, each ``(views, shape)``: the index of every tap's
        strided view of the pass's input, and the shape of its result."""
        passes, dims = [], list(self.padded)
        for axis, kernel, stride, dilation, n in _steps(self.plans, self.plans[0].out):
            lead, reach = (slice(None),) * axis, (n - 1) * stride + 1
            views = tuple(lead + (slice(t * dilation, t * dilation + reach, stride),)
                          for t in range(kernel))
            dims[axis] = n
            passes.append((views, tuple(dims)))
        return passes


@lru_cache(maxsize=256)
def _layout(plans, shape) -> _Layout:
    return _Layout(plans, shape)


def _reduce_whole(x, out, layout, op, fill, acc, stage, power, finish) -> None:
    """The direct path, for a small input: pad it whole, cast it, and run the passes tap
    by tap (the last into ``out``, or into a stage of dtype ``stage``), then finish. No
    doubling: at this size a NumPy call costs more than its arithmetic, and a pass of
    ``k`` taps takes ``k - 1`` calls."""
    if layout.padded != x.shape:
        band = np.empty(layout.padded, x.dtype)
        _pad_into(band, x, layout.inside, fill)
        x = band
    if acc != x.dtype or power is not None:
        x = _to_acc(x, acc, power, np.empty(x.shape, acc))
    ufunc = _UFUNC[op]
    target = out if stage == out.dtype else np.empty(out.shape, stage)
    last = len(layout.passes) - 1
    for i, (views, shape) in enumerate(layout.passes):
        result = target if i == last and stage == x.dtype else np.empty(shape, x.dtype)
        if len(views) == 1:
            np.copyto(result, x[views[0]])
        else:
            ufunc(x[views[0]], x[views[1]], out=result)
            for view in views[2:]:
                ufunc(result, x[view], out=result)
        x = result
    if x is not target:  # the window sums, exact, into the stage
        np.copyto(target, x, casting="unsafe")
    if finish is not None:
        finish(target, slice(0, out.shape[1]))
    if target is not out:
        np.copyto(out, target, casting="unsafe")


def _is_identity(fill, op: str, dtype: np.dtype) -> bool:
    """Whether padding of value ``fill`` leaves every window's ``op`` as it is (the
    tap path leaves padding out rather than reading it)."""
    if op == "sum":
        return fill == 0
    if dtype.kind == "f":
        return fill == (-np.inf if op == "max" else np.inf)
    info = np.iinfo(dtype)
    return fill == (info.min if op == "max" else info.max)


def _reduce_taps(x, out, plans, op, fill) -> None:
    """The tap path: every tap of the window straight into ``out``, no other buffer.

    ``out`` starts at ``fill``, the identity of ``op`` (:func:`_is_identity`); then
    for each tap (one per cell of the kernel) the windows that read a real input cell
    with it take that cell in, one strided view of ``x`` each
    (:meth:`AxisPlan.tap_windows`). The others read padding there, which changes
    nothing, so nothing is padded or copied.
    """
    ufunc = _UFUNC[op]
    ranges = [[p.tap_windows(t) for t in range(p.kernel)] for p in plans]
    start = True
    if all(r[0][0] == 0 and r[0][1] == p.out for r, p in zip(ranges, plans)):
        start = False  # the first tap reads a real cell in every window: it starts out
    else:
        out[...] = fill
    for taps in product(*ranges):
        if any(lo >= hi for lo, hi, _ in taps):
            continue
        cells = (slice(None),) + tuple(slice(lo, hi) for lo, hi, _ in taps)
        reads = (slice(None),) + tuple(slice(first, first + (hi - lo - 1) * p.stride + 1,
                                             p.stride)
                                       for (lo, hi, first), p in zip(taps, plans))
        if not start:
            np.copyto(out, x[reads])
            start = True
            continue
        ufunc(out[cells], x[reads], out=out[cells])


def _finish_rows(out, finish, chunk: int) -> None:
    """``finish`` over ``chunk`` output rows at a time (what it holds per row, a block
    of divisors say, stays within the budget)."""
    for r0 in range(0, out.shape[1], chunk):
        rows = slice(r0, min(r0 + chunk, out.shape[1]))
        finish(out[:, rows], rows)


class _Bands:
    """The bands of one call: their buffers' size, and the work of one band.

    ``x`` is ``(channels, *spatial)``, ``out`` ``(channels, *plan.out)``. A band is
    output rows ``r0:r1`` (of the first pooled axis) of channels ``c0:c1``.
    """

    def __init__(self, x, out, plans, op, fill, acc, stage, power, finish, finish_bytes):
        self.x, self.out, self.plans, self.op, self.fill = x, out, plans, op, fill
        self.acc, self.stage, self.power = acc, stage, power
        self.finish, self.finish_bytes = finish, finish_bytes
        self.first, rest = plans[0], plans[1:]
        self.cast = acc != x.dtype or power is not None
        # the other axes: their padded extents, and where the input sits in them
        layout = _layout(plans, x.shape)
        self.rest_in, self.inside_rest = layout.padded[2:], layout.inside[1:]
        self.rest_out = prod(p.out for p in rest)
        self.padded_rest = self.rest_in != tuple(p.n for p in rest)
        self.padded = any(p.pad_before or p.extra_after for p in plans)

    def buffer_bytes(self, rows: int, chans: int) -> int:
        """Bytes of the buffers a thread holds for bands of ``rows`` output rows and
        ``chans`` channels: the padded band and its cast copy, each pass's result, the
        doubling levels (two buffers the passes share), the stage, and what ``finish``
        holds."""
        first, acc = self.first, self.acc.itemsize
        shape = [chans, (rows - 1) * first.stride + first.span, *self.rest_in]
        total = prod(shape) * (self.x.itemsize * self.padded + acc * self.cast)
        levels = [0, 0]  # cells of the buffers of odd and of even levels
        steps = _steps(self.plans, rows)
        for i, (axis, k, s, _, n) in enumerate(steps):
            depth = len(_plan_pass(k, s, n, self.op != "sum")) - 1
            cells = prod(shape)
            levels = [max(levels[0], cells if depth >= 1 else 0),
                      max(levels[1], cells if depth >= 2 else 0)]
            shape[axis] = n
            if i < len(steps) - 1 or self.stage != self.acc:
                total += prod(shape) * acc
        plane = rows * self.rest_out
        total += sum(levels) * acc + plane * self.finish_bytes
        if self.stage != self.out.dtype:
            total += chans * plane * self.stage.itemsize
        return total

    def band_shape(self, budget: int, cache: int, halo: int) -> tuple[int, int]:
        """``(rows, chans)`` of the bands: the most rows whose buffers fit ``cache``, or
        more for a tall kernel, until the input rows a band shares with the next are at
        most ``1/halo`` of its own; never past ``budget``. Whole planes go several
        channels a band. One row and one channel at least."""
        total, channels = self.first.out, self.x.shape[0]
        full, cache = self.buffer_bytes(total, 1), min(cache, budget)
        if full > cache:
            first = self.first
            shared = -(-halo * max(first.span - first.stride, 0) // first.stride)
            return min(self.rows_within(budget, full),
                       max(self.rows_within(cache, full), shared)), 1
        per_chan = self.buffer_bytes(total, 2) - full
        return total, max(1, min(channels, 1 + (cache - full) // max(per_chan, 1)))

    def rows_within(self, limit: int, full: int) -> int:
        """The most rows of one channel whose buffers fit ``limit`` (1 at least), given
        ``full``, the bytes of all rows. :meth:`buffer_bytes` grows linearly with the
        rows except where the largest level buffer changes passes, so the chord
        through its values at one row and at all rows bounds it from above."""
        total, least = self.first.out, self.buffer_bytes(1, 1)
        if full <= limit:
            return total
        if total == 1 or least >= limit:
            return 1
        return 1 + int((limit - least) // ((full - least) / (total - 1)))

    def band_input(self, r0, r1, c0, c1, work) -> np.ndarray:
        """The input rows (and padding) that output rows ``r0:r1`` of channels ``c0:c1``
        read, in the accumulator's dtype: a view of ``x`` where they need no padding,
        else a padded buffer."""
        first = self.first
        lo = r0 * first.stride - first.pad_before
        hi = (r1 - 1) * first.stride + first.span - first.pad_before
        if 0 <= lo and hi <= first.n and not self.padded_rest:
            band = self.x[c0:c1, lo:hi]
        else:
            band = work.get("band", (c1 - c0, hi - lo) + self.rest_in, self.x.dtype)
            real_lo, real_hi = max(lo, 0), min(hi, first.n)
            inside = (slice(real_lo - lo, max(real_lo, real_hi) - lo),) + self.inside_rest
            _pad_into(band, self.x[c0:c1, real_lo:max(real_lo, real_hi)], inside, self.fill)
        if not self.cast:
            return band
        return _to_acc(band, self.acc, self.power, work.get("acc", band.shape, self.acc))

    def reduce_band(self, r0, r1, c0, c1, work) -> None:
        """Output rows ``r0:r1`` of channels ``c0:c1``: read, pass after pass, finish."""
        dest = self.out[c0:c1, r0:r1]
        stage = dest if self.stage == self.out.dtype else work.get("stage", dest.shape,
                                                                   self.stage)
        block = self.band_input(r0, r1, c0, c1, work)
        steps = _steps(self.plans, r1 - r0)
        for step in steps[:-1]:
            block = _axis_pass(block, *step, self.op, work)
        _axis_pass(block, *steps[-1], self.op, work, stage)
        if self.finish is not None:
            self.finish(stage, slice(r0, r1))
        if stage is not dest:
            np.copyto(dest, stage, casting="unsafe")


def _run(bufsize: int | None, errstate, fn, *args) -> None:
    """``fn(*args)`` with NumPy's loop buffers cut to ``bufsize`` elements (unless None)
    and under ``errstate`` (unless None)."""
    old = None if bufsize is None else np.setbufsize(bufsize)
    try:
        if errstate is None:
            fn(*args)
        else:
            with np.errstate(**errstate):
                fn(*args)
    finally:
        if old is not None:
            np.setbufsize(old)


def separable_reduce(x: np.ndarray, plans, op: str, fill, out_dtype, power=None,
                     finish=None, finish_bytes: int = 0, errstate=None,
                     policy: Policy | None = None) -> np.ndarray:
    """Reduce every window of the last ``len(plans)`` axes of ``x`` with ``op``.

    Parameters
    ----------
    x : ndarray, shape ``(..., *spatial)``
    plans : tuple of :class:`~pooling_core.geometry.AxisPlan`
    op : {'max', 'min', 'sum'}
    fill : the value of padding cells (and of the ceil-mode overhang).
    out_dtype : dtype of the result.
    power : float, optional
        Sum ``x**power`` instead of ``x`` (Lp pooling).
    finish : callable, optional
        ``finish(block, rows)`` turns a block of window sums, shape ``(channels,
        len(rows), ...)`` (the output's dtype, or float32 for a float16 output),
        into output values in place; ``rows`` is the block's slice of the first
        output axis. Blocks come row band by row band, every channel block of a band
        in a row, from several threads for large calls: ``finish`` must be
        thread-safe.
    finish_bytes : int
        Bytes ``finish`` holds per cell of ``block[0]`` (a block of divisors, say),
        counted with the band's buffers.
    errstate : dict, optional
        ``np.errstate`` settings the bands are reduced under (what ``finish`` needs).
    policy : Policy, optional
        Band sizes and threads (default :data:`POLICY`).

    Returns
    -------
    ndarray, shape ``(..., *(p.out for p in plans))``

    Notes
    -----
    Time ``O(N * sum(log2 k_i))`` for max/min, a few passes more for sums. Extra
    memory: the output plus the bands' buffers, ``policy.band_bytes`` a thread
    (``tall_band_bytes`` at most, for tall kernels) and at most
    ``policy.output_share`` of the output in all (``min_band_bytes`` a thread at
    least; a few times ``direct_bytes`` on the direct path).
    """
    policy = POLICY if policy is None else policy
    nd = len(plans)
    lead, spatial = x.shape[: x.ndim - nd], x.shape[x.ndim - nd:]
    xc = x if len(lead) == 1 else x.reshape((-1,) + spatial)
    layout = _layout(plans, xc.shape)
    out = np.empty(layout.out, dtype=out_dtype)
    acc = _accumulator(x.dtype, op, plans, power)
    # finish in the output's dtype, but never below the accumulator's float precision:
    # a float16 sum would overflow before its division
    stage = out.dtype if acc == out.dtype or acc.kind in "iu" else acc
    if layout.cells * max(acc.itemsize, x.itemsize) <= policy.direct_bytes:  # direct path
        args = (xc, out, layout, op, fill, acc, stage, power, finish)
        if acc != x.dtype:  # NumPy would buffer the casts in 32 KiB loop buffers
            _run(policy.loop_buffer(policy.direct_bytes), errstate, _reduce_whole, *args)
        elif errstate is not None:
            with np.errstate(**errstate):
                _reduce_whole(*args)
        else:  # nothing cast, nothing to finish under an errstate: as plainly as can be
            _reduce_whole(*args)
        return out if len(lead) == 1 else out.reshape(lead + layout.out[1:])
    out_spatial = layout.out[1:]
    if policy.taps_fit(plans, out.nbytes) and acc == x.dtype == out.dtype \
            and power is None and _is_identity(fill, op, x.dtype):  # tap path
        # loop buffers of tap_loop_bytes: NumPy buffers strided views even uncast (its
        # default 8192 elements took 0.55x the output at 256 px), and the band budget's
        # 128 elements cut its loops short, 1.6x the time
        _run(policy.tap_buffer(acc.itemsize), errstate, _reduce_taps, xc, out, plans, op, fill)
        if finish is not None:  # a few rows at a time when finish holds a block of its own
            row_bytes = finish_bytes * prod(out_spatial[1:])
            budget = policy.budget(out.nbytes, 1)
            chunk = max(1, budget // row_bytes) if row_bytes else out.shape[1]
            _run(policy.loop_buffer(policy.min_band_bytes), errstate, _finish_rows, out,
                 finish, chunk)
        return out.reshape(lead + out_spatial)
    bands = _Bands(xc, out, plans, op, fill, acc, stage, power, finish, finish_bytes)
    workers = policy.workers(x.nbytes, out.nbytes)
    budget = policy.budget(out.nbytes, workers)
    band_rows, chans = bands.band_shape(budget, policy.band_bytes, policy.halo)
    rows, channels = plans[0].out, xc.shape[0]
    # equal bands, as many per thread: a short last band, or one band more for one
    # thread, would leave the other idle for that long
    count, blocks = -(-rows // band_rows), -(-channels // chans)
    while (count * blocks) % workers and count < rows:
        count += 1
    band_rows = -(-rows // count)
    tasks = [(r0, min(rows, r0 + band_rows), c0, min(channels, c0 + chans))
             for r0 in range(0, rows, band_rows) for c0 in range(0, channels, chans)]
    workers = min(workers, len(tasks))
    size = -(-len(tasks) // workers)  # each thread takes a run of whole row bands

    def run(part):
        work = _Workspace()  # each thread's own buffers
        for task in part:
            bands.reduce_band(*task, work)

    args = (policy.loop_buffer(min(budget, policy.band_bytes)), errstate, run)
    if workers == 1:
        _run(*args, tasks)
    else:
        with ThreadPoolExecutor(workers) as pool:
            for done in [pool.submit(_run, *args, tasks[i:i + size])
                         for i in range(0, len(tasks), size)]:
                done.result()
    return out.reshape(lead + out_spatial)
