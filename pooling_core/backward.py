"""Gradients through pooling, and max unpooling.

Two routes, the same ones autograd takes:

* **pick one cell** (max, min, median, stochastic): each output's gradient goes
  to the cell its index names; overlapping windows add up (``np.bincount``).
* **spread over the window** (avg, sum, lp): each output's gradient is
  scattered over its taps through the same strided views as the forward pass.
"""
from __future__ import annotations

from math import prod

import numpy as np

from ._checks import as_real_array, check_input, check_ndim, check_shape
from .geometry import MAX_AXES, _check_limits, window_divisors
from .reductions import (INDEX_MODES, _check_absolute, _offset_views, _pool_options, plan_pool,
                         pool_nd, PoolOptions)

__all__ = ["pool_nd_backward", "pool2d_backward", "unpool2d", "unpool_nd"]


def _scatter_indices(values, indices, spatial):
    """Add ``values`` at flat ``indices`` of each plane; returns ``(..., *spatial)``."""
    plane = prod(spatial)
    lead = values.shape[: values.ndim - len(spatial)]
    planes = prod(lead)
    per_plane = prod(values.shape[len(lead):])  # (not -1: a batch may hold no planes)
    flat_idx = indices.reshape(planes, per_plane).astype(np.int64)
    flat_val = values.reshape(planes, per_plane)
    keep = (flat_idx >= 0) & (flat_idx < plane)  # empty windows point past the plane
    global_idx = (np.arange(planes)[:, None] * plane + flat_idx)[keep]
    total = np.bincount(global_idx, weights=flat_val[keep].astype(np.float64),
                        minlength=planes * plane).astype(np.float64, copy=False)  # int if empty
    return total.reshape(lead + tuple(spatial))


def _scatter_windows(weights, plans, x_shape):
    """Add each window's weight to every tap it reads (padding taps are dropped)."""
    lead = x_shape[: len(x_shape) - len(plans)]
    padded_shape = lead + tuple(p.pad_before + p.n + p.extra_after for p in plans)
    grad = np.zeros(padded_shape, dtype=np.float64)
    for _, _, view in _offset_views(grad, plans):
        view += weights  # distinct cells within one offset: a plain in-place add is exact
    crop = (Ellipsis,) + tuple(slice(p.pad_before, p.pad_before + p.n) for p in plans)
    return grad[crop]


def pool_nd_backward(grad_output, x, ndim, kernel_size, stride=None, padding=0, dilation=1,
                     mode="max", ceil_mode=False, count_include_pad=None,
                     divisor_override=None, p=2.0, rng=None, **options):
    """Gradient of :func:`~pooling_core.pool_nd` with respect to ``x``."""
    options = _pool_options(options, f"pool{ndim}d_backward")
    x = check_input(x, ndim, f"pool{ndim}d_backward")
    ndim = int(ndim)
    opts = PoolOptions.check(mode, return_indices=False, count_include_pad=count_include_pad,
                             divisor_override=divisor_override, p=p, rng=rng,
                             pad_value=options.get("pad_value"),
                             training=options.get("training", True))
    plans = plan_pool(x, ndim, kernel_size, stride, padding, dilation, ceil_mode,
                      ceil_clip=options.get("ceil_clip", True),
                      check_half_kernel=options.get("check_half_kernel", True),
                      work=opts.work(backward=True))
    opts = opts.for_padding(plans[0].padding_kind)
    absolute = _check_absolute(options.get("absolute", False), mode)
    count_include_pad, p, rng, training = opts.count_include_pad, opts.p, opts.rng, opts.training
    out_shape = x.shape[: x.ndim - ndim] + tuple(pl.out for pl in plans)
    g = as_real_array(grad_output, "grad_output").astype(np.float64)
    if g.shape != out_shape:
        raise ValueError(f"grad_output has shape {g.shape}; the pooled output has shape {out_shape}")
    args = (kernel_size, stride, padding, dilation, mode, ceil_mode, count_include_pad,
            divisor_override, p)
    if mode in INDEX_MODES and training:
        _, idx = pool_nd(x, ndim, *args, return_indices=True, rng=rng, **options)
        return _scatter_indices(g, idx, x.shape[-ndim:])
    if mode == "stochastic":  # evaluation: d/dx_i of sum(w*x)/sum(w), w = max(x, 0)
        raise ValueError("the backward pass of stochastic pooling needs training=True")
    if mode == "sum":
        return _scatter_windows(g, plans, x.shape)
    divisor = window_divisors(plans, count_include_pad, divisor_override)
    if mode == "avg":
        return _scatter_windows(g / divisor, plans, x.shape)
    # lp: out = (K/D * sum x**p) ** (1/p)  =>  d out / d x_i = K/D * x_i**(p-1) * out**(1-p)
    # (absolute: x_i is |x_i|, and the chain rule adds sign(x_i))
    out = pool_nd(x, ndim, *args, rng=rng, **options).astype(np.float64)
    kernel_cells = prod(pl.kernel for pl in plans)
    base = x.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(out > 0, g * (kernel_cells / divisor) * np.power(out, 1.0 - p), 0.0)
        grad = _scatter_windows(weight, plans, x.shape)
        if absolute:
            return grad * np.power(np.abs(base), p - 1) * np.sign(base)
        return grad * np.power(base, p - 1)


def pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0, dilation=1,
                    mode="max", ceil_mode=False, count_include_pad=None,
                    divisor_override=None, p=2.0, rng=None, **options):
    """Gradient each input cell of ``x`` receives from ``grad_output``.

    Parameters
    ----------
    grad_output : array_like, shape ``(..., H_out, W_out)``
        Upstream gradient, shaped like ``pool2d(x, ...)``.
    x : array_like, shape ``(..., H, W)``
    Other parameters exactly as :func:`~pooling_core.pool2d`.

    Returns
    -------
    ndarray of float64, shape ``(..., H, W)``
        Max/min/median/stochastic route each output's gradient to the chosen
        cell (overlapping windows add up); avg spreads it divided by the
        divisor; sum copies it; lp weights it by ``K/D * x**(p-1) * out**(1-p)``.
        Equal to PyTorch autograd for max, avg and lp.

    Examples
    --------
    >>> x = np.array([[1, 3], [4, 2]])
    >>> pool2d_backward(np.ones((1, 1)), x, 2).tolist()
    [[0.0, 0.0], [1.0, 0.0]]
    >>> pool2d_backward(np.ones((1, 1)), x, 2, mode="avg").tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    return pool_nd_backward(grad_output, x, 2, kernel_size, stride, padding, dilation, mode,
                            ceil_mode, count_include_pad, divisor_override, p, rng, **options)


def unpool_nd(values, indices, output_shape, ndim):
    """Place ``values`` at ``indices`` of zero planes of ``output_shape`` (last ``ndim`` axes)."""
    ndim = check_ndim(ndim)
    values = as_real_array(values, "values")
    try:
        indices = np.asarray(indices)
    except (TypeError, ValueError) as err:
        raise ValueError(f"indices is not an array of ints ({err})") from None
    if indices.dtype == bool or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"indices has dtype {indices.dtype}; give the int indices of "
                         f"pool2d(..., return_indices=True)")
    if values.shape != indices.shape:
        raise ValueError(f"values {values.shape} and indices {indices.shape} must have one shape")
    if values.ndim < ndim:
        raise ValueError(f"values has shape {values.shape}; unpooling needs at least {ndim} axes")
    shape = check_shape(output_shape, "output_shape", MAX_AXES)
    spatial = shape[-ndim:]
    if len(spatial) != ndim or min(spatial) < 1:
        raise ValueError(f"output_shape={output_shape!r} must end with {ndim} positive sizes")
    lead_given = shape[:-ndim]
    if lead_given and lead_given != values.shape[: values.ndim - ndim]:
        raise ValueError(f"output_shape={output_shape!r} has leading axes {lead_given}; values "
                         f"has {values.shape[: values.ndim - ndim]}")
    _check_limits(f"output_shape={output_shape!r}", planes=prod(values.shape[: values.ndim - ndim]),
                  frame_shape=spatial)
    plane = prod(spatial)
    if indices.size and (indices.min() < -1 or indices.max() >= plane):
        raise ValueError(
            f"indices run from {indices.min()} to {indices.max()}, outside a plane of "
            f"{plane} cells (output_shape={output_shape!r})"
        )
    lead = values.shape[: values.ndim - ndim]
    per_plane = prod(values.shape[values.ndim - ndim:])
    # one spare column takes the -1 entries (windows the padding won), then is dropped
    out = np.zeros((prod(lead), plane + 1), dtype=values.dtype)
    flat_idx = np.where(indices < 0, plane, indices).reshape(out.shape[0], per_plane)
    np.put_along_axis(out, flat_idx, values.reshape(out.shape[0], per_plane), axis=1)
    return out[:, :plane].reshape(lead + spatial)


def unpool2d(values, indices, output_shape):
    """Max unpooling (``nn.MaxUnpool2d``; MATLAB's ``maxUnpooling2dLayer``).

    Parameters
    ----------
    values, indices : array_like, shape ``(..., H_out, W_out)``
        The pooled values and the indices from ``pool2d(..., return_indices=True)``.
    output_shape : tuple ending with ``(H, W)``
        The unpooled plane size.

    Returns
    -------
    ndarray, shape ``(..., H, W)``: zeros except at the indexed cells (an index of
    ``-1``, a window the padding won, places nothing).

    >>> unpool2d(np.array([[8]]), np.array([[3]]), (2, 2)).tolist()
    [[0, 0], [0, 8]]
    """
    return unpool_nd(values, indices, output_shape, 2)
