"""Helpers the test modules share: the reference pooling, memory and work bounds, and
the Image lab's AppTest steps.

The reference pools the obvious way, from the documented rules and not from the core:
pad the input explicitly, cut every window with ``sliding_window_view``, reduce it
(:func:`reference_axes`, :func:`reference_pool`). Slow and plainly right, it is the
oracle of the fuzzers (``test_fuzz_core.py``) next to PyTorch (``test_core_torch.py``).
"""
from __future__ import annotations

import re
import sys
import tracemalloc
from math import ceil, prod

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from conftest import ROOT

# ----------------------------------------------------------------------------- reference


def per_axis(value, nd):
    return tuple(value) if isinstance(value, tuple) else (value,) * nd


class Axis:
    """One axis's windows, computed from the documented rules (not from the core)."""

    def __init__(self, n, k, s, d, pb, pa, ceil_mode, ceil_clip):
        self.n, self.k, self.s, self.d, self.pb, self.pa = n, k, s, d, pb, pa
        self.span = d * (k - 1) + 1
        numer = n + pb + pa - self.span
        out = -(-numer // s) + 1 if ceil_mode else numer // s + 1
        if ceil_mode and ceil_clip and (out - 1) * s >= n + pb:
            out -= 1  # the last window would start in the right padding
        self.out = out  # ceil mode keeps a window even when it outruns input + padding
        self.ext = max(0, (self.out - 1) * s + self.span - pb - n)  # padding + overhang read
        self.coords = (np.arange(self.out) * s - pb)[:, None] + np.arange(k)[None, :] * d

    @property
    def real(self):
        return (self.coords >= 0) & (self.coords < self.n)

    @property
    def frame(self):
        return (self.coords >= -self.pb) & (self.coords < self.n + self.pa)


def reference_axes(spatial, kernel, stride, padding, dilation, ceil_mode, ceil_clip=True,
                   check_half_kernel=True):
    """The axes, or None when the documented rules reject the settings."""
    nd = len(spatial)
    k, d = per_axis(kernel, nd), per_axis(dilation, nd)
    s = k if stride is None else per_axis(stride, nd)
    if min(k + s + d) < 1:
        return None
    if isinstance(padding, str):
        if padding.lower() == "valid":
            pads = [(0, 0)] * nd
        else:  # TensorFlow SAME: out = ceil(n / s), the odd cell after (ONNX SAME_LOWER: before)
            pads = []
            for n, kk, ss, dd in zip(spatial, k, s, d):
                total = max((ceil(n / ss) - 1) * ss + dd * (kk - 1) + 1 - n, 0)
                pair = (total // 2, total - total // 2)
                pads.append(pair[::-1] if padding.lower() == "same_lower" else pair)
    elif isinstance(padding, tuple) and isinstance(padding[0], tuple):
        pads = list(padding)
    else:
        pads = [(p, p) for p in per_axis(padding, nd)]
        if check_half_kernel and any(p > kk // 2 for (p, _), kk in zip(pads, k)):
            return None
    if min(v for pair in pads for v in pair) < 0:
        return None
    axes = [Axis(n, kk, ss, dd, pb, pa, ceil_mode, ceil_clip)
            for n, kk, ss, dd, (pb, pa) in zip(spatial, k, s, d, pads)]
    return axes if all(a.out >= 1 for a in axes) else None


def outer(masks):
    """Per-axis ``(out_i, k_i)`` arrays -> ``(*out, *k)`` (logical and / product)."""
    nd = len(masks)
    result = True
    for i, m in enumerate(masks):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = m.shape
        result = result & m.reshape(shape) if m.dtype == bool else result * m.reshape(shape)
    return result


def windows(a, axes, fill):
    """``(..., *out, *k)``: every window of the last ``len(axes)`` axes of ``a``, cut with
    ``sliding_window_view`` from ``a`` explicitly padded with ``fill``."""
    nd = len(axes)
    widths = [(0, 0)] * (a.ndim - nd) + [(ax.pb, ax.ext) for ax in axes]
    padded = np.pad(a, widths, constant_values=fill)
    view = sliding_window_view(padded, [ax.span for ax in axes], axis=tuple(range(-nd, 0)))
    cut = tuple(slice(0, (ax.out - 1) * ax.s + 1, ax.s) for ax in axes) + tuple(
        slice(None, None, ax.d) for ax in axes)
    return view[(Ellipsis,) + cut]


def flat_taps(axes):
    """``(*out, *k)`` flat index of each tap in the unpadded plane, -1 for padding."""
    sizes = [ax.n for ax in axes]
    flat = sum(axis_coords(axes, i) * prod(sizes[i + 1:]) for i in range(len(axes)))
    return np.where(outer([ax.real for ax in axes]), flat, -1)


def axis_coords(axes, i):
    """``(*out, *k)`` input coordinate on axis ``i`` of every tap."""
    nd = len(axes)
    shape = [1] * (2 * nd)
    shape[i], shape[nd + i] = axes[i].coords.shape
    full = tuple(a.out for a in axes) + tuple(a.k for a in axes)
    return np.broadcast_to(axes[i].coords.reshape(shape), full)


def reference_pool(x, axes, mode, pad_value, count_include_pad, divisor_override, p, training):
    """The documented result of ``pool_nd`` for a non-random mode, in float64."""
    nd = len(axes)
    kax = tuple(range(-nd, 0))
    x = np.asarray(x)
    x = x.astype(np.uint8) if x.dtype == bool else x
    xf = x.astype(np.float64)
    real = outer([ax.real for ax in axes])
    if pad_value is not None and x.dtype.kind == "f":  # the value as x's dtype holds it
        with np.errstate(over="ignore"):
            pad_value = float(np.array(pad_value).astype(x.dtype))
    vals = windows(xf, axes, 0.0 if pad_value is None else float(pad_value))
    take = np.broadcast_to(real if pad_value is None or mode == "stochastic" else True, vals.shape)
    kernel_cells = prod(ax.k for ax in axes)
    if mode in ("max", "min"):
        if pad_value is None:  # padding never wins; a window of padding only keeps it
            info = np.finfo if np.dtype(x.dtype).kind == "f" else np.iinfo
            edge = (-np.inf, np.inf) if info is np.finfo else (info(x.dtype).min, info(x.dtype).max)
        else:
            edge = (-np.inf, np.inf)
        reduce = np.max if mode == "max" else np.min
        return reduce(vals, axis=kax, where=take, initial=edge[0] if mode == "max" else edge[1])
    if mode == "median":  # lower median of the cells taking part; NaN wins
        flat_shape = vals.shape[: vals.ndim - nd] + (prod(vals.shape[vals.ndim - nd:]),)
        ranked = np.sort(np.where(take, vals, np.inf).reshape(flat_shape), axis=-1)
        count = take.reshape(ranked.shape).sum(-1)
        pick = np.take_along_axis(ranked, np.maximum(count - 1, 0)[..., None] // 2, -1)[..., 0]
        nan = (np.isnan(vals) & take).reshape(ranked.shape).any(-1)
        return np.where(nan, np.nan, np.where(count > 0, pick, np.nan))
    if mode == "stochastic":  # test time: sum(w*x) / sum(w), w = max(x, 0) over real cells
        vals = np.where(take, vals, 0)
        w = np.maximum(vals, 0)
        num, tot = (w * vals).sum(kax), w.sum(kax)
        return np.where(tot > 0, num / np.where(tot > 0, tot, 1), 0.0)
    if mode == "lp":
        total = np.where(take, np.power(vals, p), 0).sum(kax)
    else:
        total = np.where(take, vals, 0).sum(kax)
    if mode == "sum":
        return total
    frame = outer([ax.frame for ax in axes]) if count_include_pad else real
    divisor = divisor_override if divisor_override is not None else frame.sum(kax)
    mean = total / divisor
    return mean if mode == "avg" else np.power(kernel_cells * mean, 1.0 / p)


def pool_reference(x, ndim, mode, kernel_size, stride=None, padding=0, dilation=1,
                   ceil_mode=False, count_include_pad=None, p=2.0, pad_value=None):
    """:func:`reference_pool` with ``pool_nd``'s arguments (valid ones): every window of the
    explicitly padded input, reduced; windows of padding only divide 0 by 0.

    ``count_include_pad=None`` is the documented default: an average ignores padding given
    by name ('same', 'valid'), counts numeric padding; lp always counts it."""
    if count_include_pad is None:
        count_include_pad = mode != "avg" or not isinstance(padding, str)
    axes = reference_axes(x.shape[x.ndim - ndim:], kernel_size, stride, padding, dilation,
                          ceil_mode)
    with np.errstate(invalid="ignore", divide="ignore"):
        return reference_pool(x, axes, mode, pad_value, count_include_pad, None, p, True)


def tolerance(dtype):
    return {np.dtype(np.float16): 2e-3, np.dtype(np.float32): 2e-5}.get(np.dtype(dtype), 1e-9)


# ----------------------------------------------------------------------------- bounds


def peak_extra(fn, *, warm: bool = True):
    """``(peak bytes allocated while fn() runs beyond its result, result)``, after a first
    untraced run unless not ``warm`` (which fills caches: the plans, NumPy's own).
    NumPy reports its arrays to tracemalloc."""
    if warm:
        fn()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - (out.nbytes if isinstance(out, np.ndarray) else 0), out


def calls_made(fn):
    """``(function calls fn() makes, result or the exception it raised)``: Python
    functions and C builtins, counted by a profile hook. A work bound that does not
    depend on the machine: a loop over output cells would make millions."""
    count = 0

    def hook(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(hook)
    try:
        result = fn()
    except Exception as err:  # the caller checks what was raised
        result = err
    finally:
        sys.setprofile(None)
    return count, result


# ----------------------------------------------------------------------------- links


def open_link(page: str, query: dict, timeout: int = 60):
    """``pages/<page>.py`` through app.py as a link ``?key=value&…`` opens it, in a new
    session; it ran without an exception."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.switch_page(f"pages/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ----------------------------------------------------------------------------- image lab


def open_page():
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/image_lab.py")
    at.run()
    assert not at.exception
    return at


def captions(at):
    """The captions as the user reads them (the page backslash-escapes file names)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", " ".join(c.value for c in at.caption))


def image_captions(at):
    return [i.caption for im in at.get("image") for i in im.proto.imgs]


def upload(at, name, data, mime="image/png"):
    at.file_uploader(key="img_file").set_value((name, data, mime))
    at.run()
    assert not at.exception, at.exception


def open_sections(at, zoom=True, compare=True):
    """Open the zoom and the mode comparison (expanders drawn only while open), as a click
    on their headers does."""
    at.session_state["img_zoom"] = zoom
    at.session_state["img_compare"] = compare
    at.run()
    assert not at.exception, at.exception


def small_geometries(**extra):
    """A hypothesis strategy of 2-D pooling settings for inputs of a few cells a side:
    per-axis kernel 1-3, stride 1-3, padding 0-1, dilation 1-2, ceil_mode and
    count_include_pad, plus the strategies in ``extra`` (a ``mode``, say)."""
    from hypothesis import strategies as st
    return st.fixed_dictionaries({
        "kernel_size": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "padding": st.tuples(st.integers(0, 1), st.integers(0, 1)),
        "dilation": st.tuples(st.integers(1, 2), st.integers(1, 2)),
        "ceil_mode": st.booleans(),
        "count_include_pad": st.booleans(),
        **extra,
    })
