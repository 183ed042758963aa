"""Window geometry: the one place that decides where every pooling window sits.

Forward pooling, the backward pass, the animation, the coverage map and the
output-size formula all read the same :class:`AxisPlan` objects built by
:func:`plan_axes`, so they can never disagree about which cells a window reads.

Coordinates are input coordinates: ``0 .. n-1`` are real cells, negative
values and values ``>= n`` are padding.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from math import prod
from typing import NamedTuple, Sequence

import numpy as np

from ._checks import check_flag, check_length, check_shape, is_int, known_options, outer

__all__ = [
    "MAX_CELLS",
    "MAX_WORK",
    "MAX_KERNEL_CELLS",
    "MAX_MEDIAN_KERNEL_CELLS",
    "MAX_DRAWN_CELLS",
    "GEOMETRY_KEYS",
    "geometry_kwargs",
    "AxisPlan",
    "WindowCells",
    "normalize_tuple",
    "window_divisors",
    "plan_axes",
    "output_size",
    "window_cells",
    "coverage",
]


# ----------------------------------------------------------------------------- work limits
# One call may cost only so much: settings past these limits raise ValueError at once,
# before anything is allocated, saying the number, the limit and what to change. They are
# far above what the app asks for: the image lab caps uploads at 40 megapixels, so an
# RGB image is at most 120 million cells, and every mode pools it with a 15×15 kernel at
# the kernel's own stride; max, min, avg, sum and lp (separable, ``O(N log k)``, no work
# limit) at any stride, with any kernel up to the whole image.

#: Most cells one array of a call may hold, leading axes included: the input with its
#: padding, the output, one axis's table of window taps (output length × kernel size), and
#: every kernel_size, stride, dilation and padding value. 2 GB as float64; twice a 40 MP
#: RGB image.
MAX_CELLS = 250_000_000
#: Most steps of a call that visits every tap of every window, one kernel offset at a time
#: (return_indices, median, stochastic, the backward pass, adaptive indices): output
#: cells × kernel cells, leading axes included (median: × the comparators of its sorting
#: network per cell, not × kernel cells). At the rates measured on the project machine
#: (docs/performance.md) that is well under a minute. A 40 MP RGB image with a 15×15 median at
#: stride 15 is 2.0e9 steps; with indices or stochastic at stride 4, 1.7e9.
MAX_WORK = 3_000_000_000
#: Most kernel cells for those calls: each kernel offset is one round of NumPy calls from
#: Python (microseconds each, whatever the output size), so 512 × 512 offsets take seconds.
MAX_KERNEL_CELLS = 262_144
#: Most kernel cells for median: its sorting network has about ``K·log²(K)/4`` comparators,
#: each a NumPy call per block of output (64 × 64 = 4096 cells: 139,263 comparators).
MAX_MEDIAN_KERNEL_CELLS = 4_096
#: Most window taps :func:`window_cells` returns (output cells × kernel cells), and most
#: input cells :func:`window_cells` and :func:`coverage` draw (animations and pictures).
MAX_DRAWN_CELLS = 4_000_000

_WORKS = (None, "scan", "median", "draw")


def _sorting_comparators(k: int) -> int:
    """Comparators of Batcher's odd-even merge sort for ``2**m >= k`` items (an upper
    bound of the pruned network the median uses): ``(m² - m + 4)·2**(m-2) - 1``."""
    m = max(1, (k - 1).bit_length())
    return (m * m - m + 4) * 2 ** (m - 2) - 1 if m >= 2 else 1


def _fmt(n: int) -> str:
    return f"{n:,}"


def _check_limits(what: str, *, planes: int = 1, out_shape=(), kernel_shape=(), frame_shape=(),
                 work: str | None = None) -> None:
    """Raise ``ValueError`` if a call would exceed the module's work limits.

    Parameters
    ----------
    what : the settings in words, for the message (e.g. ``"kernel_size=3, stride=1"``).
    planes : how many planes the leading axes hold (batch × channels).
    out_shape, kernel_shape, frame_shape : per pooled axis: output length, kernel size
        (taps per window) and padded input length (input + padding + overhang).
    work : ``None`` (place windows or reduce separably), ``'scan'`` (visit every tap one
        kernel offset at a time), ``'median'`` (a sorting network over the taps) or
        ``'draw'`` (list every tap for a picture).

    Examples
    --------
    >>> _check_limits("kernel_size=2", out_shape=(10**6, 10**6),
    ...               kernel_shape=(2, 2))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: kernel_size=2: the output would have 1,000,000,000,000 cells, more than ...
    """
    if work not in _WORKS:
        raise ValueError(f"work={work!r} must be one of {_WORKS}")
    out_cells = planes * prod(out_shape)
    kernel_cells = prod(kernel_shape)
    frame = planes * prod(frame_shape)
    if frame > MAX_CELLS:
        raise ValueError(
            f"{what}: the padded input would have {_fmt(frame)} cells, more than the limit of "
            f"{_fmt(MAX_CELLS)} (MAX_CELLS); use a smaller input or less padding")
    if out_cells > MAX_CELLS:
        raise ValueError(
            f"{what}: the output would have {_fmt(out_cells)} cells, more than the limit of "
            f"{_fmt(MAX_CELLS)} (MAX_CELLS); use a larger stride, a smaller input or fewer "
            f"channels")
    for axis, (o, k) in enumerate(zip(out_shape, kernel_shape)):
        if o * k > MAX_CELLS:
            raise ValueError(
                f"{what}: axis {axis} has {_fmt(o)} windows of {_fmt(k)} taps = {_fmt(o * k)}, "
                f"more than the limit of {_fmt(MAX_CELLS)} (MAX_CELLS); use a larger stride "
                f"or a smaller kernel")
    if work == "draw":
        taps = prod(out_shape) * kernel_cells
        if taps > MAX_DRAWN_CELLS or prod(frame_shape) > MAX_DRAWN_CELLS:
            raise ValueError(
                f"{what}: a picture of {_fmt(prod(frame_shape))} input cells and {_fmt(taps)} "
                f"window taps is more than the limit of {_fmt(MAX_DRAWN_CELLS)} "
                f"(MAX_DRAWN_CELLS); draw a smaller input or a part of it")
    if work in ("scan", "median"):
        limit, name = ((MAX_MEDIAN_KERNEL_CELLS, "MAX_MEDIAN_KERNEL_CELLS") if work == "median"
                       else (MAX_KERNEL_CELLS, "MAX_KERNEL_CELLS"))
        if kernel_cells > limit:
            raise ValueError(
                f"{what}: a window of {_fmt(kernel_cells)} cells is more than the limit of "
                f"{_fmt(limit)} ({name}) for this computation; use a smaller kernel"
                + (" or another mode" if work == "median" else ""))
        per_cell = _sorting_comparators(kernel_cells) if work == "median" else kernel_cells
        steps = out_cells * per_cell
        if steps > MAX_WORK:
            raise ValueError(
                f"{what}: {_fmt(out_cells)} output cells × {_fmt(per_cell)} "
                f"{'comparators' if work == 'median' else 'taps'} = {_fmt(steps)} steps, more "
                f"than the limit of {_fmt(MAX_WORK)} (MAX_WORK); use a larger stride, a "
                f"smaller kernel or a smaller input")


#: The ``pool2d`` arguments that decide where windows sit.
GEOMETRY_KEYS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "ceil_clip",
                 "check_half_kernel")


def geometry_kwargs(pool_kwargs: dict) -> dict:
    """The window-placing subset of ``pool2d`` keyword arguments.

    >>> geometry_kwargs({"kernel_size": 2, "mode": "avg"})
    {'kernel_size': 2}
    """
    if not isinstance(pool_kwargs, Mapping):
        raise ValueError(f"pool_kwargs={pool_kwargs!r} must be a dict of pool2d keyword arguments")
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
    if not is_int(ndim) or not 0 <= ndim <= 64:
        raise ValueError(f"ndim={ndim!r} must be an int from 0 to 64 (the number of values)")
    if not is_int(minimum):
        raise ValueError(f"minimum={minimum!r} must be an int")
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r} must be an int or a tuple of {ndim} ints, not a bool")
    if is_int(value):
        values = (int(value),) * ndim
    else:
        if isinstance(value, (str, bytes, Mapping, set, frozenset)):
            raise ValueError(f"{name}={value!r} must be an int or a tuple of {ndim} ints, "
                             f"not a {type(value).__name__}")
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(f"{name}={value!r} must be an int or a tuple of {ndim} ints") from None
        if len(values) != ndim:
            raise ValueError(
                f"{name}={value!r} has {len(values)} values; give one int or {ndim} "
                f"(one per spatial axis)"
            )
        if not all(is_int(v) for v in values):
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
        (before, after), ``'same'``, ``'same_lower'`` or ``'valid'``.
    """

    n: int
    kernel: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    out: int
    padding_kind: str = "symmetric"

    @staticmethod
    def window_span(kernel: int, dilation: int) -> int:
        """Cells from a window's first tap to its last, ``dilation*(kernel-1) + 1``, for a
        kernel not placed yet (the input may be too short for it).

        >>> AxisPlan.window_span(3, 2)
        5
        """
        return dilation * (kernel - 1) + 1

    @staticmethod
    def same_out(n: int, stride: int) -> int:
        """The number of windows SAME padding gives (TensorFlow, ONNX): ``ceil(n / stride)``.

        >>> AxisPlan.same_out(7, 2)
        4
        """
        return -(-n // stride)

    @staticmethod
    def same_total(n: int, kernel: int, stride: int, dilation: int) -> int:
        """SAME padding in all, before it is split: the cells the ``ceil(n/stride)``
        windows reach past the input, ``(ceil(n/s) - 1)*s + span - n``. Negative when
        they end before it does (a window shorter than the stride): TensorFlow then
        pads nothing, ONNX Runtime rejects the settings.

        >>> AxisPlan.same_total(6, 3, 2, 1), AxisPlan.same_total(6, 1, 4, 1)
        (1, -1)
        """
        return ((AxisPlan.same_out(n, stride) - 1) * stride
                + AxisPlan.window_span(kernel, dilation) - n)

    @cached_property
    def span(self) -> int:
        """Cells from a window's first tap to its last: ``dilation*(kernel-1) + 1``."""
        return self.window_span(self.kernel, self.dilation)

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

    def real_taps(self, window: int) -> np.ndarray:
        """Input coordinates of the real cells window ``window`` reads, in order (its
        padding taps left out; empty for a window of padding only).

        >>> plan = plan_axes((4,), 3, 2, padding=1)[0]
        >>> plan.real_taps(0).tolist(), plan.real_taps(1).tolist()
        ([0, 1], [1, 2, 3])
        """
        taps = self.starts[window] + np.arange(self.kernel) * self.dilation
        return taps[(taps >= 0) & (taps < self.n)]

    @property
    def real_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(first, last)``, each shape ``(out,)``: the first and the last real cell each
        window reads; ``-1`` in both for a window of padding only.

        >>> [b.tolist() for b in plan_axes((4,), 3, 2, padding=1)[0].real_bounds]
        [[0, 1], [1, 3]]
        """
        inside, taps = self.inside, self.taps
        some = inside.any(axis=1)
        first = np.where(inside, taps, self.n).min(axis=1)
        last = np.where(inside, taps, -1).max(axis=1)
        return np.where(some, first, -1), np.where(some, last, -1)

    def tap_windows(self, tap: int) -> tuple[int, int, int]:
        """``(lo, hi, first)``: windows ``lo:hi`` read a real cell at tap ``tap`` (the
        others read padding or the ceil-mode overhang there), window ``lo`` reads input
        cell ``first``, and each next window the cell ``stride`` further; ``lo == hi``
        when no window does.

        >>> plan = plan_axes((4,), 3, 2, padding=1)[0]
        >>> [plan.tap_windows(t) for t in range(3)]
        [(1, 2, 1), (0, 2, 0), (0, 2, 1)]
        """
        offset = tap * self.dilation - self.pad_before  # window j reads j*stride + offset
        lo = max(0, -(offset // self.stride))
        hi = max(lo, min(self.out, (self.n - 1 - offset) // self.stride + 1))
        return lo, hi, lo * self.stride + offset

    @property
    def read_counts(self) -> np.ndarray:
        """How many windows read each input cell, shape ``(n,)``; 0 marks a cell no
        window reads (dropped by the rounding, or skipped by a long stride).

        >>> plan_axes((5,), 2)[0].read_counts.tolist()
        [1, 1, 1, 1, 0]
        """
        return np.bincount(self.taps[self.inside], minlength=self.n)

    @cached_property
    def extra_after(self) -> int:
        """Cells the last window reaches past the input (padding + overhang)."""
        return max(0, (self.out - 1) * self.stride + self.span - self.pad_before - self.n)

    @property
    def drawn(self) -> np.ndarray:
        """Coordinates a picture shows: the padding before, the input, and after it the
        padding or the ceil-mode overhang, whichever reaches further."""
        return np.arange(-self.pad_before, self.n + max(self.pad_after, self.extra_after))

    @property
    def drawn_real(self) -> np.ndarray:
        """Per coordinate of :attr:`drawn`: a real input cell (not padding or overhang)."""
        drawn = self.drawn
        return (drawn >= 0) & (drawn < self.n)

    @property
    def drawn_in_frame(self) -> np.ndarray:
        """Per coordinate of :attr:`drawn`: inside input + declared padding (past it, the
        ceil-mode overhang, which no average counts).

        >>> plan = plan_axes((3,), 2, 2, padding=1, ceil_mode=True, ceil_clip=False)[0]
        >>> plan.drawn.tolist()
        [-1, 0, 1, 2, 3, 4]
        >>> plan.drawn_real.astype(int).tolist(), plan.drawn_in_frame.astype(int).tolist()
        ([0, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0])
        """
        return self.drawn < self.n + self.pad_after

    def divisor(self, count_include_pad: bool) -> np.ndarray:
        """Per-window cell count on this axis for an average, shape ``(out,)``: the
        taps inside input + declared padding (``count_include_pad``), or the real
        ones; a ceil-mode overhang never counts.

        >>> plan = plan_axes((5,), 2, 2, padding=1, ceil_mode=True)[0]
        >>> plan.divisor(True).tolist(), plan.divisor(False).tolist()
        ([2, 2, 2], [1, 2, 2])
        """
        mask = self.in_padding_frame if count_include_pad else self.inside
        return mask.sum(axis=1)


def window_divisors(plans, count_include_pad: bool = True, divisor_override=None) -> np.ndarray:
    """What an average divides each window's sum by, shape ``(*out,)``: the product of
    the axes' :meth:`AxisPlan.divisor`, or ``divisor_override`` everywhere when given.

    >>> window_divisors(plan_axes((3, 3), 2, 1, padding=1), False).tolist()
    [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    >>> window_divisors(plan_axes((3, 3), 2), divisor_override=3).tolist()
    [[3]]
    """
    if isinstance(plans, AxisPlan) or not isinstance(plans, (tuple, list)) or not plans \
            or not all(isinstance(p, AxisPlan) for p in plans):
        raise ValueError(f"plans={plans!r} must be the tuple of AxisPlan that plan_axes returns")
    count_include_pad = check_flag(count_include_pad, "count_include_pad")
    if divisor_override is not None:
        if not is_int(divisor_override) or divisor_override <= 0:
            raise ValueError(f"divisor_override={divisor_override!r} must be a positive int")
        return np.broadcast_to(divisor_override, tuple(p.out for p in plans))
    return outer([p.divisor(count_include_pad) for p in plans])


#: Most axes windows are placed on (window_cells builds (*out, *kernel, ndim) arrays:
#: NumPy allows 64 axes).
MAX_AXES = 16


def _resolve_padding(padding, spatial, kernel, stride, dilation):
    """Return ``(before, after)`` per axis, and whether the PyTorch half-kernel rule applies."""
    ndim = len(spatial)
    if isinstance(padding, str):
        key = padding.lower()
        if key == "valid":
            return tuple((0, 0) for _ in range(ndim)), "valid"
        if key in ("same", "same_lower"):  # same_lower: ONNX's SAME_LOWER, odd cell first
            pads = []
            for n, k, s, d in zip(spatial, kernel, stride, dilation):
                total = max(AxisPlan.same_total(n, k, s, d), 0)
                small, large = total // 2, total - total // 2
                pads.append((small, large) if key == "same" else (large, small))
            return tuple(pads), key
        raise ValueError(
            f"padding={padding!r} is not understood; use an int, a tuple, "
            f"((before, after), ...) or 'valid' / 'same' / 'same_lower'"
        )
    if is_int(padding):
        p = normalize_tuple(padding, ndim, "padding", minimum=0)
        return tuple((v, v) for v in p), "symmetric"
    try:
        if isinstance(padding, (bytes, Mapping, set, frozenset)):
            raise TypeError
        items = tuple(padding)
    except TypeError:
        raise ValueError(f"padding={padding!r} must be an int, a tuple, or 'valid'/'same'/'same_lower'") from None
    if len(items) == ndim and all(isinstance(v, (tuple, list)) or np.ndim(v) == 1 for v in items):
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
    # may be < 0: ceil mode still keeps one window then
    numer = n + before + after - AxisPlan.window_span(k, d)
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
    planes: int = 1,
    work: str | None = None,
) -> tuple[AxisPlan, ...]:
    """Validate pooling arguments and place the windows on every spatial axis.

    Parameters
    ----------
    spatial_shape : the sizes of the pooled axes, e.g. ``(H, W)``.
    kernel_size, stride, dilation : int or one int per axis; ``stride=None``
        means ``stride = kernel_size``.
    padding : int or per-axis tuple (symmetric), ``((before, after), ...)``
        (explicit), or ``'valid'`` / ``'same'`` (TensorFlow: ``out = ceil(n/s)``,
        total padding ``max((out-1)*s + (k-1)*d + 1 - n, 0)``, the odd cell after)
        / ``'same_lower'`` (ONNX's SAME_LOWER: the same total, the odd cell before).
    ceil_mode : round the output size up; the last window must still start
        inside the input or the left padding (``ceil_clip``).
    ceil_clip : apply that rule (Caffe applies it only when padding > 0).
    check_half_kernel : enforce PyTorch's ``padding <= kernel_size // 2`` for
        symmetric padding.
    planes : how many planes the leading (batch, channel) axes hold; the limits
        count every plane.
    work : what the caller will do with the windows, for the work limits (see
        ``_check_limits``): ``None``, ``'scan'``, ``'median'`` or ``'draw'``.

    Returns
    -------
    tuple of AxisPlan, one per axis: the same tuple again for the same arguments (of the
    same types), as ``AxisPlan`` is frozen (floats and arrays are planned afresh).

    Raises
    ------
    ValueError
        Naming the argument and the rule broken, or the limit (``MAX_CELLS``,
        ``MAX_WORK``, ...) the call would exceed; nothing is allocated first.

    Examples
    --------
    >>> [p.out for p in plan_axes((4, 4), 2)]
    [2, 2]
    >>> plan_axes((5,), 2, padding="same")[0].pad_after
    1
    """
    key = _plan_key((spatial_shape, kernel_size, stride, padding, dilation, ceil_mode, ceil_clip,
                     check_half_kernel, planes, work))
    known = _PLANS.get(key)  # one lookup: another thread may clear the dict meanwhile
    if known is not None:
        return known
    spatial = check_shape(spatial_shape, "spatial_shape", MAX_AXES)
    ndim = len(spatial)
    ceil_mode = check_flag(ceil_mode, "ceil_mode")
    ceil_clip = check_flag(ceil_clip, "ceil_clip")
    check_half_kernel = check_flag(check_half_kernel, "check_half_kernel")
    if not is_int(planes) or planes < 0:
        raise ValueError(f"planes={planes!r} must be a non-negative int")
    kernel = normalize_tuple(kernel_size, ndim, "kernel_size")
    stride_t = kernel if stride is None else normalize_tuple(stride, ndim, "stride")
    dil = normalize_tuple(dilation, ndim, "dilation")
    for name, given, values in (("kernel_size", kernel_size, kernel), ("stride", stride, stride_t),
                                ("dilation", dilation, dil)):
        if max(values) > MAX_CELLS:
            raise ValueError(f"{name}={given!r} is more than {_fmt(MAX_CELLS)} (MAX_CELLS), "
                             f"longer than any axis the core pools; use a smaller value")
    for axis, n in enumerate(spatial):
        if n < 1:
            raise ValueError(f"x has size {n} on pooled axis {axis} (spatial shape {spatial}); "
                             f"pooling needs at least 1 cell per axis")
        if n > MAX_CELLS:
            raise ValueError(f"x has size {_fmt(n)} on pooled axis {axis} (spatial shape "
                             f"{spatial}), more than {_fmt(MAX_CELLS)} (MAX_CELLS); pool a "
                             f"smaller input")
    pads, kind = _resolve_padding(padding, spatial, kernel, stride_t, dil)
    if max(v for pair in pads for v in pair) > MAX_CELLS:
        raise ValueError(f"padding={padding!r} is more than {_fmt(MAX_CELLS)} (MAX_CELLS) cells; "
                         f"use less padding")
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
        out, _ = _axis_out(n, k, s, d, pb, pa, ceil_mode, ceil_clip)
        if out < 1:
            raise ValueError(
                f"kernel_size={kernel_size!r} with dilation={dilation!r} spans "
                f"{AxisPlan.window_span(k, d)} cells on "
                f"axis {axis}, more than the input ({n}) plus padding ({pb}+{pa}): the output "
                f"would be empty; use a smaller kernel, more padding, or padding='same'"
            )
        plans.append(AxisPlan(n, k, s, d, pb, pa, out, kind))
    what = (f"kernel_size={kernel_size!r}, stride={stride!r}, padding={padding!r}, "
            f"dilation={dilation!r} on spatial shape {spatial}"
            + (f" × {planes} planes" if planes != 1 else ""))
    _check_limits(what, planes=planes, out_shape=[p.out for p in plans],
                  kernel_shape=kernel, work=work,
                  frame_shape=[p.pad_before + p.n + max(p.pad_after, p.extra_after) for p in plans])
    plans = tuple(plans)
    if key is not None:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plans
    return plans


#: Plans of recent arguments (:func:`plan_axes`): a small input's pooling spends more time
#: validating and placing its windows than reducing them (15 of 40 µs at 32×32).
_PLANS: dict = {}
_MAX_PLANS = 1024
_EXACT = (int, bool, str, type(None), np.integer, np.bool_)


def _plan_key(args):
    """A key that tells apart every argument :func:`plan_axes` would treat differently:
    each value with its type (so ``True`` is not ``1``, nor ``np.int64(2)`` ``2``), lists
    and tuples element by element; None (not cached) for anything else (floats, arrays)."""
    def frozen(v):
        if isinstance(v, (tuple, list)):
            return type(v), tuple(frozen(e) for e in v)
        if isinstance(v, _EXACT):
            return type(v), v
        raise TypeError
    try:
        return frozen(args)
    except TypeError:
        return None


def output_size(n: int, kernel_size: int, stride=None, padding=0, dilation: int = 1,
                ceil_mode: bool = False, *, ceil_clip: bool = True) -> int:
    """Output length of one axis.

    ``out = floor((n + 2p - d*(k-1) - 1) / s) + 1`` (``ceil`` in ceil mode, then
    one less if the last window would start past the input and left padding).
    ``padding`` may be an int, ``(before, after)``, ``'same'``, ``'same_lower'`` or
    ``'valid'``.

    >>> output_size(4, 2)
    2
    >>> output_size(32, 1, 2, ceil_mode=True)   # the clip rule: not 17
    16
    >>> output_size(13, 3, 2, padding="same")
    7
    """
    check_length(n)
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        padding = (tuple(padding),)
    return plan_axes((n,), kernel_size, stride, padding, dilation, ceil_mode,
                     ceil_clip=ceil_clip)[0].out


#: The options the geometry helpers pass on to :func:`plan_axes`.
PLAN_OPTIONS = ("ceil_clip", "check_half_kernel")


class WindowCells(NamedTuple):
    """What every window reads, for ``len(spatial_shape)`` axes.

    coords : int array ``(*out, *kernel, ndim)`` input coordinates of each tap.
    inside : bool array ``(*out, *kernel)``, the tap is a real cell (not padding).
    empty : bool array ``(*out,)``, the window reads padding only.
    """

    coords: np.ndarray
    inside: np.ndarray
    empty: np.ndarray


def window_cells(input_shape, kernel_size, stride=None, padding=0, dilation=1,
                 ceil_mode=False, **plan_kwargs) -> WindowCells:
    """For every output position, the input cells its window reads.

    Parameters
    ----------
    input_shape : spatial shape, e.g. ``(H, W)``; its length sets the number of axes.
    Other parameters as :func:`plan_axes` (``ceil_clip``, ``check_half_kernel``).

    Returns
    -------
    WindowCells with ``coords`` of shape ``(*out, *kernel, ndim)``.

    Raises
    ------
    ValueError
        As :func:`plan_axes`; also past ``MAX_DRAWN_CELLS`` taps or input cells.

    Examples
    --------
    >>> wc = window_cells((4, 4), 2)
    >>> wc.coords[1, 0].reshape(-1, 2).tolist()      # window of out[1, 0]
    [[2, 0], [2, 1], [3, 0], [3, 1]]
    >>> bool(window_cells((3,), 2, 1, padding=1).inside[0, 0])   # first tap is padding
    False
    """
    plans = plan_axes(check_shape(input_shape, "input_shape", MAX_AXES), kernel_size, stride,
                      padding, dilation, ceil_mode, work="draw",
                      **known_options(plan_kwargs, "window_cells", PLAN_OPTIONS))
    full = tuple(p.out for p in plans) + tuple(p.kernel for p in plans)
    coords = np.stack(
        [np.broadcast_to(outer([p.taps if j == i else np.zeros((p.out, p.kernel), int)
                                for j, p in enumerate(plans)], np.add), full)
         for i, p in enumerate(plans)],
        axis=-1,
    )
    inside = np.broadcast_to(outer([p.inside for p in plans], np.logical_and), full)
    empty = ~inside.reshape(tuple(p.out for p in plans) + (-1,)).any(axis=-1)
    return WindowCells(coords, np.array(inside), empty)


def coverage(input_shape, kernel_size, stride=None, padding=0, dilation=1,
             ceil_mode=False, **plan_kwargs) -> np.ndarray:
    """How many windows read each input cell, shape ``input_shape``.

    Zeros are cells no window reads (dropped by the floor rounding or skipped
    by a stride larger than the kernel). Separable: the product of per-axis counts.
    At most ``MAX_DRAWN_CELLS`` input cells (it is drawn).

    >>> coverage((5,), 2).tolist()          # the last cell is never read
    [1, 1, 1, 1, 0]
    >>> coverage((4, 4), 3, 1).tolist()[0]
    [1, 2, 2, 1]
    """
    plans = plan_axes(check_shape(input_shape, "input_shape", MAX_AXES), kernel_size, stride,
                      padding, dilation, ceil_mode, work="draw",
                      **known_options(plan_kwargs, "coverage", PLAN_OPTIONS))
    return outer([p.read_counts for p in plans]).astype(np.int64, copy=False)
