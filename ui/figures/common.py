"""What every figure of this package shares: colours, number formatting, the axes of
matrix panels, the Play/Pause controls, and :class:`AnimatedFigure`.

Nothing here draws a pooling step; the builders of the other modules use these
pieces so that a cell, a window and a slider look the same on every page.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

# Colour-blind-safe (tests/test_presenter_colours.py simulates deuteranopia and protanopia,
# Machado et al. 2009): the window's raspberry red stays apart from every shade of the
# input's Blues and the output's Oranges (Matplotlib's red #d62728 met the Oranges for a
# deuteranope, ΔE 9), the chosen cell's yellow from both and from the red by lightness,
# the padding's grey from the Blues and from the overhang by lightness alone.
INPUT_SCALE, OUTPUT_SCALE = "Blues", "Oranges"
WINDOW_COLOR = "#cc3366"
CHOSEN_COLOR = "#ffd400"
PAD_COLOR = "#aaaaaa"
PAD_TEXT_COLOR = "#1a1a1a"  # the padding's value, readable on PAD_COLOR
OVERHANG_COLOR = "#efefef"
MODE_WORD = {"max": "max", "min": "min", "avg": "avg", "sum": "sum", "lp": "lp",
             "median": "median", "stochastic": "sample"}
# gradients and signed values (use with zmid=0 or a symmetric range): red negative,
# light grey zero (visible on white), blue positive
GRAD_COLORSCALE = [[0.0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#ececec"], [0.75, "#67a9cf"],
                   [1.0, "#2166ac"]]


def fmt(v) -> str:
    """A cell value as a student reads it: ints plain, floats to 3 significant places."""
    v = float(v)
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        return "−∞" if v < 0 else "+∞"
    if v == int(v) and abs(v) < 1e9:
        return str(int(v))
    return f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.2e}"


def exact(v) -> str:
    """A value written so that it reads back exactly (CSV cells, links): ``4.444444444444445``."""
    v = float(v)
    if not np.isfinite(v):
        return "nan" if np.isnan(v) else "inf" if v > 0 else "-inf"
    return str(int(v)) if v == int(v) and abs(v) < 2**53 else repr(v)


def cell_text(values) -> np.ndarray:
    """:func:`fmt` of every value; whole numbers (most matrices here) without a Python call
    each."""
    v = np.asarray(values, dtype=float)
    whole = np.isfinite(v) & (v == np.trunc(v)) & (np.abs(v) < 1e9)
    if whole.all():
        return v.astype(np.int64).astype(str)
    text = np.empty(v.shape, dtype=object)
    text[whole] = v[whole].astype(np.int64).astype(str)
    text[~whole] = [fmt(a) for a in v[~whole]]
    return text.astype(str)


def value_range(*arrays):
    """``(lo, hi)`` of the finite values of all ``arrays``, a colour range panels can share;
    ``(0, 1)`` when there are none, and ``hi > lo`` always."""
    finite = np.concatenate([np.asarray(a, float)[np.isfinite(np.asarray(a, float))].ravel()
                             for a in arrays])
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi if hi > lo else lo + 1.0)


class AnimatedFigure(go.Figure):
    """A ``go.Figure`` whose animation (frames and slider steps) stays as plain dicts.

    Plotly validates every frame that joins a figure and deep-copies frames and
    layout in ``to_dict``: for an animation of hundreds of frames that is most of
    the time of a page run (docs/performance.md). The builders that use it
    (:func:`~ui.figures.sliding.sliding_figure`) write their animations as JSON-ready
    dicts of plain lists, checked against Plotly's schema by the tests, so this
    figure takes them as they are: data and layout unvalidated, and the parts that
    grow with the number of frames (the frames and the sliders with one step per
    frame) kept aside, uncopied. :attr:`frames` and :attr:`sliders` return them;
    :meth:`to_dict` (what ``st.plotly_chart`` and ``to_json`` send) adds them to the
    figure's dict by reference. Treat them as read-only: copies (``AnimatedFigure(fig)``,
    :func:`~ui.figures.sliding.open_at`) share them.

    Build the frames' data of tuples and dict literals, not lists: Python's garbage
    collector stops scanning those once it has seen them hold no containers, so a
    cached animation adds only a few objects to every later full collection (JSON
    would make them lists).
    """

    def __init__(self, data=None, layout=None, frames=None, **kwargs):
        if isinstance(data, go.Figure):  # a copy: frames and sliders shared
            data = data.to_dict()
        if isinstance(data, dict):  # a figure dict (copies, pickling)
            frames = data.get("frames") if frames is None else frames
            layout = data.get("layout") if layout is None else layout
            data = data.get("data")
        sliders = None
        if isinstance(layout, dict) and "sliders" in layout:
            layout = dict(layout)
            sliders = layout.pop("sliders")
        kwargs.setdefault("_validate", False)
        super().__init__(data, layout, **kwargs)
        self._plain_frames = []
        self._plain_sliders = list(sliders or ())
        self.frames = frames

    @property
    def frames(self):
        """The animation frames, as plain dicts (``name``, ``data``, ``traces``, ``layout``)."""
        return tuple(self._plain_frames)

    @frames.setter
    def frames(self, new_frames):
        frame_type = go.Frame
        self._plain_frames = [f.to_plotly_json() if isinstance(f, frame_type) else f
                              for f in new_frames or ()]

    @property
    def sliders(self):
        """The layout's sliders, as plain dicts (``active``, ``steps``, ...)."""
        return tuple(self._plain_sliders)

    def to_dict(self):
        res = super().to_dict()
        if self._plain_sliders:
            res["layout"]["sliders"] = list(self._plain_sliders)
        if self._plain_frames:
            res["frames"] = list(self._plain_frames)
        return res


#: The animation controls, in pixels below the plot (a fraction of its height put the
#: buttons on the x axis' labels in a short figure): the ▶ Play / ❚❚ Pause buttons' top
#: (under the x axis' labels), their row, and the step slider's rows under them (its
#: current step, rail and labels: in a half-width figure the buttons had covered the
#: slider's start and its current step); and the bottom margin a figure with both needs.
CONTROLS_TOP, BUTTONS_ROW, SLIDER_ROWS = 34, 34, 68


def controls_margin(below: int = CONTROLS_TOP) -> int:
    """The bottom margin (px) a figure needs for :func:`play_controls` ``below`` pixels
    under its plot."""
    return below + BUTTONS_ROW + SLIDER_ROWS


CONTROLS_MARGIN = controls_margin()


def play_controls(labels, frame_ms: int, prefix: str = "step: ", active: int = 0,
                  redraw: bool = True, below: int = CONTROLS_TOP):
    """``(updatemenus, sliders)``: ▶ Play / ❚❚ Pause ``below`` pixels under the plot and,
    under them, a step slider on frame ``active``; the figure needs a bottom margin of
    :func:`controls_margin` ``(below)`` (:data:`CONTROLS_MARGIN` by default).

    Past 40 steps the slider's own labels would overlap: they are hidden, and the
    current step's label shows above the slider as always. ``redraw=False`` for
    figures whose frames change only scatter and bar traces (no full redraw a frame).
    """
    if not labels:
        return [], []
    play = dict(frame=dict(duration=frame_ms, redraw=redraw), fromcurrent=True,
                transition=dict(duration=0), mode="immediate")
    menus = [dict(type="buttons", direction="left", x=0.0, y=0, xanchor="left",
                  yanchor="top", pad=dict(t=below), showactive=False, buttons=[
                      dict(label="▶ Play", method="animate", args=[None, play]),
                      dict(label="❚❚ Pause", method="animate",
                           args=[[None], dict(frame=dict(duration=0, redraw=False),
                                              mode="immediate")])])]
    jump = dict(mode="immediate", transition=dict(duration=0),
                frame=dict(duration=0, redraw=redraw))
    slider = dict(active=active, x=0.0, len=1.0, y=0, yanchor="top",
                  currentvalue=dict(prefix=prefix), pad=dict(t=below + BUTTONS_ROW),
                  steps=tuple(dict(method="animate", label=str(label),
                                   args=((str(t),), jump)) for t, label in enumerate(labels)))
    if len(labels) > 40:
        slider.update(font=dict(color="rgba(0,0,0,0)"), ticklen=3, minorticklen=0,
                      currentvalue=dict(prefix=prefix, font=dict(color="#444")))
    return menus, [slider]


def scale_controls(fig, factor: float):
    """``fig`` (changed in place) with its animation controls and its bottom margin
    ``factor`` times as far down, for fonts ``factor`` times as large (a projector)."""
    if not fig.layout.updatemenus:
        return fig
    fig.layout.margin.b = round((fig.layout.margin.b or CONTROLS_MARGIN) * factor)
    for menu in fig.layout.updatemenus:
        menu.pad.t = round((menu.pad.t or 0) * factor)

    def lowered(slider):
        pad = dict(slider.get("pad") or {})
        return dict(slider, pad=dict(pad, t=round(pad.get("t", 0) * factor)))

    if isinstance(fig, AnimatedFigure):  # its sliders are shared plain dicts: new ones
        fig._plain_sliders = [lowered(s) for s in fig._plain_sliders]
    else:
        fig.layout.sliders = [lowered(s.to_plotly_json()) for s in fig.layout.sliders]
    return fig


def label_step(side: int) -> int:
    """Cells between two axis labels of a grid ``side`` cells long: every cell up to 16,
    then every 2nd, past 24 every 4th (from 0). Plotly measures and fits every label on
    each draw: 130 of them were about a third of the browser's work on a 32×32 change.

    >>> [label_step(n) for n in (6, 16, 20, 34)]
    [1, 1, 2, 4]
    """
    return 1 if side <= 16 else 2 if side <= 24 else 4


def grid_axes(fig, panels, first_auto=True):
    """Matrix axes for side-by-side panels, cells the same size in every panel (as
    :func:`sliding_figure`). ``panels``: ``(rows, cols)`` per panel; with
    ``first_auto`` the first panel keeps autorange (its padding ring sets its extent)."""
    span_r = max(r for r, _ in panels)
    for c, (rows, cols) in enumerate(panels, 1):
        key = "" if c == 1 else str(c)
        if c == 1 and first_auto:
            fig.update_yaxes(autorange="reversed", row=1, col=c)
        else:
            fig.update_yaxes(range=[span_r - 0.5, -0.5], row=1, col=c)
            fig.update_xaxes(range=[-0.5, max(cols, 1) - 0.5], row=1, col=c)
        step = label_step(max(span_r, cols))
        fig.update_yaxes(scaleanchor=f"x{key}", constrain="domain", dtick=step, tick0=0, row=1,
                         col=c, showgrid=False, zeroline=False)
        fig.update_xaxes(dtick=step, tick0=0, constrain="domain", row=1, col=c, showgrid=False,
                         zeroline=False)
