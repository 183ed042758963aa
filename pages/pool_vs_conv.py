"""Pooling vs strided convolution: same windows, same output size, different numbers and costs."""
from __future__ import annotations

import re
from dataclasses import replace
from math import comb

import numpy as np
import pandas as pd
import streamlit as st

from pooling_core import explain_axes, geometry_kwargs, plan_axes
from ui import figures, state

MAX_SIDE = 16
KERNELS = {"avg": "Averaging", "edge": "Edge filter", "random": "Random", "typed": "Type it in"}
DIFFS = {"conv-max": "conv − max pool", "conv-avg": "conv − avg pool",
         "max-avg": "max pool − avg pool"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


# ----------------------------------------------------------------------------- pure helpers


def random_matrix(rows: int, cols: int, seed: int) -> np.ndarray:
    """The playground's random input: integers 0–9."""
    return np.random.default_rng(seed).integers(0, 10, size=(rows, cols))


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
    """Parse ``"1,0,-1; 2,0,-2; 1,0,-1"`` (rows by ``;`` or new lines, values by ``,`` or
    spaces; fractions like ``1/9`` allowed). Raises ValueError naming the bad token."""
    rows = [r for r in re.split(r"[;\n]", text) if r.strip()]
    if not rows:
        raise ValueError("The kernel is empty: type rows of numbers such as 1,0,-1; 2,0,-2; 1,0,-1")
    values = []
    for i, row in enumerate(rows, 1):
        tokens = [t for t in re.split(r"[,\s]+", row.strip()) if t]
        parsed = []
        for j, token in enumerate(tokens, 1):
            parts = token.split("/")
            if len(parts) > 2 or not all(_NUMBER.match(p) for p in parts):
                raise ValueError(f"Row {i}, value {j}: {token!r} is not a number")
            if len(parts) == 2 and float(parts[1]) == 0:
                raise ValueError(f"Row {i}, value {j}: {token!r} divides by zero")
            value = float(parts[0]) / float(parts[1]) if len(parts) == 2 else float(parts[0])
            if not np.isfinite(value):
                raise ValueError(f"Row {i}, value {j}: {token!r} is not a finite number")
            parsed.append(value)
        values.append(parsed)
    lengths = {len(r) for r in values}
    if len(lengths) != 1:
        raise ValueError(f"The rows have different lengths ({', '.join(str(len(r)) for r in values)}); "
                         f"every row needs the same number of values")
    kernel = np.array(values)
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


# ----------------------------------------------------------------------------- page parts


def keep_last(name: str, fn, *args):
    """Run a parser; on ValueError show ``st.error`` and return the last value that parsed."""
    store = st.session_state.setdefault("_pc_last_ok", {})
    try:
        store[name] = fn(*args)
    except ValueError as exc:
        last = " Showing the last valid kernel." if name in store else ""
        st.error(f"{exc}.{last}", icon="⚠️")
    return store.get(name)


def input_controls() -> np.ndarray:
    ss = st.session_state
    for key, value in {"pc_rows": 6, "pc_cols": 6, "pc_seed": 0}.items():
        ss.setdefault(key, value)
    bind = dict(bind="query-params")
    c1, c2, c3 = st.columns(3)
    c1.slider("Rows", 2, MAX_SIDE, key="pc_rows", help=f"Input height (2–{MAX_SIDE}).", **bind)
    c2.slider("Columns", 2, MAX_SIDE, key="pc_cols", help=f"Input width (2–{MAX_SIDE}).", **bind)
    c3.number_input("Seed", 0, 99_999, key="pc_seed", help="Same seed, same matrix (as in the "
                    "matrix playground).", **bind)
    return random_matrix(int(ss["pc_rows"]), int(ss["pc_cols"]), int(ss["pc_seed"]))


def kernel_controls(shape) -> np.ndarray | None:
    """The convolution kernel, sized like the sidebar's pooling kernel; None if none is valid."""
    ss = st.session_state
    ss.setdefault("pc_kernel", "avg")
    c1, c2 = st.columns([4, 1])
    with c1:
        kind = st.radio("Convolution kernel", list(KERNELS), format_func=KERNELS.get,
                        key="pc_kernel", horizontal=True,
                        help="In a network these weights are learned; here you pick them.")
        if kind == "random":
            seed = st.number_input("Kernel seed", 0, 99_999, 0, key="pc_kseed")
            kernel = kernel_preset("random", shape, int(seed))
        elif kind == "typed":
            ss.setdefault("pc_text", format_kernel(kernel_preset("edge", shape)))
            text = st.text_area("Kernel (rows separated by ;)", key="pc_text", height=90,
                                help="e.g. 1,0,-1; 2,0,-2; 1,0,-1 for a 3×3 kernel. Fractions "
                                     "such as 1/9 are fine.")
            kernel = keep_last("pc_typed", parse_kernel, text, shape)
            if kernel is None or kernel.shape != tuple(shape):
                st.info(f"Type a {shape[0]}×{shape[1]} kernel to see the convolution.")
                return None
        else:
            kernel = kernel_preset(kind, shape)
    with c2:
        panel = dict(values=kernel, title=f"Kernel w {shape[0]}×{shape[1]}", signed=True,
                     colorscale=figures.GRAD_COLORSCALE)
        st.plotly_chart(figures.panels_figure([panel]), width="stretch", key="pc_kernel_fig")
    return kernel


def size_panel(shape, kwargs: dict) -> None:
    explained = explain_axes(shape, **geometry_kwargs(kwargs))
    st.markdown(f"**Output size — one formula for all three** (same kernel, stride, padding "
                f"and dilation): {explained[0].out}×{explained[1].out}")
    st.latex(explained[0].general_latex)
    if explained[0].substituted_latex == explained[1].substituted_latex:
        st.latex(r"H_\text{out} = W_\text{out} = " + explained[0].substituted_latex)
    else:
        st.latex(r"H_\text{out} = " + explained[0].substituted_latex)
        st.latex(r"W_\text{out} = " + explained[1].substituted_latex)


def costs_panel(settings: state.PoolSettings) -> None:
    st.subheader("Parameters and memory, in plain numbers")
    st.caption("A layer with C input and C output channels on an H×W feature map, float32 "
               "(4 bytes per value), per image. The sidebar gives the kernel k and stride s.")
    c1, c2, c3 = st.columns(3)
    h = c1.number_input("H", 1, 4096, 112, key="pc_H")
    w = c2.number_input("W", 1, 4096, 112, key="pc_W")
    c = c3.number_input("Channels C", 1, 4096, 64, key="pc_C")
    kwargs, error = state.guard("pc_cost_kwargs", settings.pool_kwargs, (int(h), int(w)))
    if kwargs is None or error:
        return
    out_hw = tuple(p.out for p in plan_axes((int(h), int(w)), **geometry_kwargs(kwargs)))
    (kh, kw), (ho, wo) = settings.for_shape((h, w)).kernel, out_hw
    costs = layer_costs(int(h), int(w), int(c), (kh, kw), out_hw)
    m1, m2 = st.columns(2)
    m1.metric("Pooling layer: parameters", "0",
              help="Pooling has a fixed rule (max, average…): nothing to learn.")
    m2.metric(f"Strided {kh}×{kw} convolution: parameters", f"{costs['conv_params']:,}",
              help="k·k·C·C weights + C biases.")
    st.markdown(f"Parameters of the strided convolution: k·k·C·C + C = {kh}·{kw}·{c}·{c} + {c} "
                f"= **{costs['conv_params']:,}**. Pooling: **0**.")
    rows = [
        {"Pipeline": f"conv {kh}×{kw} stride 1 → pool (k={kh}×{kw}, s={settings.stride[0]}"
                     f"×{settings.stride[1]})",
         "Parameters": f"{costs['pipeline_params']:,} + 0",
         "Stored activations": f"{h}·{w}·{c} + {ho}·{wo}·{c} = {costs['pipeline_values']:,} values",
         "Memory": human_bytes(costs["pipeline_bytes"]),
         "Multiply-adds": f"{costs['pipeline_macs']:,}"},
        {"Pipeline": f"one conv {kh}×{kw} with the pooling's stride",
         "Parameters": f"{costs['strided_params']:,}",
         "Stored activations": f"{ho}·{wo}·{c} = {costs['strided_values']:,} values",
         "Memory": human_bytes(costs["strided_bytes"]),
         "Multiply-adds": f"{costs['strided_macs']:,}"},
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    ratio = costs["pipeline_bytes"] / max(costs["strided_bytes"], 1)
    st.caption(f"The stride-1 convolution keeps its full {h}×{w}×{c} output for the backward "
               f"pass (conv uses 'same' padding here, so its output stays {h}×{w}): "
               f"{ratio:.1f}× the memory of the single strided convolution, and "
               f"{costs['pipeline_macs'] / max(costs['strided_macs'], 1):.1f}× the multiply-adds. "
               f"What the strided conv saves, it pays in what it can learn to keep: it sees "
               f"each window once, with learned weights instead of a max.")


@st.cache_data(max_entries=32, show_spinner=False)
def build_conv_animation(x: np.ndarray, kwargs: dict, weight: np.ndarray, conv_out: np.ndarray):
    steps = conv_steps(x, kwargs, weight, conv_out)
    return figures.sliding_figure(x, {**kwargs, "mode": "avg"}, steps, out_values=conv_out,
                                  right_title="Convolution output")


def average_kwargs(settings: state.PoolSettings, kw_max: dict, shape):
    """Average pooling on max pooling's windows: the framework's own average when it can
    express these settings, otherwise the core's average on the same windows (and a note)."""
    try:
        kw_avg = replace(settings, mode="avg").pool_kwargs(shape)
    except ValueError as exc:
        kw_avg = None
        reason = str(exc).split(":", 1)[-1].split("(here", 1)[0].strip()
    if kw_avg is not None and geometry_kwargs(kw_avg) == geometry_kwargs(kw_max):
        return kw_avg, ""
    kw = {**kw_max, "mode": "avg", "count_include_pad": settings.count_include_pad,
          "pad_value": None}
    if kw_avg is not None:
        return kw, "The average uses max pooling's windows (this framework places them differently)."
    return kw, (f"{reason}: the average below is Poolscope's on the same windows as max pooling, "
                f"so the three stay comparable.")


def main() -> None:
    state.require_navigation()
    st.title("Pooling vs strided convolution")
    st.caption("A convolution with stride s slides its window exactly like pooling and gives an "
               "output of exactly the same size. Pooling applies a fixed rule and learns nothing; "
               "the convolution applies k·k weights — learned in a network, chosen here.")
    x = input_controls()
    settings = state.current()
    kw_max, error = state.guard("pc_max_kwargs", replace(settings, mode="max").pool_kwargs,
                                x.shape)
    if kw_max is None:
        return
    if error:  # the last valid settings may not fit the current matrix
        x = st.session_state.get("_pc_last_x", x)
    st.session_state["_pc_last_x"] = x
    kw_avg, note = average_kwargs(settings, kw_max, x.shape)
    if note:
        st.caption(note)
    if settings.mode not in ("max", "avg"):
        st.caption(f"This page always compares max and average pooling; the sidebar's mode "
                   f"({settings.mode}) is not used here.")
    kernel_shape = tuple(kw_max["kernel_size"])
    kernel = kernel_controls(kernel_shape)
    size_panel(x.shape, kw_max)

    mx, _ = figures.pooled(x, kw_max)
    av, _ = figures.pooled(x, kw_avg)
    conv = None
    if kernel is not None:
        conv, conv_error = state.guard("pc_conv", strided_conv2d, x, kernel,
                                       **{k: v for k, v in geometry_kwargs(kw_max).items()
                                          if k != "kernel_size"})
        if conv_error or conv is None or conv.shape != mx.shape:
            conv = None
    shared = (float(min(x.min(), np.min(mx), np.min(av))), float(max(x.max(), np.max(mx),
                                                                     np.max(av))))
    panels = [dict(values=x, title=f"Input x {x.shape[0]}×{x.shape[1]}", colorscale="Blues",
                   zrange=shared),
              dict(values=mx, title=f"Max pool {mx.shape[0]}×{mx.shape[1]}", zrange=shared),
              dict(values=av, title=f"Avg pool {av.shape[0]}×{av.shape[1]}", zrange=shared)]
    if conv is not None:
        signed = bool((conv < 0).any())
        panels.append(dict(values=conv, title=f"Strided conv {conv.shape[0]}×{conv.shape[1]}",
                           colorscale=figures.GRAD_COLORSCALE if signed else "Purples",
                           signed=signed))
    st.plotly_chart(figures.panels_figure(panels), width="stretch", key="pc_outputs")

    if conv is not None:
        st.subheader("Difference map")
        pick = st.radio("Difference", list(DIFFS), format_func=DIFFS.get, horizontal=True,
                        key="pc_diff")
        a, b = {"conv-max": (conv, mx), "conv-avg": (conv, av), "max-avg": (mx, av)}[pick]
        diff = np.asarray(a, float) - np.asarray(b, float)
        c1, c2 = st.columns([2, 3])
        c1.plotly_chart(figures.panels_figure([dict(values=diff, title=DIFFS[pick], signed=True,
                                                    colorscale=figures.GRAD_COLORSCALE)]),
                        width="stretch", key="pc_diff_fig")
        with c2:
            st.metric("max |difference|", figures.fmt(float(np.abs(diff).max())))
            if st.session_state.get("pc_kernel") == "avg":
                st.info("The averaging kernel (every weight 1/k²) is average pooling written as a "
                        "convolution: conv − avg pool is 0 wherever the window has no padding "
                        "(or when padding counts towards the average, count_include_pad).")
            st.caption("Max pooling is not a convolution at all: no fixed weights give the max "
                       "of every window. A strided convolution can learn averaging, edges, or "
                       "anything linear — but not max.")
        with st.expander("Watch the convolution slide", expanded=False):
            fig, _ = state.guard("pc_anim", build_conv_animation, x,
                                 {**geometry_kwargs(kw_max), "mode": "avg"}, kernel, conv)
            if fig is not None:
                st.plotly_chart(fig, width="stretch", key="pc_anim_fig")
    costs_panel(settings)


if __name__ == "__main__":
    main()
