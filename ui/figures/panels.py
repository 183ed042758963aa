"""Still pictures of small matrices: annotated heatmaps, coverage, and panels side by side."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .common import WINDOW_COLOR, cell_text, fmt, grid_axes, label_step, value_range
from .raster import cell_px_across, text_as_picture

def coverage_figure(cov) -> go.Figure:
    """How many windows read each input cell; zero (never read) cells stand out."""
    cov = np.asarray(cov)
    text = np.where(cov == 0, "0 ✗", cov.astype(str))
    fig = go.Figure(go.Heatmap(
        z=cov, text=text, texttemplate="%{text}", colorscale="Greens", zmin=0,
        xgap=1, ygap=1, colorbar=dict(title="windows"),
        hovertemplate="row %{y}, col %{x}: read by %{z} window(s)<extra></extra>"))
    if (cov == 0).any():
        r, c = np.nonzero(cov == 0)
        fig.add_trace(go.Scatter(x=c, y=r, mode="markers", name="never read",
                                 marker=dict(symbol="x", size=14, color=WINDOW_COLOR),
                                 hovertemplate="never read<extra></extra>"))
    step = label_step(max(cov.shape))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", dtick=step, tick0=0, showgrid=False)
    fig.update_xaxes(dtick=step, tick0=0, showgrid=False)
    fig.update_layout(title_text="Coverage: how many windows read each input cell",
                      height=round(max(300, min(32, 420 / cov.shape[1]) * cov.shape[0] + 120)),
                      margin=dict(l=10, r=10, t=60, b=10),
                      showlegend=bool((cov == 0).any()), plot_bgcolor="white")
    return text_as_picture(fig, cell_px=min(32, 420 / cov.shape[1]))


def matrix_figure(values, *, title="", colorscale="Oranges", mask=None) -> go.Figure:
    """An annotated heatmap of a small matrix; ``mask`` (bool) outlines cells in red."""
    values = np.asarray(values, dtype=float)
    text = np.vectorize(fmt, otypes=[str])(values)
    fig = go.Figure(go.Heatmap(z=values, text=text, texttemplate="%{text}", colorscale=colorscale,
                               showscale=False, xgap=1, ygap=1,
                               hovertemplate="[%{y}, %{x}] = %{text}<extra></extra>"))
    if mask is not None and np.any(mask):
        r, c = np.nonzero(mask)
        fig.update_layout(shapes=[dict(type="rect", x0=b - 0.5, x1=b + 0.5, y0=a - 0.5,
                                       y1=a + 0.5, line=dict(color=WINDOW_COLOR, width=3))
                                  for a, b in zip(r, c)])
    step = label_step(max(values.shape))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", dtick=step, tick0=0, showgrid=False)
    fig.update_xaxes(dtick=step, tick0=0, showgrid=False)
    fig.update_layout(title_text=title, height=max(220, 32 * values.shape[0] + 100),
                      margin=dict(l=10, r=10, t=60, b=10), plot_bgcolor="white")
    return text_as_picture(fig, cell_px=32)


def panels_figure(panels, *, height: int | None = None) -> go.Figure:
    """Small matrices side by side with cells of one size, so a smaller output looks smaller.

    ``panels``: dicts with ``values`` (2-D), ``title``, optional ``colorscale``
    (default Oranges), ``zrange`` (default the panel's own) and ``signed``
    (symmetric range around 0, for :data:`GRAD_COLORSCALE`).
    """
    arrays = [np.atleast_2d(np.asarray(p["values"], dtype=float)) for p in panels]
    widths = [a.shape[1] for a in arrays]
    fig = make_subplots(rows=1, cols=len(panels), column_widths=[w / sum(widths) for w in widths],
                        subplot_titles=[p.get("title", "") for p in panels],
                        horizontal_spacing=0.04)
    for c, (p, a) in enumerate(zip(panels, arrays), 1):
        zr = p.get("zrange") or value_range(a)
        if p.get("signed"):
            m = max(float(np.nanmax(np.abs(a), initial=0)), 1e-12)
            zr = (-m, m)
        fig.add_trace(go.Heatmap(z=a, text=cell_text(a), texttemplate="%{text}", showscale=False,
                                 colorscale=p.get("colorscale", "Oranges"), zmin=zr[0],
                                 zmax=zr[1], xgap=1, ygap=1, name=p.get("title", ""),
                                 hovertemplate="[%{y}, %{x}] = %{text}<extra></extra>"),
                      row=1, col=c)
    rows = max(a.shape[0] for a in arrays)
    fig.update_layout(height=height or max(240, 44 * rows + 90), plot_bgcolor="white",
                      margin=dict(l=10, r=10, t=40, b=10))
    grid_axes(fig, [a.shape for a in arrays], first_auto=False)
    return text_as_picture(fig, cell_px=cell_px_across(sum(a.shape[1] for a in arrays)))
