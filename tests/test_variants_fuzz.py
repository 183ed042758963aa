"""Parameter fuzzing of the pooling variants (issue 18), by the contract of
``tests/test_fuzz_core.py``: a call returns, or raises a ``ValueError`` whose message
names the offending parameter, within a bounded memory peak; any other exception is a
bug. Each public variant function has a baseline call here; one to three of its
arguments are swapped for the same hostile values (``HOSTILE``, ``VALIDISH``,
``HOSTILE_ARRAYS``). Derandomized, as there.
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_core import _hostile_call, fuzz

import pooling_core as pc

X = np.arange(64.0).reshape(1, 1, 8, 8)
X4 = np.arange(2 * 2 * 6 * 7, dtype=np.float64).reshape(2, 2, 6, 7)
BOXES = np.array([[0, 0.5, 1.0, 5.2, 4.9], [1, 2.0, 0.0, 6.0, 5.0]])
SAMPLES = np.full((1, 1, 2), 0.4)

#: Each public variant function with arguments that work, as keyword arguments.
VARIANT_BASELINES = {
    "gem_pool2d": (pc.gem_pool2d, dict(x=X, kernel_size=3, stride=2, padding=1, dilation=1,
                                       ceil_mode=True, count_include_pad=None, p=3.0, eps=1e-6)),
    "gem_pool2d_backward": (pc.gem_pool2d_backward, dict(
        grad_output=np.ones((1, 1, 4, 4)), x=X, kernel_size=3, stride=2, padding=1, dilation=1,
        ceil_mode=False, count_include_pad=True, p=2.5, eps=1e-6, grad_p=True)),
    "mixed_pool2d": (pc.mixed_pool2d, dict(x=X, kernel_size=2, stride=2, padding=0, dilation=1,
                                           ceil_mode=False, count_include_pad=None, alpha=0.3)),
    "mixed_pool2d_backward": (pc.mixed_pool2d_backward, dict(
        grad_output=np.ones((1, 1, 4, 4)), x=X, kernel_size=2, stride=2, padding=0, dilation=1,
        ceil_mode=False, count_include_pad=True, alpha=0.5, grad_alpha=True)),
    "softpool2d": (pc.softpool2d, dict(x=X, kernel_size=3, stride=2, padding=1, dilation=1,
                                       ceil_mode=False)),
    "softpool2d_backward": (pc.softpool2d_backward, dict(
        grad_output=np.ones((1, 1, 4, 4)), x=X, kernel_size=2, stride=2, padding=0, dilation=1,
        ceil_mode=False)),
    "softpool_weights": (pc.softpool_weights, dict(x=X, kernel_size=2, stride=2, padding=0,
                                                   dilation=1, ceil_mode=False)),
    "binomial_filter": (pc.binomial_filter, dict(kernel_size=(3, 4))),
    "blur_pool2d": (pc.blur_pool2d, dict(x=X, kernel_size=3, stride=2, padding_mode="reflect")),
    "blur_pool2d_backward": (pc.blur_pool2d_backward, dict(
        grad_output=np.ones((1, 1, 4, 4)), x=X, kernel_size=4, stride=2,
        padding_mode="replicate")),
    "max_blur_pool2d": (pc.max_blur_pool2d, dict(x=X, kernel_size=3, stride=2, max_pool_size=2,
                                                 padding_mode="zeros")),
    "max_blur_pool2d_backward": (pc.max_blur_pool2d_backward, dict(
        grad_output=np.ones((1, 1, 4, 4)), x=X, kernel_size=3, stride=2, max_pool_size=2,
        padding_mode="zeros")),
    "fractional_intervals": (pc.fractional_intervals, dict(n=10, kernel=2, out=6, sample=0.3,
                                                           dtype=np.float32)),
    "fractional_windows": (pc.fractional_windows, dict(
        input_shape=(1, 1, 8, 8), kernel_size=2, output_size=None, output_ratio=0.6,
        samples=SAMPLES, dtype=np.float64, rng=None)),
    "fractional_max_pool2d": (pc.fractional_max_pool2d, dict(
        x=X, kernel_size=2, output_size=5, output_ratio=None, return_indices=True,
        samples=SAMPLES, rng=None)),
    "fractional_max_pool2d_backward": (pc.fractional_max_pool2d_backward, dict(
        grad_output=np.ones((1, 1, 4, 4)), x=X, kernel_size=2, output_size=None,
        output_ratio=0.5, samples=SAMPLES, rng=None)),
    "spatial_pyramid_bins": (pc.spatial_pyramid_bins, dict(input_shape=(7, 5),
                                                           levels=(1, (2, 3)))),
    "spatial_pyramid_pool2d": (pc.spatial_pyramid_pool2d, dict(x=X, levels=(1, 2, 4),
                                                               mode="max")),
    "roi_pool_bins": (pc.roi_pool_bins, dict(input_shape=X4.shape, boxes=BOXES, output_size=2,
                                             spatial_scale=1.0, dtype=np.float32)),
    "roi_align_samples": (pc.roi_align_samples, dict(
        input_shape=X4.shape, boxes=BOXES, output_size=(2, 3), spatial_scale=0.5,
        sampling_ratio=-1, aligned=True, dtype=np.float64)),
    "roi_pool": (pc.roi_pool, dict(x=X4, boxes=BOXES, output_size=(2, 2), spatial_scale=1.0)),
    "roi_align": (pc.roi_align, dict(x=X4, boxes=BOXES, output_size=2, spatial_scale=1.0,
                                     sampling_ratio=2, aligned=False, mode="avg")),
    "roi_align_backward": (pc.roi_align_backward, dict(
        grad_output=np.ones((2, 2, 2, 2)), x=X4, boxes=BOXES, output_size=2, spatial_scale=1.0,
        sampling_ratio=-1, aligned=True)),
    "variant_calls": (pc.variant_calls, dict(variant="roi_align", output_size=7,
                                             spatial_scale=0.0625, sampling_ratio=0,
                                             aligned=True, mode="avg")),
    "variant_frameworks": (pc.variant_frameworks, dict()),
    "shift_consistency": (pc.shift_consistency, dict(
        reference=np.arange(16.0).reshape(1, 4, 4), shifted=np.arange(16.0).reshape(1, 4, 4),
        shift=(1, 0), stride=2, atol=1e-6)),
}


@fuzz(1500)
@given(st.data())
def test_every_variant_returns_or_names_the_bad_argument(data):
    names = sorted(name for name, (_, kwargs) in VARIANT_BASELINES.items() if kwargs)
    _hostile_call(data, data.draw(st.sampled_from(names), label="function"), VARIANT_BASELINES)
