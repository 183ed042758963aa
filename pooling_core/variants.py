"""Pooling between average and max: GeM, mixed pooling and SoftPool.

Each is built from the core's own pieces, on the windows :func:`~pooling_core.plan_axes`
places (kernel_size, stride, padding, dilation and ceil_mode mean what they mean for
:func:`~pooling_core.pool2d`):

* **GeM**, the generalized mean (Radenović, Tolias & Chum 2018), ``(mean x**p) ** (1/p)``:
  the core's average of ``x**p`` (rescaled so no power overflows), and its max at ``p = inf``.
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

from ._bands import band_rows, row_bands
from .backward import pool2d_backward
from .geometry import MAX_DRAWN_CELLS, _check_flag, plan_axes
from .reductions import (_as_real_array, _check_input, _check_real, _divisor, _float_dtype,
                         _offset_views, _pad, pool2d)

__all__ = ["gem_pool2d", "gem_pool2d_backward", "mixed_pool2d", "mixed_pool2d_backward",
           "softpool2d", "softpool2d_backward", "softpool_weights"]


# ----------------------------------------------------------------------------- shared


def _plans(x, kernel_size, stride, padding, dilation, ceil_mode, work=None):
    """The axis plans of a 2-D variant (validating every geometry argument)."""
    return plan_axes(x.shape[-2:], kernel_size, stride, padding, dilation, ceil_mode,
                     planes=prod(x.shape[:-2]), work=work)


def _grad_input(grad_output, out_shape):
    g = _as_real_array(grad_output, "grad_output").astype(np.float64)
    if g.shape != tuple(out_shape):
        raise ValueError(f"grad_output has shape {g.shape}; the pooled output has shape "
                         f"{tuple(out_shape)}")
    return g


def _crop(padded, plans):
    return padded[(Ellipsis,) + tuple(slice(p.pad_before, p.pad_before + p.n) for p in plans)]


def _padded_zeros(shape, plans):
    lead = shape[: len(shape) - len(plans)]
    return np.zeros(lead + tuple(p.pad_before + p.n + p.extra_after for p in plans))


# ----------------------------------------------------------------------------- GeM


def _check_gem(p, eps):
    p = _check_real(p, "p")
    if np.isnan(p) or p <= 0:
        raise ValueError(f"p={p!r} must be positive (p = 1 is the average, p = inf the max); "
                         f"GeM's power mean is undefined for p <= 0")
    eps = _check_real(eps, "eps")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps={eps!r} must be a finite number >= 0 (the floor x is clamped to)")
    return float(p), float(eps)


def _gem_setup(x, kernel_size, p, eps, fn, dtype=None):
    """``c = max(x, eps)`` in ``dtype`` (default: the output's), and the arguments checked."""
    x = _check_input(x, 2, fn)
    p, eps = _check_gem(p, eps)
    if kernel_size is None:  # global GeM, as cirtorch's gem(): one window per plane
        kernel_size = x.shape[-2:]
    c = x.astype(dtype or _float_dtype(x))  # a copy, then in place (np.maximum(x, eps,
    np.maximum(c, eps, out=c)                # dtype=...) casts through buffers: 6x slower)
    return x, kernel_size, p, eps, c


def gem_pool2d(x, kernel_size=None, stride=None, padding=0, dilation=1, ceil_mode=False,
               count_include_pad=True, *, p=3.0, eps=1e-6):
    r"""Generalized-mean (GeM) pooling: ``(mean over the window of c**p) ** (1/p)``.

    ``c = max(x, eps)``, as in the reference GeM layer (cirtorch's
    ``gem(x, p=3, eps=1e-6)``: ``avg_pool2d(x.clamp(min=eps).pow(p), ...).pow(1/p)``).
    ``p = 1`` is the average of ``c``; as ``p`` grows the result approaches the max,
    which ``p = inf`` gives exactly.

    Parameters
    ----------
    x : array_like, shape ``(..., H, W)``
    kernel_size : int, (int, int) or None
        ``None`` (the default) pools each whole plane to one value, like the
        GeM layer of image retrieval; otherwise windows as :func:`~pooling_core.pool2d`.
    stride, padding, dilation, ceil_mode, count_include_pad
        As :func:`~pooling_core.pool2d` with ``mode='avg'``: padding counts as 0
        in the sum, and in the divisor when ``count_include_pad``.
    p : float, keyword-only
        The power, ``p > 0`` or ``numpy.inf``. Default 3, the paper's initial value.
    eps : float, keyword-only
        Values below ``eps`` are clamped to it (so fractional powers of negative
        numbers never occur); ``eps >= 0``. Default ``1e-6``.

    Returns
    -------
    ndarray, shape ``(..., H_out, W_out)``
        ``H_out, W_out`` as :func:`~pooling_core.pool2d` gives them (``(1, 1)``
        for ``kernel_size=None``); float64 for integer input, else ``x``'s dtype.

    Raises
    ------
    ValueError
        ``p <= 0`` or NaN, ``eps < 0``, or any geometry argument as :func:`~pooling_core.pool2d`.

    Notes
    -----
    Not PyTorch's ``LPPool2d``: that is ``(sum c**p) ** (1/p)``, a *sum* with no
    ``1/N``, so it equals GeM times ``N ** (1/p)`` (``N`` the window's cell count)
    and grows with the window; GeM stays between the mean and the max.

    An unsigned-integer input (a photo) takes the core's Lp pooling of ``x`` itself,
    divided by ``N ** (1/p)``, plus ``eps**p`` for each zero the clamp lifts: no float
    copy of the image. Otherwise, to keep ``c**p`` finite for any ``p``, each plane
    is divided by its largest value ``M`` first: ``GeM = M * (mean (c/M)**p) ** (1/p)``,
    the core's separable average (``O(N log k)``, one float copy of ``x``). A window whose values are so small against ``M`` that the
    average underflows (float64: ``p * ln(M / window max) > ~670``) makes the call
    rescale every window by its own max instead, one pass per kernel offset,
    ``O(N * kH * kW)``. ``p = inf`` is the core's max pooling of ``c``.

    Examples
    --------
    >>> x = np.array([[1., 2.], [3., 6.]])
    >>> float(gem_pool2d(x, p=1)[0, 0])          # the mean
    3.0
    >>> float(gem_pool2d(x, p=np.inf)[0, 0])     # the max
    6.0
    >>> round(float(gem_pool2d(x, p=3)[0, 0]), 4)   # (252 / 4) ** (1/3), between them
    3.9791
    >>> round(float(pool2d(x, 2, mode="lp", p=3)[0, 0]), 4)   # LPPool2d: 252 ** (1/3), a sum
    6.3164

    Windows as ``pool2d`` places them; ``p = 2`` is the root mean square:

    >>> gem_pool2d(np.arange(16.).reshape(4, 4), 2, p=2).round(2)
    array([[ 3.24,  4.95],
           [10.7 , 12.67]])
    """
    if kernel_size is None and isinstance(padding, (int, np.integer)) and padding == 0:
        return _gem_global(x, p, eps)
    quick = _gem_of_unsigned(x, kernel_size, stride, padding, dilation, ceil_mode,
                             count_include_pad, p, eps)
    if quick is not None:
        return quick
    x, kernel_size, p, eps, c = _gem_setup(x, kernel_size, p, eps, "gem_pool2d")
    plans = _plans(x, kernel_size, stride, padding, dilation, ceil_mode)
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    if p == np.inf:
        return pool2d(c, kernel_size, mode="max", **geometry)
    # Every window's mean of (c/M)**p is at least (window max / M)**p / cells: while that
    # stays above the smallest normal float (with a full mantissa to spare), scaling by
    # the plane's max M is exact; else each window is scaled by its own max.
    window_max = pool2d(c, kernel_size, mode="max", **geometry)
    top = c.max(axis=(-2, -1), keepdims=True)
    smallest = np.divide(window_max, top, out=np.ones_like(window_max),
                         where=window_max > 0).min(initial=1.0)  # windows of 0: GeM 0
    limit = -np.log(np.finfo(c.dtype).tiny / np.finfo(c.dtype).eps)
    if p * -np.log(smallest) + np.log(prod(pl.kernel for pl in plans)) >= limit:
        return _gem_by_window_max(c, plans, p, count_include_pad, window_max, kernel_size,
                                  geometry)
    top = np.where(top > 0, top, 1)  # eps = 0 and a plane of zeros
    np.divide(c, top, out=c)
    np.power(c, p, out=c)
    mean = pool2d(c, kernel_size, mode="avg", count_include_pad=count_include_pad, **geometry)
    np.power(mean, 1.0 / p, out=mean)
    return np.multiply(mean, top, out=mean)


def _gem_global(x, p, eps):
    """GeM of each whole plane, a band of rows at a time (no copy of the input): the
    plane's max ``M`` scales every value to at most 1, so the mean of ``(c/M)**p`` is at
    least ``1/N`` and neither overflows nor underflows."""
    x = _check_input(x, 2, "gem_pool2d")
    p, eps = _check_gem(p, eps)
    _plans(x, x.shape[-2:], None, 0, 1, False)  # the size checks and limits of one window
    dtype = np.dtype(_float_dtype(x))
    top = np.maximum(x.max(axis=(-2, -1), keepdims=True).astype(dtype), dtype.type(eps))
    if p == np.inf:
        return top
    scale = np.where(top > 0, top, 1)  # eps = 0 and a plane of zeros: GeM 0
    total = np.zeros(top.shape, dtype=dtype)
    for band in row_bands(x.shape, 1 << 18):
        c = x[..., band, :].astype(dtype)
        np.maximum(c, eps, out=c)
        c /= scale
        total += np.power(c, p, out=c).sum(axis=(-2, -1), keepdims=True)
    total /= x.shape[-2] * x.shape[-1]
    return np.power(total, 1.0 / p, out=total) * top


def _gem_of_unsigned(x, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad,
                     p, eps):
    """GeM of an unsigned-integer image (a photo) without a float copy of it, or None.

    The clamp only lifts zeros to ``eps``, so ``sum c**p = sum x**p + eps**p * zeros``:
    the first sum is the core's Lp pooling (``lp = (K/D * sum x**p) ** (1/p)``, its
    powers taken band by band), the zeros are counted by its sum pooling. Only when no
    sum can overflow (``p * ln(max x) + ln K < 700``); otherwise None.
    """
    x = _check_input(x, 2, "gem_pool2d")
    p, eps = _check_gem(p, eps)
    if not np.issubdtype(x.dtype, np.unsignedinteger) or not x.size or p == np.inf:
        return None
    if kernel_size is None:
        kernel_size = x.shape[-2:]
    plans = _plans(x, kernel_size, stride, padding, dilation, ceil_mode)
    cells = prod(pl.kernel for pl in plans)
    if p * np.log(max(float(x.max()), 1.0)) + np.log(cells) >= 700:
        return None
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                    count_include_pad=count_include_pad)
    divisor = _divisor(plans, count_include_pad, None)
    total = pool2d(x, kernel_size, mode="lp", p=p, **geometry).astype(np.float64, copy=False)
    np.power(total, p, out=total)
    total *= divisor / cells                              # sum over the window of x**p
    if eps > 0:
        total += eps ** p * pool2d(x == 0, kernel_size, mode="sum", **geometry)
    total /= divisor
    return np.power(total, 1.0 / p, out=total)


def _gem_by_window_max(c, plans, p, count_include_pad, window_max, kernel_size, geometry):
    """GeM with each window rescaled by its own max (every power is at most 1), a band of
    output rows at a time: ``m * (sum (c/m)**p / D) ** (1/p)``."""
    _plans(c, kernel_size, geometry["stride"], geometry["padding"], geometry["dilation"],
           geometry["ceil_mode"], work="scan")  # the work limits of a pass per offset
    views = [view for _, _, view in _offset_views(_pad(c, plans, 0), plans)]
    divisor = np.broadcast_to(_divisor(plans, count_include_pad, None), window_max.shape[-2:])
    scale = np.where(window_max > 0, window_max, 1)
    out = np.zeros_like(window_max)
    term = np.empty(window_max.shape[:-2] + (band_rows(window_max.shape),
                                             window_max.shape[-1]), dtype=c.dtype)
    for band in row_bands(window_max.shape):
        m, acc, t = scale[..., band, :], out[..., band, :], term[..., :band.stop - band.start, :]
        for view in views:
            np.divide(view[..., band, :], m, out=t)
            acc += np.power(t, p, out=t)
        acc /= divisor[band]
        np.power(acc, 1.0 / p, out=acc)
        acc *= m
    return np.where(window_max > 0, out, 0)


def gem_pool2d_backward(grad_output, x, kernel_size=None, stride=None, padding=0, dilation=1,
                        ceil_mode=False, count_include_pad=True, *, p=3.0, eps=1e-6,
                        grad_p=False):
    """Gradient of :func:`gem_pool2d` with respect to ``x`` (and ``p`` if ``grad_p``).

    With ``y`` the window's GeM and ``D`` its divisor, each real cell ``i`` of the
    window receives ``grad * (c_i / y) ** (p - 1) / D`` where ``x_i >= eps`` (the
    clamp passes no gradient below ``eps``, as ``torch.clamp``); ``p = inf`` routes
    it to the max, as max pooling. ``d y / d p = y/p * sum_i ((c_i/y)**p / D) * ln(c_i/y)``.

    Parameters
    ----------
    grad_output : array_like, shape of ``gem_pool2d(x, ...)``
    x, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad, p, eps
        As :func:`gem_pool2d`.
    grad_p : bool, keyword-only
        Also return the gradient with respect to ``p`` (GeM learns ``p``).

    Returns
    -------
    grad_x : ndarray of float64, shape of ``x``
    grad_p : float, only if ``grad_p`` (finite ``p`` only)

    Notes
    -----
    One pass per kernel offset, ``O(N * kH * kW)``: the ratios ``c_i / y`` are at
    most ``D ** (1/p)``, so no power overflows for any ``p``.

    Examples
    --------
    >>> x = np.array([[1., 2.], [3., 6.]])
    >>> gem_pool2d_backward(np.ones((1, 1)), x, p=1).tolist()     # the mean's gradient
    [[0.25, 0.25], [0.25, 0.25]]
    >>> gem_pool2d_backward(np.ones((1, 1)), x, p=np.inf).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    grad_p = _check_flag(grad_p, "grad_p")
    x, kernel_size, p, eps, c = _gem_setup(x, kernel_size, p, eps, "gem_pool2d_backward",
                                           np.float64)
    plans = _plans(x, kernel_size, stride, padding, dilation, ceil_mode, work="scan")
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    g = _grad_input(grad_output, x.shape[:-2] + tuple(pl.out for pl in plans))
    passes = np.asarray(x) >= eps  # torch.clamp(min=eps): gradient where x >= eps
    if p == np.inf:
        if grad_p:
            raise ValueError("grad_p=True needs a finite p; at p = inf GeM is the max")
        return pool2d_backward(g, c, kernel_size, mode="max", **geometry) * passes
    y = gem_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad,
                   p=p, eps=eps).astype(np.float64)
    y_safe = np.where(y > 0, y, 1.0)
    divisor = _divisor(plans, count_include_pad, None)
    share = g / divisor
    grad = _padded_zeros(x.shape, plans)
    log_terms = np.zeros(y.shape)  # sum over the window of (c/y)**p * ln(c/y)
    with np.errstate(divide="ignore", invalid="ignore"):
        for (_, _, view), (_, _, gview) in zip(_offset_views(_pad(c, plans, 0.0), plans),
                                               _offset_views(grad, plans)):
            ratio = view / y_safe  # padding taps: 0 (their gradient lands in the cropped frame)
            gview += share * ratio ** (p - 1)
            if grad_p:  # padding taps (ratio 0) add 0, the limit of r**p * ln r
                log_terms += ratio ** p * np.log(ratio, out=np.zeros(y.shape), where=ratio > 0)
    grad_x = _crop(grad, plans) * passes
    if not grad_p:
        return grad_x
    return grad_x, float(np.sum(g * y / p * log_terms / divisor))


# ----------------------------------------------------------------------------- mixed


def _check_alpha(alpha, out_shape):
    try:
        a = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"alpha={alpha!r} must be a number in [0, 1] or an array of them") \
            from None
    if isinstance(alpha, (bool, np.bool_)) or not np.all((a >= 0) & (a <= 1)):
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
                 count_include_pad=True, *, alpha=0.5):
    r"""Mixed pooling: ``alpha * max + (1 - alpha) * avg`` over the same windows.

    Parameters
    ----------
    x : array_like, shape ``(..., H, W)``
    kernel_size, stride, padding, dilation, ceil_mode, count_include_pad
        As :func:`~pooling_core.pool2d` (the average's padding and divisor as its
        ``mode='avg'``; the max never picks padding).
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
    x = _check_input(x, 2, "mixed_pool2d")
    plans = _plans(x, kernel_size, stride, padding, dilation, ceil_mode)
    a = _check_alpha(alpha, x.shape[:-2] + tuple(pl.out for pl in plans))
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    out_dtype = _float_dtype(x)
    high = pool2d(x, kernel_size, mode="max", **geometry).astype(out_dtype)
    mean = pool2d(x, kernel_size, mode="avg", count_include_pad=count_include_pad, **geometry)
    return (a.astype(out_dtype) * high + (1 - a.astype(out_dtype)) * mean).astype(out_dtype,
                                                                                  copy=False)


def mixed_pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0, dilation=1,
                          ceil_mode=False, count_include_pad=True, *, alpha=0.5,
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

    Notes
    -----
    Two backward passes of the core (:func:`~pooling_core.pool2d_backward`), ``O(N * kH * kW)``.

    Examples
    --------
    >>> x = np.array([[1., 3.], [4., 8.]])
    >>> mixed_pool2d_backward(np.ones((1, 1)), x, 2, alpha=0.5).tolist()
    [[0.125, 0.125], [0.125, 0.625]]
    """
    grad_alpha = _check_flag(grad_alpha, "grad_alpha")
    x = _check_input(x, 2, "mixed_pool2d_backward")
    plans = _plans(x, kernel_size, stride, padding, dilation, ceil_mode, work="scan")
    out_shape = x.shape[:-2] + tuple(pl.out for pl in plans)
    a = _check_alpha(alpha, out_shape)
    g = _grad_input(grad_output, out_shape)
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
    x = _check_input(x, 2, fn)
    plans = _plans(x, kernel_size, stride, padding, dilation, ceil_mode, work=work)
    dtype = np.dtype(_float_dtype(x))
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

    Examples
    --------
    >>> softpool_weights(np.array([[0., 0., 5.]]), (1, 2), 1).round(3).tolist()
    [[[[0.5, 0.5]], [[0.007, 0.993]]]]
    """
    x, frame, plans, m, floor = _soft_parts(x, kernel_size, stride, padding, dilation,
                                            ceil_mode, "softpool_weights", work="draw")
    taps = m.size * prod(p.kernel for p in plans)
    if taps > MAX_DRAWN_CELLS:
        raise ValueError(f"softpool_weights: {m.size:,} windows × {taps // max(m.size, 1):,} "
                         f"taps = {taps:,} weights, more than the limit of {MAX_DRAWN_CELLS:,} "
                         f"(MAX_DRAWN_CELLS); draw a smaller input or a part of it")
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
    g = _grad_input(grad_output, m.shape)
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
    grad = _padded_zeros(x.shape, plans)
    for (e, d), (_, _, gview) in zip(_soft_terms(frame, plans, m, floor),
                                     _offset_views(grad, plans)):
        gview += share * e * (d + q)
    return _crop(grad, plans)
