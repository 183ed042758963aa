"""The fast path for max, min and window sums: separable passes over bands of rows.

A box window is separable: the max (or the sum) over a ``kH x kW`` window is the
max over ``kH`` rows of the max over ``kW`` columns. So each pooled axis gets one
1-D pass, and every pass

* applies the stride as it reads (strided slices), so later passes see less data;
* builds partial reductions over 1, 2, 4, ... taps by doubling, then combines
  the few pieces a window needs: a max or min of ``k`` taps costs about
  ``log2(k)`` operations per cell instead of ``k - 1``, and a sum one more per
  set bit of ``k`` (pieces must not overlap for a sum);
* runs over bands of the first pooled axis (and blocks of leading channels)
  whose buffers fit a core's cache (``CACHE_BYTES``; more for large kernels, up
  to ``BAND_BYTES``) and, over all threads, 0.18x the output (``OUTPUT_SHARE``),
  padding only the band it works on (a strided first pass reads inner bands in
  place and pads its own result), and writes its last pass straight into the
  output; large inputs share equal bands among a few threads (NumPy releases the
  GIL inside its loops), and NumPy's loop buffers are kept small (``BUFSIZE``),
  so strided views are read in place rather than copied through them;
* plans the passes of the first band of a shape only: the bands after it replay
  its NumPy calls on their own rows (:class:`_Recording`), so small bands cost
  little Python;
* for Lp pooling with p = 2, squares the taps inside a strided first pass
  (one ``einsum``) instead of squaring the band in a pass of its own.

The loops run over bands and doubling levels, never over output positions. The
result equals the straightforward reduction of every window: max and min pick
the same element; integer sums are exact; floating-point sums add the same
numbers in another order, so they may differ in the last bits. float32 data
adds in float32, as PyTorch's CPU kernels do (so sums past 3.4e38 overflow to
inf there too); float16 adds in float32.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from math import prod

import numpy as np
from numpy.lib.array_utils import byte_bounds
from numpy.lib.stride_tricks import as_strided

#: Bytes of buffers one thread may hold for its band (the padded band, its cast copy,
#: the pass results, the doubling levels, counted exactly by ``band_bytes`` below).
BAND_BYTES = 8 << 20
#: Bands are made to fit this, so that a core's cache (2 MiB of L2 here) holds the
#: band's buffers and the output rows it writes, and the passes after the first read
#: from it: avg at (3, 1) on (3, 4096, 4096) float32 takes 56 ms with 1 MiB bands,
#: 66 ms with 2 MiB and 64 ms with 8 MiB (bands replayed; without the replay, small
#: bands cost more Python than the cache saves) ...
CACHE_BYTES = 1 << 20
#: ... unless the input rows a band shares with the next (``span - stride``) would then
#: be more than 1/HALO of its own: large kernels get taller bands, up to ``BAND_BYTES``
#: (avg at (15, 1) takes 283 ms in 1 MiB bands, 143 ms in these).
HALO = 8
#: ... but all threads together hold at most this share of the output's size, less
#: ``RESERVE_BYTES`` for what else a call allocates (Python objects, NumPy's loop
#: buffers): so the peak extra memory of a call stays within 1.2x its output, unless
#: that leaves less than ``MIN_BAND_BYTES`` a thread (outputs under about 160 KiB).
#: Smaller bands mean more NumPy calls: a (3, 256, 256) float32 input pools in 0.45-1.4 ms
#: at stride 2 with 16 KiB bands against 0.36-0.94 ms with 64 KiB (stride 1: the same).
OUTPUT_SHARE = 0.18
RESERVE_BYTES = 16 << 10
MIN_BAND_BYTES = 16 << 10
#: Threads that share the bands of one call (NumPy releases the GIL inside its loops).
THREADS = max(1, min(4, os.cpu_count() or 1))
#: Input + output bytes from which a call uses more than one thread, if each thread then
#: gets bands of at least ``THREAD_BAND_BYTES``.
PARALLEL_BYTES = 8 << 20
THREAD_BAND_BYTES = 2 << 20

#: NumPy's ufunc buffer size (elements) while bands are reduced. With the default 8192,
#: NumPy copies strided views through its buffers whenever a row fits in them; below
#: the row lengths it loops over the views in place: strided column passes run
#: 10-20% faster (and uint8 bands cast no slower; 256 is slower there). Small bands get
#: smaller loop buffers (``budget // 64`` elements, 16 at least): NumPy allocates a few
#: per call, and 1024 elements of each would outweigh a 16 KiB band.
BUFSIZE = 1024
_UFUNC = {"max": np.maximum, "min": np.minimum, "sum": np.add}


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

    def buffers(self):
        return self._buffers.values()


def _now(fn, *args, **kwargs):
    """Make one NumPy call: how the passes make their calls unless a band is recorded."""
    fn(*args, **kwargs)


class _Recording:
    """Makes a band's NumPy calls and records them, to replay them on later bands.

    Bands of one shape differ only in where they read ``x`` and write the output: a
    view of either is the recorded band's view moved by whole band steps. :meth:`replay`
    turns each such view into one with two leading axes (row bands, channel blocks),
    over the memory of the array that owns it, indexed per band; every other array a
    call uses must be a buffer of the thread's workspace (the same for every band) or a
    0-d constant, else there is nothing to replay (a temporary copy, say). A replay is
    a loop of NumPy calls: a band of avg at (3, 1) replays in about 10 us, most of it
    NumPy's own cost per call, where planning it takes about 19 us. That matters with
    two threads, where each waits for the interpreter lock while the other runs Python:
    Python per band then costs about three times its own time.
    """

    def __init__(self):
        self.calls = []

    def __call__(self, fn, *args, **kwargs):
        fn(*args, **kwargs)
        self.calls.append((fn, args, kwargs))

    def replay(self, band, bands, moving, work) -> "_Replay | None":
        """The recorded calls as a :class:`_Replay` for the bands from ``band`` (row band,
        channel block) up to but not including ``bands``; ``moving`` lists ``(array,
        (row step, block step))`` whose views move with the band (steps in bytes)."""
        fixed = [byte_bounds(b) for b in work.buffers()]
        left = (bands[0] - band[0], bands[1] - band[1])
        owners = []
        for a, steps in moving:
            while isinstance(a.base, np.ndarray):
                a = a.base  # the array that owns the memory: views are made over it
            owners.append((byte_bounds(a), a, steps))

        def bind(a):
            if not isinstance(a, np.ndarray) or a.ndim == 0:
                return False, a
            lo, hi = byte_bounds(a)
            for (start, stop), owner, steps in owners:
                if start <= lo and hi <= stop:
                    return True, np.ndarray(left + a.shape, a.dtype, owner,
                                            a.ctypes.data - owner.ctypes.data, steps + a.strides)
            if not any(start <= lo and hi <= stop for start, stop in fixed):
                raise LookupError  # memory of its own: a temporary
            return False, a

        try:
            calls = [(fn, [bind(a) for a in args], [(k, *bind(v)) for k, v in kwargs.items()])
                     for fn, args, kwargs in self.calls]
        except (LookupError, ValueError, TypeError, BufferError):  # or memory not viewable
            return None
        return _Replay(band, calls)


class _Replay:
    """Recorded calls (:class:`_Recording`) made again for a later band of the same shape."""

    def __init__(self, band, calls):
        self.band, self.calls = band, calls

    def reaches(self, band) -> bool:
        return band[0] >= self.band[0] and band[1] >= self.band[1]

    def __call__(self, band):
        i, j = band[0] - self.band[0], band[1] - self.band[1]
        for fn, args, kwargs in self.calls:
            fn(*[a[i, j] if moves else a for moves, a in args],
               **{k: v[i, j] if moves else v for k, moves, v in kwargs})


def _fill_frame(a: np.ndarray, inside, value, first_axis: int = 1) -> None:
    """Set the cells of ``a`` outside ``inside`` (slices of the axes from ``first_axis``
    on) to ``value``: two strips per axis, the inside left as it is."""
    for axis, part in enumerate(inside, first_axis):
        for strip in (slice(0, part.start), slice(part.stop, None)):
            a[(slice(None),) * axis + (strip,)] = value


def _axis_slice(ndim: int, axis: int, start: int, count: int, step: int = 1) -> tuple:
    index = [slice(None)] * ndim
    index[axis] = slice(start, start + (count - 1) * step + 1, step)
    return tuple(index)


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
def _plan_pass(kernel: int, stride: int, out: int, overlap: bool) -> tuple:
    """Choose the doubling depth ``q`` that costs the least.

    Building each level costs about one full-resolution pass (``out * stride``
    cells); combining ``m`` pieces costs ``m - 1`` passes over ``out`` cells;
    every call adds ``_CALL_COST``. Only the chosen level's pieces are listed.
    """
    def cost(q):
        levels, pieces = q.bit_length() - 1, _piece_count(kernel, q, overlap)
        return levels * out * stride + (pieces - 1) * out + (levels + pieces) * _CALL_COST

    q = min((1 << j for j in range(kernel.bit_length())), key=cost)
    return tuple(_pieces(kernel, q, overlap))


def _fuses_squares(kernel: int, stride: int, out: int, axis: int, ndim: int) -> bool:
    """Whether :func:`_axis_pass` can square the taps as it sums them (``square=True``):
    when it adds every tap to the result directly (no doubling levels) along an axis
    whose taps lie whole rows apart, so the fused loop still runs along contiguous rows."""
    return axis < ndim - 1 and all(level == 0 for level, _ in _plan_pass(kernel, stride, out, False))


def _layout(shape, axis: int, stride: int, out: int, direct: bool) -> tuple[bool, int]:
    """``(flat, pitch)``: whether :func:`_axis_pass` writes its result with one flat call
    per piece, rows ``pitch`` cells apart (then copied to rows of their own length if
    ``pitch != out``), or through N-d views."""
    outer, length, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1:])
    flat = stride == 1 or (inner == 1 and (length % stride == 0 or outer == 1))
    pitch = out if outer == 1 or not flat else length // stride
    if pitch != out and (direct or out * inner >= 64):
        # flat results would need a copy to their own row length; rows this long are
        # written in place through N-d views just as fast
        flat = False
    return flat, pitch


def _pass_buffers(shape, axis: int, stride: int, out: int, top: int, last: bool,
                  direct: bool) -> tuple[int, int]:
    """Cells of the workspace buffers :func:`_axis_pass` takes for an input of ``shape``:
    ``(result cells, cells of each doubling level)``; ``top`` is its highest level."""
    flat, pitch = _layout(shape, axis, stride, out, direct)
    cells = prod(shape) // shape[axis] * out
    result = 0 if direct else (prod(shape) // shape[axis] * pitch if flat else cells)
    if flat and not direct and not last and pitch != out:
        result += cells  # the copy to rows of their own length
    return result, prod(shape) if top else 0


def _axis_pass(a: np.ndarray, axis: int, kernel: int, stride: int, dilation: int, out: int,
               op: str, work: _Workspace, dest: np.ndarray | None = None,
               square: bool = False, call=_now) -> np.ndarray:
    """Reduce ``kernel`` taps along ``axis``: ``r[j] = op(a[j*stride + i*dilation], i < kernel)``.

    ``a`` must reach the last tap: ``a.shape[axis] >= (out-1)*stride + (kernel-1)*dilation + 1``.
    The result, ``a.shape`` with ``out`` on ``axis``, is written to ``dest`` (C-contiguous)
    when given, else to a buffer of ``work``.

    In a C-contiguous array a shift along ``axis`` is a shift of the flat array
    by a multiple of the cells after that axis, so every doubling level is one
    contiguous 1-D ufunc call (NumPy's fastest loop). Near the end of each slab
    it mixes in cells of the next slab; those positions are never read. Levels
    are built one from the last in two alternating buffers, and each piece is
    added to the result as soon as its level exists. The pieces are read as one
    flat view too when the result's rows keep the input's pitch; rows of their
    own length (64 cells or more, or any written into ``dest``) are read through
    N-d views instead, so the result needs no copy.

    With ``square`` (a sum, where :func:`_fuses_squares` allows it) the pass sums
    the squares of the taps, ``a[...]**2``, in one ``einsum`` over the taps
    stacked as a strided view: no squared copy of ``a`` (Lp pooling with p = 2).

    Every NumPy call that computes goes through ``call(fn, *args, **kwargs)``, which
    makes it (and may record it: :class:`_Recording`).
    """
    ufunc = _UFUNC[op]
    a = np.ascontiguousarray(a)
    pieces = _plan_pass(kernel, stride, out, overlap=op != "sum")
    top = max(level for level, _ in pieces)
    outer, inner = prod(a.shape[:axis]), prod(a.shape[axis + 1:])
    shape = a.shape[:axis] + (out,) + a.shape[axis + 1:]
    direct = dest is not None and dest.dtype == a.dtype  # write the result straight to dest
    flat, pitch = _layout(a.shape, axis, stride, out, direct)
    if flat:  # the result laid out as (outer, pitch, inner), one flat (strided) call per piece
        count = ((outer - 1) * pitch + out) * inner  # up to the last window of the last slab
        full = dest.reshape(-1) if direct else \
            work.get((axis, "flat"), (outer * pitch * inner,), a.dtype)
        target = full[:count]

        def view(level, f):
            return level[f * dilation * inner:][::stride][:count]
    else:  # strided N-d views (a stride along an outer axis, or rows written into dest)
        target = dest.reshape(shape) if direct else work.get((axis, "result"), shape, a.dtype)

        def view(level, f):
            return level.reshape(a.shape)[_axis_slice(a.ndim, axis, f * dilation, out, stride)]

    level, computed, started = a.reshape(-1), a.size, False
    if square:  # the taps as one view: tap i starts i * dilation * inner cells on
        first = view(level, 0)
        assert view(level, kernel - 1).shape == first.shape  # the last tap is in bounds
        taps = as_strided(first, (kernel,) + first.shape,
                          (dilation * inner * a.itemsize,) + first.strides, writeable=False)
        call(np.einsum, "t...,t...->...", taps, taps, out=target)
        top = -1  # done: no levels, no pieces
    for j in range(top + 1):
        if j:  # level j reduces taps t, t+d, ..., t+(2**j - 1)*d
            shift = (1 << (j - 1)) * dilation * inner
            computed -= shift
            nxt = work.get(("level", j % 2), (a.size,), a.dtype)  # tail never read
            call(ufunc, level[:computed], level[shift:shift + computed], out=nxt[:computed])
            level = nxt
        views = [view(level, f) for lv, f in pieces if lv == j]
        if views and not started:  # the first one or two pieces start the result
            head = views.pop(0)
            if views:
                call(ufunc, head, views.pop(0), out=target)
            else:
                call(np.copyto, target, head, casting="unsafe")
            started = True
        for v in views:
            call(ufunc, target, v, out=target)
    if direct:
        return dest
    result = full.reshape(outer, pitch, inner)[:, :out] if flat else \
        target.reshape(outer, out, inner)
    if dest is None:
        if not flat:
            return target
        if pitch == out:  # already laid out as the result
            return full[:outer * out * inner].reshape(shape)
        dest = work.get((axis, "result"), shape, a.dtype)
    # copy as (outer, out, inner): NumPy's fast path for it
    call(np.copyto, dest.reshape(outer, out, inner), result, casting="unsafe")
    return dest


def _largest(fits, limit: int) -> int:
    """The largest ``n`` in ``1..limit`` with ``fits(n)`` (``fits`` holds up to some ``n``
    and not past it), or 1."""
    if fits(limit):
        return limit
    lo, hi = 1, limit  # fits(lo) or lo == 1; not fits(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def _accumulator(dtype: np.dtype, op: str, kernel_cells: int, power) -> np.dtype:
    """The dtype a band is reduced in: the data's own for max/min; for sums one
    that holds every window sum exactly (small integers) or the data's float
    precision (float32 stays float32; float16 adds in float32)."""
    if op != "sum":
        return dtype
    if power is None and np.issubdtype(dtype, np.integer) and dtype.itemsize <= 2:
        info = np.iinfo(dtype)
        if kernel_cells * max(abs(info.min), info.max) < 2**31:
            return np.dtype(np.int32)
    if dtype == np.float32 or dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def separable_reduce(x: np.ndarray, plans, op: str, fill, out_dtype, power=None,
                     finish=None, finish_bytes: int = 0, finish_fixed: bool = False,
                     errstate=None) -> np.ndarray:
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
        ``finish(block, rows, call)`` turns a block of window sums, shape ``(channels,
        len(rows), ...)`` (the output's dtype, or float32 for a float16 output),
        into output values in place, making each NumPy call as ``call(fn, *args,
        **kwargs)``; ``rows`` is the block's slice of the first output axis. Each
        thread gets its blocks row band by row band, every channel block of a band
        in a row; ``finish`` must be thread-safe.
    finish_bytes : int
        Bytes ``finish`` holds per cell of ``block[0]`` (a block of divisors, say),
        counted with the band's buffers.
    finish_fixed : bool
        ``finish`` makes the same calls for every band of a shape (no divisor that
        depends on ``rows``): they are replayed with the passes'.
    errstate : dict, optional
        ``np.errstate`` settings the bands are reduced under (what ``finish`` needs).

    Returns
    -------
    ndarray, shape ``(..., *(p.out for p in plans))``

    Notes
    -----
    The first band of a shape that is read in place is planned and its NumPy calls
    recorded; the bands after it replay them (:class:`_Recording`).
    Time ``O(N * sum(log2 k_i))`` for max/min; extra memory is the output plus
    the bands' buffers: at most ``BAND_BYTES`` per thread and ``OUTPUT_SHARE`` of
    the output in all (``MIN_BAND_BYTES`` at least). Calls on more than
    ``PARALLEL_BYTES`` share their bands among ``THREADS`` threads when each then
    gets ``THREAD_BAND_BYTES``.
    """
    nd = len(plans)
    lead = x.shape[: x.ndim - nd]
    spatial = x.shape[x.ndim - nd:]
    xc = x.reshape((-1,) + spatial)
    channels = xc.shape[0]
    out_spatial = tuple(p.out for p in plans)
    out = np.empty((channels,) + out_spatial, dtype=out_dtype)
    acc = _accumulator(x.dtype, op, prod(p.kernel for p in plans), power)

    if x.dtype.kind in "iu" and not np.iinfo(x.dtype).min <= fill <= np.iinfo(x.dtype).max:
        # pool_nd gives float data when such a fill pads real windows; here it can only
        # reach the alignment cells past the last window, which are never read
        fill = 0
    # finish in the output's dtype, but never below the accumulator's float precision:
    # a float16 sum would overflow before its division
    stage_dtype = np.dtype(out_dtype) if acc == out_dtype or acc.kind in "iu" else acc
    first, rest = plans[0], plans[1:]
    # padded extent needed on the other axes, and whether any padding is needed at all
    rest_range = [(-p.pad_before, p.n + p.extra_after) for p in rest]
    if rest and rest[-1].stride > 1:  # whole strides per row keep the last pass one flat call
        lo, hi = rest_range[-1]
        rest_range[-1] = (lo, lo + -(-(hi - lo) // rest[-1].stride) * rest[-1].stride)
    padded_rest = any(r != (0, p.n) for r, p in zip(rest_range, rest))
    rest_in = [hi - lo for lo, hi in rest_range]
    padded = padded_rest or first.pad_before > 0 or first.extra_after > 0
    # Lp with p = 2 on float data: a strided first pass squares the taps as it sums them
    fused = power == 2 and acc == x.dtype and first.stride > 1 and \
        _fuses_squares(first.kernel, first.stride, first.out, 1, nd + 1)
    needs_cast = acc != x.dtype or (power is not None and not fused)
    # A strided first axis goes first and mixes no other axis: bands inside it along that
    # axis are read in place, unpadded, and its pass writes into the inside of a buffer
    # padded along the other axes. Only bands that reach its padding are copied.
    framed = padded_rest and first.stride > 1
    inside_rest = tuple(slice(-lo, -lo + p.n) for (lo, _), p in zip(rest_range, rest))
    rest_passes = [(axis, p.kernel, p.stride, p.dilation, p.out) for axis, p in enumerate(rest, 2)]

    def steps_of(rows):
        """The passes over a band of ``rows`` output rows, in order: a strided first axis
        goes first (whole contiguous rows, and the later passes see 1/stride of them:
        twice as fast at stride 2); else the contiguous last axis."""
        steps = [(1, first.kernel, first.stride, first.dilation, rows)] + rest_passes
        return steps[::-1] if first.stride == 1 else steps

    def band_bytes(rows, chans, cast=True):
        """Bytes of the buffers a thread's workspace holds for bands of ``rows`` output
        rows and ``chans`` channels: the padded band and its cast copy (unless not
        ``cast``), each pass's result, the doubling levels (two at most, shared by the
        passes), the stage."""
        shape = [chans, (rows - 1) * first.stride + first.span] + rest_in
        total = prod(shape) * (x.itemsize * padded + acc.itemsize * needs_cast * cast)
        levels = [0, 0]
        steps = steps_of(rows)
        for i, (axis, k, s, _, n) in enumerate(steps):
            last = i == len(steps) - 1
            top = 0 if fused and i == 0 else \
                max(lv for lv, _ in _plan_pass(k, s, n, op != "sum"))
            result, level = _pass_buffers(shape, axis, s, n, top, last,
                                          (last and stage_dtype == acc) or (framed and i == 0))
            levels = [max(levels[0], level if top >= 2 else 0), max(levels[1], level)]
            total += result * acc.itemsize
            shape[axis] = n
            if framed and i == 0:  # the first pass's result, padded along the other axes
                total += chans * n * prod(rest_in) * acc.itemsize
        out_cells = rows * prod(p.out for p in rest)
        return (total + sum(levels) * acc.itemsize + out_cells * finish_bytes
                + (chans * out_cells * stage_dtype.itemsize if stage_dtype != out.dtype else 0))

    # The largest bands whose buffers fit the budget: whole planes, several channels at a
    # time, when one plane fits.
    share = int(out.nbytes * OUTPUT_SHARE) - RESERVE_BYTES
    parallel = x.nbytes + out.nbytes >= PARALLEL_BYTES and share >= THREADS * THREAD_BAND_BYTES
    budget = min(BAND_BYTES, max(MIN_BAND_BYTES, share // (THREADS if parallel else 1)))
    bufsize = min(BUFSIZE, max(16, budget // 64 // 16 * 16))  # a multiple of 16
    # Bands whose buffers stay in a core's cache, unless the input rows that neighbouring
    # bands both read (span - stride) would then be more than 1/HALO of a band's rows
    # (large kernels); never past the memory budget. A cast copy (uint8 data summed in
    # float32, say) is not counted there: it made such bands 4x shorter and slower (avg
    # at (3, 2) on a 12-megapixel uint8 image: 35 ms against 29).
    cache = min(budget, CACHE_BYTES)
    overlap_rows = -(-HALO * max(first.span - first.stride, 0) // first.stride)
    out_rows = min(_largest(lambda rows: band_bytes(rows, 1) <= budget, first.out),
                   max(_largest(lambda rows: band_bytes(rows, 1, False) <= cache, first.out),
                       overlap_rows))
    chan_block = 1 if out_rows < first.out else _largest(
        lambda chans: band_bytes(first.out, chans) <= budget
        and band_bytes(first.out, chans, False) <= cache, max(channels, 1))
    # Bands of equal size, as many per thread: a short last band, or one band more for
    # one thread, would leave the other idle for that long.
    workers = THREADS if parallel else 1
    bands, blocks = -(-first.out // out_rows), -(-channels // chan_block)
    while (bands * blocks) % workers and bands < first.out:
        bands += 1
    out_rows = -(-first.out // bands)

    def input_rows(r0, r1):
        """``(lo, hi, in_place)``: the input rows that output rows ``r0:r1`` read (padding
        below 0 and from ``first.n`` on), and whether they are read in place (the bands
        that are form one run: the padded ones lie at either end)."""
        lo = r0 * first.stride - first.pad_before
        hi = (r1 - 1) * first.stride + first.span - first.pad_before
        return lo, hi, lo >= 0 and hi <= first.n and (framed or not padded_rest)

    def band_of(r0, r1, c0, c1, work, call=_now):
        """The input rows (and padding) that output rows ``r0:r1`` read, in ``acc``."""
        lo, hi, in_place = input_rows(r0, r1)
        if in_place:
            band = xc[c0:c1, lo:hi]  # in place (unpadded along the other axes if framed)
        else:
            band = work.get("band", (c1 - c0, hi - lo) + tuple(b - a for a, b in rest_range),
                            x.dtype)
            src_lo, src_hi = max(lo, 0), min(hi, first.n)
            real = (slice(src_lo - lo, max(src_lo, src_hi) - lo),) + inside_rest
            _fill_frame(band, real, fill)
            if src_lo < src_hi:  # a band may lie wholly in the padding
                band[(slice(None),) + real] = xc[c0:c1, src_lo:src_hi]
        return to_acc(band, work, call)

    def to_acc(band, work, call=_now):
        """``band`` in ``acc`` (raised to ``power`` unless the first pass squares it)."""
        if not needs_cast:
            return band
        cast = work.get("acc", band.shape, acc)
        if power is None:
            call(np.copyto, cast, band, casting="unsafe")
        elif power == 2:
            call(np.square, band, out=cast, dtype=acc)
        else:
            call(np.power, band, power, out=cast, dtype=acc)
        return cast

    def run(tasks):
        work = _Workspace()  # one per thread
        old = np.setbufsize(bufsize)
        try:
            with np.errstate(**(errstate or {})):
                run_tasks(tasks, work)
        finally:
            np.setbufsize(old)

    @lru_cache(maxsize=None)  # one or two band heights a call; shared by the threads
    def frame_value(rows):
        """What the first pass makes of fill values only, shape ``(1, rows, 1, ...)``: the
        frame of a framed buffer (computed as the pass computes, so sums round alike)."""
        fills = np.full((1, (rows - 1) * first.stride + first.span, 1), fill, dtype=x.dtype)
        value = _axis_pass(to_acc(fills, _Workspace()), 1, first.kernel, first.stride,
                           first.dilation, rows, op, _Workspace(), None, fused)
        return value.reshape((1, rows) + (1,) * len(rest))

    def first_pass_framed(block, rows, work, call):
        """The first pass, written into a buffer padded along the other axes: a band read
        in place fills its inside and the frame gets :func:`frame_value` (which stays
        while bands of this height replay: no call writes there); a padded band (one
        that reaches the first axis's padding) fills it all."""
        full = work.get("framed", (block.shape[0], rows) + tuple(rest_in), acc)
        if block.shape[2:] == full.shape[2:]:
            target = full
        else:
            target = full[(slice(None), slice(None)) + inside_rest]
            _fill_frame(full, inside_rest, frame_value(rows), first_axis=2)
        _axis_pass(block, 1, first.kernel, first.stride, first.dilation, rows, op, work,
                   target, fused, call)
        return full

    def reduce_band(r0, r1, c0, c1, stage, work, call):
        """Output rows ``r0:r1`` of channels ``c0:c1``, reduced into ``stage``."""
        block = band_of(r0, r1, c0, c1, work, call)
        steps, start = steps_of(r1 - r0), 0
        if framed:
            block, start = first_pass_framed(block, r1 - r0, work, call), 1
        for i, (axis, k, s, d, n) in enumerate(steps[start:], start):
            block = _axis_pass(block, axis, k, s, d, n, op, work,
                               stage if i == len(steps) - 1 else None, fused and i == 0, call)
        if finish is not None and finish_fixed:
            finish(stage, slice(r0, r1), call)

    # views of the input and the output move by these bytes from band to band
    moving = [(xc, (out_rows * first.stride * xc.strides[1], chan_block * xc.strides[0])),
              (out, (out_rows * out.strides[1], chan_block * out.strides[0]))]
    # row bands that can replay: of the full shape, read in place (all but the padded ones
    # at either end); channel blocks: all of the full size
    replayable = [band for band in range(first.out // out_rows)
                  if input_rows(band * out_rows, (band + 1) * out_rows)[2]]
    replay_rows = range(replayable[0], replayable[-1] + 1) if replayable else range(0)
    grid = (replay_rows.stop, channels // chan_block)

    def run_tasks(tasks, work):
        replay = None
        for r0, r1, c0, c1 in tasks:
            dest = out[c0:c1, r0:r1]
            stage = dest if stage_dtype == out.dtype else work.get("stage", dest.shape, stage_dtype)
            band = (r0 // out_rows, c0 // chan_block)
            regular = band[0] in replay_rows and band[1] < grid[1]
            if regular and replay is not None and replay.reaches(band):
                replay(band)
            else:  # plan the band; record it if later bands can replay it
                call = _Recording() if regular else _now
                reduce_band(r0, r1, c0, c1, stage, work, call)
                replay = call.replay(band, grid, moving, work) if regular else None
            if finish is not None and not finish_fixed:
                finish(stage, slice(r0, r1), _now)
            if stage is not dest:
                np.copyto(dest, stage, casting="unsafe")

    tasks = [(r0, min(first.out, r0 + out_rows), c0, min(channels, c0 + chan_block))
             for r0 in range(0, first.out, out_rows) for c0 in range(0, channels, chan_block)]
    workers = min(workers, len(tasks))
    if workers <= 1:
        run(tasks)
    else:  # NumPy releases the GIL in its loops; each thread takes a run of whole row bands
        size = -(-len(tasks) // workers)
        with ThreadPoolExecutor(workers) as pool:
            for done in [pool.submit(run, tasks[i:i + size]) for i in range(0, len(tasks), size)]:
                done.result()
    return out.reshape(lead + out_spatial)
