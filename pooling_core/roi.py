"""Region-of-interest pooling: ROI pool (Fast R-CNN) and ROI align (Mask R-CNN).

A detector proposes boxes on a feature map; each box, whatever its size, is pooled to
a fixed ``output_size`` grid of bins. The rules are torchvision's (``roi_pool`` and
``roi_align``, ``torchvision/csrc/ops/cpu``), computed in the input's floating dtype
as there:

* **ROI pool** snaps the box to whole cells (``round(x1 * spatial_scale)``, half away
  from zero; at least one cell), splits it into bins ``floor(i * size / out) ..
  ceil((i + 1) * size / out)`` clipped to the map, and takes each bin's max (an empty
  bin gives 0).
* **ROI align** keeps the box's real coordinates (``aligned=True`` first shifts them
  by half a cell, so that cell centres sit at ``i + 0.5``), places ``grid x grid``
  sample points evenly inside each bin (``sampling_ratio``, or ``ceil(bin size)`` when
  it is ``-1``/``0``), reads each by bilinear interpolation (0 more than one cell
  outside the map) and averages them. ONNX's ``RoiAlign`` also has ``mode='max'``:
  per sample the largest of its four *weighted* corner values, then the largest
  over the samples (the ONNX definition, which onnxruntime follows).

Boxes are a batch: every box's bins, sample points and interpolation weights are
computed at once (:mod:`.roi_geometry`, which the pictures read too), and the cells a
box touches are copied into one crop per chunk of boxes. Bilinear weights are
separable, so ROI align is two small matrix products per box (rows, then columns);
ROI pool is a max along the columns, then the rows. Boxes are processed in chunks of
similar size and rows in bands, so no buffer holds more than ``CHUNK_CELLS`` cells.
The one loop over boxes copies each box's cells into its chunk's crop, a slice copy per
box (bounded by the number of boxes, a few microseconds of Python each), because
gathering the same cells by index costs many times more; every computation on the
crop runs on all the chunk's boxes at once.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_real_array, float_dtype
from .roi_geometry import (RoiAlignSamples, RoiPoolBins, _check_x, roi_align_samples,
                           roi_pool_bins)

__all__ = ["CHUNK_CELLS", "RoiPoolBins", "RoiAlignSamples", "roi_pool_bins",
           "roi_align_samples", "roi_pool", "roi_align", "roi_align_backward"]

#: Most cells one gathered crop (boxes x channels x rows x columns) may hold: 8 MiB of
#: float64, small enough that the allocator reuses the memory from band to band (fresh
#: pages cost more than the arithmetic on them).
CHUNK_CELLS = 1 << 20
_FLT_MAX = float(np.finfo(np.float32).max)  # torchvision's ROI pool starts every bin at -FLT_MAX
ALIGN_MODES = ("avg", "max")


# ----------------------------------------------------------------------------- the work


def _bilinear_taps(coord, n, dtype):
    """torchvision's ``bilinear_interpolate`` along one axis, for every sample.

    Returns ``(low, high, w_low, w_high, inside)``: the two cells each sample reads,
    their weights, and whether the sample counts (within one cell of the map; NaN
    coordinates, past a box's grid, do not).
    """
    t = dtype.type
    with np.errstate(invalid="ignore"):
        inside = (coord >= -1.0) & (coord <= n)
        c = np.where(inside, np.maximum(coord, t(0)), t(0))
    low = c.astype(np.int64)
    edge = low >= n - 1
    low = np.where(edge, n - 1, low)
    high = np.where(edge, n - 1, low + 1)
    c = np.where(edge, low.astype(dtype), c)
    frac = c - low.astype(dtype)
    return low, high, t(1) - frac, frac, inside


class _Axis(NamedTuple):
    """One axis of every box's work: the cells it reads, and per bin their weights."""

    cells: np.ndarray   # (K, R) int: the box's cells, ascending (padded by repeating the last)
    count: np.ndarray   # (K,) int: how many of ``cells`` are real
    lo: np.ndarray      # (K, P) int: each bin's first entry in ``cells``
    width: np.ndarray   # (K, P) int: entries per bin (contiguous from lo)
    weight: np.ndarray  # (K, P, R): summed bilinear weights (avg), or None
    top: np.ndarray     # (K, P, R): largest weight of a tap on each cell (max mode), or None
    bottom: np.ndarray  # (K, P, R): smallest weight of a tap on each cell (max mode), or None


def _compact(taps, weights, valid, dense_sum, extremes):
    """The distinct cells of each box's taps, and each bin's weights over them.

    ``taps, weights, valid`` are ``(K, P, T)``: the cell, weight and validity of every tap
    of every bin. Taps of one bin are ascending and bins follow each other, so each bin's
    cells are a contiguous run of the box's sorted distinct cells.
    """
    k, p, t = taps.shape
    big = np.iinfo(np.int64).max
    flat = np.where(valid, taps, big).reshape(k, p * t)
    order = np.argsort(flat, axis=1, kind="stable")
    ranked = np.take_along_axis(flat, order, axis=1)
    new = np.ones(ranked.shape, dtype=bool)
    new[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    new &= ranked != big
    rank = np.cumsum(new, axis=1) - 1
    count = new.sum(axis=1)
    r = max(int(count.max(initial=0)), 1)
    cells = np.zeros((k, r), dtype=np.int64)
    rows_k = np.broadcast_to(np.arange(k)[:, None], new.shape)
    cells[rows_k[new], rank[new]] = ranked[new]
    last = np.take_along_axis(cells, np.maximum(count - 1, 0)[:, None], axis=1)
    cells = np.where(np.arange(r)[None, :] < count[:, None], cells, last)
    position = np.empty_like(rank)
    np.put_along_axis(position, order, rank, axis=1)
    position = np.where(valid.reshape(k, -1), position, -1).reshape(k, p, t)
    any_tap = valid.any(axis=2)
    lo = np.where(any_tap, np.where(valid, position, r).min(axis=2, initial=r), 0)
    width = np.where(any_tap, position.max(axis=2, initial=-1) - lo + 1, 0)
    bins = (np.arange(k)[:, None, None] * p + np.arange(p)[None, :, None]) * r
    index = (bins + np.maximum(position, 0))[valid]
    weight = top = bottom = None
    if dense_sum:
        weight = np.bincount(index, weights=weights[valid].astype(np.float64),
                             minlength=k * p * r).reshape(k, p, r).astype(weights.dtype)
    if extremes:
        top = np.full(k * p * r, -np.inf, dtype=weights.dtype)
        np.maximum.at(top, index, weights[valid])
        bottom = np.full(k * p * r, np.inf, dtype=weights.dtype)
        np.minimum.at(bottom, index, weights[valid])
        top, bottom = top.reshape(k, p, r), bottom.reshape(k, p, r)
    return _Axis(cells, count, lo, width, weight, top, bottom)


def _align_axes(samples, shape, dtype, mode):
    """The row and column :class:`_Axis` of ROI align, and which bins sample outside."""
    axes, outside = [], []
    for coord, n in ((samples.y, shape[2]), (samples.x, shape[3])):
        low, high, w_low, w_high, inside = _bilinear_taps(coord, n, dtype)
        real = ~np.isnan(coord)
        taps = np.concatenate([low, high], axis=2)
        weights = np.concatenate([w_low, w_high], axis=2)
        valid = np.concatenate([inside, inside], axis=2)
        axes.append(_compact(taps, weights, valid, mode == "avg", mode == "max"))
        outside.append((real & ~inside).any(axis=2))
    return axes, outside


def _chunks(rows: _Axis, cols: _Axis, channels: int):
    """``(boxes, r0, r1, height)``: boxes of similar size together, and bands of rows (the
    chunk has ``height`` rows), so that one gathered crop holds at most ``CHUNK_CELLS``
    cells. Loops over chunks and bands only: a chunk holds every box that fits."""
    area = rows.count * cols.count
    order = np.argsort(area, kind="stable")
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and (stop + 1 - start) * channels * rows.count[order[stop]] \
                * cols.count[order[stop]] <= CHUNK_CELLS:
            stop += 1
        boxes = order[start:stop]
        height = max(int(rows.count[boxes].max()), 1)
        band = max(1, CHUNK_CELLS // max(1, len(boxes) * channels * _width(cols, boxes)))
        for r0 in range(0, height, band):
            yield boxes, r0, min(height, r0 + band), height
        start = stop


def _width(axis: _Axis, boxes) -> int:
    """Entries of ``axis`` the chunk's boxes use (at least one: a box sampled only
    outside the map reads none, and its crop holds one cell of weight 0)."""
    return max(int(axis.count[boxes].max()), 1)


def _crop(x, batch, rows, cols, boxes, r0, r1, dtype):
    """``x[batch, :, rows, cols]`` of the chunk's boxes as a contiguous ``dtype`` array of
    shape ``(k, C, r1 - r0, R_w)``; entries past a box's own cells are 0.

    Boxes whose cells are contiguous (ROI pool's always; ROI align's unless its samples
    skip cells) are copied as slices, one copy per box: gathering the same cells by
    index costs many times more (``docs/performance.md``). The loop is bounded by the
    number of boxes and does a few microseconds of Python per box; everything computed
    on the crop is vectorized over the chunk's boxes.
    """
    width = _width(cols, boxes)
    r, c = rows.cells[boxes, r0:r1], cols.cells[boxes, :width]
    n_r = np.clip(rows.count[boxes] - r0, 0, r1 - r0)
    n_c = cols.count[boxes]
    last_r = np.take_along_axis(r, np.maximum(n_r - 1, 0)[:, None], axis=1)[:, 0]
    last_c = np.take_along_axis(c, np.maximum(n_c - 1, 0)[:, None], axis=1)[:, 0]
    if np.all((last_r - r[:, 0] == np.maximum(n_r - 1, 0)) & (last_c - c[:, 0] == np.maximum(n_c - 1, 0))):
        if len(boxes) == 1 and n_r[0] == r1 - r0 and n_c[0] == width:
            b, y, x0 = batch[boxes[0]], r[0, 0], c[0, 0]
            return np.ascontiguousarray(x[b:b + 1, :, y:y + n_r[0], x0:x0 + width], dtype=dtype)
        crop = np.zeros((len(boxes), x.shape[1], r1 - r0, width), dtype=dtype)
        for i, (b, y, x0, h, w) in enumerate(zip(batch[boxes].tolist(), r[:, 0].tolist(),
                                                 c[:, 0].tolist(), n_r.tolist(), n_c.tolist())):
            crop[i, :, :h, :w] = x[b, :, y:y + h, x0:x0 + w]
        return crop
    channels = np.arange(x.shape[1])[None, :, None, None]
    crop = x[batch[boxes][:, None, None, None], channels, r[:, None, :, None], c[:, None, None, :]]
    real = (np.arange(r1 - r0)[None, :, None] < n_r[:, None, None]) \
        & (np.arange(width)[None, None, :] < n_c[:, None, None])
    return np.where(real[:, None], crop, 0).astype(dtype, copy=False)


def _bin_max(a, axis, lo, width, weight=None, init=-np.inf):
    """Max over each bin's run of entries of ``a`` along ``axis`` (2 or 3), times the
    entry's weight if given (NaN never wins); ``lo, width`` are ``(k, P)`` and ``weight``
    ``(k, P, entries)``. The result has ``P`` entries on ``axis``.

    One box: a loop over its bins, each a reduction of a slice. Several: one
    ``np.fmax.reduceat`` over all their bins, or, with weights, a loop over the offsets
    within the widest bin, every box's bins at once.
    """
    k, p = lo.shape
    if k == 1:
        parts = []
        for j, (start, size) in enumerate(zip(lo[0].tolist(), width[0].tolist())):
            run = [slice(None)] * a.ndim
            run[axis] = slice(start, start + size)
            vals = a[tuple(run)]
            if weight is not None:
                shape = [1] * a.ndim
                shape[axis] = size
                vals = vals * weight[0, j, start:start + size].reshape(shape)
            parts.append(np.fmax.reduce(vals, axis=axis, initial=init, keepdims=True))
        return np.concatenate(parts, axis=axis).astype(a.dtype, copy=False)
    if weight is None:  # one reduceat over the boxes' runs laid end to end
        moved = np.moveaxis(a, (0, axis), (-2, -1))
        n = moved.shape[-1]
        flat = np.concatenate([moved.reshape(moved.shape[:-2] + (k * n,)),
                               np.full(moved.shape[:-2] + (1,), init, a.dtype)], axis=-1)
        starts = np.arange(k)[:, None] * n + lo
        edges = np.stack([starts, starts + width], axis=-1).reshape(-1)
        runs = np.fmax.reduceat(flat, edges, axis=-1)[..., ::2]  # [start, end) of each bin
        runs = np.fmax(np.where(width.reshape(-1) > 0, runs, init), init)
        return np.moveaxis(runs.reshape(moved.shape[:-2] + (k, p)), (-2, -1), (0, axis))
    shape = [k, 1, 1, 1]
    shape[axis] = p
    lo, width = lo.reshape(shape), width.reshape(shape)
    n = a.shape[axis]
    out_shape = list(a.shape)
    out_shape[axis] = p
    out = np.full(out_shape, init, a.dtype)
    for j in range(int(width.max(initial=0))):
        vals = np.take_along_axis(a, np.minimum(lo + j, n - 1), axis=axis)
        if weight is not None:
            vals = vals * np.take_along_axis(weight, np.minimum(lo + j, weight.shape[2] - 1)
                                             .reshape(k, p, 1), axis=2).reshape(shape)
        np.fmax(out, np.where(j < width, vals, -np.inf), out=out)
    return out


def _two_stage(x, batch, rows, cols, out_shape, dtype, along_cols, along_rows):
    """Reduce every chunk's crop along its columns (``along_cols(crop, boxes)``, band by
    band), then along its rows (``along_rows(buffer, boxes)``)."""
    out = np.zeros(out_shape, dtype=dtype)
    if not len(batch):
        return out
    buffer = None
    for boxes, r0, r1, height in _chunks(rows, cols, x.shape[1]):
        crop = _crop(x, batch, rows, cols, boxes, r0, r1, dtype)
        part = along_cols(crop, boxes)
        if r0 == 0:
            buffer = np.empty(part.shape[:2] + (height,) + part.shape[3:], dtype=part.dtype)
        buffer[:, :, r0:r1] = part
        if r1 == height:
            out[boxes] = along_rows(buffer, boxes)
    return out


def _pool_axes(bins, shape):
    axes = []
    for span, n in ((bins.rows, shape[2]), (bins.cols, shape[3])):
        first, last = span[:, :, 0].min(axis=1), span[:, :, 1].max(axis=1)
        count = np.maximum(last - first, 0)
        r = max(int(count.max(initial=0)), 1)
        cells = np.clip(first[:, None] + np.arange(r)[None, :], 0, n - 1)
        width = np.maximum(span[:, :, 1] - span[:, :, 0], 0)
        axes.append(_Axis(cells, count, span[:, :, 0] - first[:, None], width, None, None, None))
    return axes


def roi_pool(x, boxes, output_size, spatial_scale=1.0):
    r"""ROI pooling (Girshick 2015): each box snapped to cells, split into bins, max per bin.

    ``torchvision.ops.roi_pool(x, boxes, output_size, spatial_scale)``; ONNX
    ``MaxRoiPool(pooled_shape=output_size, spatial_scale=...)``.

    Parameters
    ----------
    x : array_like, shape ``(N, C, H, W)``
    boxes : array_like, shape ``(K, 5)``, or a list of ``(L_i, 4)`` arrays (one per image)
        Rows ``[batch_index, x1, y1, x2, y2]`` in image coordinates (``x`` is the
        column). Each box must overlap the map after scaling; parts outside are clipped.
    output_size : int or (int, int)
        Bins per box, ``(out_h, out_w)``.
    spatial_scale : float
        Feature-map cells per image pixel (1/16 for a stride-16 backbone).

    Returns
    -------
    ndarray, shape ``(K, C, out_h, out_w)``
        float64 for integer input, else ``x``'s dtype.

    Raises
    ------
    ValueError
        ``x`` not 4-D; ``boxes`` not ``(K, 5)``, a batch index that is not an image of
        ``x``, ``x2 < x1`` or ``y2 < y1``, or a box outside the map; ``output_size``
        or ``spatial_scale`` not positive.

    Notes
    -----
    Bins are snapped with :func:`roi_pool_bins`. A bin's max starts at ``-FLT_MAX``, as
    torchvision's (so ``-inf`` cells give ``-3.4e38``, and NaN never wins); an empty
    bin gives 0. Cost: one gather of each box's cells, then one pass per column and
    per row of the largest bin, ``O(C * box area)`` per box. onnxruntime's
    ``MaxRoiPool`` differs only with NaN: it keeps a NaN until the next cell of the
    bin replaces it, so a bin whose last cell is NaN gives NaN there.

    Examples
    --------
    >>> x = np.arange(25.).reshape(1, 1, 5, 5)
    >>> roi_pool(x, [[0, 0.5, 0.5, 3.2, 3.7]], 2)[0, 0]      # bins of roi_pool_bins
    array([[12., 13.],
           [22., 23.]])
    >>> roi_pool(x, [[0, 0, 0, 8, 8]], 1, spatial_scale=0.5)[0, 0]   # cells 0..4 of 5
    array([[24.]])
    """
    x = _check_x(x, "roi_pool")
    dtype = np.dtype(float_dtype(x))
    bins = roi_pool_bins(x.shape, boxes, output_size, spatial_scale, dtype=dtype)
    rows, cols = _pool_axes(bins, x.shape)
    k, (ph, pw) = len(bins.batch), bins.empty.shape[1:]
    init = dtype.type(-_FLT_MAX)
    out = _two_stage(x, bins.batch, rows, cols, (k, x.shape[1], ph, pw), dtype,
                     lambda crop, b: _bin_max(crop, 3, cols.lo[b], cols.width[b], init=init),
                     lambda buf, b: _bin_max(buf, 2, rows.lo[b], rows.width[b], init=init))
    return np.where(bins.empty[:, None], dtype.type(0), out)


def _align_setup(x, boxes, output_size, spatial_scale, sampling_ratio, aligned, mode, fn):
    x = _check_x(x, fn)
    if not isinstance(mode, str) or mode not in ALIGN_MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose 'avg' (torchvision, ONNX's default) "
                         f"or 'max' (ONNX only)")
    dtype = np.dtype(float_dtype(x))
    samples = roi_align_samples(x.shape, boxes, output_size, spatial_scale, sampling_ratio,
                                aligned, dtype=dtype)
    (rows, cols), outside = _align_axes(samples, x.shape, dtype, mode)
    count = np.maximum(samples.grid.prod(axis=1), 1).astype(dtype)
    return x, dtype, samples, rows, cols, outside, count


def roi_align(x, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False, *,
              mode="avg"):
    r"""ROI align (He et al. 2017): each box's bins sampled by bilinear interpolation.

    ``torchvision.ops.roi_align(x, boxes, output_size, spatial_scale, sampling_ratio,
    aligned)``; ONNX ``RoiAlign`` (opset 16) with ``coordinate_transformation_mode``
    ``'half_pixel'`` for ``aligned=True``, ``'output_half_pixel'`` for ``False``, and
    ``sampling_ratio`` 0 for -1.

    Parameters
    ----------
    x, boxes, output_size, spatial_scale
        As :func:`roi_pool`.
    sampling_ratio : int
        Sample points per bin along each axis; ``-1`` (or ONNX's ``0``) means
        ``ceil(bin size)``, box by box.
    aligned : bool
        Shift the box by half a cell first, so that the sample at a cell's centre
        reads exactly that cell (Detectron2's fix; ``False`` is the original rule,
        which also makes every box at least 1x1).
    mode : {'avg', 'max'}, keyword-only
        ``'avg'`` averages the samples (torchvision, ONNX's default). ``'max'`` is
        ONNX's: the largest over the samples of ``max(w1*v1, w2*v2, w3*v3, w4*v4)``,
        the four corner values times their bilinear weights (not the largest
        interpolated value; onnxruntime computes the same).

    Returns
    -------
    ndarray, shape ``(K, C, out_h, out_w)``
        float64 for integer input, else ``x``'s dtype.

    Raises
    ------
    ValueError
        As :func:`roi_pool`; also ``sampling_ratio`` below -1, or an unknown ``mode``.

    Notes
    -----
    The sample points are :func:`roi_align_samples`'. Bilinear weights are separable,
    so for ``'avg'`` each box is two small matrix products over the rows and columns
    its samples touch: ``O(C * touched rows * touched columns * out)`` per box. For
    ``'max'`` (``w*v`` is largest at a corner's largest weight when ``v >= 0`` and at
    its smallest when ``v < 0``) one pass per touched column and row of the largest
    bin, ``O(C * box area)``. An inf or NaN among the cells a box touches makes every
    bin of that box NaN for ``'avg'`` (the products meet it with weight 0); torchvision
    spreads it only to the bins that sample it.

    Examples
    --------
    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> roi_align(x, [[0, 0, 0, 2, 2]], 1, sampling_ratio=1)          # one sample at (1, 1)
    array([[[[5.]]]])
    >>> roi_align(x, [[0, 0, 0, 2, 2]], 1, sampling_ratio=1, aligned=True)   # at (0.5, 0.5)
    array([[[[2.5]]]])
    >>> roi_align(x, [[0, 0, 0, 2, 2]], 2, aligned=True)[0, 0]        # 2x2 bins, 1 sample each
    array([[0., 1.],
           [4., 5.]])
    """
    x, dtype, samples, rows, cols, outside, count = _align_setup(
        x, boxes, output_size, spatial_scale, sampling_ratio, aligned, mode, "roi_align")
    k, ph, pw = len(samples.batch), samples.y.shape[1], samples.x.shape[1]
    shape = (k, x.shape[1], ph, pw)
    if mode == "avg":
        def along_cols(crop, b):  # one (C * rows, cols) @ (cols, out_w) product per box
            n, c, r, w = crop.shape
            return (crop.reshape(n, c * r, w) @ cols.weight[b][:, :, :w].swapaxes(1, 2)) \
                .reshape(n, c, r, -1)

        out = _two_stage(x, samples.batch, rows, cols, shape, dtype, along_cols,
                         lambda buf, b: rows.weight[b][:, None, :, :buf.shape[2]] @ buf)
        return out / count[:, None, None, None]
    def part(sign):  # w*v is largest at a cell's largest weight if v >= 0, else its least
        wx, wy = (cols.top, rows.top) if sign > 0 else (cols.bottom, rows.bottom)
        keep = np.greater_equal if sign > 0 else np.less

        def along_cols(crop, b):
            if not (sign > 0 and np.issubdtype(x.dtype, np.unsignedinteger)):
                crop = np.where(keep(crop, 0), crop, -np.inf)
            with np.errstate(invalid="ignore"):  # -inf * 0: NaN, which never wins
                return _bin_max(crop, 3, cols.lo[b], cols.width[b], wx[b])

        def along_rows(buf, b):
            with np.errstate(invalid="ignore"):
                return _bin_max(buf, 2, rows.lo[b], rows.width[b], wy[b])
        return _two_stage(x, samples.batch, rows, cols, shape, dtype, along_cols, along_rows)

    out = part(+1)
    if (out == -np.inf).any():  # bins of negative values only: their own pass
        out = np.fmax(out, part(-1))
    tapped = (rows.width > 0)[:, :, None] & (cols.width > 0)[:, None, :]
    zero = outside[0][:, :, None] | outside[1][:, None, :] | ~tapped  # samples reading 0
    out = np.where(zero[:, None], np.fmax(out, dtype.type(0)), out)
    return np.where(tapped[:, None], out, dtype.type(0))


def roi_align_backward(grad_output, x, boxes, output_size, spatial_scale=1.0,
                       sampling_ratio=-1, aligned=False):
    """Gradient of :func:`roi_align` (``mode='avg'``) with respect to ``x``.

    Each bin's gradient, divided by its sample count, goes to the four cells of
    every sample point with their bilinear weights (torchvision's
    ``roi_align_backward``); overlapping boxes add up.

    Parameters
    ----------
    grad_output : array_like, shape ``(K, C, out_h, out_w)``
    x, boxes, output_size, spatial_scale, sampling_ratio, aligned
        As :func:`roi_align`.

    Returns
    -------
    ndarray of float64, shape of ``x``.

    Raises
    ------
    ValueError
        As :func:`roi_align`, or a ``grad_output`` not shaped like its output.

    Notes
    -----
    The forward's two matrix products transposed, per chunk of boxes, then one
    scatter-add (``np.add.at``) of each box's touched cells.

    Examples
    --------
    >>> roi_align_backward(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 3, 3)), [[0, 0, 0, 1, 1]],
    ...                    1, sampling_ratio=1, aligned=True)[0, 0]
    array([[1., 0., 0.],
           [0., 0., 0.],
           [0., 0., 0.]])
    """
    x, _, samples, rows, cols, _, count = _align_setup(
        x, boxes, output_size, spatial_scale, sampling_ratio, aligned, "avg",
        "roi_align_backward")
    shape = (len(samples.batch), x.shape[1], samples.y.shape[1], samples.x.shape[1])
    g = as_real_array(grad_output, "grad_output").astype(np.float64)
    if g.shape != shape:
        raise ValueError(f"grad_output has shape {g.shape}; roi_align's output has shape {shape}")
    g = g / count[:, None, None, None]
    grad = np.zeros(x.shape)
    channels = np.arange(x.shape[1])[None, :, None, None]
    for boxes_, r0, r1, height in _chunks(rows, cols, x.shape[1]):
        if r0 == 0:  # the rows' product transposed: (k, C, rows, out_w)
            buffer = rows.weight[boxes_][:, None, :, :height].swapaxes(2, 3) \
                .astype(np.float64) @ g[boxes_]
        width = _width(cols, boxes_)
        band = np.ascontiguousarray(buffer[:, :, r0:r1])
        n, c, r, _ = band.shape
        part = (band.reshape(n, c * r, -1) @ cols.weight[boxes_][:, :, :width]
                .astype(np.float64)).reshape(n, c, r, width)
        index = (samples.batch[boxes_][:, None, None, None], channels,
                 rows.cells[boxes_, r0:r1][:, None, :, None],
                 cols.cells[boxes_, :width][:, None, None, :])
        np.add.at(grad, index, part)  # repeated cells of padded entries add 0
    return grad
