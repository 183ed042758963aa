"""What the variants' passes over kernel offsets share: their plans, the padded gradient
frame, and output row bands.

A pass over kernel offsets touches every output cell once per offset. Done on the whole
output, each of its NumPy calls streams arrays far larger than a core's cache; done a
band of output rows at a time (the same offset views, sliced), the band's buffers stay
in the cache between the calls. The loops run over bands and offsets, never over
output positions.
"""
from __future__ import annotations

from math import prod

import numpy as np

from ._checks import as_real_array, check_flag
from .geometry import plan_axes
from .reductions import _count_include_pad


def plans_2d(x, kernel_size, stride, padding, dilation, ceil_mode, work=None):
    """The axis plans of a 2-D variant (validating every geometry argument)."""
    return plan_axes(x.shape[-2:], kernel_size, stride, padding, dilation, ceil_mode,
                     planes=prod(x.shape[:-2]), work=work)


def average_counts_padding(value, plans) -> bool:
    """``count_include_pad`` for a mean over these windows: ``None`` as the core's average
    reads it (padding given as numbers counts, ``'same'``/``'valid'`` padding does not)."""
    value = None if value is None else check_flag(value, "count_include_pad")
    return _count_include_pad(value, plans[0].padding_kind, "avg")


def grad_input(grad_output, out_shape):
    """``grad_output`` as float64, or ValueError if it is not shaped like the output."""
    g = as_real_array(grad_output, "grad_output").astype(np.float64)
    if g.shape != tuple(out_shape):
        raise ValueError(f"grad_output has shape {g.shape}; the pooled output has shape "
                         f"{tuple(out_shape)}")
    return g


def padded_zeros(shape, plans):
    """A zero gradient over the padded frame of an input of ``shape``."""
    lead = shape[: len(shape) - len(plans)]
    return np.zeros(lead + tuple(p.pad_before + p.n + p.extra_after for p in plans))


def crop_frame(padded, plans):
    """The input's cells of a padded frame."""
    return padded[(Ellipsis,) + tuple(slice(p.pad_before, p.pad_before + p.n) for p in plans)]


#: Output cells per band: with a handful of float64 buffers, a few hundred KiB, which a
#: core's 2 MiB L2 cache holds with room for the input rows the band reads.
BAND_CELLS = 1 << 15


def row_bands(shape, cells: int = BAND_CELLS):
    """Slices of the second-to-last axis of an array of ``shape`` (the output rows), each
    holding about ``cells`` cells (at least one row).

    >>> [(s.start, s.stop) for s in row_bands((3, 10, 1000), 6000)]
    [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    """
    rows = shape[-2]
    per_row = max(1, prod(shape) // max(rows, 1))
    step = max(1, cells // per_row)
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def band_rows(shape, cells: int = BAND_CELLS) -> int:
    """Rows of the largest band :func:`row_bands` yields for ``shape`` (to size buffers).

    >>> band_rows((3, 10, 1000), 6000)
    2
    """
    return min(shape[-2], max(1, cells // max(1, prod(shape) // max(shape[-2], 1))))
