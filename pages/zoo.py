"""Pooling zoo: every mode, classic and modern, on the same input side by side, a view of
each modern variant, the BlurPool shift-invariance lab, and each framework's call.

The pure helpers live in ``ui/zoo.py`` and the figures in ``ui/figures/variants.py``
(both tested without a browser); this script reads the controls and draws.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from pooling_core import softpool_weights, spatial_pyramid_bins, spatial_pyramid_pool2d
from pooling_core.calls import variant_frameworks
from ui import budget, figures, links, parsing, pool_settings, responsive, startup
from ui import zoo
from ui.figures import variants as vfig

P_MAX = 16.0


BIND = dict(bind="query-params")  # every control is in the link (ui/links.py)


def cell_picker(prefix: str, out_shape, label: str = "window") -> tuple[int, int]:
    """Sliders choosing one output cell (its window); a single row/column needs none."""
    picks = []
    cols = st.columns(2)
    for col, name, n in zip(cols, ("row", "column"), out_shape[:2]):
        key = f"{prefix}_{name}"
        if n > 1:
            links.clamp_state(key, n - 1, 0)
            picks.append(int(col.slider(f"Output {name} of the {label}", 0, n - 1, key=key,
                                        help=f"Which output cell's {label} to look at.",
                                        **BIND)))
        else:
            picks.append(0)
    return picks[0], picks[1]


def reroll() -> None:
    """The re-roll button: the next seed draws new region boundaries."""
    st.session_state["zoo_frac_seed"] = (int(st.session_state.get("zoo_frac_seed", 0)) + 1) % 100_000


def picked_window(x, params: zoo.ZooParams, outputs: dict, mode: str, prefix: str):
    """``(output, i, j, window)`` of the output cell the user picks, or None (and the
    core's message) when the mode's settings do not fit. The zoo has no padding or
    dilation, so output ``(i, j)`` reads ``x[i·s : i·s + k, j·s : j·s + k]``."""
    out = outputs[mode]
    if isinstance(out, str):
        st.warning(f"{zoo.MODES[mode][0]}: {out}")
        return None
    i, j = cell_picker(prefix, out.shape)
    k, s = params.kernel, params.stride
    return out, i, j, x[i * s:i * s + k, j * s:j * s + k]


# ----------------------------------------------------------------------------- controls


TYPED = "typed"  # the input kind of a matrix typed in
MAX_TYPED_SIDE = 16


def typed_matrix(text: str) -> np.ndarray:
    """The typed input (``ui.parsing.parse_matrix``), at most 16 × 16 so every panel reads."""
    x = parsing.parse_matrix(text, "The typed input")
    if max(x.shape) > MAX_TYPED_SIDE:
        raise ValueError(f"The typed input is {x.shape[0]}×{x.shape[1]}; the zoo draws at most "
                         f"{MAX_TYPED_SIDE}×{MAX_TYPED_SIDE}: type fewer rows or values")
    return x


def input_controls() -> np.ndarray | None:
    """The input every mode pools, or None when a typed matrix is not readable yet."""
    kinds = {**zoo.INPUTS, TYPED: "Type numbers"}
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    kind = c1.selectbox("Input", list(kinds), format_func=kinds.get, key="zoo_input",
                        help="The same matrix goes through every mode.", **BIND)
    typed = kind == TYPED
    rows = c2.slider("Rows", 4, 12, 8, key="zoo_rows", help="Input height.", disabled=typed,
                     **BIND)
    cols = c3.slider("Columns", 4, 12, 8, key="zoo_cols", help="Input width.", disabled=typed,
                     **BIND)
    seed = c4.number_input("Seed", 0, 99_999, 0, key="zoo_seed", disabled=typed,
                           help="Same seed, same random matrix.", **BIND)
    if not typed:
        return zoo.make_input(kind, int(rows), int(cols), int(seed))
    text = st.text_area("Numbers", zoo.TYPED_EXAMPLE, key="zoo_text", height=100, **BIND,
                        help="Rows separated by ; or new lines, values by commas or spaces "
                             f"(at most {MAX_TYPED_SIDE}×{MAX_TYPED_SIDE}).")
    x, _ = pool_settings.guard("zoo_typed", typed_matrix, text)
    if x is None:
        st.info("Type a matrix such as 1 3 2; 4 8 5; 7 1 9 to start.")
    return x


def param_controls() -> zoo.ZooParams:
    c1, c2, c3, c4 = st.columns(4)
    kernel = c1.slider("Kernel", 1, 4, 2, key="zoo_kernel", **BIND,
                       help="Window size of every windowed mode (square).")
    stride = c2.slider("Stride", 1, 4, 2, key="zoo_stride", **BIND,
                       help="Step of every strided mode (fractional max has its own steps).")
    filt = c3.slider("Blur filter size", 1, 7, 3, key="zoo_filter", **BIND,
                     help="BlurPool's binomial filter (1 = no blur; 3 = [1, 2, 1] / 4).")
    levels_text = c4.text_input("Pyramid levels", "1, 2, 4", key="zoo_levels", **BIND,
                                help="Bins per side of each spatial pyramid level, e.g. 1, 2, 4.")
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        p_inf = st.toggle("GeM p = ∞", key="zoo_p_inf", help="p → ∞ is the max.", **BIND)
        p = st.slider("GeM p", 1.0, P_MAX, 3.0, 0.5, key="zoo_p", disabled=p_inf, **BIND,
                      help="GeM's power: 1 is the average, larger leans to the max; 3 is "
                           "the paper's starting value.")
    alpha = c2.slider("Mixed α", 0.0, 1.0, 0.5, 0.05, key="zoo_alpha", **BIND,
                      help="Mixed pooling: α·max + (1 − α)·average.")
    ratio = c3.slider("Fractional output ratio", 0.3, 0.95, 0.7, 0.05, key="zoo_ratio", **BIND,
                      help="Fractional max pooling's output_ratio: out = int(n · ratio).")
    seed = c4.number_input("Fractional seed", 0, 99_999, key="zoo_frac_seed", **BIND,
                           help="Draws the pseudo-random region boundaries.")
    c4.button("Re-roll", on_click=reroll, key="zoo_reroll", icon=":material/casino:",
              help="A new seed: new region boundaries, same sizes.")
    try:
        levels = tuple(int(v) for v in levels_text.replace(",", " ").split())
        if not levels or min(levels) < 1 or max(levels) > 8:
            raise ValueError
    except ValueError:
        st.warning(f"Pyramid levels {levels_text!r}: give whole numbers from 1 to 8, separated "
                   f"by commas (e.g. 1, 2, 4). Using 1, 2, 4.")
        levels = (1, 2, 4)
    return zoo.ZooParams(kernel=int(kernel), stride=int(stride), p=np.inf if p_inf else float(p),
                         alpha=float(alpha), ratio=float(ratio), seed=int(seed),
                         filter_size=int(filt), levels=levels)


# ----------------------------------------------------------------------------- sections


def grid_section(x, params, outputs) -> None:
    labels = {m: label for m, (label, _) in zoo.MODES.items()}
    per_row = 2 if responsive.is_phone() else 4  # four panels a row are slivers on a phone
    st.plotly_chart(vfig.zoo_grid_figure(x, outputs, labels, per_row=per_row), width="stretch",
                    key="zoo_grid")
    rows = [{"Mode": labels[m], "Output": "—" if isinstance(o, str) else
             "×".join(map(str, o.shape)), "What it computes": zoo.MODES[m][1],
             "Note": o if isinstance(o, str) else ""} for m, o in outputs.items()]
    st.dataframe(rows, hide_index=True, width="stretch", key="zoo_table")


def fractional_section(x, params, outputs) -> None:
    out = outputs["fractional_max"]
    if isinstance(out, str):
        st.warning(f"Fractional max pooling: {out}")
        return
    windows, row_steps, col_steps = zoo.fractional_regions(x.shape, params)
    i, j = cell_picker("zoo_frac", out.shape)
    st.plotly_chart(vfig.fractional_figure(x, windows, out, (i, j)), width="stretch",
                    key="zoo_frac_fig")
    h, w = x.shape
    k = params.kernel
    st.markdown(f"**Seed {params.seed}** — samples u = {np.round(windows.samples[0], 4).tolist()} "
                f"(u_w, u_h). Window rows start at {windows.rows[0].tolist()}, columns at "
                f"{windows.cols[0].tolist()}.")
    st.markdown(f"Steps between row starts: **{row_steps.tolist()}**; between column starts: "
                f"**{col_steps.tolist()}**.")
    st.caption(f"Rows: {zoo.alpha_text(h, k, out.shape[0])}. Columns: "
               f"{zoo.alpha_text(w, k, out.shape[1])}.")
    st.info(f"Why the output need not be an integer fraction: max pooling moves every window "
            f"by the same whole stride, so it shrinks by 1/2, 1/3, … Fractional max pooling "
            f"mixes steps of ⌊α⌋ and ⌈α⌉ cells in a pseudo-random order, so the average step α "
            f"can be any number ≥ 1: here {h}×{w} → int({h}·{params.ratio:g})×int({w}·"
            f"{params.ratio:g}) = {out.shape[0]}×{out.shape[1]}, a factor of 1/{1 / params.ratio:.3g}. "
            f"Re-roll to see other boundaries with the same sizes.")


def gem_section(x, params, outputs) -> None:
    picked = picked_window(x, params, outputs, "gem", "zoo_gem")
    if picked is None:
        return
    _, i, j, win = picked
    now = zoo.gem_vs_lp(win, params.p)
    ps = np.geomspace(1.0, 64.0, 48)
    curves = [zoo.gem_vs_lp(win, p) for p in ps]
    left, right = st.columns([1, 2])
    left.plotly_chart(vfig.window_figure(win, title=f"Window of output ({i}, {j})"),
                      width="stretch", key="zoo_gem_window")
    right.plotly_chart(vfig.gem_curve_figure(ps, [c["gem"] for c in curves],
                                             [c["lp"] for c in curves], now["mean"], now["max"],
                                             params.p), width="stretch", key="zoo_gem_fig")
    p_text = "∞" if not np.isfinite(params.p) else f"{params.p:g}"
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("GeM", figures.fmt(now["gem"]), help="(mean of max(x, eps)^p)^(1/p)")
    m2.metric("LPPool2d", figures.fmt(now["lp"]), help="(Σ x^p)^(1/p), PyTorch's nn.LPPool2d")
    m3.metric("Average", figures.fmt(now["mean"]))
    m4.metric("Max", figures.fmt(now["max"]))
    if np.isfinite(params.p):
        st.markdown(f"With p = {p_text} on these N = {now['n']} cells: LPPool2d adds the powers "
                    f"(no 1/N), GeM averages them, so LPPool2d = N^(1/p) · GeM = "
                    f"{now['n']}^(1/{p_text}) · {figures.fmt(now['gem'])} = "
                    f"{figures.fmt(now['factor'])} · {figures.fmt(now['gem'])} (for values ≥ "
                    f"eps). As p grows, N^(1/p) → 1 and both reach the max.")
    else:
        st.markdown("p = ∞: GeM is the max of the window, and so is LPPool2d's limit.")


def mixed_section(x, params, outputs) -> None:
    out = outputs["mixed"]
    if isinstance(out, str):
        st.warning(f"Mixed pooling: {out}")
        return
    a = params.alpha
    hi, mean = outputs["max"], outputs["avg"]
    st.plotly_chart(figures.panels_figure([
        dict(values=hi, title="Max"), dict(values=mean, title="Average"),
        dict(values=out, title=f"Mixed, α = {a:g}")]), width="stretch", key="zoo_mixed_fig")
    i, j = cell_picker("zoo_mixed", out.shape)
    st.markdown(f"Output ({i}, {j}): {a:g} · {figures.fmt(hi[i, j])} + {1 - a:g} · "
                f"{figures.fmt(mean[i, j])} = **{figures.fmt(out[i, j])}**. α = 0 is the "
                f"average, α = 1 the max.")


def softpool_section(x, params, outputs) -> None:
    picked = picked_window(x, params, outputs, "softpool", "zoo_soft")
    if picked is None:
        return
    out, i, j, win = picked
    weights = softpool_weights(x, params.kernel, params.stride)[i, j]
    betas = np.geomspace(1e-3, 1e2, 61)
    left, right = st.columns([1, 2])
    left.plotly_chart(vfig.window_figure(win, weights, title=f"Weights in window ({i}, {j})"),
                      width="stretch", key="zoo_soft_window")
    right.plotly_chart(vfig.soft_continuum_figure(betas, zoo.soft_continuum(win, betas),
                                                  float(win.mean()), float(win.max()),
                                                  float(out[i, j])),
                       width="stretch", key="zoo_soft_fig")
    m1, m2, m3 = st.columns(3)
    m1.metric("Average", figures.fmt(win.mean()))
    m2.metric("SoftPool", figures.fmt(out[i, j]), help="Σ softmax(x)·x over the window")
    m3.metric("Max", figures.fmt(win.max()))
    st.caption("Each cell's weight is e^x / Σ e^x over the window (computed after subtracting "
               "the window's max, so it never overflows): a cell one unit larger weighs e ≈ 2.7 "
               "times as much. Scaling the input by β moves SoftPool along the curve: β → 0 "
               "gives equal weights (the average), large β puts all weight on the max.")


def pyramid_section(x, params, outputs) -> None:
    levels = spatial_pyramid_bins(x.shape, params.levels)
    st.plotly_chart(vfig.pyramid_bins_figure(x, levels), width="stretch", key="zoo_spp_bins")
    sizes = [lv.size[0] * lv.size[1] for lv in levels]
    kind = st.session_state.get("zoo_input", "random")
    kind = kind if kind in zoo.INPUTS else "random"  # a typed input: random ones beside it
    shapes = [x.shape, (x.shape[0] + 3, x.shape[1] + 5), (max(2, x.shape[0] // 2), 3)]
    vectors = {}
    for shape in shapes:
        other = x if shape == x.shape else zoo.make_input(kind, *shape, seed=1)
        vectors[f"input {shape[0]}×{shape[1]}"] = spatial_pyramid_pool2d(other, params.levels)
    st.plotly_chart(vfig.pyramid_vectors_figure(vectors, sizes), width="stretch",
                    key="zoo_spp_vectors")
    lengths = {name: len(v) for name, v in vectors.items()}
    st.markdown(f"Output length for every input size: **{sum(sizes)}** = "
                f"{' + '.join(map(str, sizes))} (one number per bin, per channel): "
                + ", ".join(f"{n} → {v}" for n, v in lengths.items()) + ". A fully connected "
                "layer after it can take images of any size.")


def shift_section() -> None:
    st.caption("Move the input a few pixels and watch the pooled output. Max pooling at "
               "stride 2 keeps every other window's maximum, so a one-pixel shift can change "
               "which cells win; MaxBlurPool (a dense max, then a binomial blur before "
               "subsampling, Zhang 2019) changes smoothly. Filter size 1 is plain max pooling.")
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
    kind = c1.selectbox("Pattern", list(zoo.INPUTS), format_func=zoo.INPUTS.get,
                        key="zoo_shift_input", help="The image the 16×24 view is cut from.",
                        **BIND)
    direction = c2.radio("Direction", list(zoo.DIRECTIONS), horizontal=True, **BIND,
                         key="zoo_shift_dir", help="Which way the view moves over the image.")
    shift = c3.slider("Shift (px)", 0, max(zoo.SHIFTS), 0, key="zoo_shift", **BIND,
                      help="Moves the view this many pixels (the content moves the other way).")
    filt = c4.slider("Filter size", 1, 7, 3, key="zoo_shift_filter", **BIND,
                     help="MaxBlurPool's binomial filter.")
    base = zoo.shift_base(kind, *zoo.SHIFT_VIEW, seed=int(st.session_state.get("zoo_seed", 0)))
    with budget.one_at_a_time():
        sweep = zoo.shift_sweep(base, *zoo.SHIFT_VIEW, int(filt), direction)
    labels = zoo.SHIFT_METHODS
    crop = zoo.shifted_crop(base, int(shift), *zoo.SHIFT_VIEW, direction)
    st.plotly_chart(figures.panels_figure([
        dict(values=crop, title=f"Input at shift {shift}", colorscale="Blues"),
        dict(values=sweep.outputs["max"][shift], title="Max pooling 2×2, stride 2"),
        dict(values=sweep.outputs["max_blur"][shift], title=f"MaxBlurPool, filter {filt}")],
        height=360), width="stretch", key="zoo_shift_now")
    row = st.slider("Output row shown per shift", 0, sweep.outputs["max"][0].shape[0] - 1, 2,
                    key="zoo_shift_row", help="One row of each output, one line per shift.",
                    **BIND)
    st.plotly_chart(vfig.shift_outputs_figure(sweep, zoo.SHIFTS, labels, int(row), int(shift)),
                    width="stretch", key="zoo_shift_rows")
    st.plotly_chart(vfig.shift_consistency_figure(sweep, zoo.SHIFTS, labels, int(shift)),
                    width="stretch", key="zoo_shift_consistency")
    for m, label in labels.items():
        r = sweep.consistency[m][shift]
        cols = st.columns(3)
        cols[0].metric(f"{label}: unchanged", f"{r.unchanged:.0%}",
                       help="Share of output positions within 5% of the input's range of "
                            "their value at shift 0 (pooling_core.shift_consistency).")
        cols[1].metric(f"{label}: correlation",
                       "—" if np.isnan(r.correlation) else f"{r.correlation:.3f}",
                       help="Pearson correlation with the output at shift 0, moved by "
                            "shift // 2 output cells ('—': one of them is constant).")
        cols[2].metric(f"{label}: mean change", f"{r.mean_change:.3f}",
                       help="Mean |difference| from the output at shift 0.")
    st.caption("Both are compared with the output at shift 0 moved by shift // 2 cells (the "
               "stride) the same way. At even shifts both methods match exactly; at odd shifts the output "
               "grid has no cell where the content moved to, and that is where max pooling "
               "loses most. The blur pads by reflection (antialiased_cnns' default).")


def code_section(x, params) -> None:
    table = variant_frameworks()
    c1, c2 = st.columns(2)
    mode = c1.selectbox("Mode", list(zoo.MODES), format_func=lambda m: zoo.MODES[m][0],
                        key="zoo_code_mode", help="Whose call to write.", **BIND)
    try:
        calls = zoo.mode_calls(mode, params, x.shape)
    except ValueError as exc:
        st.warning(f"{zoo.MODES[mode][0]}: {exc}")
        return
    options = list(dict.fromkeys(c[0] for c in calls))
    ss = st.session_state
    # the session's first look at the tab: the link's framework, if this mode has it
    linked = links.linked("zoo_code_fw", None) if "zoo_code_for" not in ss else None
    if linked in options:
        ss["zoo_code_for"], ss["zoo_code_fw"] = (mode, ss.get("fw")), linked
    # another mode, or another framework in the sidebar: start from the sidebar's framework
    # when this mode has it (else the first framework that has the mode)
    if ss.get("zoo_code_fw") not in options or ss.get("zoo_code_for") != (mode, ss.get("fw")):
        ss["zoo_code_for"] = (mode, ss.get("fw"))
        ss["zoo_code_fw"] = zoo.default_framework(options, ss.get("fw"))
    framework = c2.selectbox("Framework", options, key="zoo_code_fw", **BIND,
                             help="Only the frameworks that have this mode.")
    for name, code, same, note in calls:
        if name == framework:
            st.code(code, language="python")
            st.caption(("Gives exactly Poolscope's numbers. " if same else
                        "Not the same numbers: ") + note)
    st.markdown("**Which framework has which variant**")
    st.dataframe([{"Variant": zoo.MODES[v][0] if v in zoo.MODES else v,
                   "Frameworks": ", ".join(f for f in fws if f != "Poolscope")}
                  for v, fws in table.items()], hide_index=True, width="stretch",
                 key="zoo_fw_table")


def tab_section(name: str, x, params, outputs) -> None:
    """The body of the tab ``name`` (:data:`ui.zoo.TABS`)."""
    sections = dict(zip(zoo.TABS, (fractional_section, gem_section, mixed_section,
                               softpool_section, pyramid_section)))
    if name in sections:
        sections[name](x, params, outputs)
    elif name == "BlurPool shift lab":
        shift_section()
    else:
        code_section(x, params)


def main() -> None:
    startup.require_navigation()
    st.title("Pooling zoo")
    st.caption("Classic pooling (max, average, min, Lp, median) and the modern variants from "
               "papers and model code, on the same input. Every number is pooling_core's, "
               "checked in the tests against PyTorch, kornia and onnxruntime. This page has its "
               "own controls: the variants take other parameters than the sidebar's.")
    x = input_controls()
    params = param_controls()
    if x is None:
        return
    with budget.one_at_a_time():
        outputs = zoo.run_all(x, params)
    grid_section(x, params, outputs)
    # lazy tabs, in the link: only the open one runs (all seven, with their dozen figures,
    # doubled the page's first load)
    for name, tab in zip(zoo.TABS, st.tabs(zoo.TABS, key="zoo_tab", **BIND)):
        if tab.open:
            with tab:
                tab_section(name, x, params, outputs)


main()
