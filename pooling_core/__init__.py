"""Poolscope's pooling core: vectorized NumPy pooling that matches PyTorch and TensorFlow.

Pure NumPy (no Streamlit). Every function pools the trailing spatial axes of an
array shaped ``(..., H, W)`` (``(..., L)`` for 1-D, ``(..., D, H, W)`` for 3-D).

Modules: :mod:`.geometry` (where windows sit: the single source for forward,
backward, animation and formula), :mod:`.reductions` (forward pooling),
:mod:`.backward` (gradients, unpooling), :mod:`.explain` (the output-size
formula in words), :mod:`.conventions` (what each framework does).
"""
from .backward import pool2d_backward, pool_nd_backward, unpool2d, unpool_nd
from .explain import OutputSizeExplanation, explain_axes, explain_output_size
from .geometry import (GEOMETRY_KEYS, MAX_CELLS, MAX_DRAWN_CELLS, MAX_KERNEL_CELLS,
                       MAX_MEDIAN_KERNEL_CELLS, MAX_WORK, AxisPlan, WindowCells, coverage,
                       geometry_kwargs, normalize_tuple, output_size, plan_axes, window_cells,
                       window_divisors)
from .reductions import (INDEX_MODES, MODES, adaptive_bins, adaptive_pool2d, adaptive_pool_nd,
                         global_pool2d, pool1d, pool2d, pool3d, pool_nd)

__all__ = [
    "MODES", "INDEX_MODES", "AxisPlan", "WindowCells", "OutputSizeExplanation",
    "pool_nd", "pool1d", "pool2d", "pool3d", "pool_nd_backward", "pool2d_backward",
    "unpool_nd", "unpool2d", "adaptive_bins", "adaptive_pool_nd", "adaptive_pool2d",
    "global_pool2d", "output_size", "explain_output_size", "explain_axes", "window_cells", "coverage",
    "plan_axes", "normalize_tuple", "geometry_kwargs", "GEOMETRY_KEYS", "window_divisors",
    "MAX_CELLS", "MAX_WORK", "MAX_KERNEL_CELLS", "MAX_MEDIAN_KERNEL_CELLS", "MAX_DRAWN_CELLS",
]
