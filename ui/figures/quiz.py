"""The quiz's picture: the input grid with its padding, one window outlined, the learner's
picks, and (once answered) the cells that answer the question.

Every real input cell carries a transparent marker, so a click on it selects a point
(``st.plotly_chart(..., on_select="rerun", selection_mode="points")``) that
:func:`picked_cell` reads back as ``(row, col)``.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .common import CHOSEN_COLOR, WINDOW_COLOR
from .windows import grid_layers

PICK_COLOR = "#6a3d9a"  # the learner's picks: purple, apart from the window's red and the
#                         answer's yellow
QUIZ_TARGETS = "input cells"


def _rect(r, c, color, width, half=0.5, fill=None, dash=None):
    return dict(type="rect", x0=c - half, x1=c + half, y0=r - half, y1=r + half,
                line=dict(color=color, width=width, dash=dash), layer="above",
                fillcolor=fill or "rgba(0,0,0,0)")


def quiz_figure(x2d, kwargs: dict, *, window=(), marked=(), picked=(), title: str = "",
                show_values: bool = True, clickable: bool = True) -> go.Figure:
    """The input of a quiz question.

    Parameters
    ----------
    x2d : array ``(H, W)``.
    kwargs : ``pool2d`` keyword arguments that place the padding ring; settings the core
        refuses draw the input alone.
    window : cells ``(row, col)`` outlined in red (padding cells may be among them).
    marked : cells that answer the question, outlined in yellow (shown after answering).
    picked : the learner's cells, a purple ring each.
    show_values : write the values (a size question on an input of another shape does not).
    clickable : a transparent marker on every real cell to click.
    """
    x2d = np.asarray(x2d, dtype=float)
    try:
        traces, (rows, cols) = grid_layers(x2d, kwargs)
    except ValueError:
        traces, (rows, cols) = grid_layers(x2d, {"kernel_size": 1})
    if not show_values:
        traces[0].update(texttemplate="", colorscale=[[0, "#dbe9f6"], [1, "#dbe9f6"]])
    fig = go.Figure(traces)
    cell_px = min(40.0, 640 / (len(cols) + 1))
    shapes = [_rect(r, c, WINDOW_COLOR, 3, fill="rgba(214,39,40,0.18)") for r, c in window]
    shapes += [_rect(r, c, CHOSEN_COLOR, 4, half=0.42) for r, c in marked]
    fig.update_layout(shapes=shapes)
    if picked:
        pr, pc = zip(*picked)
        fig.add_trace(go.Scatter(x=list(pc), y=list(pr), mode="markers", name="your pick",
                                 hoverinfo="skip", marker=dict(
                                     symbol="circle-open", size=cell_px * 0.7,
                                     color=PICK_COLOR, line=dict(width=4, color=PICK_COLOR))))
    if clickable:
        r, c = np.indices(x2d.shape)
        fig.add_trace(go.Scatter(
            x=c.ravel(), y=r.ravel(), mode="markers", name=QUIZ_TARGETS, showlegend=False,
            marker=dict(symbol="square", size=cell_px * 0.9, color="rgba(0,0,0,0)"),
            hovertemplate="row %{y}, col %{x}: click to pick<extra></extra>"))
    fig.update_yaxes(range=[rows[-1] + 0.5, rows[0] - 0.5], scaleanchor="x", dtick=1,
                     showgrid=False, zeroline=False, constrain="domain")
    fig.update_xaxes(range=[cols[0] - 0.5, cols[-1] + 0.5], dtick=1, showgrid=False,
                     zeroline=False, constrain="domain")
    fig.update_layout(title_text=title, showlegend=False, plot_bgcolor="white",
                      height=round(max(260, cell_px * len(rows) + 110)),
                      clickmode="event+select", margin=dict(l=10, r=10, t=50, b=10))
    return fig


def picked_cell(selection) -> tuple[int, int] | None:
    """The input cell ``(row, col)`` a click selected in a :func:`quiz_figure`, if any
    (``selection`` is Streamlit's ``on_select`` state)."""
    points = ((selection or {}).get("selection") or {}).get("points") or []
    for point in points:
        if "x" in point and "y" in point:
            return int(round(point["y"])), int(round(point["x"]))
    return None
