"""Figures of ROI pooling and ROI align on the Image lab: the image with the box (a box
select on it draws a new one), the box on the feature map split into bins (ROI pool's
bins snapped to whole cells, ROI align's exact bins and their sample points), and the
two pooled outputs. Every bin and sample comes from ``pooling_core``'s ``roi_pool_bins``
and ``roi_align_samples``.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .common import WINDOW_COLOR

POOL_COLOR = "#ff7f0e"   # ROI pool's snapped bins
ALIGN_COLOR = "#00bcd4"  # ROI align's exact bins and samples
MAX_DRAWN_SAMPLES = 4000
PICK_GRID = 48           # invisible points per side that a box select can catch


def roi_overview_figure(screen, image_hw, box) -> go.Figure:
    """The (screen-sized) image in image pixel coordinates with ``box`` = (x1, y1, x2, y2)
    outlined. Drag a box on it (box select) to choose a new one."""
    screen = np.asarray(screen)
    h, w = image_hw
    if screen.ndim == 2:
        screen = np.stack([screen] * 3, axis=-1)
    dy, dx = h / screen.shape[0], w / screen.shape[1]
    fig = go.Figure(go.Image(z=screen[..., :3], dx=dx, dy=dy, x0=dx / 2, y0=dy / 2,
                             hoverinfo="skip"))
    gx, gy = np.meshgrid(np.linspace(0, w, PICK_GRID), np.linspace(0, h, PICK_GRID))
    fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="pick",
                             marker=dict(size=4, opacity=0), hoverinfo="skip",
                             showlegend=False))
    x1, y1, x2, y2 = box
    fig.add_shape(type="rect", x0=x1, x1=x2, y0=y1, y1=y2, line=dict(color=WINDOW_COLOR, width=3))
    fig.update_xaxes(range=[0, w], showgrid=False, zeroline=False, title="x (px)")
    fig.update_yaxes(range=[h, 0], showgrid=False, zeroline=False, scaleanchor="x",
                     title="y (px)")
    fig.update_layout(dragmode="select", height=460, margin=dict(l=10, r=10, t=30, b=10),
                      title_text="Drag a box on the image (or type its corners)")
    return fig


def _bin_lines(start, size, count, lo, hi, vertical, color, dash):
    lines = []
    for i in range(count + 1):
        c = float(start + i * size)
        lines.append(dict(type="line", x0=c, x1=c, y0=lo, y1=hi) if vertical else
                     dict(type="line", y0=c, y1=c, x0=lo, x1=hi))
        lines[-1]["line"] = dict(color=color, width=2, dash=dash)
    return lines


def roi_detail_figure(values, origin, bins, samples, box_map, *, step: int = 1) -> go.Figure:
    """The feature map around the box (``values``: the cells from ``origin = (row, col)``,
    every ``step``-th drawn), with the box in map coordinates (``box_map``: x1, y1, x2,
    y2 after ``spatial_scale``), ROI pool's snapped bins (orange, whole cells; each bin
    covers ``[start, end)``), ROI align's exact bins (cyan, dashed) and, when there are
    at most :data:`MAX_DRAWN_SAMPLES`, its sample points.

    Map coordinates put cell ``(r, c)`` at ``(r, c)``; a whole-cell bin ``[a, b)`` is drawn
    from ``a - 0.5`` to ``b - 0.5``, and ROI align's points at their coordinates as
    bilinear interpolation reads them (cell centres at integers).
    """
    v = np.asarray(values, dtype=float)
    r0, c0 = origin
    ys = r0 + np.arange(v.shape[0]) * step
    xs = c0 + np.arange(v.shape[1]) * step
    fig = go.Figure(go.Heatmap(z=v, x=xs, y=ys, colorscale="Greys", reversescale=True,
                               showscale=False, name="feature map",
                               hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>"))
    rows, cols = bins.rows[0], bins.cols[0]
    shapes = []
    for a, b in rows:
        for c, d in cols:
            if b > a and d > c:
                shapes.append(dict(type="rect", x0=c - 0.5, x1=d - 0.5, y0=a - 0.5, y1=b - 0.5,
                                   line=dict(color=POOL_COLOR, width=2)))
    (sy, sx), (by, bx) = samples.start[0], samples.bin_size[0]
    out_h, out_w = samples.y.shape[1], samples.x.shape[1]
    y_hi, x_hi = sy + out_h * by, sx + out_w * bx
    shapes += _bin_lines(sx, bx, out_w, sy, y_hi, True, ALIGN_COLOR, "dash")
    shapes += _bin_lines(sy, by, out_h, sx, x_hi, False, ALIGN_COLOR, "dash")
    x1, y1, x2, y2 = box_map
    shapes.append(dict(type="rect", x0=x1, x1=x2, y0=y1, y1=y2,
                       line=dict(color=WINDOW_COLOR, width=3)))
    py, px = samples.y[0].ravel(), samples.x[0].ravel()
    py, px = py[~np.isnan(py)], px[~np.isnan(px)]
    drawn = py.size * px.size <= MAX_DRAWN_SAMPLES
    if drawn and py.size and px.size:
        gy, gx = np.meshgrid(py, px, indexing="ij")
        fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers",
                                 name="ROI align samples",
                                 marker=dict(size=6, color=ALIGN_COLOR,
                                             line=dict(color="black", width=1)),
                                 hovertemplate="sample (%{y:.3f}, %{x:.3f})<extra></extra>"))
    for name, color, dash in (("ROI pool bins (whole cells)", POOL_COLOR, "solid"),
                              ("ROI align bins (exact)", ALIGN_COLOR, "dash"),
                              ("box × spatial_scale", WINDOW_COLOR, "solid")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=name,
                                 line=dict(color=color, dash=dash, width=2)))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showgrid=False, zeroline=False,
                     title="row")
    fig.update_xaxes(showgrid=False, zeroline=False, title="column")
    fig.update_layout(shapes=shapes, height=560, margin=dict(l=10, r=10, t=40, b=10),
                      plot_bgcolor="white", legend=dict(orientation="h", y=-0.12),
                      title_text="The box on the feature map" + (
                          "" if drawn else f" ({py.size}×{px.size} sample rows×columns: too "
                          "many to draw; the bins are)"))
    return fig

