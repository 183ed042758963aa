"""Widgets the pages share below the sidebar: the random matrix input, the formula.

:func:`random_matrix_input` draws rows, columns and seed controls bound to the URL
(``<prefix>_rows`` ..., listed in :data:`ui.links.LINK_PARAMS`); :func:`formula` writes
the output-size formula with the user's numbers, from the core's ``explain_axes``.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from pooling_core import explain_axes, geometry_kwargs
from ui import responsive
from ui.links import bound
from ui.pool_settings import refused

#: how a figure computed with earlier settings is drawn (:func:`stale`)
STALE_OPACITY = 0.3
STALE_BACKGROUND = "#e5e5e5"


def formula(shape, kwargs: dict, names=None):
    """The output-size formula once, then each axis with its numbers, from the core.

    Axes with the same arithmetic share one line (``H_out = W_out = ...``). Each
    axis's plain-text working and notes (the ceil-mode clip, cells never read,
    SAME) follow as captions. Returns the core's explanations.
    """
    explained = explain_axes(tuple(shape), **geometry_kwargs(kwargs))
    names = list(names or ("D", "H", "W")[-len(explained):])
    st.latex(explained[0].general_latex)
    if len(explained) > 1 and len({e.substituted_latex for e in explained}) == 1:
        groups = [(names, explained[0], shape[0])]
    else:
        groups = [([name], e, n) for name, e, n in zip(names, explained, shape)]
    for group, e, n in groups:
        lhs = " = ".join(rf"{name}_\text{{out}}" for name in group)
        if responsive.is_phone():  # the working on its own lines: it fits a phone's width
            st.latex(f"{lhs} =")
            st.latex(e.substituted_latex)
        else:
            st.latex(f"{lhs} = {e.substituted_latex}")
        label = " = ".join(group)
        st.caption(e.substituted_text)
        valid = e.valid_out if e.valid_out is not None else "none (window larger than input)"
        st.caption(f"{label}: n = {n}, padding {e.pad_before} before / {e.pad_after} after "
                   f"({e.padding_kind}), {e.rounding} rounding. TensorFlow/Keras would give "
                   f"SAME: {e.same_out}, VALID: {valid}.")
        for note in e.notes:
            (st.warning if "never read" in note else st.info)(f"{label}: {note}")
    return explained


def random_matrix(rows: int, cols: int, seed: int) -> np.ndarray:
    """The pages' random input: integers 0–9, the same for the same seed."""
    return np.random.default_rng(seed).integers(0, 10, size=(rows, cols))


def random_matrix_input(prefix: str, max_side: int = 12, rows: int = 6, cols: int = 6):
    """Rows, columns and seed controls (bound to the URL as ``<prefix>_rows`` …) and the
    random integer matrix they give."""
    c1, c2, c3 = st.columns(3)
    r = c1.slider("Rows", 2, max_side, rows, help=f"Input height (2–{max_side}).",
                  **bound(f"{prefix}_rows"))
    c = c2.slider("Columns", 2, max_side, cols, help=f"Input width (2–{max_side}).",
                  **bound(f"{prefix}_cols"))
    seed = c3.number_input("Seed", 0, 99_999, 0, help="Same seed, same matrix (as in the "
                           "matrix playground).", **bound(f"{prefix}_seed"))
    return random_matrix(int(r), int(c), int(seed))


def greyed(fig):
    """A copy of the Plotly figure ``fig``, faded onto a grey background (a stale result).

    >>> import plotly.graph_objects as go
    >>> g = greyed(go.Figure(go.Heatmap(z=[[1, 2]])))
    >>> g.data[0].opacity, g.layout.paper_bgcolor
    (0.3, '#e5e5e5')
    """
    copy = type(fig)(fig)
    for trace in copy.data:
        trace.opacity = STALE_OPACITY * (trace.opacity if trace.opacity is not None else 1)
    for image in copy.layout.images:  # grids drawn as pictures (ui/figures/raster.py)
        image.opacity = STALE_OPACITY * (image.opacity if image.opacity is not None else 1)
    copy.layout.paper_bgcolor = copy.layout.plot_bgcolor = STALE_BACKGROUND
    return copy


def shown(fig, where=st):
    """``fig`` as this run should draw it: greyed when stale (:func:`stale`), its panels
    stacked on a phone (:func:`ui.responsive.fit`)."""
    return responsive.fit(stale(fig, where))


def stale(fig, where=st):
    """``fig`` as the page should draw it now: as it is, or, when this run refused a
    setting and the page shows the last valid result, greyed (:func:`greyed`) with one
    line above it (in ``where``, once per run) naming the refused setting."""
    if not stale_notice(where):
        return fig
    return greyed(fig)


def stale_notice(where=st) -> bool:
    """True when this run shows a result of earlier settings; the first call of the run
    then writes the one line that says so, naming the refused setting."""
    state = refused()
    if state is None:
        return False
    if not state["told"]:
        state["told"] = True
        shown = f" (here {state['shown']})" if state["shown"] else ""
        where.warning(f"**Not updated**: {state['reason']}. Greyed: the last valid "
                      f"result{shown}.", icon=":material/history:")
    return True
