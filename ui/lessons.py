"""Pure helpers of the learning pages (backprop, pooling vs strided convolution,
1-D/3-D/adaptive): gradients checked by finite differences, a strided convolution on
pooling's own windows, layer costs, signals and volumes, and the typed kernel. No
Streamlit calls; the pages in ``pages/`` draw them (typed numbers are read by
:mod:`ui.parsing`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import comb
from typing import TYPE_CHECKING

import numpy as np

from pooling_core import plan_axes, pool2d, pool2d_backward
from ui import figures
from ui.parsing import parse_matrix

if TYPE_CHECKING:  # the sidebar's settings; importing them would bring in Streamlit
    from ui.pool_settings import PoolSettings

FD_STEP = 1e-4    # central-difference step h
CHECK_TOL = 1e-6  # relative tolerance of the gradient check's ✓


# ----------------------------------------------------------------------------- backprop


def upstream_gradient(kind: str, shape, seed: int = 0, hot=(0, 0)) -> np.ndarray:
    """∂L/∂out: all ones, seeded random (one decimal), or a single 1 at ``hot``."""
    if kind == "ones":
        return np.ones(shape)
    if kind == "random":
        return np.round(np.random.default_rng(seed).normal(size=shape), 1)
    g = np.zeros(shape)
    g[min(hot[0], shape[0] - 1), min(hot[1], shape[1] - 1)] = 1.0
    return g


def tie_break(x, seed: int = 0) -> np.ndarray:
    """``x`` plus a small seeded jitter that makes every value distinct.

    The jitter is a random permutation of ``1..N`` scaled into ``(0, gap/2)``,
    ``gap`` the smallest difference between distinct values of ``x`` (1 for
    integers): values that differed keep their order, ties are broken, and any
    two values end up at least ``gap / (2(N+1))`` apart, far more than the
    finite-difference step.
    """
    x = np.asarray(x, dtype=float)
    distinct = np.unique(x[np.isfinite(x)])
    gap = float(np.diff(distinct).min()) if distinct.size > 1 else 1.0
    perm = np.random.default_rng(seed).permutation(x.size).reshape(x.shape) + 1
    return x + perm * (gap / 2) / (x.size + 1)


def numeric_gradient(f, x, grad_out, h: float = FD_STEP, batched: bool = True) -> np.ndarray:
    """Central differences of ``L(x) = Σ grad_out · f(x)`` for every cell of ``x``.

    ``f`` maps ``(..., H, W)`` to ``(..., Ho, Wo)``. With ``batched`` all
    ``2·H·W`` perturbed inputs go through ``f`` in one call (the perturbations
    stacked on a leading axis); otherwise one call per input. Outputs that are
    infinite on both sides (a window of padding only) contribute 0.
    """
    x = np.asarray(x, dtype=float)
    g = np.asarray(grad_out, dtype=float)
    bumps = np.eye(x.size).reshape((x.size,) + x.shape) * h
    if batched:
        up, down = np.asarray(f(x + bumps), float), np.asarray(f(x - bumps), float)
    else:
        up = np.stack([np.asarray(f(x + b), float) for b in bumps])
        down = np.stack([np.asarray(f(x - b), float) for b in bumps])
    with np.errstate(invalid="ignore"):
        diff = np.where(np.isfinite(up) & np.isfinite(down), up - down, 0.0)
    return (diff * g).reshape(x.size, -1).sum(axis=1).reshape(x.shape) / (2 * h)


@dataclass(frozen=True)
class GradientCheck:
    analytic: np.ndarray
    numeric: np.ndarray
    max_abs: float
    relative: float

    @property
    def ok(self) -> bool:
        return self.relative < CHECK_TOL


def gradient_check(x, grad_out, kwargs: dict, h: float = FD_STEP) -> GradientCheck:
    """``pool2d_backward`` against central differences of ``pool2d`` on the same input."""
    x = np.asarray(x, dtype=float)
    analytic = pool2d_backward(grad_out, x, **kwargs)
    numeric = numeric_gradient(lambda a: pool2d(a, **kwargs), x, grad_out, h,
                               batched=kwargs.get("mode") != "stochastic")
    max_abs = float(np.abs(analytic - numeric).max())
    scale = max(1.0, float(np.abs(analytic).max()))
    return GradientCheck(analytic, numeric, max_abs, max_abs / scale)


def tied_windows(x, kwargs: dict) -> int:
    """How many windows of a picking mode (max/min) have a tie for the chosen value."""
    mode = kwargs.get("mode", "max")
    if mode not in ("max", "min"):
        return 0
    x = np.asarray(x, dtype=float)
    best = pool2d(x, **kwargs)
    count = 0
    for s in figures.animation_steps(x, kwargs):
        vals = np.array([x[r, c] for (r, c), ok in zip(s.taps, s.inside) if ok])
        count += int((vals == best[s.index]).sum() > 1)
    return count


# ----------------------------------------------------------------------------- pooling vs conv


def strided_conv2d(x, weight, *, stride=None, padding=0, dilation=1, ceil_mode=False,
                   **geometry) -> np.ndarray:
    """Cross-correlation of the last two axes of ``x`` with ``weight`` (like ``nn.Conv2d``).

    The windows are placed exactly as pooling places them (``plan_axes`` with
    ``kernel_size = weight.shape``), so the output size is pooling's; padding
    and any ceil-mode overhang read zeros. Vectorised: one
    ``sliding_window_view`` and one ``einsum``.
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(weight, dtype=float)
    if w.ndim != 2:
        raise ValueError(f"weight has shape {w.shape}; give a 2-D kernel")
    geometry = {k: v for k, v in geometry.items() if k in ("ceil_clip", "check_half_kernel")}
    plans = plan_axes(x.shape[-2:], w.shape, stride, padding, dilation, ceil_mode, **geometry)
    lead = x.ndim - 2
    padded = np.pad(x, [(0, 0)] * lead + [(p.pad_before, p.extra_after) for p in plans])
    spans = tuple(p.span for p in plans)
    windows = np.lib.stride_tricks.sliding_window_view(padded, spans, axis=(-2, -1))
    (ph, pw) = plans
    windows = windows[..., : (ph.out - 1) * ph.stride + 1: ph.stride,
                      : (pw.out - 1) * pw.stride + 1: pw.stride, :: ph.dilation, :: pw.dilation]
    return np.einsum("...ijkl,kl->...ij", windows, w)


def kernel_preset(name: str, shape, seed: int = 0) -> np.ndarray:
    """An averaging kernel (1/k² everywhere), an edge filter (Sobel-like: smooth down the
    rows, −1 … +1 across the columns), or a seeded random one (one decimal)."""
    kh, kw = shape
    if name == "avg":
        return np.full(shape, 1.0 / (kh * kw))
    if name == "edge":
        smooth = np.array([comb(kh - 1, i) for i in range(kh)], dtype=float)  # 1, 2, 1 for k=3
        ramp = np.linspace(-1.0, 1.0, kw) if kw > 1 else np.ones(1)
        return np.outer(smooth, ramp)
    return np.round(np.random.default_rng(seed).normal(size=shape), 1)


def parse_kernel(text: str, shape=None) -> np.ndarray:
    """A typed convolution kernel (see :func:`parse_matrix`), checked against ``shape``."""
    kernel = parse_matrix(text, "The kernel")
    if shape is not None and kernel.shape != tuple(shape):
        raise ValueError(f"The typed kernel is {kernel.shape[0]}×{kernel.shape[1]} but the "
                         f"sidebar's kernel size is {shape[0]}×{shape[1]}: type {shape[0]} row(s) "
                         f"of {shape[1]} value(s), or change Kernel size")
    return kernel


def format_kernel(kernel) -> str:
    return "; ".join(", ".join(figures.fmt(v) for v in row) for row in np.asarray(kernel))


def layer_costs(h: int, w: int, c: int, kernel, out_hw, bytes_per_value: int = 4) -> dict:
    """Parameters, stored activations and multiply-adds per image for C→C channels.

    ``conv → pool``: a k×k convolution with stride 1 and 'same' padding
    (output H×W×C) followed by pooling to ``out_hw``; ``strided``: one k×k
    convolution with the pooling's stride, straight to ``out_hw``.
    """
    kh, kw = kernel
    ho, wo = out_hw
    conv_params = kh * kw * c * c + c
    full, small = h * w * c, ho * wo * c
    return {
        "pool_params": 0,
        "conv_params": conv_params,
        "pipeline_params": conv_params,
        "strided_params": conv_params,
        "pipeline_values": full + small,
        "strided_values": small,
        "pipeline_bytes": (full + small) * bytes_per_value,
        "strided_bytes": small * bytes_per_value,
        "pipeline_macs": full * kh * kw * c,
        "strided_macs": small * kh * kw * c,
    }


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.2f} {unit}"
        n /= 1024
    return f"{n} B"


def conv_steps(x, kwargs: dict, weight, conv_out) -> list[figures.Step]:
    """The pooling animation's steps re-captioned as a convolution's weighted sums."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(weight, dtype=float).ravel()
    steps = []
    for s in figures.animation_steps(x, {**kwargs, "mode": "avg"}):
        vals = [x[r, c] if ok else 0.0 for (r, c), ok in zip(s.taps, s.inside)]
        terms = [f"{figures.fmt(a)}·{figures.fmt(b)}" for a, b in zip(w, vals)]
        shown = " + ".join(terms if len(terms) <= 9 else terms[:8] + ["…"])
        value = float(conv_out[s.index])
        caption = f"out[{s.index[0]}, {s.index[1]}] = Σ w·x = {shown} = {figures.fmt(value)}"
        steps.append(replace(s, chosen=None, value=value, caption=caption))
    return steps


# ----------------------------------------------------------------------------- 1-D, 3-D, adaptive


def nd_pool_kwargs(settings: PoolSettings, spatial) -> dict:
    """``pool1d``/``pool3d`` keyword arguments from the sidebar, using its H values on every axis.

    Each axis of size ``n`` gets what the chosen framework does on an ``n×n``
    input (so 'same' padding, global pooling and shape-dependent padding come
    out right per axis). Raises ValueError like ``PoolSettings.pool_kwargs``.
    """
    per_axis = [settings.pool_kwargs((int(n), int(n))) for n in spatial]
    kw = dict(per_axis[0])
    for key in ("kernel_size", "stride", "dilation"):
        kw[key] = tuple(int(np.atleast_1d(a[key])[0]) for a in per_axis)
    pads = [a["padding"] for a in per_axis]
    if all(isinstance(p, str) for p in pads):
        kw["padding"] = pads[0]
        return kw
    pairs = []
    for p in pads:
        first = p[0] if isinstance(p, (tuple, list)) else p
        pairs.append(tuple(int(v) for v in first) if isinstance(first, (tuple, list))
                     else (int(first), int(first)))
    if all(a == b for a, b in pairs) and not any(isinstance(p, (tuple, list)) and p
                                                 and isinstance(p[0], (tuple, list)) for p in pads):
        kw["padding"] = tuple(a for a, _ in pairs)
    else:
        kw["padding"] = tuple(pairs)
    return kw


def make_signal(kind: str, length: int, seed: int) -> np.ndarray:
    """A sine with noise, or random steps; two decimals so the captions stay short."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    if kind == "steps":
        edges = np.sort(rng.choice(np.arange(1, length), size=min(4, length - 1), replace=False))
        levels = rng.integers(0, 10, size=edges.size + 1)
        return np.round(levels[np.searchsorted(edges, t, side="right")].astype(float), 2)
    return np.round(np.sin(2 * np.pi * t / max(length / 2, 2)) * 3
                    + rng.normal(scale=0.6, size=length), 2)


def make_volume(shape, seed: int) -> np.ndarray:
    """A smooth Gaussian blob at a seeded spot plus a little noise, values 0–9 (two decimals)."""
    rng = np.random.default_rng(seed)
    grids = np.indices(shape, dtype=float)
    centre = [rng.uniform(0.25, 0.75) * (n - 1) for n in shape]
    r2 = sum((g - c) ** 2 for g, c in zip(grids, centre))
    blob = 9 * np.exp(-r2 / (2 * (max(shape) / 4) ** 2))
    return np.round(np.clip(blob + rng.normal(scale=0.5, size=shape), 0, None), 2)


def fixed_equivalent(shape, output_size):
    """``(kernel, stride)`` of the ordinary pooling that equals this adaptive pooling, or None.

    That exists when every input size is a multiple of its output size.
    """
    if all(n % o == 0 for n, o in zip(shape, output_size)):
        k = tuple(n // o for n, o in zip(shape, output_size))
        return k, k
    return None

