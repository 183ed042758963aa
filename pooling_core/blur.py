"""Anti-aliased pooling: BlurPool and MaxBlurPool (Zhang 2019, "Making convolutional
networks shift-invariant again").

Subsampling a signal whose detail is finer than the new step aliases: shift the input
one pixel and max pooling's output can change completely. Zhang's fix is to low-pass
filter before subsampling: BlurPool blurs with a normalized binomial filter (the rows
of Pascal's triangle: 1; 1 1; 1 2 1; 1 3 3 1; ...) and keeps every ``stride``-th
value; MaxBlurPool first takes a dense max (stride 1), then blur-pools it.

The blur is separable, and each axis is one pass of the core: the windows come from
:func:`~pooling_core.plan_axes` (kernel = filter size, padding ``(k-1)//2`` before and
``k//2`` after, so ``out = ceil(n / stride)``), and the weighted sum runs over the
same per-offset strided views as the core's index modes. Padding is zeros (kornia's
``BlurPool2D``) or a reflection/replica of the border (``antialiased_cnns.BlurPool``'s
``pad_type='reflect'`` default and ``'repl'``).
"""
from __future__ import annotations

from math import comb, prod
from typing import NamedTuple

import numpy as np

from ._checks import as_real_array, check_input, check_real, float_dtype
from ._offsets import band_rows, row_bands
from .backward import pool2d_backward
from .geometry import normalize_tuple, plan_axes
from .reductions import _offset_views, pool2d

__all__ = ["PADDING_MODES", "ShiftConsistency", "binomial_filter", "blur_pool2d",
           "blur_pool2d_backward", "max_blur_pool2d", "max_blur_pool2d_backward",
           "shift_consistency"]

#: How the blur reads past the border: torch's names (``conv2d``'s ``padding_mode``).
PADDING_MODES = ("zeros", "reflect", "replicate")
_NP_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge"}


def binomial_filter(kernel_size) -> np.ndarray:
    """The normalized binomial blur filter, shape ``(kH, kW)``, summing to 1.

    The outer product of two rows of Pascal's triangle, each divided by its sum
    ``2**(k-1)``: kornia's ``get_pascal_kernel_2d(k, norm=True)`` and
    antialiased_cnns' ``filt``.

    Parameters
    ----------
    kernel_size : int or (int, int)
        The filter's size (taps per axis), at least 1.

    Returns
    -------
    ndarray of float64, shape ``(kH, kW)``: ``outer(C(kH-1, i), C(kW-1, j)) / 2**(kH+kW-2)``.

    Raises
    ------
    ValueError
        ``kernel_size`` is not a positive int or pair of them.

    Notes
    -----
    Exact binomial coefficients (``math.comb``), ``O(kH * kW)``.

    Examples
    --------
    >>> binomial_filter(1).tolist()
    [[1.0]]
    >>> (binomial_filter(3) * 16).tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    >>> (binomial_filter((1, 4)) * 8).tolist()
    [[1.0, 3.0, 3.0, 1.0]]
    """
    kh, kw = normalize_tuple(kernel_size, 2, "kernel_size")
    return np.outer(_binomial_row(kh), _binomial_row(kw))


def _binomial_row(k: int) -> np.ndarray:
    if k > 1024:
        raise ValueError(f"kernel_size={k} is more than 1024 taps; a binomial filter that "
                         f"long is a Gaussian of sigma {float(k - 1) ** 0.5 / 2:.3g}: blur with "
                         f"that instead")
    return np.array([comb(k - 1, i) for i in range(k)], dtype=np.float64) / 2.0 ** (k - 1)


def _check_padding_mode(padding_mode):
    if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode={padding_mode!r} is unknown; choose one of "
                         f"{', '.join(PADDING_MODES)} ('zeros' is kornia's, 'reflect' "
                         f"antialiased_cnns' default)")
    return padding_mode


def _blur_plans(spatial, kernel_size, stride, planes):
    """One plan pair per pass: the H pass (kernel (kH, 1)), then the W pass ((1, kW)).

    Rows first: that pass reads whole rows of the input (contiguous), and the W pass
    the shorter result.
    """
    kh, kw = normalize_tuple(kernel_size, 2, "kernel_size")
    sh, sw = normalize_tuple(stride, 2, "stride")
    h, w = spatial
    pad = lambda k: ((k - 1) // 2, k // 2)  # noqa: E731  (kornia's and antialiased_cnns' split)
    height = plan_axes((h, w), (kh, 1), (sh, 1), (pad(kh), (0, 0)), planes=planes)
    width = plan_axes((height[0].out, w), (1, kw), (1, sw), ((0, 0), pad(kw)), planes=planes)
    return (kh, kw), ((height, _binomial_row(kh)), (width, _binomial_row(kw)))


def _setup(x, kernel_size, stride, padding_mode, fn):
    x = check_input(x, 2, fn)
    padding_mode = _check_padding_mode(padding_mode)
    kernel, passes = _blur_plans(x.shape[-2:], kernel_size, stride, prod(x.shape[:-2]))
    if padding_mode == "reflect":
        for plans, _ in passes:
            for p in plans:
                if max(p.pad_before, p.extra_after) >= p.n:
                    raise ValueError(
                        f"padding_mode='reflect' with kernel_size={kernel_size!r} reflects "
                        f"{max(p.pad_before, p.extra_after)} cells of an axis of {p.n}; a "
                        f"reflection needs fewer cells than the axis has (as torch's "
                        f"ReflectionPad2d): use a smaller filter or padding_mode='replicate'")
    return x, padding_mode, passes


def _pad_source(plans, padding_mode):
    """Per pooled axis, the input cell each padded position copies (-1: a zero)."""
    mode = _NP_MODES[padding_mode]
    extra = {} if mode != "constant" else {"constant_values": -1}
    return [np.pad(np.arange(p.n), (p.pad_before, p.extra_after), mode=mode, **extra)
            for p in plans]


def _weighted_pass(a, plans, weights, padding_mode, dtype):
    """``sum_j weights[j] * tap_j`` over the windows of ``plans`` (one kernel axis > 1),
    a band of output rows at a time (see :mod:`._bands`)."""
    widths = [(0, 0)] * (a.ndim - 2) + [(p.pad_before, p.extra_after) for p in plans]
    mode = _NP_MODES[padding_mode]
    padded = np.pad(a, widths, mode=mode) if any(w for pair in widths for w in pair) else a
    views = [view for _, _, view in _offset_views(padded, plans)]
    w = [dtype.type(v) for v in weights]
    out = np.empty(views[0].shape, dtype)
    term = np.empty(out.shape[:-2] + (band_rows(out.shape), out.shape[-1]), dtype)
    for band in row_bands(out.shape):
        acc, t = out[..., band, :], term[..., :band.stop - band.start, :]
        np.multiply(views[0][..., band, :], w[0], out=acc)
        for view, weight in zip(views[1:], w[1:]):
            acc += np.multiply(view[..., band, :], weight, out=t)
    return out


def _weighted_pass_adjoint(g, plans, weights, padding_mode):
    """The transpose of :func:`_weighted_pass`: scatter ``g`` back to the input cells."""
    lead = g.shape[:-2]
    grad = np.zeros(lead + tuple(p.pad_before + p.n + p.extra_after for p in plans))
    for flat, _, view in _offset_views(grad, plans):
        view += weights[flat] * g
    for axis, (p, source) in enumerate(zip(plans, _pad_source(plans, padding_mode))):
        axis -= 2
        inner = np.take(grad, np.arange(p.pad_before, p.pad_before + p.n), axis=axis)
        for position in [*range(p.pad_before), *range(p.pad_before + p.n, len(source))]:
            if source[position] >= 0:  # a reflected or replicated cell sends its share home
                target = [slice(None)] * inner.ndim
                target[axis] = source[position]
                inner[tuple(target)] += np.take(grad, position, axis=axis)
        grad = inner
    return grad


def blur_pool2d(x, kernel_size, stride=2, *, padding_mode="zeros"):
    r"""BlurPool: blur with the binomial filter, then keep every ``stride``-th value.

    ``kornia.filters.blur_pool2d(x, kernel_size, stride)`` (``padding_mode='zeros'``)
    and ``antialiased_cnns.BlurPool(C, filt_size=kernel_size, stride=stride)``
    (``padding_mode='reflect'``, its default ``pad_type``).

    Parameters
    ----------
    x : array_like, shape ``(..., H, W)``
    kernel_size : int or (int, int)
        The filter size (kornia's ``kernel_size``, antialiased_cnns' ``filt_size``),
        at least 1; 1 is plain subsampling. Zhang's paper uses 2 to 7.
    stride : int or (int, int)
        The subsampling step. Default 2.
    padding_mode : {'zeros', 'reflect', 'replicate'}, keyword-only
        The ``(k-1)//2`` cells before and ``k//2`` after each axis: zeros (kornia;
        a constant image darkens at the border), the mirror image without the edge
        cell (``ReflectionPad2d``) or copies of the edge cell (``ReplicationPad2d``).

    Returns
    -------
    ndarray, shape ``(..., ceil(H / sH), ceil(W / sW))``
        float64 for integer input, else ``x``'s dtype.

    Raises
    ------
    ValueError
        ``kernel_size`` or ``stride`` not positive, an unknown ``padding_mode``,
        or a reflection wider than the axis.

    Notes
    -----
    Two 1-D passes (along H, then W), ``kH`` then ``kW`` multiply-adds per output
    cell of each, a band of output rows at a time: ``O(N * (kH + kW) / s)``.

    Examples
    --------
    >>> blur_pool2d(np.eye(5), 3).round(4)        # kornia's docstring example
    array([[0.3125, 0.0625, 0.    ],
           [0.0625, 0.375 , 0.0625],
           [0.    , 0.0625, 0.3125]])
    >>> blur_pool2d(np.ones((4, 4)), 3).tolist()           # zeros darken the border
    [[0.5625, 0.75], [0.75, 1.0]]
    >>> blur_pool2d(np.ones((4, 4)), 3, padding_mode="reflect").tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    >>> blur_pool2d(np.arange(6.).reshape(1, 6), (1, 1), (1, 2)).tolist()   # subsampling
    [[0.0, 2.0, 4.0]]
    """
    x, padding_mode, passes = _setup(x, kernel_size, stride, padding_mode, "blur_pool2d")
    dtype = np.dtype(float_dtype(x))
    out = x
    for plans, weights in passes:
        out = _weighted_pass(out, plans, weights, padding_mode, dtype)
    return out


def blur_pool2d_backward(grad_output, x, kernel_size, stride=2, *, padding_mode="zeros"):
    """Gradient of :func:`blur_pool2d` with respect to ``x`` (the transposed blur).

    Each output's gradient spreads over its window with the filter's weights; a
    padding cell's share goes to the input cell it copied (``reflect`` and
    ``replicate``) or is dropped (``zeros``).

    Parameters
    ----------
    grad_output : array_like, shape of ``blur_pool2d(x, ...)``
    x, kernel_size, stride, padding_mode
        As :func:`blur_pool2d`.

    Returns
    -------
    ndarray of float64, shape of ``x``.

    Raises
    ------
    ValueError
        As :func:`blur_pool2d`, or a ``grad_output`` not shaped like its output.

    Notes
    -----
    The two passes in reverse, ``O(N * (kH + kW))``.

    Examples
    --------
    >>> blur_pool2d_backward(np.ones((1, 1)), np.zeros((1, 3)), (1, 3), 3).tolist()
    [[0.5, 0.25, 0.0]]
    >>> blur_pool2d_backward(np.ones((1, 1)), np.zeros((1, 3)), (1, 3), 3,
    ...                      padding_mode="reflect").tolist()
    [[0.5, 0.5, 0.0]]
    """
    x, padding_mode, passes = _setup(x, kernel_size, stride, padding_mode,
                                     "blur_pool2d_backward")
    out_shape = x.shape[:-2] + tuple(p.out for p in passes[-1][0])
    g = as_real_array(grad_output, "grad_output").astype(np.float64)
    if g.shape != out_shape:
        raise ValueError(f"grad_output has shape {g.shape}; the pooled output has shape "
                         f"{out_shape}")
    for plans, weights in passes[::-1]:
        g = _weighted_pass_adjoint(g, plans, weights, padding_mode)
    return g


def _max_setup(x, max_pool_size, fn):
    x = check_input(x, 2, fn)
    size = normalize_tuple(max_pool_size, 2, "max_pool_size")
    if size[0] > x.shape[-2] or size[1] > x.shape[-1]:
        raise ValueError(f"max_pool_size={max_pool_size!r} is larger than the input's "
                         f"{x.shape[-2:]} cells: the dense max would be empty; use a smaller "
                         f"max_pool_size")
    return x


def max_blur_pool2d(x, kernel_size, stride=2, max_pool_size=2, *, padding_mode="zeros"):
    r"""MaxBlurPool: a dense max (stride 1, no padding), then :func:`blur_pool2d`.

    ``kornia.filters.max_blur_pool2d(x, kernel_size, stride, max_pool_size)``
    (``padding_mode='zeros'``); antialiased_cnns' ``nn.MaxPool2d(kernel_size=2,
    stride=1)`` followed by ``BlurPool(C, filt_size=kernel_size, stride=stride)``
    (``padding_mode='reflect'``). kornia's ``ceil_mode`` has no effect (a max at
    stride 1 without padding rounds the same either way), so there is none here.

    Parameters
    ----------
    x : array_like, shape ``(..., H, W)``
    kernel_size, stride, padding_mode
        The blur's, as :func:`blur_pool2d`.
    max_pool_size : int or (int, int)
        The dense max's window. Default 2.

    Returns
    -------
    ndarray, shape ``(..., ceil((H - mH + 1) / sH), ceil((W - mW + 1) / sW))``

    Raises
    ------
    ValueError
        As :func:`blur_pool2d`, or a ``max_pool_size`` larger than the input.

    Notes
    -----
    The core's separable max (``O(N log m)``), then the blur's two passes.

    Examples
    --------
    >>> max_blur_pool2d(np.eye(5), 3).round(4)      # kornia's docstring example
    array([[0.5625, 0.3125],
           [0.3125, 0.875 ]])
    """
    x = _max_setup(x, max_pool_size, "max_blur_pool2d")
    dense = pool2d(x, max_pool_size, 1)
    return blur_pool2d(dense, kernel_size, stride, padding_mode=padding_mode).astype(
        float_dtype(x), copy=False)


def max_blur_pool2d_backward(grad_output, x, kernel_size, stride=2, max_pool_size=2, *,
                             padding_mode="zeros"):
    """Gradient of :func:`max_blur_pool2d`: the blur's, then the dense max's.

    Parameters
    ----------
    grad_output : array_like, shape of ``max_blur_pool2d(x, ...)``
    x, kernel_size, stride, max_pool_size, padding_mode
        As :func:`max_blur_pool2d`.

    Returns
    -------
    ndarray of float64, shape of ``x``. Ties in the max go to the first cell, as
    PyTorch's ``max_pool2d`` picks it.

    Raises
    ------
    ValueError
        As :func:`max_blur_pool2d`, or a ``grad_output`` not shaped like its output.

    Notes
    -----
    The blur's backward, then the core's max backward (one pass per offset of the
    dense max's window), ``O(N * (kH + kW + mH * mW))``.

    Examples
    --------
    >>> max_blur_pool2d_backward(np.ones((1, 1)), np.array([[0., 1., 0.]]), 1, 2,
    ...                          (1, 2)).tolist()
    [[0.0, 1.0, 0.0]]
    """
    x = _max_setup(x, max_pool_size, "max_blur_pool2d_backward")
    dense = pool2d(x, max_pool_size, 1)
    g = blur_pool2d_backward(grad_output, dense, kernel_size, stride, padding_mode=padding_mode)
    return pool2d_backward(g, x, max_pool_size, 1)


# ----------------------------------------------------------------------------- shift consistency


class ShiftConsistency(NamedTuple):
    """How much of a pooled output survives a shift of the input (:func:`shift_consistency`).

    unchanged : share of the compared output positions whose value did not change
        (within ``atol``), in ``[0, 1]``.
    correlation : Pearson correlation of the compared values; 1.0 when both are the
        same constant, NaN when one of them is constant and the other is not.
    mean_change : mean absolute difference of the compared values.
    offset : ``(rows, cols)`` output cells the reference was moved by, ``shift // stride``.
    positions : how many output values were compared (all planes).
    """

    unchanged: float
    correlation: float
    mean_change: float
    offset: tuple[int, int]
    positions: int


def shift_consistency(reference, shifted, shift, stride=1, *, atol=1e-6) -> ShiftConsistency:
    r"""Compare the pooled outputs of an input and of the same input shifted, as Zhang (2019).

    ``reference`` pools ``x``; ``shifted`` pools ``x`` moved by ``shift = (dy, dx)``
    pixels towards the origin (``x'[i, j] = x[i + dy, j + dx]``: a crop ``dy`` rows and
    ``dx`` columns further into a larger image). A shift-equivariant layer of stride
    ``s`` would give ``shifted[i, j] = reference[i + dy / s, j + dx / s]``. Where
    ``dy / s`` is not whole it cannot (the output grid has no cell there), and the
    comparison uses ``dy // s``: max pooling's output then jumps, an anti-aliased
    pooling's output changes little. Zhang's paper measures the same agreement: how
    often the output is unchanged (its "consistency") and how close it stays (the
    correlation, the mean change).

    Parameters
    ----------
    reference, shifted : array_like, shape ``(..., H_out, W_out)``
        The two outputs (their shapes may differ; the positions both have are compared).
    shift : int or (int, int)
        ``(dy, dx) >= 0``, the input's shift in pixels; an int shifts both axes.
    stride : int or (int, int)
        The pooling's stride (the output cells per input pixel are ``1 / stride``).
    atol : float, keyword-only
        Values closer than this count as unchanged (``>= 0``).

    Returns
    -------
    ShiftConsistency

    Raises
    ------
    ValueError
        Outputs with fewer than 2 axes, empty ones, or ones whose leading axes differ; a
        negative shift, a stride below 1, a negative ``atol``; a shift that leaves no
        position to compare.

    Notes
    -----
    ``O(H_out * W_out)`` per plane: one comparison and one correlation.

    Examples
    --------
    Zhang's 1-D example: ``0 0 1 1 0 0 1 1`` and its shift by one pixel, 2-wide max
    pooling at stride 2 against the binomial blur after a dense max:

    >>> x = np.array([[0., 0, 1, 1, 0, 0, 1, 1, 0, 0]])
    >>> a, b = pool2d(x[:, :8], (1, 2)), pool2d(x[:, 1:9], (1, 2))
    >>> a.tolist(), b.tolist()
    ([[0.0, 1.0, 0.0, 1.0]], [[1.0, 1.0, 1.0, 1.0]])
    >>> r = shift_consistency(a, b, (0, 1), 2)
    >>> r.unchanged, r.mean_change
    (0.5, 0.5)
    >>> c = max_blur_pool2d(x[:, :8], (1, 3), (1, 2), (1, 2), padding_mode="reflect")
    >>> d = max_blur_pool2d(x[:, 1:9], (1, 3), (1, 2), (1, 2), padding_mode="reflect")
    >>> c.tolist(), d.tolist()
    ([[0.5, 1.0, 0.5, 1.0]], [[1.0, 0.75, 0.75, 1.0]])
    >>> shift_consistency(c, d, (0, 1), 2).mean_change  # half of max pooling's
    0.25
    """
    a = as_real_array(reference, "reference").astype(np.float64)
    b = as_real_array(shifted, "shifted").astype(np.float64)
    if a.ndim < 2 or b.ndim < 2 or a.shape[:-2] != b.shape[:-2]:
        raise ValueError(f"reference {a.shape} and shifted {b.shape} must be pooled outputs "
                         f"shaped (..., H_out, W_out) with the same leading axes")
    if a.size == 0 or b.size == 0:
        raise ValueError(f"reference {a.shape} and shifted {b.shape} must each hold at least "
                         f"one value: pool inputs at least as large as the window")
    dy, dx = normalize_tuple(shift, 2, "shift", minimum=0)
    sy, sx = normalize_tuple(stride, 2, "stride")
    atol = float(check_real(atol, "atol"))
    if not atol >= 0:
        raise ValueError(f"atol={atol!r} must be >= 0")
    oy, ox = dy // sy, dx // sx
    h = min(a.shape[-2] - oy, b.shape[-2])
    w = min(a.shape[-1] - ox, b.shape[-1])
    if h < 1 or w < 1:
        raise ValueError(f"shift={shift!r} at stride={stride!r} moves the output by ({oy}, "
                         f"{ox}) cells, past an output of {a.shape[-2:]}: nothing is left to "
                         f"compare; use a smaller shift or a larger input")
    ref = a[..., oy:oy + h, ox:ox + w].ravel()
    new = b[..., :h, :w].ravel()
    unchanged = float(np.mean(np.abs(ref - new) <= atol))
    ref_c, new_c = ref - ref.mean(), new - new.mean()
    norm = np.sqrt((ref_c ** 2).sum() * (new_c ** 2).sum())
    if norm > 0:
        correlation = float(np.clip((ref_c * new_c).sum() / norm, -1.0, 1.0))
    else:
        flat = not ref_c.any() and not new_c.any()
        correlation = 1.0 if flat and np.allclose(ref, new, rtol=0, atol=atol) else np.nan
    return ShiftConsistency(unchanged, correlation, float(np.mean(np.abs(ref - new))), (oy, ox),
                            int(ref.size))
