"""Backprop & unpooling: where the gradient goes through a pooling layer, checked numerically."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from pooling_core import geometry_kwargs, plan_axes
from ui import export, figures, lessons, links, pool_settings, quiz, startup, tap, widgets

MAX_SIDE = 12          # finite differences and per-cell frames stay instant up to 12×12
GRADIENTS = {"ones": "All ones", "random": "Random", "hot": "One hot cell"}

RULES = {
    "max": "Max: the whole gradient of each output goes to the one cell that was the maximum "
           "(PyTorch takes the first at a tie); every other cell gets 0. Overlapping windows add up.",
    "min": "Min: like max, the gradient goes to the one cell that was the minimum.",
    "median": "Median: the gradient goes to the one cell that was the median of the window.",
    "stochastic": "Stochastic (training): the gradient goes to the one cell that was sampled.",
    "avg": "Average: each output's gradient is divided by the window's divisor and copied to "
           "every real cell of the window (with count_include_pad the padded cells take a share "
           "that is thrown away).",
    "sum": "Sum: each output's gradient is copied, undivided, to every cell of its window.",
    "lp": "Lp: cell x of a window gets g·(x/out)^(p−1): larger cells get more; as p grows this "
          "approaches max's rule.",
}


# ----------------------------------------------------------------------------- cached work


@st.cache_data(max_entries=32, show_spinner=False)
def build_forward(x: np.ndarray, kwargs: dict):
    return figures.animation_figure(x, kwargs, max_frames=144)[0]


@st.cache_data(max_entries=32, show_spinner=False)
def build_backward(x: np.ndarray, kwargs: dict, g: np.ndarray):
    return figures.backward_figure(x, kwargs, g)


# ----------------------------------------------------------------------------- page parts


def gradient_controls(out_shape) -> np.ndarray:
    ss = st.session_state
    c1, c2, c3 = st.columns([2, 1, 1])
    kind = c1.radio("Upstream gradient ∂L/∂out", list(GRADIENTS), format_func=GRADIENTS.get,
                    key="bp_grad", horizontal=True, bind="query-params",
                    help="What the next layer sends back: the gradient of the loss with respect "
                         "to each output cell.")
    seed, hot = 0, (0, 0)
    if kind == "random":
        seed = c2.number_input("Gradient seed", 0, 99_999, 0, key="bp_gseed", bind="query-params")
    elif kind == "hot":
        for key, n in (("bp_hot_r", out_shape[0]), ("bp_hot_c", out_shape[1])):
            if ss.setdefault(key, links.linked(key, 0)) > n - 1:  # the output shrank since the last pick
                ss[key] = n - 1
        hot = (c2.number_input("Output row", 0, out_shape[0] - 1, key="bp_hot_r", bind="query-params"),
               c3.number_input("Output col", 0, out_shape[1] - 1, key="bp_hot_c", bind="query-params"))
    return lessons.upstream_gradient(kind, out_shape, int(seed), (int(hot[0]), int(hot[1])))


def check_panel(x: np.ndarray, g: np.ndarray, kwargs: dict) -> None:
    st.subheader("Check: the gradient equals a finite-difference estimate")
    st.caption(f"Each input cell is nudged by ±h (h = {lessons.FD_STEP:g}) and the change of "
               f"L = Σ ∂L/∂out · out is measured: (L(x + h) − L(x − h)) / 2h.")
    ties = lessons.tied_windows(x, kwargs)
    which = st.radio("Check on", ["jitter", "raw"], horizontal=True, key="bp_check_on", bind="query-params",
                     format_func={"jitter": "x + a tiny jitter (breaks ties)",
                                  "raw": "x itself"}.get,
                     help="Max and min have no derivative where two cells tie for the winner: "
                          "the estimate then splits the gradient between them, while PyTorch "
                          "(and the core) give all of it to the first.")
    xc = lessons.tie_break(x, int(st.session_state.get("bp_seed", 0))) if which == "jitter" else x
    result, error = pool_settings.guard("bp_check", lessons.gradient_check, xc, g, kwargs)
    if result is None or error:
        return
    c1, c3 = st.columns([4, 1.3])
    diff = result.analytic - result.numeric
    c1.plotly_chart(widgets.shown(figures.panels_figure([
        dict(values=result.analytic, title="pool2d_backward (analytic)", signed=True,
             colorscale=figures.GRAD_COLORSCALE),
        dict(values=result.numeric, title="finite differences (numeric)", signed=True,
             colorscale=figures.GRAD_COLORSCALE),
        dict(values=np.where(np.abs(diff) < 1e-9, 0.0, diff), title="analytic − numeric",
             signed=True, colorscale=figures.GRAD_COLORSCALE)])),
        width="stretch", key="bp_check_fig")
    with c3:
        verdict = "✓" if result.ok else "✗"
        st.metric("max |analytic − numeric|", f"{result.max_abs:.2e} {verdict}",
                  help=f"✓ when below {lessons.CHECK_TOL:g} relative to the largest gradient.")
        if which == "jitter":
            st.caption("The check input is x plus a seeded jitter smaller than half the gap "
                       "between values: the order of distinct values is kept, ties are broken.")
        if ties and which == "raw":
            st.warning(f"{ties} window(s) have a tie for the {kwargs['mode']}. There the "
                       f"{kwargs['mode']} has no derivative: the estimate splits the gradient "
                       f"(e.g. ½ and ½), the backward pass gives all of it to the first cell "
                       f"(see analytic − numeric).")
        elif ties:
            st.caption(f"x itself has ties in {ties} window(s); choose 'x itself' to see what "
                       f"that does to the check.")
        if not result.ok and not ties:
            st.error("The estimate differs from the backward pass; see the outlined cells.")


def unpool_panel(x: np.ndarray, settings: pool_settings.PoolSettings) -> None:
    st.subheader("Unpooling: the max indices put the values back")
    mode = settings.mode if settings.mode in ("max", "min", "median") else "max"
    s = replace(settings, mode=mode)
    kwargs, error = pool_settings.guard("bp_unpool_kwargs", s.pool_kwargs, x.shape)
    if kwargs is None or error:
        return
    fig, error = pool_settings.guard("bp_unpool_fig", figures.unpool_figure, x, kwargs)
    if fig is None or error:
        return
    note = "" if mode == settings.mode else f" (the sidebar's {settings.mode} picks no single " \
                                            "cell, so max is used here)"
    st.caption(f"Pooling with return_indices=True{note} remembers where each value came from: "
               "the flat index row·W + col (#). Unpooling — PyTorch's nn.MaxUnpool2d, MATLAB's "
               "maxUnpooling2dLayer fed by a max pooling layer with HasUnpoolingOutputs — writes "
               "each value back at its index and zeros everywhere else: a sparse map the size "
               "of the input, as used by decoders such as SegNet.")
    st.plotly_chart(widgets.shown(fig), width="stretch", key="bp_unpool")
    st.caption("Unpooling is the backward pass of max pooling with the pooled values as the "
               "upstream gradient — except that overlapping windows add up in the backward pass, "
               "while unpooling writes a shared cell once.")


def main() -> None:
    startup.require_navigation()
    st.title("Backprop & unpooling")
    st.caption("Where does the gradient go? The forward pass (left) picks or averages each "
               "window; the backward pass (right) sends each output's gradient back to the "
               "cells that made it. Press ▶ Play under each figure.")
    settings = pool_settings.current()
    x, settings, kwargs = pool_settings.with_input(
        "bp", widgets.random_matrix_input("bp", MAX_SIDE), settings)
    if kwargs is None:
        return
    if quiz.hook("backprop", quiz.Case(x, kwargs), kinds=("gradient", "winner", "value", "size")):
        return  # predict, then reveal: the figures wait for the answer
    out_shape = tuple(p.out for p in plan_axes(x.shape, **geometry_kwargs(kwargs)))
    g = gradient_controls(out_shape)
    st.info(RULES[settings.mode])

    left, right = st.columns(2)
    with left:
        st.markdown("**Forward**: input x → output")
        fwd, _ = pool_settings.guard("bp_forward", build_forward, x, kwargs)
        if fwd is not None:
            tap.chart(widgets.shown(fwd), width="stretch", key="bp_forward_fig")
    with right:
        st.markdown("**Backward**: ∂L/∂out → ∂L/∂x, one output cell at a time")
        bwd, bwd_error = pool_settings.guard("bp_backward", build_backward, x, kwargs, g)
        if bwd is not None and not bwd_error:
            tap.chart(widgets.shown(bwd), width="stretch", key="bp_backward_fig")
            export.downloads(bwd, "poolscope_backprop", "bp_dl", title="Poolscope: backprop")
    if bwd_error:
        return
    with st.expander("Every rule"):
        for mode, rule in RULES.items():
            st.markdown(f"- {'**' + rule + '**' if mode == settings.mode else rule}")
    check_panel(x, g, kwargs)
    unpool_panel(x, settings)


if __name__ == "__main__":
    main()
