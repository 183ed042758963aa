"""Spatial pyramid pooling (He, Zhang, Ren & Sun 2014, SPP-net).

A network with fully connected layers needs a fixed-length input, but images come in
every size. SPP pools the feature map adaptively to a few fixed grids (1x1, 2x2, 4x4
by default: a pyramid) and concatenates them, so any ``H x W`` gives
``C * (1 + 4 + 16)`` numbers. Each level is the core's adaptive pooling
(:func:`~pooling_core.adaptive_pool2d`, PyTorch's bins from
:func:`~pooling_core.adaptive_bins`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ._checks import check_input, check_shape
from .geometry import MAX_AXES, normalize_tuple
from .reductions import adaptive_bins, adaptive_pool2d

__all__ = ["PyramidLevel", "spatial_pyramid_bins", "spatial_pyramid_pool2d"]

SPP_MODES = ("max", "avg")


class PyramidLevel(NamedTuple):
    """The bins of one pyramid level on an ``H x W`` input.

    size : ``(bins_h, bins_w)``.
    rows, cols : ``(starts, ends)`` int arrays, bin ``i`` covering ``starts[i] <= r < ends[i]``
        (:func:`~pooling_core.adaptive_bins`: neighbouring bins may share a row).
    """

    size: tuple[int, int]
    rows: tuple[np.ndarray, np.ndarray]
    cols: tuple[np.ndarray, np.ndarray]


def _check_levels(levels) -> list[tuple[int, int]]:
    if isinstance(levels, (str, bytes, Mapping, set, frozenset, int, np.integer, float)):
        raise ValueError(f"levels={levels!r} must be a sequence of bin counts, e.g. (1, 2, 4) "
                         f"or ((1, 1), (2, 3))")
    try:
        items = list(levels)
    except TypeError:
        raise ValueError(f"levels={levels!r} must be a sequence of bin counts") from None
    if not items:
        raise ValueError(f"levels={levels!r} is empty; give at least one level, e.g. (1, 2, 4)")
    return [normalize_tuple(level, 2, "levels") for level in items]


def spatial_pyramid_bins(input_shape, levels=(1, 2, 4)) -> list[PyramidLevel]:
    """Where the bins of every level sit on an input of spatial shape ``(H, W)``.

    Parameters
    ----------
    input_shape : (int, int)
        ``(H, W)``.
    levels : sequence of int or (int, int)
        Bins per axis of each level; ``b`` means ``b x b``.

    Returns
    -------
    list of PyramidLevel, one per level, in order.

    Raises
    ------
    ValueError
        ``input_shape`` not ``(H, W)``, or ``levels`` as :func:`spatial_pyramid_pool2d`.

    Notes
    -----
    ``O(sum of bins)``; no pooling is done.

    Examples
    --------
    >>> level = spatial_pyramid_bins((5, 4), (2,))[0]
    >>> level.size, [a.tolist() for a in level.rows], [a.tolist() for a in level.cols]
    ((2, 2), [[0, 2], [3, 5]], [[0, 2], [2, 4]])
    """
    shape = check_shape(input_shape, "input_shape", MAX_AXES)
    if len(shape) != 2:
        raise ValueError(f"input_shape={input_shape!r} must be (H, W)")
    return [PyramidLevel((bh, bw), adaptive_bins(shape[0], bh), adaptive_bins(shape[1], bw))
            for bh, bw in _check_levels(levels)]


def spatial_pyramid_pool2d(x, levels=(1, 2, 4), mode="max"):
    r"""Spatial pyramid pooling: adaptive pooling at every level, flattened and concatenated.

    Equal to ``torch.cat([F.adaptive_max_pool2d(x, b).flatten(1) for b in levels], 1)``
    for ``x`` shaped ``(N, C, H, W)`` (``adaptive_avg_pool2d`` for ``mode='avg'``).

    Parameters
    ----------
    x : array_like, shape ``(..., C, H, W)`` or ``(H, W)``
    levels : sequence of int or (int, int)
        Bins per axis of each level, ``(1, 2, 4)`` by default; ``b`` means ``b x b``.
        Any bin counts work for any input size (a level finer than the input
        repeats cells, as PyTorch's adaptive pooling does).
    mode : {'max', 'avg'}

    Returns
    -------
    ndarray, shape ``(..., C * sum(bh * bw))`` (``(sum(bh * bw),)`` for a 2-D ``x``)
        Level by level; within a level channel by channel, each channel's bins in
        row-major order. The length does not depend on ``H`` and ``W``.

    Raises
    ------
    ValueError
        An empty ``levels``, a bin count that is not a positive int, or an unknown ``mode``.

    Notes
    -----
    One adaptive pooling per level, each separable (``O(N)`` per level, a pass over the
    widest bin per axis). He et al. place each level's windows as ``ceil(n / b)``
    wide at stride ``floor(n / b)``, which for small inputs gives fewer than ``b``
    bins; adaptive bins always give ``b``, and are what PyTorch models use.

    Examples
    --------
    >>> x = np.arange(16.).reshape(1, 1, 4, 4)         # a batch of one, one channel
    >>> spatial_pyramid_pool2d(x, (1, 2)).tolist()     # 1 + 4 numbers
    [[15.0, 5.0, 7.0, 13.0, 15.0]]
    >>> spatial_pyramid_pool2d(np.zeros((3, 50, 70))).shape   # 3 * (1 + 4 + 16)
    (63,)
    >>> spatial_pyramid_pool2d(np.zeros((3, 9, 5))).shape     # any input size
    (63,)
    """
    x = check_input(x, 2, "spatial_pyramid_pool2d")
    if not isinstance(mode, str) or mode not in SPP_MODES:
        raise ValueError(f"mode={mode!r} is unknown; spatial pyramid pooling takes "
                         f"{' or '.join(SPP_MODES)}")
    merged = 3 if x.ndim >= 3 else 2  # the channel axis joins the bins
    parts = [adaptive_pool2d(x, size, mode) for size in _check_levels(levels)]
    return np.concatenate([a.reshape(a.shape[: a.ndim - merged] + (-1,)) for a in parts],
                          axis=-1)
