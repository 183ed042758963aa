"""Pooling vs strided convolution: same windows, same output size, different numbers and costs."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from pooling_core import geometry_kwargs, plan_axes
from ui import export, figures, lessons, pool_settings, startup, widgets

MAX_SIDE = 16
KERNELS = {"avg": "Averaging", "edge": "Edge filter", "random": "Random", "typed": "Type it in"}
DIFFS = {"conv-max": "conv − max pool", "conv-avg": "conv − avg pool",
         "max-avg": "max pool − avg pool"}


# ----------------------------------------------------------------------------- page parts


def kernel_controls(shape) -> np.ndarray | None:
    """The convolution kernel, sized like the sidebar's pooling kernel; None if none is valid."""
    c1, c2 = st.columns([4, 1])
    with c1:
        kind = st.radio("Convolution kernel", list(KERNELS), format_func=KERNELS.get,
                        key="pc_kernel", horizontal=True, bind="query-params",
                        help="In a network these weights are learned; here you pick them.")
        if kind == "random":
            seed = st.number_input("Kernel seed", 0, 99_999, 0, key="pc_kseed", bind="query-params")
            kernel = lessons.kernel_preset("random", shape, int(seed))
        elif kind == "typed":
            text = st.text_area("Kernel (rows separated by ;)",
                                lessons.format_kernel(lessons.kernel_preset("edge", shape)),
                                key="pc_text", height=90, bind="query-params",
                                help="e.g. 1,0,-1; 2,0,-2; 1,0,-1 for a 3×3 kernel. Fractions "
                                     "such as 1/9 are fine.")
            kernel = pool_settings.guard("pc_typed", lessons.parse_kernel, text, shape)[0]
            if kernel is None or kernel.shape != tuple(shape):
                st.info(f"Type a {shape[0]}×{shape[1]} kernel to see the convolution.")
                return None
        else:
            kernel = lessons.kernel_preset(kind, shape)
    with c2:
        panel = dict(values=kernel, title=f"Kernel w {shape[0]}×{shape[1]}", signed=True,
                     colorscale=figures.GRAD_COLORSCALE)
        st.plotly_chart(figures.panels_figure([panel]), width="stretch", key="pc_kernel_fig")
    return kernel


def size_panel(shape, kwargs: dict) -> None:
    out = [p.out for p in plan_axes(tuple(shape), **geometry_kwargs(kwargs))]
    st.markdown(f"**Output size — one formula for all three** (same kernel, stride, padding "
                f"and dilation): {out[0]}×{out[1]}")
    widgets.formula(shape, kwargs)


def costs_panel(settings: pool_settings.PoolSettings) -> None:
    st.subheader("Parameters and memory, in plain numbers")
    st.caption("A layer with C input and C output channels on an H×W feature map, float32 "
               "(4 bytes per value), per image. The sidebar gives the kernel k and stride s.")
    c1, c2, c3 = st.columns(3)
    h = c1.number_input("H", 1, 4096, 112, key="pc_H", bind="query-params")
    w = c2.number_input("W", 1, 4096, 112, key="pc_W", bind="query-params")
    c = c3.number_input("Channels C", 1, 4096, 64, key="pc_C", bind="query-params")
    kwargs, error = pool_settings.guard("pc_cost_kwargs", settings.pool_kwargs, (int(h), int(w)))
    if kwargs is None or error:
        return
    plans = plan_axes((int(h), int(w)), **geometry_kwargs(kwargs))
    out_hw = tuple(p.out for p in plans)
    (kh, sh, ho), (kw, sw, wo) = ((p.kernel, p.stride, p.out) for p in plans)
    costs = lessons.layer_costs(int(h), int(w), int(c), (kh, kw), out_hw)
    m1, m2 = st.columns(2)
    m1.metric("Pooling layer: parameters", "0",
              help="Pooling has a fixed rule (max, average…): nothing to learn.")
    m2.metric(f"Strided {kh}×{kw} convolution: parameters", f"{costs['conv_params']:,}",
              help="k·k·C·C weights + C biases.")
    st.markdown(f"Parameters of the strided convolution: k·k·C·C + C = {kh}·{kw}·{c}·{c} + {c} "
                f"= **{costs['conv_params']:,}**. Pooling: **0**.")
    rows = [
        {"Pipeline": f"conv {kh}×{kw} stride 1 → pool (k={kh}×{kw}, s={sh}×{sw})",
         "Parameters": f"{costs['pipeline_params']:,} + 0",
         "Stored activations": f"{h}·{w}·{c} + {ho}·{wo}·{c} = {costs['pipeline_values']:,} values",
         "Memory": lessons.human_bytes(costs["pipeline_bytes"]),
         "Multiply-adds": f"{costs['pipeline_macs']:,}"},
        {"Pipeline": f"one conv {kh}×{kw} with the pooling's stride",
         "Parameters": f"{costs['strided_params']:,}",
         "Stored activations": f"{ho}·{wo}·{c} = {costs['strided_values']:,} values",
         "Memory": lessons.human_bytes(costs["strided_bytes"]),
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
    steps = lessons.conv_steps(x, kwargs, weight, conv_out)
    return figures.sliding_figure(x, {**kwargs, "mode": "avg"}, steps, out_values=conv_out,
                                  right_title="Convolution output")


def average_kwargs(settings: pool_settings.PoolSettings, kw_max: dict, shape):
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
    startup.require_navigation()
    st.title("Pooling vs strided convolution")
    st.caption("A convolution with stride s slides its window exactly like pooling and gives an "
               "output of exactly the same size. Pooling applies a fixed rule and learns nothing; "
               "the convolution applies k·k weights — learned in a network, chosen here.")
    settings = pool_settings.current()
    x, settings, kw_max = pool_settings.with_input(
        "pc", widgets.random_matrix_input("pc", MAX_SIDE), settings,
        lambda s, shape: replace(s, mode="max").pool_kwargs(shape))
    if kw_max is None:
        return
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
        conv, conv_error = pool_settings.guard("pc_conv", lessons.strided_conv2d, x, kernel,
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
    st.plotly_chart(widgets.shown(figures.panels_figure(panels)), width="stretch", key="pc_outputs")

    if conv is not None:
        st.subheader("Difference map")
        pick = st.radio("Difference", list(DIFFS), format_func=DIFFS.get, horizontal=True,
                        key="pc_diff", bind="query-params")
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
            fig, _ = pool_settings.guard("pc_anim", build_conv_animation, x,
                                 {**geometry_kwargs(kw_max), "mode": "avg"}, kernel, conv)
            if fig is not None:
                st.plotly_chart(widgets.shown(fig), width="stretch", key="pc_anim_fig")
                export.downloads(fig, "poolscope_conv", "pc_dl", title="Poolscope: convolution")
    costs_panel(settings)


if __name__ == "__main__":
    main()
