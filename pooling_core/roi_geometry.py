"""Where ROI pool's bins and ROI align's sample points fall: torchvision's rules.

Validates the boxes and places, for every box at once, ROI pool's snapped bins
(:func:`roi_pool_bins`) and ROI align's sample points (:func:`roi_align_samples`),
computed in the input's floating dtype, as torchvision does (its CPU kernels
``roi_pool_kernel.cpp`` and ``roi_align_common.h``). :mod:`.roi` pools with them; a
picture of the bins or samples reads the same arrays.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_real_array, check_flag, check_real, check_shape
from .geometry import MAX_AXES, MAX_CELLS, normalize_tuple

__all__ = ["MAX_SAMPLES", "RoiPoolBins", "RoiAlignSamples", "roi_pool_bins",
           "roi_align_samples"]

#: Most sample rows and columns ROI align places (boxes x (out_h x grid_h + out_w x grid_w)):
#: a whole 12-megapixel image at 7 x 7 with sampling_ratio -1 takes 7,000.
MAX_SAMPLES = 16_000_000


# ----------------------------------------------------------------------------- arguments


def _check_x(x, fn):
    x = as_real_array(x, "x")
    if x.ndim != 4:
        raise ValueError(f"{fn} takes x shaped (N, C, H, W), as torchvision; got shape {x.shape}")
    if min(x.shape[2:]) < 1:
        raise ValueError(f"x has shape {x.shape}; the feature map needs at least one cell")
    return x


def _is_table(value) -> bool:
    """A 2-D array-like (one image's boxes in torchvision's list form)."""
    try:
        return np.ndim(value) == 2
    except (TypeError, ValueError):  # ragged
        return False


def _check_boxes(boxes, input_shape, spatial_scale, dtype):
    """``boxes`` as a ``(K, 5)`` array in ``dtype``; ``input_shape`` is ``(N, C, H, W)``."""
    n, _, h, w = input_shape
    if isinstance(boxes, (list, tuple)) and boxes and all(_is_table(b) for b in boxes):
        parts = [as_real_array(b, "boxes").astype(np.float64) for b in boxes]  # List[Tensor[L, 4]]
        if any(p.shape[1:] != (4,) for p in parts):
            raise ValueError("boxes given as a list need one (L, 4) array [x1, y1, x2, y2] per "
                             "image")
        boxes = np.concatenate([np.column_stack([np.full(len(p), i), p])
                                for i, p in enumerate(parts)])
    try:
        b = as_real_array(boxes, "boxes").astype(np.float64)
    except ValueError:
        raise ValueError("boxes must be an array of numbers shaped (K, 5)") from None
    if b.ndim != 2 or b.shape[1] != 5:
        raise ValueError(f"boxes has shape {b.shape}; give (K, 5) rows [batch_index, x1, y1, "
                         f"x2, y2], as torchvision")
    if not np.isfinite(b).all():
        raise ValueError("boxes must be finite numbers")
    bad = (b[:, 0] != np.round(b[:, 0])) | (b[:, 0] < 0) | (b[:, 0] >= n)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"boxes[{k}] has batch index {b[k, 0]:g}; it must be an int from 0 to "
                         f"{n - 1} (x has {n} images)")
    for k0, k1, name in ((1, 3, "x"), (2, 4, "y")):
        bad = b[:, k1] < b[:, k0]
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(f"boxes[{k}] = {b[k, 1:].tolist()} has {name}2 < {name}1; give "
                             f"[x1, y1, x2, y2] with x1 <= x2 and y1 <= y2")
    scaled = b[:, 1:] * spatial_scale
    outside = (scaled[:, 2] < 0) | (scaled[:, 3] < 0) | (scaled[:, 0] > w) | (scaled[:, 1] > h)
    if outside.any():
        k = int(np.argmax(outside))
        raise ValueError(f"boxes[{k}] = {b[k, 1:].tolist()} times spatial_scale={spatial_scale} "
                         f"lies outside the {h}x{w} feature map ([0, {w}] x [0, {h}]); a box "
                         f"must overlap it (parts outside are clipped, as torchvision does)")
    return b.astype(dtype)


def _input_shape(input_shape) -> tuple[int, int, int, int]:
    shape = check_shape(input_shape, "input_shape", MAX_AXES)
    if len(shape) != 4 or min(shape) < 0 or min(shape[2:]) < 1 or max(shape) > MAX_CELLS:
        raise ValueError(f"input_shape={input_shape!r} must be (N, C, H, W), H and W positive "
                         f"and none above MAX_CELLS ({MAX_CELLS:,})")
    return shape


def _check_common(input_shape, boxes, output_size, spatial_scale, dtype):
    spatial_scale = float(check_real(spatial_scale, "spatial_scale"))
    if not (np.isfinite(spatial_scale) and spatial_scale > 0):
        raise ValueError(f"spatial_scale={spatial_scale!r} must be positive and finite (the "
                         f"feature map's size over the image's, e.g. 1/16)")
    size = normalize_tuple(output_size, 2, "output_size")
    if max(size) > 4096:
        raise ValueError(f"output_size={output_size!r} has more than 4096 bins per axis; "
                         f"detectors use 7x7 or 14x14")
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ValueError(f"dtype={dtype!r} is not a NumPy dtype; give the input's, e.g. "
                         f"np.float32") from None
    dtype = dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)
    b = _check_boxes(boxes, input_shape, spatial_scale, dtype)
    return b, size, dtype.type(spatial_scale), dtype


def _round_half_away(v):
    """C's ``round``: halves away from zero (``np.round`` rounds them to even)."""
    whole = np.trunc(v)
    return (whole + np.sign(v) * (np.abs(v - whole) >= 0.5)).astype(np.int64)


# ----------------------------------------------------------------------------- geometry


class RoiPoolBins(NamedTuple):
    """ROI pool's snapped bins, for every box.

    batch : int64 ``(K,)``, the image each box reads.
    rows : int64 ``(K, out_h, 2)``, each bin's ``[start, end)`` rows, clipped to the map.
    cols : int64 ``(K, out_w, 2)``, likewise for the columns.
    empty : bool ``(K, out_h, out_w)``, the bin holds no cell (its output is 0).
    """

    batch: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    empty: np.ndarray


def roi_pool_bins(input_shape, boxes, output_size, spatial_scale=1.0, *,
                  dtype=np.float32) -> RoiPoolBins:
    """Where ROI pool's bins fall on a feature map of shape ``(N, C, H, W)``.

    Parameters
    ----------
    input_shape : (N, C, H, W)
    boxes, output_size, spatial_scale : as :func:`roi_pool`.
    dtype : the arithmetic's precision (torchvision uses the input's; float32 for
        most models).

    Returns
    -------
    RoiPoolBins

    Raises
    ------
    ValueError
        As :func:`~pooling_core.roi_pool`.

    Notes
    -----
    ``O(K * (out_h + out_w))``, every box at once.

    Examples
    --------
    A box from (0.5, 0.5) to (3.2, 3.7) snaps to columns 1..3 and rows 1..4:

    >>> bins = roi_pool_bins((1, 1, 5, 5), [[0, 0.5, 0.5, 3.2, 3.7]], 2)
    >>> bins.rows[0].tolist(), bins.cols[0].tolist()
    ([[1, 3], [3, 5]], [[1, 3], [2, 4]])
    """
    shape = _input_shape(input_shape)
    b, (ph, pw), scale, dtype = _check_common(shape, boxes, output_size, spatial_scale, dtype)
    t = dtype.type
    start = _round_half_away(b[:, 1:3] * scale)        # (K, 2): x, y
    end = _round_half_away(b[:, 3:5] * scale)
    size = np.maximum(end - start + 1, 1)              # malformed boxes become 1x1
    spans = []
    for axis, (out, n) in enumerate(((pw, shape[3]), (ph, shape[2]))):
        bin_size = size[:, axis].astype(dtype) / t(out)
        i = np.arange(out + 1).astype(dtype)
        lo = np.floor(i[None, :-1] * bin_size[:, None]).astype(np.int64)
        hi = np.ceil(i[None, 1:] * bin_size[:, None]).astype(np.int64)
        spans.append(np.clip(np.stack([lo, hi], axis=-1) + start[:, axis, None, None], 0, n))
    cols, rows = spans
    empty = (rows[:, :, None, 1] <= rows[:, :, None, 0]) | (cols[:, None, :, 1] <= cols[:, None, :, 0])
    return RoiPoolBins(b[:, 0].astype(np.int64), rows, cols, empty)


class RoiAlignSamples(NamedTuple):
    """ROI align's sample points, for every box (the grid of a bin is the outer
    product of its row and column samples).

    batch : int64 ``(K,)``.
    start, bin_size : ``(K, 2)`` as ``(y, x)``: the box's corner after scaling (and the
        half-cell shift of ``aligned``) and each bin's size, in cells.
    grid : int64 ``(K, 2)``, sample points per bin along ``(y, x)``.
    y : ``(K, out_h, G_h)`` row coordinate of each sample; NaN past the box's grid.
    x : ``(K, out_w, G_w)`` column coordinate of each sample; NaN past the grid.
    """

    batch: np.ndarray
    start: np.ndarray
    bin_size: np.ndarray
    grid: np.ndarray
    y: np.ndarray
    x: np.ndarray


def roi_align_samples(input_shape, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1,
                      aligned=False, *, dtype=np.float32) -> RoiAlignSamples:
    """Where ROI align samples each box, on a feature map of shape ``(N, C, H, W)``.

    Parameters as :func:`roi_align`; ``dtype`` as :func:`roi_pool_bins`.

    Returns
    -------
    RoiAlignSamples

    Raises
    ------
    ValueError
        As :func:`~pooling_core.roi_align`.

    Notes
    -----
    ``O(K * (out_h * G_h + out_w * G_w))``, every box at once; ``G`` is the largest grid.

    Examples
    --------
    One 4x4 box, one bin, two samples per axis, at a quarter and three quarters:

    >>> s = roi_align_samples((1, 1, 8, 8), [[0, 2, 2, 6, 6]], 1, sampling_ratio=2)
    >>> s.y[0].tolist(), s.grid.tolist()
    ([[3.0, 5.0]], [[2, 2]])
    >>> roi_align_samples((1, 1, 8, 8), [[0, 2, 2, 6, 6]], 1, sampling_ratio=2,
    ...                   aligned=True).y[0].tolist()       # half a cell earlier
    [[2.5, 4.5]]
    """
    shape = _input_shape(input_shape)
    if isinstance(sampling_ratio, (bool, np.bool_)) or not isinstance(
            sampling_ratio, (int, np.integer)) or not -1 <= sampling_ratio <= 1024:
        raise ValueError(f"sampling_ratio={sampling_ratio!r} must be an int: samples per bin "
                         f"and axis (1 to 1024), or -1 (torchvision) / 0 (ONNX) for "
                         f"ceil(bin size)")
    aligned = check_flag(aligned, "aligned")
    b, size, scale, dtype = _check_common(shape, boxes, output_size, spatial_scale, dtype)
    t = dtype.type
    start = b[:, [2, 1]] * scale - t(0.5 if aligned else 0.0)   # (K, 2): y, x
    extent = b[:, [4, 3]] * scale - t(0.5 if aligned else 0.0) - start
    if not aligned:
        extent = np.maximum(extent, t(1))               # malformed boxes become 1x1
    bin_size = extent / np.array(size, dtype=dtype)
    if sampling_ratio > 0:
        grid = np.full(bin_size.shape, int(sampling_ratio), dtype=np.int64)
    else:
        grid = np.ceil(np.minimum(bin_size, MAX_SAMPLES)).astype(np.int64)
    points = len(b) * int((grid.max(axis=0, initial=0) * np.array(size)).sum())
    if points > MAX_SAMPLES:
        raise ValueError(f"boxes with sampling_ratio={sampling_ratio} place {points:,} sample "
                         f"rows and columns, more than {MAX_SAMPLES:,} (MAX_SAMPLES): the boxes "
                         f"reach far past the map or are very many; give a sampling_ratio "
                         f"such as 2, or fewer boxes")
    coords = []
    for axis, out in enumerate(size):
        g = int(grid[:, axis].max(initial=0))
        i = np.arange(max(g, 1)).astype(dtype)
        base = start[:, axis, None] + np.arange(out).astype(dtype)[None, :] * bin_size[:, axis, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            step = (i + t(0.5))[None, None, :] * bin_size[:, axis, None, None] \
                / grid[:, axis, None, None].astype(dtype)
        c = base[:, :, None] + step
        coords.append(np.where(i[None, None, :] < grid[:, axis, None, None], c, np.nan)[..., :g])
    return RoiAlignSamples(b[:, 0].astype(np.int64), start, bin_size, grid, *coords)
