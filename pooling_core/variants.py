"""Pooling between average and max: mixed pooling and SoftPool (GeM is in :mod:`.gem`).

Each is built from the core's own pieces, on the windows :func:`~pooling_core.plan_axes`
places (kernel_size, stride, padding, dilation and ceil_mode mean what they mean for
:func:`~pooling_core.pool2d`):

* **mixed pooling**, ``alpha * max + (1 - alpha) * avg`` (Lee, Gallagher & Tu 2016): the
  core's max and average of the same windows.
* **SoftPool** (Stergiou, Poppe & Kalliatakis 2021), ``sum softmax(x) * x`` over the
  window: the core's max, then one pass per kernel offset through the same strided views
  the core's index modes use.

Each has a backward pass equal to PyTorch autograd through the formula
(``tests/test_variants.py``).
"""
from __future__ import annotations

from math import prod

import numpy as np

from ._checks import as_real_array, check_flag, check_input, float_dtype
from ._offsets import band_rows, crop_frame, grad_input, padded_zeros, plans_2d, row_bands
from .backward import pool2d_backward
from .geometry import MAX_DRAWN_CELLS
from .reductions import _offset_views, _pad, pool2d

__all__ = ["mixed_pool2d", "mixed_pool2d_backward", "softpool2d", "softpool2d_backward",
           "softpool_weights"]


# ----------------------------------------------------------------------------- mixed


def _check_alpha(alpha, out_shape):
    if isinstance(alpha, (bool, np.bool_)):
        raise ValueError(f"alpha={alpha!r} must lie in [0, 1], not be a bool")
    try:
        a = as_real_array(alpha, "alpha").astype(np.float64)
    except ValueError:
        raise ValueError(f"alpha={alpha!r} must be a number in [0, 1] or an array of them") \
            from None
    if not np.all((a >= 0) & (a <= 1)):
        raise ValueError(f"alpha={alpha!r} must lie in [0, 1] (0 is average pooling, 1 is "
                         f"max pooling)")
    try:
        np.broadcast_shapes(a.shape, tuple(out_shape))
    except ValueError:
        raise ValueError(f"alpha has shape {a.shape}, which does not broadcast against the "
                         f"output shape {tuple(out_shape)}; give one number or e.g. one per "
                         f"channel shaped (C, 1, 1)") from None
    if np.broadcast_shapes(a.shape, tuple(out_shape)) != tuple(out_shape):
        raise ValueError(f"alpha has shape {a.shape}: it would enlarge the output "
                         f"{tuple(out_shape)}")
    return a


def mixed_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 count_include_pad=None, *, alpha=0.5):
    r"""Mixed pooling: ``alpha * max + (1 - alpha) * avg`` over the same windows.

    Parameters
    ----------
    x : array_like, shape ``(..., H, W)``
    kernel_size, stride, padding, dilation, ceil_mode, count_include_pad
        As :func:`~pooling_core.pool2d` (the average's padding and divisor as its
        ``mode='avg'``, ``None`` included; the max never picks padding).
    alpha : float or array_like, keyword-only
        The max's share, in ``[0, 1]``: ``0`` is average pooling, ``1`` max
        pooling. An array broadcasts against the output (one per channel:
        shape ``(C, 1, 1)``), as the learned per-channel mixing of Lee et al. 2016.

    Returns
    -------
    ndarray, shape ``(..., H_out, W_out)`` as :func:`~pooling_core.pool2d`;
    float64 for integer input, else ``x``'s dtype.

    Raises
    ------
    ValueError
        ``alpha`` outside ``[0, 1]`` or of a shape that does not broadcast, or any
        geometry argument as :func:`~pooling_core.pool2d`.

    Notes
    -----
    Two separable reductions of the core (max and average), ``O(N log k)``.
    Yu et al. (2014) proposed a random choice of max *or* average per window;
    this is the deterministic blend.

    Examples
    --------
    >>> x = np.array([[1., 3.], [4., 8.]])
    >>> float(mixed_pool2d(x, 2, alpha=0)[0, 0]), float(mixed_pool2d(x, 2, alpha=1)[0, 0])
    (4.0, 8.0)
    >>> float(mixed_pool2d(x, 2, alpha=0.25)[0, 0])     # 0.25 * 8 + 0.75 * 4
    5.0
    """
    x = check_input(x, 2, "mixed_pool2d")
    plans = plans_2d(x, kernel_size, stride, padding, dilation, ceil_mode)
    a = _check_alpha(alpha, x.shape[:-2] + tuple(pl.out for pl in plans))
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    out_dtype = float_dtype(x)
    high = pool2d(x, kernel_size, mode="max", **geometry).astype(out_dtype)
    mean = pool2d(x, kernel_size, mode="avg", count_include_pad=count_include_pad, **geometry)
    return (a.astype(out_dtype) * high + (1 - a.astype(out_dtype)) * mean).astype(out_dtype,
                                                                                  copy=False)


def mixed_pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0, dilation=1,
                          ceil_mode=False, count_include_pad=None, *, alpha=0.5,
                          grad_alpha=False):
    """Gradient of :func:`mixed_pool2d`: ``alpha`` times max's plus ``1 - alpha`` times avg's.

    Parameters
    ----------
    grad_output : array_like, shape of ``mixed_pool2d(x, ...)``
    x, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad, alpha
        As :func:`mixed_pool2d`.
    grad_alpha : bool, keyword-only
        Also return the gradient with respect to ``alpha``,
        ``sum(grad * (max - avg))`` summed to ``alpha``'s shape.

    Returns
    -------
    grad_x : ndarray of float64, shape of ``x``
    grad_alpha : ndarray shaped like ``alpha``, only if ``grad_alpha``

    Raises
    ------
    ValueError
        As :func:`mixed_pool2d`, or a ``grad_output`` not shaped like its output.

    Notes
    -----
    Two backward passes of the core (:func:`~pooling_core.pool2d_backward`), ``O(N * kH * kW)``.

    Examples
    --------
    >>> x = np.array([[1., 3.], [4., 8.]])
    >>> mixed_pool2d_backward(np.ones((1, 1)), x, 2, alpha=0.5).tolist()
    [[0.125, 0.125], [0.125, 0.625]]
    """
    grad_alpha = check_flag(grad_alpha, "grad_alpha")
    x = check_input(x, 2, "mixed_pool2d_backward")
    plans = plans_2d(x, kernel_size, stride, padding, dilation, ceil_mode, work="scan")
    out_shape = x.shape[:-2] + tuple(pl.out for pl in plans)
    a = _check_alpha(alpha, out_shape)
    g = grad_input(grad_output, out_shape)
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    grad = pool2d_backward(g * a, x, kernel_size, mode="max", **geometry) \
        + pool2d_backward(g * (1 - a), x, kernel_size, mode="avg",
                          count_include_pad=count_include_pad, **geometry)
    if not grad_alpha:
        return grad
    diff = g * (pool2d(x, kernel_size, mode="max", **geometry)
                - pool2d(x, kernel_size, mode="avg", count_include_pad=count_include_pad,
                         **geometry))
    extra = diff.ndim - a.ndim
    total = diff.sum(axis=tuple(range(extra))) if extra else diff
    total = total.sum(axis=tuple(i for i, n in enumerate(a.shape) if n == 1), keepdims=True)
    return grad, total.reshape(a.shape)


# ----------------------------------------------------------------------------- SoftPool


def _soft_parts(x, kernel_size, stride, padding, dilation, ceil_mode, fn, work="scan"):
    """The input's padded frame, its plans, every window's max and the exp floor."""
    x = check_input(x, 2, fn)
    plans = plans_2d(x, kernel_size, stride, padding, dilation, ceil_mode, work=work)
    dtype = np.dtype(float_dtype(x))
    m = pool2d(x, kernel_size, stride, padding, dilation, mode="max",
               ceil_mode=ceil_mode).astype(dtype, copy=False)
    # no padding: the views read x itself (each subtraction casts); else a float frame
    frame = _pad(x.astype(dtype, copy=False), plans, -np.inf) \
        if any(p.pad_before or p.extra_after for p in plans) else x
    # exp(d) is exactly 0 for d below this; clamping there keeps e * d at 0 for padding
    floor = dtype.type(np.log(np.finfo(dtype).smallest_subnormal) - 1.0)
    return x, frame, plans, m, floor


def _soft_terms(frame, plans, m, floor):
    """Yield ``(e, d)`` per kernel offset: ``d = x - window max`` (>= floor), ``e = exp(d)``.

    Both are two output-sized buffers reused from offset to offset: use them before
    the next one comes.
    """
    d, e = np.empty_like(m), np.empty_like(m)
    with np.errstate(invalid="ignore"):  # a window of padding only: -inf - -inf
        for _, _, view in _offset_views(frame, plans):
            np.subtract(view, m, out=d)
            np.maximum(d, floor, out=d)
            yield np.exp(d, out=e), d


def softpool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    r"""SoftPool: each window's softmax-weighted sum ``sum_i w_i x_i``, ``w = softmax(x)``.

    ``w_i = exp(x_i) / sum_j exp(x_j)`` over the window's real cells (padding has
    weight 0, as in the reference implementation's zero-padded sums), computed
    as ``exp(x_i - m)`` with ``m`` the window's max, so nothing overflows. Large
    values dominate, but every cell counts: the result lies between the window's
    mean and its max.

    Parameters
    ----------
    x : array_like, shape ``(..., H, W)``
    kernel_size, stride, padding, dilation, ceil_mode
        As :func:`~pooling_core.pool2d`.

    Returns
    -------
    ndarray, shape ``(..., H_out, W_out)`` as :func:`~pooling_core.pool2d`;
    float64 for integer input, else ``x``'s dtype. NaN where the input is not
    finite, or where a window reads padding only.

    Raises
    ------
    ValueError
        Any geometry argument as :func:`~pooling_core.pool2d`, or the work limits
        (``MAX_WORK``) for a pass per kernel offset.

    Notes
    -----
    The window max comes from the core's separable max; then one pass per kernel
    offset (an ``exp`` and four additions per output cell), a band of output rows at a
    time so that its buffers stay in the cache: ``O(N * kH * kW)``. The paper's code computes ``avg_pool2d(x * exp(x)) /
    avg_pool2d(exp(x))`` without the shift, the same numbers wherever ``exp(x)`` is
    finite (float32: ``x < 88``).

    Examples
    --------
    >>> x = np.array([[0., 0.], [0., np.log(3.)]])
    >>> w = softpool_weights(x, 2)[0, 0]; w.round(3).tolist()     # 1:1:1:3
    [[0.167, 0.167], [0.167, 0.5]]
    >>> round(float(softpool2d(x, 2)[0, 0]), 4)                    # 0.5 * ln 3
    0.5493
    >>> softpool2d(np.array([[1., 1.], [1., 1.]]), 2).tolist()     # equal weights: the mean
    [[1.0]]
    >>> softpool2d(np.array([[0., 1000.]]), (1, 2)).tolist()       # no overflow: the max wins
    [[1000.0]]
    """
    x, frame, plans, m, floor = _soft_parts(x, kernel_size, stride, padding, dilation,
                                            ceil_mode, "softpool2d")
    views = [view for _, _, view in _offset_views(frame, plans)]
    clamp = not np.issubdtype(frame.dtype, np.integer)  # integers: finite, and no padding
    buffers = [np.empty(m.shape[:-2] + (band_rows(m.shape), m.shape[-1]), m.dtype)
               for _ in range(3)]
    out = np.zeros_like(m)
    with np.errstate(invalid="ignore"):  # a window of padding only: -inf - -inf
        for band in row_bands(m.shape):  # a band of output rows at a time (see _bands)
            top, acc = m[..., band, :], out[..., band, :]
            d, e, den = (b[..., :band.stop - band.start, :] for b in buffers)
            den[...] = 0
            for view in views:
                np.subtract(view[..., band, :], top, out=d)
                if clamp:
                    np.maximum(d, floor, out=d)
                den += np.exp(d, out=e)
                acc += np.multiply(e, d, out=e)
            acc /= den
            acc += top
    return out


def softpool_weights(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The SoftPool weight of every tap of every window, for drawing.

    Parameters as :func:`softpool2d`.

    Returns
    -------
    ndarray, shape ``(..., H_out, W_out, kH, kW)``
        ``softmax`` over each window's real cells; 0 for padding taps. Entry
        ``[..., i, j, :, :]`` is the window of output ``(i, j)``, laid out like
        its taps (``window_cells(...).coords[i, j]`` names their cells).

    Raises
    ------
    ValueError
        As :func:`softpool2d`; also past ``MAX_DRAWN_CELLS`` window taps.

    Notes
    -----
    One ``exp`` per tap, ``O(N_out * kH * kW)`` cells returned: meant for the small
    inputs a picture shows.

    Examples
    --------
    >>> softpool_weights(np.array([[0., 0., 5.]]), (1, 2), 1).round(3).tolist()
    [[[[0.5, 0.5]], [[0.007, 0.993]]]]
    """
    x = check_input(x, 2, "softpool_weights")
    plans = plans_2d(x, kernel_size, stride, padding, dilation, ceil_mode, work="draw")
    taps = prod(x.shape[:-2]) * prod(p.out for p in plans) * prod(p.kernel for p in plans)
    if taps > MAX_DRAWN_CELLS:  # (checked before any pooling)
        raise ValueError(f"softpool_weights: {taps:,} weights (windows × taps), more than the "
                         f"limit of {MAX_DRAWN_CELLS:,} (MAX_DRAWN_CELLS); draw a smaller "
                         f"input or a part of it")
    x, frame, plans, m, floor = _soft_parts(x, kernel_size, stride, padding, dilation,
                                            ceil_mode, "softpool_weights", work="draw")
    weights = np.stack([e.copy() for e, _ in _soft_terms(frame, plans, m, floor)], axis=-1)
    with np.errstate(invalid="ignore"):
        weights /= weights.sum(axis=-1, keepdims=True)
    return weights.reshape(m.shape + tuple(p.kernel for p in plans))


def softpool2d_backward(grad_output, x, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    """Gradient of :func:`softpool2d` with respect to ``x``.

    With ``y = sum_i w_i x_i`` a window's output, ``d y / d x_j = w_j (1 + x_j - y)``;
    each cell adds this over the windows that read it.

    Parameters
    ----------
    grad_output : array_like, shape of ``softpool2d(x, ...)``
    x, kernel_size, stride, padding, dilation, ceil_mode
        As :func:`softpool2d`.

    Returns
    -------
    ndarray of float64, shape of ``x``.

    Raises
    ------
    ValueError
        As :func:`softpool2d`, or a ``grad_output`` not shaped like its output.

    Notes
    -----
    Two passes per kernel offset (the weights' sum, then the scatter), ``O(N * kH * kW)``.

    Examples
    --------
    >>> x = np.array([[0., 0.], [0., np.log(3.)]])
    >>> softpool2d_backward(np.ones((1, 1)), x, 2).round(4).tolist()
    [[0.0751, 0.0751], [0.0751, 0.7747]]
    """
    x, frame, plans, m, _ = _soft_parts(x, kernel_size, stride, padding, dilation, ceil_mode,
                                        "softpool2d_backward")
    g = grad_input(grad_output, m.shape)
    frame, m = frame.astype(np.float64, copy=False), m.astype(np.float64, copy=False)
    floor = np.log(np.finfo(np.float64).smallest_subnormal) - 1.0
    den = np.zeros(m.shape)
    num = np.zeros(m.shape)
    for e, d in _soft_terms(frame, plans, m, floor):
        den += e
        num += e * d
    with np.errstate(invalid="ignore", divide="ignore"):
        q = 1.0 - num / den  # 1 + m - y: y = m + num / den
        share = g / den
    grad = padded_zeros(x.shape, plans)
    for (e, d), (_, _, gview) in zip(_soft_terms(frame, plans, m, floor),
                                     _offset_views(grad, plans)):
        gview += share * e * (d + q)
    return crop_frame(grad, plans)
