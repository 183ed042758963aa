"""Forward pooling over the last 1, 2 or 3 axes, in four visible steps.

1. **validate** the arguments and place the windows (:func:`~pooling_core.geometry.plan_axes`);
2. **pad** with the value that never wins for the mode;
3. **view** the windows' taps through strided views;
4. **reduce** those views with the mode's accumulator.

Max, min, sum, avg and lp without indices take the fast path of
:mod:`~pooling_core.separable`: one 1-D pass per axis, ``O(N * log2(k))`` per
axis for max/min, padding only one band at a time, so the extra memory is the
output plus small band buffers (bounded in :mod:`~pooling_core.separable`).
Indices, median and stochastic pad the input once and loop over the
``prod(kernel_size)`` kernel offsets, ``O(N * K)`` time and about two
output-sized arrays (median keeps a bounded stack). No loop runs over output
positions.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from math import prod
from typing import Iterator

import numpy as np

from ._checks import (check_flag, check_input, check_real, check_rng, float_dtype, is_int,
                      known_options, outer)
from .geometry import MAX_CELLS, _check_limits, normalize_tuple, plan_axes
from .separable import separable_reduce

__all__ = ["MODES", "INDEX_MODES", "pool_nd", "pool1d", "pool2d", "pool3d", "adaptive_pool2d",
           "adaptive_pool_nd", "global_pool2d", "adaptive_bins"]

#: Every pooling mode the core knows, in the order the UI lists them.
MODES = ("max", "avg", "sum", "min", "lp", "median", "stochastic")
#: The modes whose output is one chosen cell of the window (they have indices).
INDEX_MODES = ("max", "min", "median", "stochastic")
_MEDIAN_CHUNK = 4_000_000  # stacked window values per chunk (bounds median's memory)


def _check_mode(mode):
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose one of {', '.join(MODES)}")


@dataclass(frozen=True)
class PoolOptions:
    """A pooling call's arguments other than the input and the window geometry, checked
    and normalised (:meth:`check`): what :func:`pool_nd` and its backward pass reduce
    with."""

    mode: str
    return_indices: bool
    count_include_pad: bool | None
    divisor_override: int | None
    p: float
    rng: np.random.Generator | None
    pad_value: float | None
    training: bool

    @classmethod
    def check(cls, mode, *, return_indices, count_include_pad, divisor_override, p, rng,
              pad_value, training) -> "PoolOptions":
        """Raise ``ValueError`` naming the first argument that breaks a rule; else the
        options (``rng`` a Generator where stochastic pooling samples)."""
        _check_mode(mode)
        return_indices = check_flag(return_indices, "return_indices")
        if count_include_pad is not None:  # None: see for_padding
            count_include_pad = check_flag(count_include_pad, "count_include_pad")
        training = check_flag(training, "training")
        pad_value = check_real(pad_value, "pad_value", allow_none=True)
        if return_indices and mode not in INDEX_MODES:
            raise ValueError(
                f"return_indices=True needs a mode that picks one cell "
                f"({', '.join(INDEX_MODES)}), not mode={mode!r}"
            )
        if return_indices and mode == "stochastic" and not training:
            raise ValueError("return_indices=True with mode='stochastic' needs training=True: "
                             "at test time each window is a weighted average, not one cell")
        if divisor_override is not None:
            if mode != "avg":
                raise ValueError(f"divisor_override={divisor_override!r} applies to mode='avg' "
                                 f"only")
            if not is_int(divisor_override) or divisor_override <= 0:
                raise ValueError(f"divisor_override={divisor_override!r} must be a positive int")
        if mode == "lp":
            p = check_real(p, "p")
            if not (np.isfinite(p) and p > 0):
                raise ValueError(f"p={p!r} must be a positive, finite number for mode='lp'")
        if mode == "stochastic" and training:
            rng = check_rng(rng)
        return cls(mode, return_indices, count_include_pad, divisor_override, p, rng,
                   pad_value, training)

    def for_padding(self, padding_kind: str) -> "PoolOptions":
        """These options with ``count_include_pad=None`` read for the padding
        (:func:`_count_include_pad`)."""
        return replace(self, count_include_pad=_count_include_pad(
            self.count_include_pad, padding_kind, self.mode))

    def work(self, backward: bool = False) -> str | None:
        """What the call does with the windows, for the work limits of
        :func:`~pooling_core.geometry.plan_axes`: median sorts; stochastic, indices and
        the backward pass visit every tap; the rest reduce separably."""
        if self.mode == "median":
            return "median"
        if self.return_indices or backward or self.mode == "stochastic":
            return "scan"
        return None


def plan_pool(x, ndim: int, kernel_size, stride, padding, dilation, ceil_mode, *,
              ceil_clip, check_half_kernel, work) -> tuple:
    """The windows of pooling the last ``ndim`` axes of ``x``
    (:func:`~pooling_core.geometry.plan_axes`, counting every leading plane)."""
    return plan_axes(x.shape[x.ndim - ndim:], kernel_size, stride, padding, dilation,
                     ceil_mode, ceil_clip=ceil_clip, check_half_kernel=check_half_kernel,
                     planes=prod(x.shape[:x.ndim - ndim]), work=work)


def _extreme(dtype, mode: str):
    """The padding value that can never win a max (or a min)."""
    big = np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).max
    small = -np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).min
    return small if mode == "max" else big


def _pad(x, plans, value):
    """Pad the last ``len(plans)`` axes so every window's taps exist."""
    lead = x.ndim - len(plans)
    widths = [(0, 0)] * lead + [(p.pad_before, p.extra_after) for p in plans]
    if not any(w for pair in widths for w in pair):
        return x
    return np.pad(x, widths, mode="constant", constant_values=value)


def _offset_views(padded, plans) -> Iterator[tuple[int, tuple[int, ...], np.ndarray]]:
    """Yield ``(flat_offset, offset, view)`` for every kernel offset; ``view`` is output-shaped."""
    kernel = tuple(p.kernel for p in plans)
    lead = (slice(None),) * (padded.ndim - len(plans))
    for flat, offset in enumerate(np.ndindex(*kernel)):
        index = lead + tuple(
            slice(j * p.dilation, j * p.dilation + (p.out - 1) * p.stride + 1, p.stride)
            for j, p in zip(offset, plans)
        )
        yield flat, offset, padded[index]


def _flat_from_coords(coords, sizes):
    """Flat index into the unpadded plane from per-axis coordinates."""
    flat = 0
    for c, n in zip(coords, sizes):
        flat = flat * n + c
    return flat


def _indices(offset_id, plans):
    """Flat plane indices of the chosen taps (PyTorch's ``indices``).

    ``offset_id`` is ``-1`` where no tap beat the padding value: PyTorch then
    reports the first tap at a non-negative coordinate on every axis. A chosen
    tap in the padding (a ``pad_value`` that won) gives ``-1``. The index is
    linear in the coordinates, so it is the window's base index plus a small
    per-offset table, gathered once.
    """
    sizes = [p.n for p in plans]
    plane_strides = [prod(sizes[a + 1:]) for a in range(len(plans))]
    taps = np.array(list(np.ndindex(*(p.kernel for p in plans)))).reshape(-1, len(plans))
    delta = taps @ np.array([p.dilation * st for p, st in zip(plans, plane_strides)])
    chosen = np.maximum(offset_id, 0)
    flat = outer([p.starts * st for p, st in zip(plans, plane_strides)], np.add) + delta[chosen]
    none = offset_id < 0
    if none.any():
        first = outer([(p.starts + -(-np.maximum(0, -p.starts) // p.dilation) * p.dilation) * st
                        for p, st in zip(plans, plane_strides)], np.add)
        flat = np.where(none, first, flat)
    if any(p.pad_before or p.extra_after for p in plans):
        outside = np.zeros(offset_id.shape, dtype=bool)
        for axis, p in enumerate(plans):
            shape = [1] * len(plans)
            shape[axis] = p.out
            outside |= ~p.inside[np.arange(p.out).reshape(shape), taps[chosen, axis]]
        flat = np.where(outside & ~none, -1, flat)
    return np.broadcast_to(flat, offset_id.shape).astype(np.int64)


def _reduce_extreme(x, plans, mode, pad_value, return_indices):
    fill = _extreme(x.dtype, mode) if pad_value is None else pad_value
    if not return_indices:
        return separable_reduce(x, plans, mode, fill, x.dtype)
    padded = _pad(x, plans, fill)
    better = np.greater if mode == "max" else np.less
    out_shape = x.shape[: x.ndim - len(plans)] + tuple(p.out for p in plans)
    # start below every value, so a pad_value that takes part competes like a real cell
    best = np.full(out_shape, _extreme(padded.dtype, mode), dtype=padded.dtype)
    offset_id = np.full(out_shape, -1, dtype=np.int32)
    floating = np.issubdtype(padded.dtype, np.floating)
    for flat, _, view in _offset_views(padded, plans):
        update = better(view, best)
        if floating:
            update |= np.isnan(view)  # PyTorch: NaN wins, the last NaN's index is kept
        np.copyto(best, view, where=update)
        offset_id[update] = flat
    return best, _indices(offset_id, plans)


def _reduce_sum(x, plans, mode, pad_value, count_include_pad, divisor_override, p):
    """Window sums, averages and Lp norms, finished band by band.

    ``avg`` divides each window sum by its divisor (:meth:`AxisPlan.divisor`,
    or ``divisor_override``); ``lp`` is ``(K * avg(x**p)) ** (1/p)`` with ``K``
    the kernel's cell count, exactly as ``torch.nn.functional.lp_pool2d``.
    """
    out_dtype = float_dtype(x)
    fill = 0 if pad_value is None else pad_value
    power = p if mode == "lp" else None
    if mode == "sum":
        return separable_reduce(x, plans, "sum", fill, out_dtype)
    cells = prod(pl.kernel for pl in plans)
    vectors = [pl.divisor(count_include_pad) for pl in plans]
    if divisor_override is not None:
        vectors = None
    elif all(np.all(v == v[0]) for v in vectors):  # every window has the same divisor
        divisor_override, vectors = prod(int(v[0]) for v in vectors), None
    # lp of full windows: K * (sum / K) is the sum itself
    scale = not (mode == "lp" and vectors is None and divisor_override == cells)
    local = threading.local()  # separable_reduce may finish blocks in several threads

    def finish(block, rows):  # in place
        # one divisor block per row band; bands whose rows have the same divisors (all but
        # the edges, mostly) share it
        key = (block.dtype, None if vectors is None else vectors[0][rows].tobytes())
        if getattr(local, "key", None) != key:
            real, local.divisor = block.dtype, None  # the old block goes before the new comes
            local.key, local.divisor = key, np.asarray(divisor_override, dtype=real) \
                if vectors is None else outer([vectors[0][rows].astype(real)]
                                               + [v.astype(real) for v in vectors[1:]])
        if scale:
            np.divide(block, local.divisor, out=block)
        if mode == "lp":
            if scale:
                np.multiply(block, cells, out=block)
            if p == 2:
                np.sqrt(block, out=block)
            else:
                np.power(block, 1.0 / p, out=block)

    # a block of divisors per band when they differ from window to window
    divisor_bytes = 0 if vectors is None else max(np.dtype(out_dtype).itemsize, 4)
    return separable_reduce(x, plans, "sum", fill, out_dtype, power=power, finish=finish,
                            finish_bytes=divisor_bytes,
                            errstate=dict(invalid="ignore", divide="ignore"))  # 0/0: padding only


def _sorting_network(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sort comparators for ``n`` items (pruned from a power of 2).

    Comparators that touch a position ``>= n`` are dropped: those positions hold
    +inf sentinels that never move.

    >>> len(_sorting_network(4)), len(_sorting_network(9))
    (5, 28)
    """
    size = 1
    while size < n:
        size *= 2
    pairs = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    a, b = i + j, i + j + k
                    if a // (2 * p) == b // (2 * p) and b < n:
                        pairs.append((a, b))
            k //= 2
        p *= 2
    return pairs


def _reduce_median(x, plans, pad_value, return_indices):
    """Lower median of each window (an element of the window, like ``torch.median``).

    Padding takes part only when ``pad_value`` is given. NaN anywhere in a window
    gives NaN. The ``K`` window values are sorted by a sorting network of
    ``np.minimum``/``np.maximum`` over output-sized arrays (no per-window sort),
    a block of output rows at a time to bound memory.
    """
    nd = len(plans)
    lead = x.shape[: x.ndim - nd]
    out_shape = lead + tuple(p.out for p in plans)
    kernel_cells = prod(p.kernel for p in plans)
    padded = _pad(x, plans, _extreme(x.dtype, "min") if pad_value is None else pad_value)
    if pad_value is None:  # the sentinel sorts last, so the real cells come first
        count = np.broadcast_to(outer([p.inside.sum(1) for p in plans]), out_shape)
    else:
        count = np.full(out_shape, kernel_cells)
    kth = (count - 1) // 2
    views = [v for _, _, v in _offset_views(padded, plans)]
    network = _sorting_network(kernel_cells)
    values = np.empty(out_shape, dtype=padded.dtype)
    offsets = np.empty(out_shape, dtype=np.int32) if return_indices else None
    per_row = max(1, int(np.prod(out_shape)) // plans[0].out) * kernel_cells
    step = max(1, _MEDIAN_CHUNK // per_row)
    for r0 in range(0, plans[0].out, step):
        rows = (Ellipsis, slice(r0, r0 + step)) + (slice(None),) * (nd - 1)
        lanes = [np.array(v[rows]) for v in views]
        ids = [np.full(lanes[0].shape, k, dtype=np.int32) for k in range(kernel_cells)] \
            if return_indices else None
        for a, b in network:
            if return_indices:
                swap = lanes[b] < lanes[a]
                lanes[a], lanes[b] = np.where(swap, lanes[b], lanes[a]), np.where(swap, lanes[a], lanes[b])
                ids[a], ids[b] = np.where(swap, ids[b], ids[a]), np.where(swap, ids[a], ids[b])
            else:
                lanes[a], lanes[b] = np.minimum(lanes[a], lanes[b]), np.maximum(lanes[a], lanes[b])
        kth_rows = kth[rows]
        for k in np.unique(kth_rows):
            where = kth_rows == k
            np.copyto(values[rows], lanes[k], where=where)
            if return_indices:
                np.copyto(offsets[rows], ids[k], where=where)
        if np.issubdtype(values.dtype, np.floating) and return_indices:
            nan = np.zeros(lanes[0].shape, dtype=bool)
            for lane in lanes:
                nan |= np.isnan(lane)
            values[rows] = np.where(nan, np.nan, values[rows])
    if not return_indices:
        return values
    _name_real_cells(offsets, values, padded, plans, pad_value)
    return values, _indices(offsets, plans)


def _name_real_cells(offsets, values, padded, plans, pad_value):
    """Median indices name a real cell holding the median where one does.

    The network compares values only, so it may choose a padding tap that ties
    with a real cell (a real ``iinfo.max`` or ``+inf`` equals the padding
    sentinel), or any tap of a window holding NaN. There the index becomes the
    first real tap equal to the median (for NaN: the first real NaN), as
    ``torch.median`` names a NaN. Windows without such a cell keep their choice.
    """
    nan = np.isnan(values) if np.issubdtype(values.dtype, np.floating) else None
    padded_axes = any(p.pad_before or p.extra_after for p in plans)
    if (pad_value is not None or not padded_axes) and (nan is None or not nan.any()):
        return
    nd = len(plans)
    fix = np.zeros(offsets.shape, dtype=bool)
    if pad_value is None and padded_axes:
        taps = np.array(list(np.ndindex(*(p.kernel for p in plans)))).reshape(-1, nd)
        for axis, p in enumerate(plans):
            shape = [1] * nd
            shape[axis] = p.out
            fix |= ~p.inside[np.arange(p.out).reshape(shape), taps[offsets, axis]]
    if nan is not None:
        fix |= nan
    for flat, offset, view in _offset_views(padded, plans):
        if not fix.any():
            break
        inside = outer([p.inside[:, j] for p, j in zip(plans, offset)], np.logical_and)
        same = view == values
        if nan is not None:
            same |= np.isnan(view) & nan
        hit = fix & inside & same
        offsets[hit] = flat
        fix &= ~hit


def _reduce_stochastic(x, plans, rng, return_indices, training):
    """Caffe's stochastic pooling (Zeiler & Fergus 2013).

    Training: each window picks one cell with probability ``w_i / sum(w)``,
    ``w = max(x, 0)`` (the first real cell when every weight is 0).
    Evaluation (``training=False``): the probability-weighted average
    ``sum(w*x) / sum(w)`` (0 where ``sum(w) == 0``), Caffe's test-time rule.
    """
    lead = x.shape[: x.ndim - len(plans)]
    out_shape = lead + tuple(p.out for p in plans)
    padded = _pad(x, plans, 0)
    unsigned = np.issubdtype(x.dtype, np.unsignedinteger)
    kernel_cells = prod(p.kernel for p in plans)
    # uint8 images: running sums are exact small integers, so add and compare in uint16
    exact = unsigned and x.dtype.itemsize == 1 and kernel_cells * 255 < 2**16
    real = np.float32 if x.dtype.itemsize <= 2 or x.dtype == np.float32 else np.float64
    acc = np.uint16 if exact else real

    def weights():  # (flat, offset, view, w) per kernel offset
        for flat, offset, view in _offset_views(padded, plans):
            yield flat, offset, view, view if unsigned else np.maximum(view, 0)

    total = np.zeros(out_shape, dtype=acc)
    for _, _, _, w in weights():
        np.add(total, w, out=total, casting="unsafe")
    if not training:
        num = np.zeros(out_shape, dtype=np.float64)
        for _, _, v, w in weights():
            num += w.astype(np.float64) * v
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, num / np.where(total > 0, total, 1), 0.0)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    threshold = (1.0 - generator.random(out_shape, dtype=real)) * total  # u in (0, 1], as Caffe
    if exact:  # an integer sum is below t exactly when it is below ceil(t)
        threshold = np.ceil(threshold).astype(np.uint16)
    # The pick is the first tap whose running sum reaches the threshold: count the taps
    # before it. Padded taps weigh 0, so they are never the first to reach it.
    cumulative = np.zeros(out_shape, dtype=acc)
    before = np.zeros(out_shape, dtype=np.uint8 if kernel_cells < 256 else np.int32)
    for _, _, _, w in weights():
        np.add(cumulative, w, out=cumulative, casting="unsafe")
        np.add(before, cumulative < threshold, out=before, casting="unsafe")
    if not return_indices and all(p.inside.all() for p in plans):
        # no padding: offset 0 is the first real cell, and the picks gather without indices
        out = np.zeros(out_shape, dtype=x.dtype)
        for flat, _, view in _offset_views(padded, plans):
            np.copyto(out, view, where=before == flat)
        return out
    offset_id = before.astype(np.int32)
    offset_id[total <= 0] = -1  # all weights 0: Caffe takes the first (real) cell
    # windows of padding only pick nothing: 0, index -1 (the all-zero rule above would
    # name the first cell at a non-negative coordinate, which is not in such a window)
    idx = np.where(outer([p.inside.any(axis=1) for p in plans], np.logical_and),
                   _indices(offset_id, plans), -1)
    plane = prod(p.n for p in plans)
    inside = (idx >= 0) & (idx < plane)
    flat_x = x.reshape(-1, plane)
    picked = np.take_along_axis(
        flat_x, np.where(inside, idx, 0).reshape(flat_x.shape[0], prod(p.out for p in plans)),
        axis=1).reshape(out_shape)
    out = np.where(inside, picked, 0).astype(x.dtype, copy=False)
    return (out, idx) if return_indices else out


#: How ``padding`` given as a string reads: TensorFlow's and ONNX's names.
_NAMED_PADDINGS = ("same", "same_lower", "valid")


def _count_include_pad(value, padding_kind: str, mode: str) -> bool:
    """``count_include_pad`` with ``None`` (the default) read for this padding and mode.

    ``None`` means what the frameworks that name the padding do: an average
    counts the padding when it is given as numbers (PyTorch's
    ``count_include_pad=True``) and ignores it for ``'same'``, ``'same_lower'``
    and ``'valid'`` (TensorFlow, Keras, ONNX ``auto_pad``). For ``'lp'`` it is
    True whatever the padding: zero padding adds nothing to ``sum x**p``, so
    the whole-window divisor keeps the plain p-norm (ONNX's ``LpPool``) and
    rescales only PyTorch's ceil-mode edge windows. An explicit bool wins.

    >>> _count_include_pad(None, "symmetric", "avg"), _count_include_pad(None, "same", "avg")
    (True, False)
    >>> _count_include_pad(None, "same", "lp"), _count_include_pad(True, "same", "avg")
    (True, True)
    """
    if value is not None:
        return value
    return mode != "avg" or padding_kind not in _NAMED_PADDINGS


def pool_nd(x, ndim: int, kernel_size, stride=None, padding=0, dilation=1, mode="max",
            ceil_mode=False, count_include_pad=None, divisor_override=None, p=2.0,
            return_indices=False, rng=None, *, pad_value=None, ceil_clip=True,
            check_half_kernel=True, training=True, absolute=False):
    """Pool the last ``ndim`` axes of ``x``; :func:`pool2d` documents every parameter."""
    x = check_input(x, ndim, f"pool{ndim}d")
    ndim = int(ndim)
    opts = PoolOptions.check(mode, return_indices=return_indices,
                             count_include_pad=count_include_pad,
                             divisor_override=divisor_override, p=p, rng=rng,
                             pad_value=pad_value, training=training)
    plans = plan_pool(x, ndim, kernel_size, stride, padding, dilation, ceil_mode,
                      ceil_clip=ceil_clip, check_half_kernel=check_half_kernel,
                      work=opts.work())
    opts = opts.for_padding(plans[0].padding_kind)
    if _check_absolute(absolute, mode):
        x = np.abs(x)
    pad_value = opts.pad_value
    if not any(pl.pad_before or pl.extra_after for pl in plans):
        pad_value = None  # nothing is padded: the value takes no part
    if pad_value is not None and np.issubdtype(x.dtype, np.integer) \
            and not np.can_cast(np.min_scalar_type(pad_value), x.dtype):
        x = x.astype(np.float64)  # a pad_value the integer dtype cannot hold

    if mode in ("max", "min"):
        return _reduce_extreme(x, plans, mode, pad_value, opts.return_indices)
    if mode == "median":
        return _reduce_median(x, plans, pad_value, opts.return_indices)
    if mode == "stochastic":
        return _reduce_stochastic(x, plans, opts.rng, opts.return_indices, opts.training)
    return _reduce_sum(x, plans, mode, pad_value, opts.count_include_pad, opts.divisor_override,
                       opts.p)


_OPTIONS = ("pad_value", "ceil_clip", "check_half_kernel", "training", "absolute")


def _check_absolute(absolute, mode: str) -> bool:
    absolute = check_flag(absolute, "absolute")
    if absolute and mode != "lp":
        raise ValueError(f"absolute=True applies to mode='lp' only (the p-norm of |x|), "
                         f"not mode={mode!r}")
    return absolute


def _pool_options(options: dict, fn: str) -> dict:
    """The ``**options`` of ``pool1d``/``pool2d``/``pool3d``: only the known keywords."""
    return known_options(options, fn, _OPTIONS)


def pool1d(x, kernel_size, stride=None, padding=0, dilation=1, mode="max", ceil_mode=False,
           count_include_pad=None, divisor_override=None, p=2.0, return_indices=False,
           rng=None, **options):
    """Pool the last axis of ``x`` shaped ``(..., L)``; parameters as :func:`pool2d`.

    >>> pool1d(np.array([1, 5, 2, 4, 3]), 2).tolist()
    [5, 4]
    """
    return pool_nd(x, 1, kernel_size, stride, padding, dilation, mode, ceil_mode,
                   count_include_pad, divisor_override, p, return_indices, rng,
                   **_pool_options(options, "pool1d"))


def pool2d(x, kernel_size, stride=None, padding=0, dilation=1, mode="max", ceil_mode=False,
           count_include_pad=None, divisor_override=None, p=2.0, return_indices=False,
           rng=None, **options):
    r"""Pool the last two axes of ``x`` (PyTorch's ``max_pool2d``/``avg_pool2d`` and more).

    Output size per axis (``n`` input, ``k`` kernel, ``s`` stride, ``p`` padding,
    ``d`` dilation):

        out = floor((n + 2p - d*(k-1) - 1) / s) + 1

    In ceil mode ``floor`` becomes ``ceil``, but the last window must start
    inside the input or the left padding, or it is dropped.

    Parameters
    ----------
    x : array_like, shape ``(..., H, W)``
        Leading axes (batch, channels) are kept.
    kernel_size, stride, dilation : int or (int, int)
        ``stride=None`` means ``stride = kernel_size``.
    padding : int, (int, int), ((top, bottom), (left, right)), 'valid', 'same' or 'same_lower'
        Symmetric padding must be at most ``kernel_size // 2`` (PyTorch's rule).
        'same' and 'valid' follow TensorFlow: ``out = ceil(n / s)``, total
        padding ``max((out - 1)*s + d*(k - 1) + 1 - n, 0)``, the odd cell at the
        bottom/right; 'same_lower' is ONNX's ``SAME_LOWER`` (the odd cell at the
        top/left).
    mode : {'max', 'avg', 'sum', 'min', 'lp', 'median', 'stochastic'}
        Padding never wins: max pads with -inf, min with +inf, the others with 0.
        'lp' is ``(sum x**p) ** (1/p)`` (``torch.nn.LPPool2d``); 'median' the
        lower median of the real cells; 'stochastic' Caffe's sampling
        (see ``training``).
    ceil_mode : bool
    count_include_pad : bool or None
        Average divisor: True counts the cells from the window start to
        ``min(start + span, n + pad_after)`` (padding counted, overhang never),
        False the real cells only. None (the default) is what the frameworks
        do: True for numeric padding (PyTorch's default), False for 'same',
        'same_lower' and 'valid' (TensorFlow, Keras and ONNX ignore padded
        cells). 'lp' reads None as True (its p-norm of the window; see Notes).
    divisor_override : int, optional
        Fixed divisor for 'avg'.
    p : float
        The power of 'lp'.
    return_indices : bool
        Also return flat indices into each unpadded ``H*W`` plane of the chosen
        cell (modes max, min, median, stochastic), equal to PyTorch's for max;
        ``-1`` where a ``pad_value`` that takes part wins.
    rng : None, int or numpy.random.Generator
        Seeds 'stochastic'.
    **options
        ``pad_value`` (a constant that takes part in the reduction, like
        scikit-image's ``cval``), ``ceil_clip`` (apply the ceil-mode clip rule;
        Caffe does so only with padding), ``check_half_kernel`` (PyTorch's
        padding rule), ``training`` (False: stochastic returns Caffe's
        test-time probability-weighted average ``sum(w*x)/sum(w)``,
        ``w = max(x, 0)``), ``absolute`` ('lp' of ``|x|``, ONNX's ``LpPool``;
        PyTorch raises ``x`` itself to the power ``p``).

    Returns
    -------
    out : ndarray, shape ``(..., H_out, W_out)``
        Same dtype as ``x`` for max/min/median/stochastic, floating point otherwise.
    indices : ndarray of int64, same shape, only if ``return_indices``.

    Raises
    ------
    ValueError
        Naming the parameter, its value and the rule broken; or, before any
        work, the limit the call would pass and what to change
        (``MAX_CELLS``, ``MAX_WORK``, ``MAX_KERNEL_CELLS``,
        ``MAX_MEDIAN_KERNEL_CELLS``: see :mod:`pooling_core.geometry`).

    Notes
    -----
    Max, min, sum, avg and lp (without indices) cost ``O(N * (log2 kH + log2 kW))``
    for max/min and a few more passes for sums: separable passes over
    bands (:mod:`~pooling_core.separable`), extra memory the output plus small band
    buffers (bounded there; large inputs share their bands among threads).
    ``bench/bench_core.py`` times it against ``torch.nn.functional.max_pool2d`` on
    the CPU; docs/performance.md has the figures.
    With indices, and for median and stochastic, the cost is
    ``O(N * kH * kW)`` through ``kH * kW`` strided views of the padded input;
    median stacks the window values in bounded chunks.

    'lp' is ``(K * avg(x**p)) ** (1/p)`` with ``K = kH * kW`` and the average's
    divisor, as ``torch.nn.functional.lp_pool2d``: with whole-window divisors
    it is the plain p-norm ``(sum x**p) ** (1/p)`` (ONNX's ``LpPool`` with
    ``absolute=True``); only ceil-mode windows clipped at the border are
    rescaled (by ``K`` over their cells inside input + padding).

    Examples
    --------
    The classic example, 2x2 max pooling with stride 2:

    >>> x = np.array([[1, 3, 2, 1],
    ...               [4, 8, 5, 0],
    ...               [7, 1, 9, 2],
    ...               [0, 3, 4, 6]])
    >>> pool2d(x, 2)
    array([[8, 5],
           [7, 9]])
    >>> pool2d(x, 2, mode="avg")
    array([[4.  , 2.  ],
           [2.75, 5.25]])
    >>> out, idx = pool2d(x, 2, return_indices=True)
    >>> idx
    array([[ 5,  6],
           [ 8, 10]])

    Named padding averages the real cells only, as TensorFlow does
    (``tf.keras.layers.AveragePooling2D(2, 1, padding="same")`` on 1..9 pads
    one row and column at the end; the corner window holds 9 alone):

    >>> y = np.arange(1.0, 10.0).reshape(3, 3)
    >>> pool2d(y, 2, 1, padding="same", mode="avg")
    array([[3. , 4. , 4.5],
           [6. , 7. , 7.5],
           [7.5, 8.5, 9. ]])

    Numeric padding counts the padded zeros (PyTorch's ``count_include_pad=True``)
    unless told otherwise:

    >>> float(pool2d(y, 2, 1, padding=((0, 1), (0, 1)), mode="avg")[2, 2])
    2.25
    >>> float(pool2d(y, 2, 1, padding=((0, 1), (0, 1)), mode="avg", count_include_pad=False)[2, 2])
    9.0
    """
    return pool_nd(x, 2, kernel_size, stride, padding, dilation, mode, ceil_mode,
                   count_include_pad, divisor_override, p, return_indices, rng,
                   **_pool_options(options, "pool2d"))


def pool3d(x, kernel_size, stride=None, padding=0, dilation=1, mode="max", ceil_mode=False,
           count_include_pad=None, divisor_override=None, p=2.0, return_indices=False,
           rng=None, **options):
    """Pool the last three axes of ``x`` shaped ``(..., D, H, W)``; parameters as :func:`pool2d`.

    >>> pool3d(np.arange(8).reshape(2, 2, 2), 2).tolist()
    [[[7]]]
    """
    return pool_nd(x, 3, kernel_size, stride, padding, dilation, mode, ceil_mode,
                   count_include_pad, divisor_override, p, return_indices, rng,
                   **_pool_options(options, "pool3d"))


# ----------------------------------------------------------------------------- adaptive


def adaptive_bins(n: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive bins: ``start = floor(i*n/out)``, ``end = ceil((i+1)*n/out)``.

    >>> [a.tolist() for a in adaptive_bins(5, 3)]
    [[0, 1, 3], [2, 4, 5]]
    """
    for name, value in (("n", n), ("out", out)):
        if not is_int(value) or not 1 <= value <= MAX_CELLS:
            raise ValueError(f"{name}={value!r} must be an int from 1 to {MAX_CELLS:,} "
                             f"(MAX_CELLS)")
    i = np.arange(int(out))
    return (i * int(n)) // int(out), -(-((i + 1) * int(n)) // int(out))


def _adaptive_axis(a, axis: int, start, end, mode: str):
    """Reduce one axis of ``a`` over adaptive bins, one tap of every bin at a time.

    Max, min and sums are separable, so the axes are reduced one after another
    and the loop runs ``max(end - start)`` times per axis.
    """
    n = a.shape[axis]
    shape = [1] * a.ndim
    shape[axis] = -1
    acc = None
    for j in range(int((end - start).max())):
        vals = np.take(a, np.minimum(start + j, n - 1), axis=axis)
        if acc is None:  # every bin has a first tap
            acc = vals.astype(np.float64) if mode in ("sum", "avg") else vals
            continue
        valid = (start + j < end).reshape(shape)
        if mode in ("sum", "avg"):
            acc += np.where(valid, vals, 0)
        else:
            np.copyto(acc, (np.maximum if mode == "max" else np.minimum)(acc, vals), where=valid)
    return acc


def adaptive_pool_nd(x, ndim: int, output_size, mode="max", return_indices=False):
    """Adaptive pooling over the last ``ndim`` axes (``torch.nn.AdaptiveMaxPool2d`` etc.).

    Windows vary in size. Without indices the axes are reduced one at a time
    (shrinking axes first, so no intermediate is larger than the input or the
    output). With indices each axis gathers ``max(end - start)`` taps and masks
    the ones past its bin's end, one combination of taps at a time.
    """
    x = check_input(x, ndim, f"adaptive_pool{ndim}d")
    ndim = int(ndim)
    if not isinstance(mode, str) or mode not in ("max", "avg", "min", "sum"):
        raise ValueError(f"mode={mode!r} is not available adaptively; use max, avg, min or sum")
    return_indices = check_flag(return_indices, "return_indices")
    if return_indices and mode not in ("max", "min"):
        raise ValueError(f"return_indices=True needs mode 'max' or 'min', not {mode!r}")
    sizes = normalize_tuple(output_size, ndim, "output_size")
    spatial = x.shape[-ndim:]
    if max(sizes) > MAX_CELLS or max(spatial) > MAX_CELLS:
        raise ValueError(f"output_size={output_size!r} on spatial shape {spatial}: an axis "
                         f"longer than {MAX_CELLS:,} (MAX_CELLS); use a smaller size")
    lead = x.shape[: x.ndim - ndim]
    # a bin is at most ceil(n/o) + 1 cells wide (and at most n)
    widths = [min(n, -(-n // o) + 1) for n, o in zip(spatial, sizes)]
    order = sorted(range(ndim), key=lambda a: sizes[a] > spatial[a])  # shrink first
    shape, largest = list(spatial), prod(spatial)
    for a in order:
        shape[a] = sizes[a]
        largest = max(largest, prod(shape))
    _check_limits(f"output_size={output_size!r} on spatial shape {spatial}"
                  + (f" × {prod(lead)} planes" if lead else ""),
                  planes=prod(lead), out_shape=sizes, kernel_shape=widths,
                  frame_shape=(largest,), work="scan" if return_indices else None)
    bins = [adaptive_bins(n, o) for n, o in zip(spatial, sizes)]
    widths = [int((end - start).max()) for start, end in bins]
    if not return_indices:
        acc = x
        for a in order:
            acc = _adaptive_axis(acc, x.ndim - ndim + a, *bins[a], mode)
        if mode == "avg":
            acc = acc / outer([end - start for start, end in bins])
        return acc.astype(float_dtype(x), copy=False) if mode in ("sum", "avg") else acc
    taps, masks = [], []
    for n, (start, end), width in zip(spatial, bins, widths):
        t = start[:, None] + np.arange(width)[None, :]
        masks.append(t < end[:, None])
        taps.append(np.minimum(t, n - 1))
    out_shape = lead + sizes
    floating = np.issubdtype(x.dtype, np.floating)
    acc = np.full(out_shape, _extreme(x.dtype, mode), dtype=x.dtype)
    offset_id = np.full(out_shape, -1, dtype=np.int64)
    for flat, offset in enumerate(np.ndindex(*widths)):
        index = tuple(
            t[:, j].reshape([-1 if a == axis else 1 for a in range(ndim)])
            for axis, (t, j) in enumerate(zip(taps, offset))
        )
        vals = x[(Ellipsis,) + index]
        valid = outer([m[:, j] for m, j in zip(masks, offset)], np.logical_and)
        update = (np.greater if mode == "max" else np.less)(vals, acc)
        if floating:
            update |= np.isnan(vals)
        update &= valid
        if flat == 0:
            update |= valid
        np.copyto(acc, vals, where=update)
        flat_coords = _flat_from_coords(index, spatial)
        np.copyto(offset_id, np.broadcast_to(flat_coords, out_shape), where=update)
    return acc, offset_id


def adaptive_pool2d(x, output_size, mode="max", return_indices=False):
    """Pool ``(..., H, W)`` to a fixed ``output_size`` with PyTorch's bins.

    >>> adaptive_pool2d(np.arange(16).reshape(4, 4), 2).tolist()
    [[5, 7], [13, 15]]
    >>> adaptive_pool2d(np.arange(5.0).reshape(1, 5), (1, 3), mode="avg").tolist()
    [[0.5, 2.0, 3.5]]
    """
    return adaptive_pool_nd(x, 2, output_size, mode, return_indices)


def global_pool2d(x, mode="avg"):
    """Reduce each ``H x W`` plane to one value (global average / max pooling).

    Returns shape ``(..., 1, 1)``, like ``nn.AdaptiveAvgPool2d(1)``.

    >>> global_pool2d(np.arange(6.0).reshape(2, 3)).tolist()
    [[2.5]]
    """
    return adaptive_pool_nd(x, 2, 1, mode)
