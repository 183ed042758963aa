"""Matrix playground: the window slides over a small matrix and fills the output."""
import functools

import numpy as np
import pandas as pd
import streamlit as st

from pooling_core import coverage, geometry_kwargs
from pooling_core.conventions import FRAMEWORKS, compare_frameworks
from ui import (budget, export, figures, hover, links, parsing, pool_settings, presenter,
                quiz, snippets, startup, tap, widgets)
from ui.gif import MAX_GIF_FRAMES, animation_gif

SEED_MATRIX = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
SOURCES = {"random": "Random", "preset": "Preset", "edit": "Edit the grid"}
PRESET_INPUTS = (pool_settings.SEED_INPUT, "Ramp", "Checkerboard", "One hot spot")
URL_MATRIX_MAX = 10  # matrices up to 10×10 travel in the link


def preset_matrix(name: str, rows: int, cols: int) -> np.ndarray:
    """The named input pattern at the requested size."""
    r, c = np.indices((rows, cols))
    if name == "Ramp":
        return r * cols + c
    if name == "Checkerboard":
        return ((r + c) % 2) * 9
    if name == "One hot spot":
        m = np.zeros((rows, cols), dtype=int)
        m[rows // 2, cols // 2] = 9
        return m
    return SEED_MATRIX.copy()


def encode_matrix(m: np.ndarray) -> str:
    """The matrix as ``1,2;3,4``, exactly (read back by ``parsing.parse_matrix``)."""
    return ";".join(",".join(figures.exact(v) for v in row) for row in m)


def apply_requests() -> None:
    """Presets and Reset in the sidebar can ask this page for a particular input."""
    ss = st.session_state
    request = ss.pop("input_request", None)
    if request == "seed":
        ss.update(src="preset", in_preset=PRESET_INPUTS[0])
    elif request == "reset":
        ss.update(INPUT_DEFAULTS)
        ss.pop("edited", None)


INPUT_DEFAULTS = {"src": "random", "rows": 6, "cols": 6, "rseed": 0,
                  "in_preset": PRESET_INPUTS[0]}


def input_controls() -> np.ndarray:
    """The input matrix: random, preset or edited. Returns a 2-D array."""
    d = INPUT_DEFAULTS
    bind = dict(bind="query-params")
    c1, c2, c3 = st.columns([2, 2, 2])
    src = c1.radio("Input", list(SOURCES), format_func=SOURCES.get, key="src", horizontal=True,
                   help="A random integer matrix, a pattern, or your own numbers.", **bind)
    pattern = None
    if src == "preset":
        pattern = c2.selectbox("Pattern", PRESET_INPUTS, key="in_preset", **bind,
                               help="The seed example is the classic 4×4 matrix whose 2×2 "
                                    "max pool is [[8 5] [7 9]].")
    fixed = pattern == PRESET_INPUTS[0]
    if fixed:  # the disabled sliders say the seed matrix's own size
        st.session_state["rows"], st.session_state["cols"] = SEED_MATRIX.shape
    rows = c3.slider("Rows", 2, 32, d["rows"], key="rows", disabled=fixed,
                     help="Input height (2–32).", **bind)
    cols = c3.slider("Columns", 2, 32, d["cols"], key="cols", disabled=fixed,
                     help="Input width (2–32).", **bind)
    if src == "random":
        seed = c2.number_input("Seed", 0, 99_999, d["rseed"], key="rseed",
                               help="Same seed, same matrix.", **bind)
        return widgets.random_matrix(rows, cols, int(seed))
    if src == "preset":
        return preset_matrix(pattern, rows, cols)
    return edited_matrix(rows, cols)


def load_linked_matrix() -> None:
    """A shared link carries a small edited matrix in ``m``: start the grid from it."""
    ss = st.session_state
    if "edited" in ss or "m" not in st.query_params:
        return
    try:
        ss["edited"] = parsing.parse_matrix(st.query_params["m"], "The matrix in the link")
    except ValueError as exc:
        st.warning(f"Ignored the matrix in the link: {links.code(str(exc), 80)}.")


def edited_matrix(rows: int, cols: int) -> np.ndarray:
    """The editable grid, resized to rows × cols; starts from the last matrix shown."""
    ss = st.session_state
    base = ss.get("edited")
    if base is None:
        base = ss.get("shown_matrix", widgets.random_matrix(rows, cols, 0))
    grid = np.zeros((rows, cols))
    h, w = min(rows, base.shape[0]), min(cols, base.shape[1])
    grid[:h, :w] = base[:h, :w]
    frame = pd.DataFrame(grid, columns=[str(j) for j in range(cols)])
    key = f"grid_{rows}x{cols}"
    # non-numbers out of the browser's edits before the editor parses them (it would log a
    # traceback on the server for each one, on every rerun)
    refused = parsing.clean_grid_edits(ss.get(key), frame.columns)
    edited = st.data_editor(
        frame, key=key,
        column_config={str(j): st.column_config.NumberColumn(str(j), format="%g")
                       for j in range(cols)})
    for message in refused:
        st.error(f"{message}; type a number there. The cell keeps its last number until then.",
                 icon="⚠️")
    values = edited.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values).any():
        r, c = np.argwhere(np.isnan(values))[0]
        st.error(f"Cell [{r}, {c}] is empty; type a number there. Empty cells count as 0 "
                 f"until then.", icon="⚠️")
        values = np.nan_to_num(values, nan=0.0)
    ss["edited"] = values
    return values


@st.cache_resource(max_entries=32, show_spinner=False)
def build_animation(matrix: np.ndarray, kwargs: dict, frame_ms: int):
    """The animation of every output cell (up to ``figures.MAX_ANIMATED_CELLS``) and its
    note. One figure shared by every session and never changed: a clicked cell opens a
    cheap copy on its frame (``figures.open_at``)."""
    return figures.animation_figure(matrix, kwargs, frame_ms=frame_ms)


@st.cache_resource(max_entries=64, show_spinner=False)
def build_coverage(shape: tuple, geometry: dict):
    """How many windows read each input cell, and its figure: the same for every matrix of
    this shape, so mode and value changes (and other sessions) reuse it. Never changed."""
    cov = coverage(shape, **geometry)
    return cov, figures.coverage_figure(cov)


def gif_bytes(matrix: np.ndarray, kwargs: dict, frame_ms: int, start: int) -> bytes:
    """The GIF of the animation from step ``start``, ``MAX_GIF_FRAMES`` steps at most; drawn
    when the download button is clicked, not on every change."""
    steps = figures.animation_steps(matrix, kwargs, limit=start + MAX_GIF_FRAMES)
    return animation_gif(matrix, kwargs, steps[start:], frame_ms=frame_ms)


def frameworks_panel(comparisons) -> None:
    """Each framework's size, padding and values for the current settings."""
    rows = []
    for c in comparisons:
        call = c.call
        if not call.ok:  # the reason, a sentence, goes below the table (it wraps there)
            rows.append({"Framework": FRAMEWORKS[c.framework].name, "Output": "—",
                         "Padding (top, bottom / left, right)": "—",
                         "Values vs PyTorch": "cannot express (see below)"})
            continue
        (t, b), (left, right) = call.pads
        if c.same_shape is None:
            verdict = "PyTorch cannot express these settings"
        elif not c.same_shape:
            verdict = "different size"
        elif c.diff_mask is not None and c.diff_mask.any():
            verdict = f"{int(c.diff_mask.sum())} cell(s) differ (max |Δ| {figures.fmt(c.max_abs_diff)})"
        else:
            verdict = "same"
        rows.append({"Framework": FRAMEWORKS[c.framework].name,
                     "Output": f"{call.out_shape[0]}×{call.out_shape[1]}",
                     "Padding (top, bottom / left, right)": f"{t}, {b} / {left}, {right}",
                     "Values vs PyTorch": verdict})
    # a plain table: a few short rows, drawn at once (a data grid redraws its cells again
    # about 200 ms after every change), readable on a projector and in print
    st.table(pd.DataFrame(rows), hide_index=True)
    for c in comparisons:  # why a framework cannot, how one departs from the settings
        name = FRAMEWORKS[c.framework].name
        if not c.call.ok:
            st.caption(f"**{name}** cannot express these settings: {c.call.reason}.")
        for note in c.call.notes:
            st.caption(f"**{name}**: {note}")
    differing = [c for c in comparisons if c.call.ok and c.diff_mask is not None
                 and c.diff_mask.any()]
    if differing:
        names = [FRAMEWORKS[c.framework].name for c in differing]
        pick = st.selectbox("Show where the values differ from PyTorch", names, key="diff_fw",
                            bind="query-params")
        c = differing[names.index(pick)]
        st.plotly_chart(figures.matrix_figure(c.output, mask=c.diff_mask,
                                              title=f"{pick}: cells that differ are outlined"),
                        width="stretch", key="diff_fig")


def code_panel(comparisons, kwargs: dict, matrix: np.ndarray) -> None:
    """Each framework's real call for these settings, and the NumPy core's, as complete
    snippets on the current matrix (imports, ``x``, the call, ``out``)."""
    st.caption("Each snippet runs on its own: copy it with the icon at its top right.")
    st.markdown("**NumPy (Poolscope's core)**")
    st.code(snippets.core_snippet(matrix, kwargs), language="python")
    for c in comparisons:
        st.markdown(f"**{FRAMEWORKS[c.framework].name}**")
        if c.call.ok:
            st.code(snippets.snippet(c.framework, c.call.code, matrix),
                    language=snippets.LANGUAGES.get(c.framework, "python"))
        else:
            st.caption(f"Cannot express these settings: {c.call.reason}")


def main() -> None:
    startup.require_navigation()
    st.title("Matrix playground")
    st.caption("Change the settings in the sidebar; the window, the values and the formula "
               "follow. Press ▶ Play under the figure to watch the window slide over every "
               "output cell; drag the step slider or click an output cell to jump to it.")
    apply_requests()
    load_linked_matrix()
    matrix = input_controls()
    st.session_state["shown_matrix"] = matrix
    if matrix.size <= URL_MATRIX_MAX ** 2 and st.session_state.get("src") == "edit":
        st.query_params["m"] = encode_matrix(matrix)
    elif "m" in st.query_params:
        del st.query_params["m"]
    settings = pool_settings.current()
    matrix, settings, kwargs = pool_settings.with_input("playground", matrix, settings)
    if kwargs is None:
        return
    if quiz.hook("playground", quiz.Case(matrix, kwargs)):
        return  # predict, then reveal: the figures wait for the answer

    speed = st.columns(3)[0].select_slider(
        "Speed", links.SPEEDS, value="1×", key="anim_speed", bind="query-params",
        help="Frame duration of ▶ Play.")
    frame_ms = int(600 / float(speed.rstrip("×")))
    with st.spinner("Drawing the animation…", show_time=True):
        fig_result, fig_error = pool_settings.guard("playground_fig", build_animation, matrix,
                                                    kwargs, frame_ms)
    if fig_result is None:
        return
    fig, note = fig_result
    if note:
        st.info(note)
    out, _ = figures.pooled(matrix, kwargs)
    # a click on an output cell (the chart's selection) opens the animation on its window;
    # the frames go row by row from out[0, 0]
    selection = st.session_state.get("animation")  # read before the chart renews it
    cell = figures.clicked_cell(selection)
    start = 0
    if cell is not None and fig_error is None and all(0 <= c < n for c, n in zip(cell, out.shape)):
        start = min(cell[0] * out.shape[1] + cell[1], len(fig.frames) - 1)
        fig = figures.open_at(fig, start)
    if presenter.on():  # the step bar (keys ← → space) and large cells for a projector
        start = presenter.frame(start, len(fig.frames), frame_ms)
        fig = presenter.figure(figures.open_at(fig, start))
    st.plotly_chart(widgets.shown(fig), width="stretch", key="animation", on_select="rerun",
                    selection_mode="points")
    hover.hover_window("animation", matrix.shape, kwargs)
    st.caption("Hover an output cell to see which input cells it reads; click it to show "
               "its window.")
    tapped = tap.selected_text(fig, selection)  # the hover's words, for a tap too
    if tapped:
        st.caption(f"Tapped: {tapped}")
    if settings.mode == "max" and not np.isfinite(out).all():
        st.warning("Some windows read only padding, so their max is −∞ (PyTorch gives the "
                   "same). Lower the dilation or the padding to avoid empty windows.")

    left, right = st.columns(2)
    with left:
        st.subheader("Output size")
        widgets.formula(matrix.shape, kwargs)
    with right:
        cov, cov_fig = build_coverage(matrix.shape, geometry_kwargs(kwargs))
        st.plotly_chart(widgets.shown(cov_fig), width="stretch", key="coverage")
        if (cov == 0).any():
            st.warning(f"{int((cov == 0).sum())} input cell(s) are never read by any window "
                       f"(marked ✗): their values cannot change the output.")
        elif cov.max() > 1:
            st.caption("Cells read by more than one window: the windows overlap.")

    # lazy tabs, in the link: only the open one runs (the Code tab's snippets cost the
    # browser about half a second per change, hidden or not)
    tab_fw, tab_code, tab_export = st.tabs(["Frameworks side by side", "Code", "Export"],
                                           key="pg_tab", bind="query-params")
    if tab_fw.open or tab_code.open:  # both show every framework's call for these settings
        comparisons = compare_frameworks(matrix, settings.conventions_settings(matrix.shape))
        if tab_fw.open:
            with tab_fw:
                frameworks_panel(comparisons)
        else:
            with tab_code:
                code_panel(comparisons, kwargs, matrix)
        return
    with tab_export:
        st.download_button("Download the animation (GIF)",
                           budget.deferred(functools.partial(gif_bytes, matrix, kwargs,
                                                             frame_ms, start)),
                           "poolscope_animation.gif", "image/gif", key="dl_gif",
                           help=f"One frame per output cell from the one the animation shows "
                                f"(click an output cell to choose), {MAX_GIF_FRAMES} at most; "
                                f"drawn when you click.")
        export.downloads(fig, "poolscope_animation", "dl_anim", title="Poolscope: playground",
                         png=functools.partial(export.step_png, matrix, kwargs, start))
        csv = "\n".join(",".join(figures.exact(v) for v in r) for r in np.atleast_2d(out))
        st.download_button("Download the output (CSV)", csv, "poolscope_output.csv", "text/csv",
                           key="dl_csv")


main()
