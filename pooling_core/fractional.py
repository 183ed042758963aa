"""Fractional max pooling (Graham 2014), exactly as PyTorch's ``fractional_max_pool2d``.

Max pooling shrinks by an integer factor; fractional max pooling shrinks by any
factor (``output_ratio`` 0.7, say, where 2x2 pooling would give 0.5). The windows are
``kernel_size`` cells wide, and their starts advance by ``floor(alpha)`` or
``ceil(alpha)`` cells, ``alpha = (n - k) / (out - 1)``, in a pseudo-random pattern fixed
by one number ``u`` in ``[0, 1)`` per plane and axis:

    start[i] = int((i + u) * alpha) - int(u * alpha)    for i < out - 1
    start[out - 1] = n - k

(ATen's ``generate_intervals``, computed in the input's floating dtype, as there). The
windows' placement comes from :func:`fractional_windows` alone: forward pooling, the
backward pass and any picture of the regions read it. Windows differ from plane to
plane (each has its own ``u``), so they are not an :class:`~pooling_core.AxisPlan`;
the argument checks and work limits are the core's.
"""
from __future__ import annotations

from math import prod
from typing import NamedTuple

import numpy as np

from ._checks import as_real_array, check_flag, check_input, check_rng, check_shape, is_int
from .backward import _scatter_indices
from .geometry import MAX_AXES, MAX_CELLS, _check_limits, normalize_tuple
from .reductions import pool2d

__all__ = ["FractionalWindows", "fractional_intervals", "fractional_windows",
           "fractional_max_pool2d", "fractional_max_pool2d_backward"]


class FractionalWindows(NamedTuple):
    """Where fractional max pooling's windows sit, plane by plane.

    rows : int64 array ``(..., H_out)``, the first row of each window of each plane.
    cols : int64 array ``(..., W_out)``, the first column.
    kernel : ``(kH, kW)``; window ``(i, j)`` of a plane covers rows ``rows[i] ..
        rows[i] + kH - 1`` and columns ``cols[j] .. cols[j] + kW - 1``.
    samples : the ``(..., 2)`` samples used (``[..., 0]`` for the columns, ``[..., 1]``
        for the rows, as PyTorch's ``_random_samples``).
    """

    rows: np.ndarray
    cols: np.ndarray
    kernel: tuple[int, int]
    samples: np.ndarray


def _interval_dtype(dtype) -> np.dtype:
    """ATen computes the sequence in the input's dtype; integers (not in torch) in float64."""
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ValueError(f"dtype={dtype!r} is not a NumPy dtype; give the input's, e.g. "
                         f"np.float32") from None
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _check_count(value, name: str, minimum: int = 1) -> int:
    if not is_int(value) or not minimum <= value <= MAX_CELLS:
        raise ValueError(f"{name}={value!r} must be an int from {minimum} to {MAX_CELLS:,} "
                         f"(MAX_CELLS)")
    return int(value)


def fractional_intervals(n: int, kernel: int, out: int, sample, dtype=np.float64) -> np.ndarray:
    """The window starts on one axis for each ``sample`` (ATen's ``generate_intervals``).

    Parameters
    ----------
    n, kernel, out : int
        Input length, window size, output length (``out + kernel - 1 <= n``).
    sample : float or array_like of floats in ``[0, 1)``
        One ``u`` per plane.
    dtype : floating dtype
        The arithmetic's precision (PyTorch uses the input's dtype).

    Returns
    -------
    int64 array, shape ``np.shape(sample) + (out,)``.

    Raises
    ------
    ValueError
        ``n``, ``kernel`` or ``out`` not a positive int, ``out + kernel - 1 > n``, or a
        sample outside ``[0, 1)``.

    Notes
    -----
    ``O(out)`` per sample, vectorized over the samples.

    Examples
    --------
    >>> fractional_intervals(10, 2, 6, 0.5).tolist()    # alpha = 8/5: steps of 1 and 2
    [0, 2, 4, 5, 7, 8]
    >>> fractional_intervals(10, 2, 6, [0.0, 0.9]).tolist()
    [[0, 1, 3, 4, 6, 8], [0, 2, 3, 5, 6, 8]]
    """
    n, kernel, out = (_check_count(v, name) for v, name in ((n, "n"), (kernel, "kernel"),
                                                             (out, "out")))
    if out + kernel - 1 > n:
        raise ValueError(f"out={out} windows of kernel={kernel} need {out + kernel - 1} cells "
                         f"(out + kernel - 1), more than n={n}")
    dtype = _interval_dtype(dtype)
    u = as_real_array(sample, "sample")
    if not np.all((u >= 0) & (u < 1)):
        raise ValueError("sample must lie in [0, 1), as torch.rand draws it")
    if u.size * out > MAX_CELLS:
        raise ValueError(f"{u.size:,} samples × out={out:,} starts is more than {MAX_CELLS:,} "
                         f"(MAX_CELLS)")
    u = u.astype(dtype)
    starts = np.empty(u.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = dtype.type(n - kernel) / dtype.type(out - 1)
        i = np.arange(out - 1).astype(dtype)
        starts[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) \
            - (u * alpha).astype(np.int64)[..., None]
    starts[..., -1] = n - kernel
    return starts


def _output_size(spatial, kernel, output_size, output_ratio):
    if (output_size is None) == (output_ratio is None):
        raise ValueError("give output_size or output_ratio (one of them), as "
                         "torch.nn.FractionalMaxPool2d")
    if output_size is not None:
        size = normalize_tuple(output_size, 2, "output_size")
    else:
        try:
            ratio = tuple(float(r) for r in np.broadcast_to(
                as_real_array(output_ratio, "output_ratio").astype(float), (2,)))
        except ValueError:
            raise ValueError(f"output_ratio={output_ratio!r} must be a number or a pair of "
                             f"numbers in (0, 1)") from None
        if isinstance(output_ratio, (bool, np.bool_)) or not all(0 < r < 1 for r in ratio):
            raise ValueError(f"output_ratio={output_ratio!r} must lie in (0, 1), strictly: "
                             f"the output is the input times the ratio")
        size = tuple(int(n * r) for n, r in zip(spatial, ratio))  # torch: int(H * ratio)
        if min(size) < 1:
            raise ValueError(f"output_ratio={output_ratio!r} on an input of {spatial} cells "
                             f"gives an output of {size}; use a larger ratio")
    for axis, (n, k, o) in enumerate(zip(spatial, kernel, size)):
        if o + k - 1 > n:
            raise ValueError(
                f"an output of {size} (from output_size or output_ratio) with kernel_size="
                f"{kernel} needs {o + k - 1} cells on axis {axis} (output + kernel - 1), but "
                f"the input has {n}; use a smaller kernel or output (PyTorch: 'pool too large "
                f"relative to input')")
    return size


def _samples(samples, lead, dtype, rng):
    if samples is None:
        return check_rng(rng).random(lead + (2,)).astype(dtype)
    s = as_real_array(samples, "samples").astype(np.float64)
    if s.shape == (1,) + lead + (2,) and len(lead) == 1:  # torch's (1, C, 2) for (C, H, W)
        s = s[0]
    if s.shape != lead + (2,):
        raise ValueError(f"samples has shape {s.shape}; give one (u_w, u_h) pair per plane, "
                         f"shape {lead + (2,)} (PyTorch's _random_samples, (N, C, 2))")
    if not np.all((s >= 0) & (s < 1)):
        raise ValueError("samples must lie in [0, 1), as torch.rand draws them")
    return np.asarray(samples).astype(dtype).reshape(s.shape)


def fractional_windows(input_shape, kernel_size, output_size=None, output_ratio=None,
                       samples=None, *, dtype=np.float64, rng=None) -> FractionalWindows:
    """Validate the arguments and place every plane's windows.

    Parameters
    ----------
    input_shape : tuple ending with ``(H, W)``; the leading axes are the planes.
    kernel_size, output_size, output_ratio, samples
        As :func:`fractional_max_pool2d`.
    dtype : the input's dtype (the arithmetic follows it, as in PyTorch).
    rng : None, int or numpy.random.Generator, keyword-only
        Draws the samples when ``samples`` is None.

    Returns
    -------
    FractionalWindows

    Raises
    ------
    ValueError
        As :func:`fractional_max_pool2d`.

    Notes
    -----
    ``O(planes * (H_out + W_out))``: one start per window row and column of each plane.

    Examples
    --------
    >>> w = fractional_windows((1, 1, 7, 7), 2, output_size=4, samples=[[[0.3, 0.6]]])
    >>> w.rows.tolist(), w.cols.tolist()
    ([[[0, 1, 3, 5]]], [[[0, 2, 3, 5]]])
    """
    shape = check_shape(input_shape, "input_shape", MAX_AXES)
    if len(shape) < 2 or min(shape[-2:]) < 1 or min(shape) < 0:
        raise ValueError(f"input_shape={input_shape!r} must end with (H, W), both positive")
    lead, spatial = shape[:-2], shape[-2:]
    if prod(lead) > MAX_CELLS or max(spatial) > MAX_CELLS:
        raise ValueError(f"input_shape={input_shape!r} is larger than MAX_CELLS ({MAX_CELLS:,})")
    kernel = normalize_tuple(kernel_size, 2, "kernel_size")
    size = _output_size(spatial, kernel, output_size, output_ratio)
    dtype = _interval_dtype(dtype)
    s = _samples(samples, lead, dtype, rng)
    return FractionalWindows(fractional_intervals(spatial[0], kernel[0], size[0], s[..., 1], dtype),
                             fractional_intervals(spatial[1], kernel[1], size[1], s[..., 0], dtype),
                             kernel, s)


def _setup(x, kernel_size, output_size, output_ratio, samples, rng, fn):
    x = check_input(x, 2, fn)
    windows = fractional_windows(x.shape, kernel_size, output_size, output_ratio, samples,
                                 dtype=x.dtype, rng=rng)
    out = (windows.rows.shape[-1], windows.cols.shape[-1])
    if max(x.shape[-2:]) > MAX_CELLS:
        raise ValueError(f"x has {x.shape[-2:]} cells per plane, more than MAX_CELLS")
    _check_limits(f"kernel_size={kernel_size!r}, output size {out}", planes=prod(x.shape[:-2]),
                  out_shape=out, kernel_shape=windows.kernel, frame_shape=x.shape[-2:],
                  work="scan")
    return x, windows


class _Rule:
    """PyTorch's rule, tap by tap: a larger value or any NaN takes over. It keeps the
    running max (``np.maximum`` gives the rule's value: NaN stays) and which tap holds it.

    Tap offsets are updated by arithmetic, ``at += (offset - at) * update`` (exact in the
    small unsigned dtype, even where it wraps): a masked copy (``np.copyto(...,
    where=)``) is many times slower on random masks (``docs/performance.md``). All
    buffers are reused from tap to tap (fresh ones would cost a page fault per 4 KiB).
    """

    def __init__(self, best, floating):
        self.best, self.floating = best, floating
        self.update = np.empty(best.shape, dtype=bool)
        self.nan = np.empty(best.shape, dtype=bool) if floating else None
        self.step = None

    def __call__(self, vals, *moves):
        """Take ``vals`` where the rule says, and for each ``(at, offset)`` of ``moves``
        (``offset`` a scalar or an array), set ``at`` to ``offset`` there."""
        np.greater(vals, self.best, out=self.update)
        if self.floating:
            self.update |= np.isnan(vals, out=self.nan)
        for at, offset in moves:
            if self.step is None or self.step.dtype != at.dtype:
                self.step = np.empty(at.shape, dtype=at.dtype)
            np.subtract(offset, at, out=self.step, casting="unsafe")
            np.multiply(self.step, self.update, out=self.step)
            at += self.step
        np.maximum(self.best, vals, out=self.best)


#: Planes gathered one by one (``np.take``, a fast copy per row) up to this many; more
#: (small planes, as in a network) are gathered at once with ``take_along_axis``.
PLANE_LOOP = 32


def _take(a, index, axis, out=None):
    """``a[p].take(index[p], axis)`` for every plane ``p``: ``a`` is ``(P, R, C)``, ``index``
    ``(P, J)`` per-plane positions along ``axis`` (1 or 2), the result has ``J`` there
    (written into ``out`` if given)."""
    shape = list(a.shape)
    shape[axis] = index.shape[1]
    if out is None:
        out = np.empty(shape, dtype=a.dtype)
    if a.shape[0] > PLANE_LOOP:
        at = [a.shape[0], 1, 1]
        at[axis] = index.shape[1]
        out[...] = np.take_along_axis(a, index.reshape(at), axis=axis)
        return out
    for p in range(a.shape[0]):  # a loop over planes, bounded by PLANE_LOOP
        np.take(a[p], index[p], axis=axis - 1, out=out[p], mode="clip")  # positions are valid
    return out


def fractional_max_pool2d(x, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, samples=None, *, rng=None):
    r"""Fractional max pooling: ``kernel_size`` windows at pseudo-random fractional steps.

    ``torch.nn.functional.fractional_max_pool2d(x, kernel_size, output_size,
    output_ratio, return_indices, _random_samples=samples)``, value for value and
    index for index.

    Parameters
    ----------
    x : array_like, shape ``(..., H, W)``
    kernel_size : int or (int, int)
        Window size (2 in Graham's paper and most models).
    output_size : int or (int, int), optional
        ``(H_out, W_out)``; needs ``H_out + kH - 1 <= H`` (and so for W).
    output_ratio : float or (float, float), optional
        Instead of ``output_size``: ``H_out = int(H * ratio)``, ratio in ``(0, 1)``.
    return_indices : bool
        Also return each maximum's flat index into its ``H * W`` plane.
    samples : array_like, shape ``(..., 2)``, optional
        PyTorch's ``_random_samples``: per plane a pair ``(u_w, u_h)`` in ``[0, 1)``,
        ``[..., 0]`` for the columns and ``[..., 1]`` for the rows. ``(1, C, 2)``
        is accepted for a ``(C, H, W)`` input, as PyTorch takes it.
    rng : None, int or numpy.random.Generator, keyword-only
        Draws ``samples`` when they are not given (PyTorch draws ``torch.rand``).

    Returns
    -------
    out : ndarray, shape ``(..., H_out, W_out)``, ``x``'s dtype.
    indices : int64 ndarray, same shape, only if ``return_indices``.

    Raises
    ------
    ValueError
        Neither or both of ``output_size`` and ``output_ratio``, a ratio outside
        ``(0, 1)``, an output too large for the kernel and input, or ``samples``
        of the wrong shape or outside ``[0, 1)``.

    Notes
    -----
    The windows of a plane form a grid (row starts times column starts), so the max
    is separable: the core's max along the rows of every ``1 x kW`` window (stride 1),
    a gather of the column starts, the same along the columns, a gather of the row
    starts; ``O(N log kW + N_out' log kH)``. With indices, one gather per kernel
    offset instead, ``O(N * kW + N_out * kH)``, keeping PyTorch's choice: the first
    cell in row-major order, or the last NaN (NaN wins), exactly its loop.

    Examples
    --------
    A 7x7 input to 4x4 with 2x2 windows (``output_ratio`` 4/7 would do the same):

    >>> x = np.arange(49).reshape(1, 1, 7, 7)
    >>> out, idx = fractional_max_pool2d(x, 2, output_size=4, return_indices=True,
    ...                                  samples=[[[0.3, 0.6]]])
    >>> out[0, 0]
    array([[ 8, 10, 11, 13],
           [15, 17, 18, 20],
           [29, 31, 32, 34],
           [43, 45, 46, 48]])
    >>> bool((idx == out).all())           # here each max is the window's last cell
    True
    """
    return_indices = check_flag(return_indices, "return_indices")
    x, windows = _setup(x, kernel_size, output_size, output_ratio, samples, rng,
                        "fractional_max_pool2d")
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    planes = x.reshape((-1, h, w))
    rows = windows.rows.reshape(-1, windows.rows.shape[-1])   # (P, oh)
    cols = windows.cols.reshape(-1, windows.cols.shape[-1])   # (P, ow)
    kh, kw = windows.kernel
    if not return_indices:  # the core's max (NaN wins, as in torch), then the starts
        dense = _take(pool2d(planes, (1, kw), 1), cols, axis=2)
        out = _take(pool2d(dense, (kh, 1), 1), rows, axis=1)
        return out.reshape(lead + out.shape[1:])
    floating = np.issubdtype(x.dtype, np.floating)
    offset = np.uint8 if max(kh, kw) <= 255 else np.int32
    best = _take(planes, cols, axis=2)  # PyTorch starts at -inf and the window's first
    best_dw = np.zeros(best.shape, dtype=offset)  # cell: either way, the first tap's
    vals, take = np.empty_like(best), _Rule(best, floating)
    for dw in range(1, kw):  # along the rows of every window: (P, H, ow)
        take(_take(planes, cols + dw, 2, vals), (best_dw, offset(dw)))
    out, out_dw = _take(best, rows, 1), _take(best_dw, rows, 1)
    out_dh = np.zeros(out.shape, dtype=offset)
    vals, dws, take = np.empty_like(out), np.empty_like(out_dw), _Rule(out, floating)
    for dh in range(1, kh):  # then along the columns: (P, oh, ow)
        take(_take(best, rows + dh, 1, vals), (out_dw, _take(best_dw, rows + dh, 1, dws)),
             (out_dh, offset(dh)))
    index = out_dh.astype(np.int64)  # (row start + dh) * W + column start + dw, in place
    index += rows[:, :, None]
    index *= w
    index += cols[:, None, :]
    index += out_dw
    return out.reshape(lead + out.shape[1:]), index.reshape(lead + out.shape[1:])


def fractional_max_pool2d_backward(grad_output, x, kernel_size, output_size=None,
                                   output_ratio=None, samples=None, *, rng=None):
    """Gradient of :func:`fractional_max_pool2d`: each output's gradient goes to its max.

    Parameters
    ----------
    grad_output : array_like, shape of the pooled output
    x, kernel_size, output_size, output_ratio, samples, rng
        As the forward call; give the same ``samples`` (or the same integer ``rng``
        seed), or the windows differ.

    Returns
    -------
    ndarray of float64, shape of ``x``; overlapping windows add up (``np.bincount``).

    Raises
    ------
    ValueError
        As :func:`fractional_max_pool2d`; no ``samples`` and no integer seed; or a
        ``grad_output`` not shaped like its output.

    Notes
    -----
    The forward pass with indices, then one ``np.bincount``: ``O(N * kW + N_out * kH)``.

    Examples
    --------
    >>> x = np.array([[[[1., 5., 2.], [0., 3., 4.], [7., 1., 1.]]]])
    >>> fractional_max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, output_size=2,
    ...                                samples=[[[0.5, 0.5]]]).tolist()
    [[[[0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]]
    """
    if samples is None and (rng is None or isinstance(rng, np.random.Generator)):
        raise ValueError("fractional_max_pool2d_backward needs the forward pass's samples "
                         "(or its integer rng seed): windows drawn afresh would differ")
    x = check_input(x, 2, "fractional_max_pool2d_backward")
    _, idx = fractional_max_pool2d(x, kernel_size, output_size, output_ratio, True, samples,
                                   rng=rng)
    g = as_real_array(grad_output, "grad_output")
    if g.shape != idx.shape:
        raise ValueError(f"grad_output has shape {g.shape}; the pooled output has shape "
                         f"{idx.shape}")
    return _scatter_indices(g.astype(np.float64), idx, x.shape[-2:])
