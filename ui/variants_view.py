"""The Image lab's "modern modes" section: fractional max, BlurPool, MaxBlurPool, GeM, mixed
and SoftPool on the whole image (issue 18), each within the per-change budget.

Before a variant runs, :func:`estimate` prices it at the rates ``bench/bench_variants.py``
measured on the project machine (a 12-megapixel RGB photo); past ``ui.budget.MAX_SECONDS``
the change is refused with what to change, and the work runs in the session's turn
(:func:`ui.budget.one_at_a_time`). The pooling is the zoo's (``ui.zoo.run_mode``).
"""
from __future__ import annotations

import time
from math import ceil, prod

import numpy as np
import streamlit as st

from ui import budget, zoo
from ui import imagelab as lab

MODES = ("fractional_max", "blur", "max_blur", "gem", "mixed", "softpool")

# Seconds per output value, ``(a, b)`` for a + b·(window taps): four times the rates of
# docs/performance.md's bench/bench_variants.py table (12-MP uint8 photo, quiet machine:
# fractional k2 ratio 0.7 41 ms for 17.6 M values, k3 ratio 0.5 29 ms for 9 M; BlurPool
# filter 3 92 ms and filter 7 139 ms for 9 M; MaxBlurPool filter 3 110 ms; GeM k3 p=3
# 215 ms; mixed k3 67 ms; SoftPool k2 110 ms, k3 200 ms), rounded up: the margin
# ui/budget.py's own rates keep for a machine that other jobs share.
SECONDS_PER_VALUE = {
    "fractional_max": (7e-9, 0.8e-9), "blur": (26e-9, 2.5e-9), "max_blur": (32e-9, 3e-9),
    "gem": (32e-9, 7e-9), "mixed": (16e-9, 1.6e-9), "softpool": (16e-9, 8e-9),
}


def output_shape(shape, mode: str, params: zoo.ZooParams) -> tuple[int, ...]:
    """The output shape of ``mode`` on an input of ``shape`` ``(..., H, W)`` (no padding).

    >>> output_shape((3, 100, 80), "blur", zoo.ZooParams(stride=3))
    (3, 34, 27)
    >>> output_shape((3, 100, 80), "fractional_max", zoo.ZooParams(ratio=0.7))
    (3, 70, 56)
    """
    lead, (h, w) = tuple(shape[:-2]), shape[-2:]
    k, s = params.kernel, params.stride
    if mode == "fractional_max":
        return lead + (int(h * params.ratio), int(w * params.ratio))
    if mode == "blur":
        return lead + (ceil(h / s), ceil(w / s))
    if mode == "max_blur":
        return lead + (ceil(max(h - k + 1, 0) / s), ceil(max(w - k + 1, 0) / s))
    return lead + (max((h - k) // s + 1, 0), max((w - k) // s + 1, 0))


def estimate(shape, mode: str, params: zoo.ZooParams) -> float:
    """Estimated seconds of ``mode`` on an input of ``shape`` on the project machine."""
    values = prod(output_shape(shape, mode, params))
    taps = params.filter_size * 2 if mode in ("blur", "max_blur") else params.kernel ** 2
    a, b = SECONDS_PER_VALUE[mode]
    return values * (a + b * taps)


def check_budget(shape, mode: str, params: zoo.ZooParams) -> float:
    """The estimate, or :class:`ui.budget.OverBudget` saying what to change."""
    seconds = estimate(shape, mode, params)
    values = prod(output_shape(shape, mode, params))
    if values > budget.MAX_VALUES:
        raise budget.OverBudget(
            f"{zoo.MODES[mode][0]} on this image would compute {values:,} values, more than "
            f"{budget.MAX_VALUES:,} per change on a server shared by a class. Use a larger "
            f"stride or output ratio below 1, the grayscale version or a smaller image.")
    if seconds > budget.MAX_SECONDS:
        raise budget.OverBudget(
            f"{zoo.MODES[mode][0]} on this image would take about {seconds:.1f} s of the "
            f"server's time; on a server shared by a class one change may take about "
            f"{budget.MAX_SECONDS:g} s. Use a larger stride, a smaller filter or window, the "
            f"grayscale version or a smaller image.")
    return seconds


@st.cache_resource(max_entries=4, show_spinner="Pooling the full image…")
def _run_cached(key: str, mode: str, params: zoo.ZooParams, _array: np.ndarray):
    start = time.perf_counter()
    out = zoo.run_mode(_array, mode, params)
    out.flags.writeable = False
    return out, time.perf_counter() - start


def variants_section(array: np.ndarray, key: str, src_dtype) -> None:
    """Draw the section: a variant and its parameters, then the image pooled by it."""
    st.caption("The modern poolings of the Pooling zoo on every pixel of this image. Each has "
               "its own parameters; the sidebar's window settings are not used here.")
    c1, c2, c3, c4 = st.columns(4)
    mode = c1.selectbox("Mode", MODES, format_func=lambda m: zoo.MODES[m][0], key="var_mode",
                        help="Which modern pooling to apply to the whole image.")
    kernel = c2.slider("Window", 2, 4, 2, key="var_kernel",
                       help="Window (kernel) size; MaxBlurPool's dense max.")
    stride = c3.slider("Stride", 1, 4, 2, key="var_stride",
                       help="Step; fractional max pooling takes an output ratio instead.")
    if mode == "fractional_max":
        extra = dict(ratio=float(c4.slider("Output ratio", 0.3, 0.95, 0.7, 0.05,
                                           key="var_ratio")))
    elif mode in ("blur", "max_blur"):
        extra = dict(filter_size=int(c4.slider("Blur filter size", 1, 7, 3, key="var_filter")))
    elif mode == "gem":
        extra = dict(p=float(c4.slider("GeM p", 1.0, 16.0, 3.0, 0.5, key="var_p")))
    elif mode == "mixed":
        extra = dict(alpha=float(c4.slider("Mixed α", 0.0, 1.0, 0.5, 0.05, key="var_alpha")))
    else:
        extra = {}
    params = zoo.ZooParams(kernel=int(kernel), stride=int(stride), **extra)
    try:
        seconds = check_budget(array.shape, mode, params)
        with budget.one_at_a_time():
            out, took = _run_cached(key, mode, params, array)
    except ValueError as exc:  # the core's message, or OverBudget
        st.warning(str(exc), icon=":material/speed:")
        return
    target = lab.screen_target(array.shape[-2:])
    left, right = st.columns(2)
    left.image(lab.png(lab.screen_view(array, str(src_dtype), target)),
               caption=f"Original: {lab.size_text(array.shape)}", output_format="PNG",
               width="stretch")
    right.image(lab.png(lab.screen_view(out, str(src_dtype), target)),
                caption=f"{zoo.MODES[mode][0]}: {lab.size_text(out.shape)}", output_format="PNG",
                width="stretch")
    st.caption(f"{zoo.MODES[mode][1]}. Computed in {took:.2f} s on this server (estimated "
               f"{seconds:.2f} s at the rates of bench/bench_variants.py). The Pooling zoo "
               f"shows what each mode does window by window.")
