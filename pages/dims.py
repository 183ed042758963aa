"""1-D, 3-D & adaptive: pooling a signal, a volume, and any input to a fixed output size."""
from __future__ import annotations

import numpy as np
import streamlit as st

from pooling_core import (adaptive_bins, adaptive_pool2d, geometry_kwargs,
                          plan_axes, pool2d)
from pooling_core.conventions import FRAMEWORKS, adaptive_args
from ui import (export, figures, lessons, links, parsing, pool_settings, quiz, startup, tap,
                widgets)

SIGNALS = {"sine": "Sine + noise", "steps": "Steps", "paste": "Paste numbers"}
VIEWS = {"slices": "Slices side by side", "points": "3-D points"}
ADAPTIVE_MODES = ("max", "avg", "min", "sum")


# ----------------------------------------------------------------------------- cached work


@st.cache_data(max_entries=32, show_spinner=False)
def build_signal(x: np.ndarray, kwargs: dict, frame_ms: int):
    return figures.signal_figure(x, kwargs, frame_ms=frame_ms)


@st.cache_data(max_entries=32, show_spinner=False)
def build_slices(vol: np.ndarray, kwargs: dict, voxel: tuple):
    return figures.volume_slices_figure(vol, kwargs, voxel)


@st.cache_data(max_entries=32, show_spinner=False)
def build_points(vol: np.ndarray, kwargs: dict):
    return figures.volume_scatter_figure(vol, kwargs)


@st.cache_data(max_entries=32, show_spinner=False)
def build_adaptive(x: np.ndarray, output_size: tuple, mode: str):
    return figures.adaptive_figure(x, output_size, mode)


# ----------------------------------------------------------------------------- sections


def one_d_section(settings: pool_settings.PoolSettings) -> quiz.Case | None:
    st.caption("A signal is a 1-D feature map (audio, a sensor, a time series). pool1d slides a "
               "window along it. The sidebar's **height (H) values** are used: kernel, stride, "
               "padding, dilation, mode.")
    c1, c2, c3 = st.columns([2, 1, 1])
    kind = c1.radio("Signal", list(SIGNALS), format_func=SIGNALS.get, key="d1_kind",
                    horizontal=True, bind="query-params")
    if kind == "paste":
        text = st.text_area("Numbers", "1, 3, 2, 5, 4, 4, 0, 2, 7, 1, 3, 6", key="d1_text",
                            height=80, bind="query-params",
                            help="Separated by commas, spaces or new lines.")
        x = pool_settings.guard("d1_signal", parsing.parse_numbers, text)[0]
        if x is None:
            return
    else:
        length = c2.slider("Length", 4, 64, 24, key="d1_len", bind="query-params")
        seed = c3.number_input("Seed", 0, 99_999, 0, key="d1_seed", bind="query-params")
        x = lessons.make_signal(kind, int(length), int(seed))
    x, settings, kwargs = pool_settings.with_input("d1", x, settings, lessons.nd_pool_kwargs)
    if kwargs is None:
        return
    fig, fig_error = pool_settings.guard("d1_fig", build_signal, x, kwargs, 600)
    if fig is None:
        return
    (plan,) = plan_axes(x.shape, **geometry_kwargs(kwargs))
    tap.chart(widgets.shown(fig), width="stretch", key="d1_fig_chart")
    export.downloads(fig, "poolscope_signal", "d1_dl", title="Poolscope: 1-D pooling")
    st.markdown(f"**{x.size} samples → {plan.out} outputs.** Each orange step is one output, "
                f"drawn over the samples its window reads. Press ▶ Play: the red band is the "
                f"window, the star the sample that max/min/median picked.")
    widgets.formula(x.shape, kwargs, ["L"])
    return quiz.Case(x, kwargs, 1, "the 1-D signal")


def three_d_section(settings: pool_settings.PoolSettings) -> quiz.Case | None:
    st.caption("A volume (a CT scan, a video clip as frames × rows × cols) is pooled with pool3d: "
               "the window is a small box. The sidebar's **height (H) values** are used on all "
               "three axes (a k×k×k window).")
    c1, c2, c3, c4 = st.columns(4)
    d = c1.slider("Depth D", 2, 12, 8, key="d3_d", bind="query-params")
    h = c2.slider("Height H", 2, 12, 8, key="d3_h", bind="query-params")
    w = c3.slider("Width W", 2, 12, 8, key="d3_w", bind="query-params")
    seed = c4.number_input("Seed", 0, 99_999, 0, key="d3_seed", bind="query-params")
    vol = lessons.make_volume((int(d), int(h), int(w)), int(seed))
    vol, settings, kwargs = pool_settings.with_input("d3", vol, settings, lessons.nd_pool_kwargs)
    if kwargs is None:
        return
    out_shape = tuple(p.out for p in plan_axes(vol.shape, **geometry_kwargs(kwargs)))
    k = kwargs["kernel_size"]
    st.markdown(f"**{vol.shape[0]}×{vol.shape[1]}×{vol.shape[2]} → "
                f"{out_shape[0]}×{out_shape[1]}×{out_shape[2]}** with a {k[0]}×{k[1]}×{k[2]} "
                f"window: each output voxel summarises {int(np.prod(k))} input voxels.")
    view = st.radio("View", list(VIEWS), format_func=VIEWS.get, key="d3_view", horizontal=True,
                    bind="query-params")
    if view == "slices":
        v1, v2, v3 = st.columns(3)
        voxel = []
        for col, label, key, n in zip((v1, v2, v3), ("Output slice", "Output row", "Output col"),
                                      ("d3_vk", "d3_vi", "d3_vj"), out_shape):
            links.clamp_state(key, n - 1, n // 2)
            voxel.append(int(col.number_input(label, 0, n - 1, n // 2, key=key, bind="query-params",
                                              help="Pick the output voxel whose box is drawn.")))
        voxel = tuple(voxel)
        fig, _ = pool_settings.guard("d3_slices", build_slices, vol, kwargs, voxel)
        if fig is not None:
            st.caption("Top: the input, one depth slice per panel. Bottom: the output slices. "
                       "Red: the box the chosen output voxel reads — the same rows and columns "
                       "in every slice it spans (framed).")
            st.plotly_chart(widgets.shown(fig), width="stretch", key="d3_slices_fig")
    else:
        fig, _ = pool_settings.guard("d3_points", build_points, vol, kwargs)
        if fig is not None:
            st.caption("Drag to rotate. Small blue points: input voxels. Orange diamonds: output "
                       "voxels, each at the centre of the box it reads.")
            tap.chart(widgets.shown(fig), width="stretch", key="d3_points_fig")
    st.markdown("**Output size per axis** (the same formula on each axis)")
    widgets.formula(vol.shape, kwargs, ["D", "H", "W"])
    return quiz.Case(vol, kwargs, 3, "the 3-D volume")


def adaptive_section(settings: pool_settings.PoolSettings) -> quiz.Case | None:
    st.caption("Adaptive pooling fixes the **output** size and works out the windows: bin i of "
               "n cells into out spans floor(i·n/out) to ceil((i+1)·n/out). Any input size gives "
               "the same output size — how a classifier head accepts any image size. The "
               "sidebar's mode is used (max, average, min or sum).")
    c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1, 1.2])
    h = c1.slider("Input H", 1, 16, 7, key="ad_h", bind="query-params")
    w = c2.slider("Input W", 1, 16, 7, key="ad_w", bind="query-params")
    glob = c5.toggle("Global pooling (1×1)", key="ad_global", bind="query-params",
                     help="Global average/max pooling is adaptive pooling to 1×1: one window "
                          "covering the whole input.")
    oh = c3.slider("Output H", 1, 8, 3, key="ad_oh", disabled=glob, bind="query-params")
    ow = c4.slider("Output W", 1, 8, 3, key="ad_ow", disabled=glob, bind="query-params")
    seed = c5.number_input("Seed", 0, 99_999, 0, key="ad_seed", bind="query-params")
    size = (1, 1) if glob else (int(oh), int(ow))
    x = widgets.random_matrix(int(h), int(w), int(seed))
    mode = settings.mode if settings.mode in ADAPTIVE_MODES else "max"
    if mode != settings.mode:
        st.caption(f"Adaptive pooling here takes {', '.join(ADAPTIVE_MODES)} "
                   f"(PyTorch's AdaptiveMaxPool2d / AdaptiveAvgPool2d and their kin); "
                   f"the sidebar's {settings.mode} is shown as max.")
    out = adaptive_pool2d(x, size, mode)
    fig, _ = pool_settings.guard("ad_fig", build_adaptive, x, size, mode)
    if fig is not None:
        tap.chart(widgets.shown(fig), width="stretch", key="ad_fig_chart")
    (r0, r1), (c0, c1_) = adaptive_bins(int(h), size[0]), adaptive_bins(int(w), size[1])
    st.markdown(f"Row bins: {', '.join(f'{a}–{b - 1}' for a, b in zip(r0, r1))}  \n"
                f"Column bins: {', '.join(f'{a}–{b - 1}' for a, b in zip(c0, c1_))}")
    if glob:
        st.info(f"Global {mode} pooling: one number per channel, {figures.fmt(out[0, 0])} here — "
                f"the {mode} of all {x.size} cells.")
    same = lessons.fixed_equivalent(x.shape, size)
    if same is not None:
        fixed = pool2d(x, same[0], same[1], mode=mode)
        verdict = "equal ✓" if np.allclose(fixed, out) else "different ✗"
        st.caption(f"{h}×{w} divides evenly into {size[0]}×{size[1]}: this is ordinary pooling "
                   f"with kernel = stride = {same[0][0]}×{same[0][1]} ({verdict}).")
    else:
        sizes = sorted({int(b - a) for a, b in zip(r0, r1)} | {int(b - a) for a, b in zip(c0, c1_)})
        overlap = any(r1[:-1] > r0[1:]) or any(c1_[:-1] > c0[1:])
        st.caption(f"{h}×{w} does not divide evenly into {size[0]}×{size[1]}: the bins have "
                   f"sizes {sizes}{' and neighbours overlap' if overlap else ''} — no single "
                   f"kernel and stride does this.")
    with st.expander("The same in each framework"):
        for key, fw in FRAMEWORKS.items():
            call = adaptive_args((int(h), int(w)), size, mode, key)
            if call.ok:
                st.markdown(f"**{fw.name}**")
                st.code(call.code, language="python")
                for note in call.notes:
                    st.caption(note)
            else:
                st.caption(f"**{fw.name}**: {call.reason}.")
    return quiz.Case.adaptive(x, size, mode)


def main() -> None:
    startup.require_navigation()
    st.title("1-D, 3-D & adaptive pooling")
    st.caption("Pooling is the same idea on any number of axes: a window slides along a signal "
               "(1-D), over an image (2-D) or through a volume (3-D). Adaptive pooling turns it "
               "around: you choose the output size.")
    settings = pool_settings.current()
    tab1, tab3, tab_ad = st.tabs(["1-D signal", "3-D volume", "Adaptive & global"],
                                 key="dims_tab", bind="query-params")
    with tab1:
        signal = one_d_section(settings)
    with tab3:
        volume = three_d_section(settings)
    with tab_ad:
        adaptive = adaptive_section(settings)
    quiz.hook("dims", signal, volume, adaptive)  # questions on all three tabs, below them


if __name__ == "__main__":
    main()
