"""The fast path for max, min and window sums: separable passes over cache-sized bands.

A box window is separable: the max (or the sum) over a ``kH x kW`` window is the
max over ``kH`` rows of the max over ``kW`` columns. So each pooled axis gets one
1-D pass, and every pass

* applies the stride as it reads (strided slices), so later passes see less data;
* builds partial reductions over 1, 2, 4, ... taps by doubling, then combines
  the few pieces a window needs: a max or min of ``k`` taps costs about
  ``log2(k)`` operations per cell instead of ``k - 1``, and a sum one more per
  set bit of ``k`` (pieces must not overlap for a sum);
* runs over bands of the first pooled axis (and blocks of leading channels)
  small enough to stay in the CPU cache, padding only the band it works on.

The loops run over bands and doubling levels, never over output positions. The
result equals the straightforward reduction of every window: max and min pick
the same element; integer sums are exact; floating-point sums add the same
numbers in another order, so they may differ in the last bits.
"""
from __future__ import annotations

from functools import lru_cache
from math import prod

import numpy as np

#: Bytes of input a band covers (per block of channels): small enough for the L2 cache.
BAND_BYTES = 1 << 20

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


def _axis_slice(ndim: int, axis: int, start: int, count: int, step: int = 1) -> tuple:
    index = [slice(None)] * ndim
    index[axis] = slice(start, start + (count - 1) * step + 1, step)
    return tuple(index)


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


@lru_cache(maxsize=256)
def _plan_pass(kernel: int, stride: int, out: int, overlap: bool) -> tuple:
    """Choose the doubling depth that costs the fewest element operations.

    Building level ``j`` costs about one full-resolution pass (``out * stride``
    cells); combining ``m`` pieces costs ``m - 1`` strided passes (``out`` cells).
    """
    best = None
    q = 1
    while q <= kernel:
        pieces = _pieces(kernel, q, overlap)
        cost = (q.bit_length() - 1) * out * stride + (len(pieces) - 1) * out
        if best is None or cost < best[0]:
            best = (cost, tuple(pieces))
        q *= 2
    return best[1]


def _axis_pass(a: np.ndarray, axis: int, kernel: int, stride: int, dilation: int, out: int,
               op: str, work: _Workspace, dest: np.ndarray | None = None) -> np.ndarray:
    """Reduce ``kernel`` taps along ``axis``: ``r[j] = op(a[j*stride + i*dilation], i < kernel)``.

    ``a`` must reach the last tap: ``a.shape[axis] >= (out-1)*stride + (kernel-1)*dilation + 1``.
    The result, ``a.shape`` with ``out`` on ``axis``, is written to ``dest`` (C-contiguous)
    when given, else to a buffer of ``work``.

    In a C-contiguous array a shift along ``axis`` is a shift of the flat array
    by a multiple of the cells after that axis, so every doubling level is one
    contiguous 1-D ufunc call (NumPy's fastest loop). Near the end of each slab
    it mixes in cells of the next slab; those positions are never read.
    """
    ufunc = _UFUNC[op]
    a = np.ascontiguousarray(a)
    pieces = _plan_pass(kernel, stride, out, overlap=op != "sum")
    top = max(level for level, _ in pieces)
    outer, length, inner = prod(a.shape[:axis]), a.shape[axis], prod(a.shape[axis + 1:])
    shape = a.shape[:axis] + (out,) + a.shape[axis + 1:]
    # levels[j][t] reduces taps t, t+d, ..., t+(2**j - 1)*d (flat, full-size buffers whose
    # tail past the computed part is never read)
    levels = [a.reshape(-1)]
    computed = a.size
    for j in range(1, top + 1):
        shift = (1 << (j - 1)) * dilation * inner
        computed -= shift
        nxt = work.get((axis, "level", j), (a.size,), a.dtype)
        ufunc(levels[-1][:computed], levels[-1][shift:shift + computed], out=nxt[:computed])
        levels.append(nxt)

    if stride == 1 or (inner == 1 and (length % stride == 0 or outer == 1)):
        # one flat (strided) call per piece, laid out as (outer, pitch, inner)
        pitch = out if outer == 1 else length // stride
        count = ((outer - 1) * pitch + out) * inner  # up to the last window of the last slab
        views = [levels[lv][f * dilation * inner:][::stride][:count] for lv, f in pieces]
        if (pitch == out or outer == 1) and dest is not None and dest.dtype == a.dtype:
            # the flat result has dest's layout: write it there
            _combine(ufunc, views, dest.reshape(-1))
            return dest
        target = work.get((axis, "flat"), (outer * pitch * inner,), a.dtype)
        _combine(ufunc, views, target[:count])
        result = target.reshape(outer, pitch, inner)[:, :out]
    else:  # a stride along an outer axis: strided N-d views of the level buffers
        views = [levels[lv].reshape(a.shape)[_axis_slice(a.ndim, axis, f * dilation, out, stride)]
                 for lv, f in pieces]
        result = work.get((axis, "result"), shape, a.dtype)
        _combine(ufunc, views, result)
        if dest is None:
            return result
        result = result.reshape(outer, out, inner)
    if dest is None:
        dest = work.get((axis, "result"), shape, a.dtype)
    # copy as (outer, out, inner): NumPy's fast path for it
    np.copyto(dest.reshape(outer, out, inner), result, casting="unsafe")
    return dest


def _combine(ufunc, views, target):
    """``target = ufunc.reduce(views)``, in place."""
    if len(views) == 1:
        np.copyto(target, views[0], casting="unsafe")
        return
    ufunc(views[0], views[1], out=target)
    for v in views[2:]:
        ufunc(target, v, out=target)


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
                     finish=None) -> np.ndarray:
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
        ``finish(block, rows)`` turns a block of the output holding window sums,
        shape ``(channels, len(rows), ...)``, into output values in place;
        ``rows`` is the block's slice of the first output axis. Blocks come
        row band by row band, every channel block of a band in a row.

    Returns
    -------
    ndarray, shape ``(..., *(p.out for p in plans))``

    Notes
    -----
    Time ``O(N * sum(log2 k_i))`` for max/min; extra memory is the output plus
    a few band-sized buffers (about ``BAND_BYTES`` each).
    """
    nd = len(plans)
    lead = x.shape[: x.ndim - nd]
    spatial = x.shape[x.ndim - nd:]
    xc = x.reshape((-1,) + spatial)
    channels = xc.shape[0]
    out_spatial = tuple(p.out for p in plans)
    out = np.empty((channels,) + out_spatial, dtype=out_dtype)
    acc = _accumulator(x.dtype, op, prod(p.kernel for p in plans), power)

    if np.issubdtype(x.dtype, np.integer) and not np.iinfo(x.dtype).min <= fill <= np.iinfo(x.dtype).max:
        # pool_nd gives float data when such a fill pads real windows; here it can only
        # reach the alignment cells past the last window, which are never read
        fill = 0
    work = _Workspace()
    first, rest = plans[0], plans[1:]
    # padded extent needed on the other axes, and whether any padding is needed at all
    rest_range = [(-p.pad_before, p.n + p.extra_after) for p in rest]
    if rest and rest[-1].stride > 1:  # whole strides per row keep the last pass one flat call
        lo, hi = rest_range[-1]
        rest_range[-1] = (lo, lo + -(-(hi - lo) // rest[-1].stride) * rest[-1].stride)
    padded_rest = any(r != (0, p.n) for r, p in zip(rest_range, rest))
    row_bytes = prod(hi - lo for lo, hi in rest_range) * max(x.itemsize, acc.itemsize)
    rows_per_band = max(1, BAND_BYTES // max(1, row_bytes * first.stride))
    out_rows = min(first.out, rows_per_band)
    band_in_rows = (out_rows - 1) * first.stride + first.span
    chan_block = max(1, BAND_BYTES // max(1, row_bytes * band_in_rows)) if out_rows == first.out else 1

    for r0 in range(0, first.out, out_rows):
        r1 = min(first.out, r0 + out_rows)
        for c0 in range(0, channels, chan_block):
            c1 = min(channels, c0 + chan_block)
            lo = r0 * first.stride - first.pad_before
            hi = (r1 - 1) * first.stride + first.span - first.pad_before
            if lo >= 0 and hi <= first.n and not padded_rest:
                band = xc[c0:c1, lo:hi]
            else:
                band = work.get("band", (c1 - c0, hi - lo) + tuple(b - a for a, b in rest_range),
                                x.dtype)
                src_lo, src_hi = max(lo, 0), min(hi, first.n)
                real = [(src_lo - lo, max(src_lo, src_hi) - lo)] + [
                    (-a, -a + p.n) for (a, _), p in zip(rest_range, rest)]
                for axis, (start, stop) in enumerate(real, 1):  # fill the frame, not the inside
                    for part in (slice(0, start), slice(stop, None)):
                        band[(slice(None),) * axis + (part,)] = fill
                if src_lo < src_hi:  # a band may lie wholly in the padding
                    band[(slice(None),) + tuple(slice(a, b) for a, b in real)] = \
                        xc[c0:c1, src_lo:src_hi]
            if power is not None or band.dtype != acc:
                cast = work.get("acc", band.shape, acc)
                if power is None:
                    np.copyto(cast, band, casting="unsafe")
                elif power == 2:
                    np.square(band, out=cast, dtype=acc)
                else:
                    np.power(band, power, out=cast, dtype=acc)
                band = cast
            dest = out[c0:c1, r0:r1]
            passes = [(1, first.kernel, first.stride, first.dilation, r1 - r0)] + [
                (axis, p.kernel, p.stride, p.dilation, p.out) for axis, p in enumerate(rest, 2)]
            block = band
            for i, (axis, k, s, d, n) in enumerate(reversed(passes)):  # contiguous axis first
                block = _axis_pass(block, axis, k, s, d, n, op, work,
                                   dest if i == len(passes) - 1 else None)
            if finish is not None:
                finish(dest, slice(r0, r1))
    return out.reshape(lead + out_spatial)
