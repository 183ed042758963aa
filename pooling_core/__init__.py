"""Poolscope's pooling core: vectorized NumPy pooling that matches PyTorch and TensorFlow.

Pure NumPy (no Streamlit). Every function pools the trailing spatial axes of an
array shaped ``(..., H, W)`` (``(..., L)`` for 1-D, ``(..., D, H, W)`` for 3-D).

Modules: :mod:`.geometry` (where windows sit: the single source for forward,
backward, animation and formula), :mod:`.reductions` (forward pooling),
:mod:`.backward` (gradients, unpooling), :mod:`.explain` (the output-size
formula in words), :mod:`.conventions` (what each framework does).

Pooling variants, each built on the same windows: :mod:`.gem` (GeM), :mod:`.variants`
(mixed pooling, SoftPool), :mod:`.blur` (BlurPool, MaxBlurPool), :mod:`.fractional`
(fractional max pooling), :mod:`.pyramid` (spatial pyramid pooling), :mod:`.roi`
(ROI pool, ROI align) and :mod:`.calls` (each framework's call for them).
"""
from .backward import pool2d_backward, pool_nd_backward, unpool2d, unpool_nd
from .blur import (PADDING_MODES, ShiftConsistency, binomial_filter, blur_pool2d,
                   blur_pool2d_backward, max_blur_pool2d, max_blur_pool2d_backward,
                   shift_consistency)
from .explain import OutputSizeExplanation, explain_axes, explain_output_size
from .fractional import (FractionalWindows, fractional_intervals, fractional_max_pool2d,
                         fractional_max_pool2d_backward, fractional_windows)
from .gem import gem_pool2d, gem_pool2d_backward
from .geometry import (GEOMETRY_KEYS, MAX_CELLS, MAX_DRAWN_CELLS, MAX_KERNEL_CELLS,
                       MAX_MEDIAN_KERNEL_CELLS, MAX_WORK, AxisPlan, WindowCells, coverage,
                       geometry_kwargs, normalize_tuple, output_size, plan_axes, window_cells,
                       window_divisors)
from .reductions import (INDEX_MODES, MODES, adaptive_bins, adaptive_pool2d, adaptive_pool_nd,
                         global_pool2d, pool1d, pool2d, pool3d, pool_nd)
from .pyramid import PyramidLevel, spatial_pyramid_bins, spatial_pyramid_pool2d
from .roi import (RoiAlignSamples, RoiPoolBins, roi_align, roi_align_backward, roi_align_samples,
                  roi_pool, roi_pool_bins)
from .calls import VARIANTS, VariantCall, variant_calls, variant_frameworks
from .variants import (mixed_pool2d, mixed_pool2d_backward, softpool2d, softpool2d_backward,
                       softpool_weights)

__all__ = [
    "MODES", "INDEX_MODES", "AxisPlan", "WindowCells", "OutputSizeExplanation",
    "pool_nd", "pool1d", "pool2d", "pool3d", "pool_nd_backward", "pool2d_backward",
    "unpool_nd", "unpool2d", "adaptive_bins", "adaptive_pool_nd", "adaptive_pool2d",
    "global_pool2d", "output_size", "explain_output_size", "explain_axes", "window_cells", "coverage",
    "plan_axes", "normalize_tuple", "geometry_kwargs", "GEOMETRY_KEYS", "window_divisors",
    "MAX_CELLS", "MAX_WORK", "MAX_KERNEL_CELLS", "MAX_MEDIAN_KERNEL_CELLS", "MAX_DRAWN_CELLS",
    # variants
    "gem_pool2d", "gem_pool2d_backward", "mixed_pool2d", "mixed_pool2d_backward",
    "softpool2d", "softpool2d_backward", "softpool_weights",
    "PADDING_MODES", "binomial_filter", "blur_pool2d", "blur_pool2d_backward",
    "max_blur_pool2d", "max_blur_pool2d_backward", "ShiftConsistency", "shift_consistency",
    "FractionalWindows", "fractional_intervals", "fractional_windows", "fractional_max_pool2d",
    "fractional_max_pool2d_backward",
    "PyramidLevel", "spatial_pyramid_bins", "spatial_pyramid_pool2d",
    "RoiPoolBins", "RoiAlignSamples", "roi_pool_bins", "roi_align_samples", "roi_pool",
    "roi_align", "roi_align_backward",
    "VARIANTS", "VariantCall", "variant_calls", "variant_frameworks",
]
