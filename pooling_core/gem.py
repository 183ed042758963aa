"""GeM, the generalized mean (Radenović, Tolias & Chum 2018): ``(mean x**p) ** (1/p)``.

Between the average (``p = 1``) and the max (``p = inf``), with ``p`` learned in image
retrieval networks. Built from the core's pooling of the same windows: its Lp pooling
(an unsigned image: ``GeM = LPPool / N ** (1/p)`` plus the clamp's share), its average
of ``(x/M)**p`` (rescaled so no power overflows), its max at ``p = inf``, and, where
even the rescaled powers would underflow, a pass per kernel offset scaled window by
window. The backward pass equals PyTorch autograd through the reference formula
(``tests/test_variants.py``).
"""
from __future__ import annotations

from math import prod

import numpy as np

from ._checks import check_flag, check_input, check_real, float_dtype
from ._offsets import (average_counts_padding, band_rows, crop_frame, grad_input, padded_zeros,
                       plans_2d, row_bands)
from .backward import pool2d_backward
from .geometry import window_divisors
from .reductions import _offset_views, _pad, pool2d

__all__ = ["gem_pool2d", "gem_pool2d_backward"]



def _check_gem(p, eps):
    given_p, given_eps = p, eps
    p = float(check_real(p, "p"))
    if np.isnan(p) or p <= 0:
        raise ValueError(f"p={given_p!r} must be positive (p = 1 is the average, p = inf the "
                         f"max); GeM's power mean is undefined for p <= 0")
    eps = float(check_real(eps, "eps"))
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps={given_eps!r} must be a finite number >= 0 (the floor x is "
                         f"clamped to)")
    return float(p), float(eps)


def _gem_setup(x, kernel_size, p, eps, fn, dtype=None):
    """``c = max(x, eps)`` in ``dtype`` (default: the output's), and the arguments checked."""
    x = check_input(x, 2, fn)
    p, eps = _check_gem(p, eps)
    if kernel_size is None:  # global GeM, as cirtorch's gem(): one window per plane
        kernel_size = x.shape[-2:]
    c = x.astype(dtype or float_dtype(x))  # a copy, then in place (np.maximum(x, eps,
    np.maximum(c, eps, out=c)                # dtype=...) casts through buffers: slower)
    return x, kernel_size, p, eps, c


def gem_pool2d(x, kernel_size=None, stride=None, padding=0, dilation=1, ceil_mode=False,
               count_include_pad=None, *, p=3.0, eps=1e-6):
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
        in the sum, and in the divisor when ``count_include_pad`` (``None``: when the
        padding is given as numbers, as PyTorch; not for ``'same'``/``'valid'``).
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

    How it is computed, cheapest first. ``p = inf``: the core's max pooling of ``x``,
    clamped. The whole plane (``kernel_size=None``): one pass over the rows. An
    unsigned-integer input (a photo) whose sums cannot overflow: the core's Lp pooling
    of ``x`` itself over ``N ** (1/p)``, plus ``eps**p`` for each zero the clamp lifts
    (no float copy). Otherwise ``GeM = M * (mean (c/M)**p) ** (1/p)`` with ``M`` the
    plane's max, the core's separable average (``O(N log k)``, one float copy), as
    long as no window's mean can underflow: ``p * ln(M / window max) + ln(N)`` below
    ``-ln(tiny / eps)`` of the dtype (692 for float64, 71 for float32). Past that
    (large ``p``, or windows far darker than the plane) each window is scaled by its
    own max, in logs: one ``log`` per cell and an ``exp`` per tap, ``O(N * kH * kW)``.

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
    if _check_gem(p, eps)[0] == np.inf:  # the max of max(x, eps) is max(max x, eps)
        x = check_input(x, 2, "gem_pool2d")
        top = pool2d(x, x.shape[-2:] if kernel_size is None else kernel_size, stride, padding,
                     dilation, ceil_mode=ceil_mode).astype(float_dtype(x))
        return np.maximum(top, eps, out=top)
    quick = _gem_of_unsigned(x, kernel_size, stride, padding, dilation, ceil_mode,
                             count_include_pad, p, eps)
    if quick is not None:
        return quick
    x = check_input(x, 2, "gem_pool2d")
    p, eps = _check_gem(p, eps)
    plans = plans_2d(x, kernel_size, stride, padding, dilation, ceil_mode)
    count_include_pad = average_counts_padding(count_include_pad, plans)
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    dtype = np.dtype(float_dtype(x))
    if not x.size:  # no planes
        return np.zeros(x.shape[:-2] + tuple(pl.out for pl in plans), dtype=dtype)
    # Every window's mean of (c/M)**p is at least (window max / M)**p / cells: while that
    # stays above the smallest normal float (with a full mantissa to spare), scaling by
    # the plane's max M is exact; else each window is scaled by its own max.
    window_max = np.maximum(pool2d(x, kernel_size, mode="max", **geometry).astype(dtype), eps)
    top = np.maximum(x.max(axis=(-2, -1), keepdims=True).astype(dtype), eps)
    smallest = np.divide(window_max, top, out=np.ones_like(window_max),
                         where=window_max > 0).min(initial=1.0)  # windows of 0: GeM 0
    limit = -np.log(np.finfo(dtype).tiny / np.finfo(dtype).eps)
    if p * -np.log(smallest) + np.log(prod(pl.kernel for pl in plans)) >= limit:
        return _gem_by_window_max(x, plans, p, eps, count_include_pad, window_max, kernel_size,
                                  geometry)
    c = _gem_setup(x, kernel_size, p, eps, "gem_pool2d")[-1]
    top = np.where(top > 0, top, 1)  # eps = 0 and a plane of zeros
    np.divide(c, top, out=c)
    flush = np.finfo(dtype).tiny ** (1.0 / p)  # (c/M)**p below the smallest normal float:
    if eps / top.max() < flush:                 # 0 (subnormal powers are far slower, and
        np.multiply(c, c >= flush, out=c)       # add nothing at this precision)
    np.power(c, p, out=c)
    mean = pool2d(c, kernel_size, mode="avg", count_include_pad=count_include_pad, **geometry)
    np.power(mean, 1.0 / p, out=mean)
    return np.multiply(mean, top, out=mean)


def _gem_global(x, p, eps):
    """GeM of each whole plane, a band of rows at a time (no copy of the input): the
    plane's max ``M`` scales every value to at most 1, so the mean of ``(c/M)**p`` is at
    least ``1/N`` and neither overflows nor underflows."""
    x = check_input(x, 2, "gem_pool2d")
    p, eps = _check_gem(p, eps)
    plans_2d(x, x.shape[-2:], None, 0, 1, False)  # the size checks and limits of one window
    dtype = np.dtype(float_dtype(x))
    if not x.size:  # no planes
        return np.zeros(x.shape[:-2] + (1, 1), dtype=dtype)
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
    x = check_input(x, 2, "gem_pool2d")
    p, eps = _check_gem(p, eps)
    if not np.issubdtype(x.dtype, np.unsignedinteger) or not x.size or p == np.inf:
        return None
    if kernel_size is None:
        kernel_size = x.shape[-2:]
    plans = plans_2d(x, kernel_size, stride, padding, dilation, ceil_mode)
    count_include_pad = average_counts_padding(count_include_pad, plans)
    cells = prod(pl.kernel for pl in plans)
    if p * np.log(max(float(x.max()), 1.0)) + np.log(cells) >= 700:
        return None
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                    count_include_pad=count_include_pad)
    divisor = window_divisors(plans, count_include_pad, None)
    total = pool2d(x, kernel_size, mode="lp", p=p, **geometry).astype(np.float64, copy=False)
    np.power(total, p, out=total)
    total *= divisor / cells                              # sum over the window of x**p
    zeros = x == 0
    if eps > 0 and zeros.any():  # (a bool array read as uint8: no copy)
        total += eps ** p * pool2d(zeros.view(np.uint8), kernel_size, mode="sum", **geometry)
    total /= divisor
    return np.power(total, 1.0 / p, out=total)


def _gem_by_window_max(x, plans, p, eps, count_include_pad, window_max, kernel_size,
                       geometry):
    """GeM with each window rescaled by its own max ``m``, in logs, a band of output rows
    at a time: ``m * (sum exp(p ln c - p ln m) / D) ** (1/p)``, every term at most 1.

    One ``log`` per input cell, then a subtraction and an ``exp`` per tap: an ``exp`` is
    several times cheaper than a large power. Terms below the smallest normal float are
    raised to it (the window's own term is 1, so they add nothing at this precision,
    and subnormal results make ``exp`` far slower; ``docs/performance.md``).
    """
    plans_2d(x, kernel_size, geometry["stride"], geometry["padding"], geometry["dilation"],
             geometry["ceil_mode"], work="scan")  # the work limits of a pass per offset
    dtype = window_max.dtype
    logs = x.astype(dtype)  # (then in place: a casting np.maximum is slower)
    np.maximum(logs, eps, out=logs)
    with np.errstate(divide="ignore"):  # ln 0 = -inf (eps = 0): a term of 0
        np.log(logs, out=logs)
        logs *= p
        top = p * np.log(window_max)
    views = [view for _, _, view in _offset_views(_pad(logs, plans, -np.inf), plans)]
    divisor = np.broadcast_to(window_divisors(plans, count_include_pad, None), window_max.shape[-2:])
    floor = np.log(np.finfo(dtype).tiny)
    out = np.zeros_like(window_max)
    term = np.empty(window_max.shape[:-2] + (band_rows(window_max.shape),
                                             window_max.shape[-1]), dtype=dtype)
    with np.errstate(invalid="ignore"):  # -inf - -inf: windows of zeros, GeM 0 below
        for band in row_bands(window_max.shape):
            m, acc = top[..., band, :], out[..., band, :]
            t = term[..., :band.stop - band.start, :]
            for view in views:
                np.subtract(view[..., band, :], m, out=t)
                np.maximum(t, floor, out=t)
                acc += np.exp(t, out=t)
            acc /= divisor[band]
    np.power(out, 1.0 / p, out=out)
    out *= window_max
    return np.where(window_max > 0, out, 0)


def gem_pool2d_backward(grad_output, x, kernel_size=None, stride=None, padding=0, dilation=1,
                        ceil_mode=False, count_include_pad=None, *, p=3.0, eps=1e-6,
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

    Raises
    ------
    ValueError
        As :func:`gem_pool2d`; also ``grad_p=True`` with ``p = inf``, or a ``grad_output`` not shaped like its output.

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
    grad_p = check_flag(grad_p, "grad_p")
    x, kernel_size, p, eps, c = _gem_setup(x, kernel_size, p, eps, "gem_pool2d_backward",
                                           np.float64)
    plans = plans_2d(x, kernel_size, stride, padding, dilation, ceil_mode, work="scan")
    count_include_pad = average_counts_padding(count_include_pad, plans)
    geometry = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    g = grad_input(grad_output, x.shape[:-2] + tuple(pl.out for pl in plans))
    passes = np.asarray(x) >= eps  # torch.clamp(min=eps): gradient where x >= eps
    if p == np.inf:
        if grad_p:
            raise ValueError("grad_p=True needs a finite p; at p = inf GeM is the max")
        return pool2d_backward(g, c, kernel_size, mode="max", **geometry) * passes
    y = gem_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad,
                   p=p, eps=eps).astype(np.float64)
    y_safe = np.where(y > 0, y, 1.0)
    divisor = window_divisors(plans, count_include_pad, None)
    share = g / divisor
    grad = padded_zeros(x.shape, plans)
    log_terms = np.zeros(y.shape)  # sum over the window of (c/y)**p * ln(c/y)
    with np.errstate(divide="ignore", invalid="ignore"):
        for (_, _, view), (_, _, gview) in zip(_offset_views(_pad(c, plans, 0.0), plans),
                                               _offset_views(grad, plans)):
            ratio = view / y_safe  # padding taps: 0 (their gradient lands in the cropped frame)
            gview += share * ratio ** (p - 1)
            if grad_p:  # padding taps (ratio 0) add 0, the limit of r**p * ln r
                log_terms += ratio ** p * np.log(ratio, out=np.zeros(y.shape), where=ratio > 0)
    grad_x = crop_frame(grad, plans) * passes
    if not grad_p:
        return grad_x
    return grad_x, float(np.sum(g * y / p * log_terms / divisor))
