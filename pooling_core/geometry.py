"""Window geometry: the one place that decides where every pooling window sits.

Forward pooling, the backward pass, the animation, the coverage map and the
output-size formula all read the same :class:`AxisPlan` objects built by
:func:`plan_axes`, so they can never disagree about which cells a window reads.

Coordinates are input coordinates: ``0 .. n-1`` are real cells, negative
values and values ``>= n`` are padding.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

__all__ = [
    "GEOMETRY_KEYS",
    "geometry_kwargs",
    "AxisPlan",
    "WindowCells",
    "normalize_tuple",
    "plan_axes",
    "output_size",
    "window_cells",
    "coverage",
]


#: The ``pool2d`` arguments that decide where windows sit.
GEOMETRY_KEYS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "ceil_clip",
                 "check_half_kernel")


def geometry_kwargs(pool_kwargs: dict) -> dict:
    """The window-placing subset of ``pool2d`` keyword arguments.

    >>> geometry_kwargs({"kernel_size": 2, "mode": "avg"})
    {'kernel_size': 2}
    """
    return {k: v for k, v in pool_kwargs.items() if k in GEOMETRY_KEYS}


def normalize_tuple(value, ndim: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """Turn an int or a length-``ndim`` sequence into a tuple of ints (PyTorch's ``_pair``).

    Raises ``ValueError`` naming ``name`` when the length is wrong, a value is
    not an integer, or a value is below ``minimum``.

    >>> normalize_tuple(2, 2, "kernel_size")
    (2, 2)
    >>> normalize_tuple((3, 1), 2, "stride")
    (3, 1)
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r} must be an int or a tuple of {ndim} ints, not a bool")
    if isinstance(value, (int, np.integer)):
        values = (int(value),) * ndim
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(f"{name}={value!r} must be an int or a tuple of {ndim} ints") from None
        if len(values) != ndim:
            raise ValueError(
                f"{name}={value!r} has {len(values)} values; give one int or {ndim} "
                f"(one per spatial axis)"
            )
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                   for v in values):
            raise ValueError(f"{name}={value!r} must contain only ints")
        values = tuple(int(v) for v in values)
    for v in values:
        if v < minimum:
            rule = "positive" if minimum == 1 else f">= {minimum}"
            raise ValueError(f"{name}={value!r} must be {rule} (got {v})")
    return values


@dataclass(frozen=True)
class AxisPlan:
    """Where the windows of one spatial axis sit.

    Attributes
    ----------
    n : input length.
    kernel, stride, dilation : window size, step and gap.
    pad_before, pad_after : padding cells on each side (the side that counts
        towards an average's divisor when ``count_include_pad``).
    out : number of windows (output length).
    padding_kind : how the padding was given: ``'symmetric'``, ``'explicit'``
        (before, after), ``'same'`` or ``'valid'``.
    """

    n: int
    kernel: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    out: int
    padding_kind: str = "symmetric"

    @property
    def span(self) -> int:
        """Cells from a window's first tap to its last: ``dilation*(kernel-1) + 1``."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def starts(self) -> np.ndarray:
        """Input coordinate of each window's first tap, shape ``(out,)``."""
        return np.arange(self.out) * self.stride - self.pad_before

    @property
    def taps(self) -> np.ndarray:
        """Input coordinate of every tap, shape ``(out, kernel)``."""
        return self.starts[:, None] + np.arange(self.kernel)[None, :] * self.dilation

    @property
    def inside(self) -> np.ndarray:
        """``(out, kernel)`` bool: the tap reads a real input cell."""
        t = self.taps
        return (t >= 0) & (t < self.n)

    @property
    def in_padding_frame(self) -> np.ndarray:
        """``(out, kernel)`` bool: the tap is inside input + declared padding.

        Taps past ``n + pad_after`` (ceil-mode overhang) are never counted.
        """
        t = self.taps
        return (t >= -self.pad_before) & (t < self.n + self.pad_after)

    @property
    def extra_after(self) -> int:
        """Cells the last window reaches past the input (padding + overhang)."""
        return max(0, (self.out - 1) * self.stride + self.span - self.pad_before - self.n)

    @property
    def drawn(self) -> np.ndarray:
        """Coordinates a picture shows: the padding before, the input, and after it the
        padding or the ceil-mode overhang, whichever reaches further."""
        return np.arange(-self.pad_before, self.n + max(self.pad_after, self.extra_after))

    def divisor(self, count_include_pad: bool) -> np.ndarray:
        """Per-window cell count on this axis for an average, shape ``(out,)``."""
        mask = self.in_padding_frame if count_include_pad else self.inside
        return mask.sum(axis=1)


def _resolve_padding(padding, spatial, kernel, stride, dilation):
    """Return ``(before, after)`` per axis, and whether the PyTorch half-kernel rule applies."""
    ndim = len(spatial)
    if isinstance(padding, str):
        key = padding.lower()
        if key == "valid":
            return tuple((0, 0) for _ in range(ndim)), "valid"
        if key == "same":
            pads = []
            for n, k, s, d in zip(spatial, kernel, stride, dilation):
                out = -(-n // s)
                total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
                pads.append((total // 2, total - total // 2))
            return tuple(pads), "same"
        raise ValueError(
            f"padding={padding!r} is not understood; use an int, a tuple, "
            f"((before, after), ...) or 'valid' / 'same'"
        )
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        p = normalize_tuple(padding, ndim, "padding", minimum=0)
        return tuple((v, v) for v in p), "symmetric"
    try:
        items = tuple(padding)
    except TypeError:
        raise ValueError(f"padding={padding!r} must be an int, a tuple, or 'valid'/'same'") from None
    if len(items) == ndim and all(isinstance(v, (tuple, list, np.ndarray)) for v in items):
        pairs = []
        for v in items:
            pair = normalize_tuple(v, 2, "padding", minimum=0) if len(v) == 2 else None
            if pair is None:
                raise ValueError(f"padding={padding!r}: each axis needs (before, after), got {v!r}")
            pairs.append(pair)
        return tuple(pairs), "explicit"
    p = normalize_tuple(items, ndim, "padding", minimum=0)
    return tuple((v, v) for v in p), "symmetric"


def _axis_out(n, k, s, d, before, after, ceil_mode, ceil_clip):
    """Output length of one axis (PyTorch's ``pooling_output_shape``)."""
    span = d * (k - 1) + 1
    numer = n + before + after - span
    if numer < 0:
        return 0, False
    out = (numer + (s - 1 if ceil_mode else 0)) // s + 1
    clipped = False
    if ceil_mode and ceil_clip and (out - 1) * s >= n + before:
        out -= 1
        clipped = True
    return out, clipped


def plan_axes(
    spatial_shape: Sequence[int],
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    *,
    ceil_clip: bool = True,
    check_half_kernel: bool = True,
) -> tuple[AxisPlan, ...]:
    """Validate pooling arguments and place the windows on every spatial axis.

    Parameters
    ----------
    spatial_shape : the sizes of the pooled axes, e.g. ``(H, W)``.
    kernel_size, stride, dilation : int or one int per axis; ``stride=None``
        means ``stride = kernel_size``.
    padding : int or per-axis tuple (symmetric), ``((before, after), ...)``
        (explicit), or ``'valid'`` / ``'same'`` (TensorFlow: ``out = ceil(n/s)``,
        total padding ``max((out-1)*s + (k-1)*d + 1 - n, 0)``, the odd cell after).
    ceil_mode : round the output size up; the last window must still start
        inside the input or the left padding (``ceil_clip``).
    ceil_clip : apply that rule (Caffe applies it only when padding > 0).
    check_half_kernel : enforce PyTorch's ``padding <= kernel_size // 2`` for
        symmetric padding.

    Returns
    -------
    tuple of AxisPlan, one per axis.

    Examples
    --------
    >>> [p.out for p in plan_axes((4, 4), 2)]
    [2, 2]
    >>> plan_axes((5,), 2, padding="same")[0].pad_after
    1
    """
    spatial = tuple(int(n) for n in spatial_shape)
    ndim = len(spatial)
    kernel = normalize_tuple(kernel_size, ndim, "kernel_size")
    stride_t = kernel if stride is None else normalize_tuple(stride, ndim, "stride")
    dil = normalize_tuple(dilation, ndim, "dilation")
    pads, kind = _resolve_padding(padding, spatial, kernel, stride_t, dil)
    if kind == "symmetric" and check_half_kernel:
        for (p, _), k in zip(pads, kernel):
            if p > k // 2:
                raise ValueError(
                    f"padding={padding!r} is more than half of kernel_size={kernel_size!r} "
                    f"(PyTorch requires padding <= kernel_size // 2, here <= {k // 2}); "
                    f"use padding={k // 2}, a larger kernel, or padding='same'"
                )
    plans = []
    for axis, (n, k, s, d, (pb, pa)) in enumerate(zip(spatial, kernel, stride_t, dil, pads)):
        if n < 1:
            raise ValueError(f"x has size {n} on pooled axis {axis} (spatial shape {spatial}); "
                             f"pooling needs at least 1 cell per axis")
        out, _ = _axis_out(n, k, s, d, pb, pa, ceil_mode, ceil_clip)
        if out < 1:
            span = d * (k - 1) + 1
            raise ValueError(
                f"kernel_size={kernel_size!r} with dilation={dilation!r} spans {span} cells on "
                f"axis {axis}, more than the input ({n}) plus padding ({pb}+{pa}): the output "
                f"would be empty; use a smaller kernel, more padding, or padding='same'"
            )
        plans.append(AxisPlan(n, k, s, d, pb, pa, out, kind))
    return tuple(plans)


def output_size(n: int, kernel_size: int, stride=None, padding=0, dilation: int = 1,
                ceil_mode: bool = False, *, ceil_clip: bool = True) -> int:
    """Output length of one axis.

    ``out = floor((n + 2p - d*(k-1) - 1) / s) + 1`` (``ceil`` in ceil mode, then
    one less if the last window would start past the input and left padding).
    ``padding`` may be an int, ``(before, after)``, ``'same'`` or ``'valid'``.

    >>> output_size(4, 2)
    2
    >>> output_size(32, 1, 2, ceil_mode=True)   # the clip rule: not 17
    16
    >>> output_size(13, 3, 2, padding="same")
    7
    """
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        padding = (tuple(padding),)
    return plan_axes((n,), kernel_size, stride, padding, dilation, ceil_mode,
                     ceil_clip=ceil_clip)[0].out


class WindowCells(NamedTuple):
    """What every window reads, for ``len(spatial_shape)`` axes.

    coords : int array ``(*out, *kernel, ndim)`` input coordinates of each tap.
    inside : bool array ``(*out, *kernel)``, the tap is a real cell (not padding).
    empty : bool array ``(*out,)``, the window reads padding only.
    """

    coords: np.ndarray
    inside: np.ndarray
    empty: np.ndarray


def _outer(arrays, op):
    """Combine per-axis arrays ``a_i`` of shape ``(out_i, k_i)`` into ``(*out, *k)``."""
    nd = len(arrays)
    result = None
    for i, a in enumerate(arrays):
        shape = [1] * (2 * nd)
        shape[i] = a.shape[0]
        shape[nd + i] = a.shape[1]
        a = a.reshape(shape)
        result = a if result is None else op(result, a)
    return result


def window_cells(input_shape, kernel_size, stride=None, padding=0, dilation=1,
                 ceil_mode=False, **plan_kwargs) -> WindowCells:
    """For every output position, the input cells its window reads.

    Parameters
    ----------
    input_shape : spatial shape, e.g. ``(H, W)``; its length sets the number of axes.
    Other parameters as :func:`plan_axes`.

    Returns
    -------
    WindowCells with ``coords`` of shape ``(*out, *kernel, ndim)``.

    Examples
    --------
    >>> wc = window_cells((4, 4), 2)
    >>> wc.coords[1, 0].reshape(-1, 2).tolist()      # window of out[1, 0]
    [[2, 0], [2, 1], [3, 0], [3, 1]]
    >>> bool(window_cells((3,), 2, 1, padding=1).inside[0, 0])   # first tap is padding
    False
    """
    plans = plan_axes(input_shape, kernel_size, stride, padding, dilation, ceil_mode,
                      **plan_kwargs)
    full = tuple(p.out for p in plans) + tuple(p.kernel for p in plans)
    coords = np.stack(
        [np.broadcast_to(_outer([p.taps if j == i else np.zeros((p.out, p.kernel), int)
                                 for j, p in enumerate(plans)], np.add), full)
         for i, p in enumerate(plans)],
        axis=-1,
    )
    inside = np.broadcast_to(_outer([p.inside for p in plans], np.logical_and), full)
    empty = ~inside.reshape(tuple(p.out for p in plans) + (-1,)).any(axis=-1)
    return WindowCells(coords, np.array(inside), empty)


def coverage(input_shape, kernel_size, stride=None, padding=0, dilation=1,
             ceil_mode=False, **plan_kwargs) -> np.ndarray:
    """How many windows read each input cell, shape ``input_shape``.

    Zeros are cells no window reads (dropped by the floor rounding or skipped
    by a stride larger than the kernel). Separable: the product of per-axis counts.

    >>> coverage((5,), 2).tolist()          # the last cell is never read
    [1, 1, 1, 1, 0]
    >>> coverage((4, 4), 3, 1).tolist()[0]
    [1, 2, 2, 1]
    """
    plans = plan_axes(input_shape, kernel_size, stride, padding, dilation, ceil_mode,
                      **plan_kwargs)
    result = np.ones((), dtype=np.int64)
    for i, p in enumerate(plans):
        t = p.taps[p.inside]
        counts = np.bincount(t, minlength=p.n)
        shape = [1] * len(plans)
        shape[i] = p.n
        result = result * counts.reshape(shape)
    return result
