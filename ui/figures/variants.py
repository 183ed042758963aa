"""Figures of the pooling variants (issue 18): the zoo's grid of every mode, fractional max
pooling's regions, GeM against LPPool, SoftPool's weights, the spatial pyramid's bins, and
the BlurPool shift lab. Plain functions returning Plotly figures; every number drawn is
one the caller got from ``pooling_core``.
"""
from __future__ import annotations

from math import ceil

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .common import CHOSEN_COLOR, WINDOW_COLOR, cell_text, fmt

LEVEL_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
METHOD_COLORS = {"max": "#d62728", "max_blur": "#1f77b4"}


def _heatmap(values, *, colorscale="Oranges", zrange=None, name="", text=None):
    a = np.atleast_2d(np.asarray(values, dtype=float))
    lo, hi = zrange if zrange is not None else (np.nanmin(a), np.nanmax(a))
    return go.Heatmap(z=a, text=cell_text(a) if text is None else text, texttemplate="%{text}",
                      showscale=False, colorscale=colorscale, zmin=lo,
                      zmax=hi if hi > lo else lo + 1, xgap=1, ygap=1, name=name,
                      hovertemplate="[%{y}, %{x}] = %{text}<extra>" + name + "</extra>")


def _matrix_axes(fig, rows: int, cols: int):
    """Every subplot a matrix: rows downwards, square cells, integer ticks."""
    for r in range(1, rows + 1):
        for c in range(1, cols + 1):
            fig.update_yaxes(autorange="reversed", constrain="domain", showgrid=False,
                             zeroline=False, dtick=1, row=r, col=c)
            fig.update_xaxes(constrain="domain", showgrid=False, zeroline=False, dtick=1,
                             row=r, col=c)
    fig.update_layout(plot_bgcolor="white", margin=dict(l=10, r=10, t=50, b=10))


def zoo_grid_figure(x, outputs: dict, labels: dict, *, per_row: int = 4) -> go.Figure:
    """The input, then every mode's output on it, ``per_row`` panels a row.

    ``outputs``: ``{mode: array, or the core's message}``; ``labels``: ``{mode: title}``.
    A mode whose settings do not fit shows its message in its panel.
    """
    items = [("input", "Input " + "×".join(map(str, np.shape(x))), x)]
    items += [(m, labels.get(m, m) + ("" if isinstance(o, str) else
                                      " " + "×".join(map(str, np.shape(o)))), o)
              for m, o in outputs.items()]
    rows = ceil(len(items) / per_row)
    fig = make_subplots(rows=rows, cols=per_row, subplot_titles=[t for _, t, _ in items],
                        horizontal_spacing=0.03, vertical_spacing=0.08 / max(rows - 1, 1) * 2)
    for i, (mode, _, values) in enumerate(items):
        r, c = divmod(i, per_row)
        if isinstance(values, str):
            fig.add_annotation(text=values[:80] + ("…" if len(values) > 80 else ""), x=0, y=0,
                               showarrow=False, font=dict(color=WINDOW_COLOR, size=11),
                               xref=f"x{i + 1 if i else ''}", yref=f"y{i + 1 if i else ''}")
            fig.update_xaxes(visible=False, row=r + 1, col=c + 1)
            fig.update_yaxes(visible=False, row=r + 1, col=c + 1)
            continue
        fig.add_trace(_heatmap(values, colorscale="Blues" if mode == "input" else "Oranges",
                               name=mode), row=r + 1, col=c + 1)
    _matrix_axes(fig, rows, per_row)
    fig.update_layout(height=260 * rows + 40)
    return fig


# ----------------------------------------------------------------------------- fractional


def fractional_figure(x, windows, out, window=(0, 0)) -> go.Figure:
    """The input with fractional max pooling's region boundaries (dashed: each window's
    first row and column; the steps between them are ⌊α⌋ or ⌈α⌉), one window outlined,
    and the output."""
    x = np.asarray(x, dtype=float)
    rows, cols = windows.rows[0], windows.cols[0]
    kh, kw = windows.kernel
    fig = make_subplots(rows=1, cols=2, column_widths=[x.shape[1], max(out.shape[1], 2)],
                        subplot_titles=["Input: region boundaries (dashed) and window "
                                        f"{tuple(window)}", f"Output {out.shape[0]}×{out.shape[1]}"],
                        horizontal_spacing=0.06)
    fig.add_trace(_heatmap(x, colorscale="Blues", name="input"), row=1, col=1)
    fig.add_trace(_heatmap(out, name="output"), row=1, col=2)
    h, w = x.shape
    shapes = []
    for r in rows:
        shapes.append(dict(type="line", xref="x", yref="y", x0=-0.5, x1=w - 0.5, y0=r - 0.5,
                           y1=r - 0.5, line=dict(color=WINDOW_COLOR, width=2, dash="dash")))
    for c in cols:
        shapes.append(dict(type="line", xref="x", yref="y", y0=-0.5, y1=h - 0.5, x0=c - 0.5,
                           x1=c - 0.5, line=dict(color=WINDOW_COLOR, width=2, dash="dash")))
    i, j = window
    r0, c0 = int(rows[i]), int(cols[j])
    shapes.append(dict(type="rect", xref="x", yref="y", x0=c0 - 0.5, x1=c0 + kw - 0.5,
                       y0=r0 - 0.5, y1=r0 + kh - 0.5, line=dict(color=CHOSEN_COLOR, width=4)))
    shapes.append(dict(type="rect", xref="x2", yref="y2", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5,
                       y1=i + 0.5, line=dict(color=CHOSEN_COLOR, width=4)))
    fig.update_layout(shapes=shapes, height=max(300, 34 * h + 110))
    _matrix_axes(fig, 1, 2)
    return fig


# ----------------------------------------------------------------------------- GeM


def _against_mean_and_max(lines, mean: float, top: float, marker, xtitle: str,
                          height: int) -> go.Figure:
    """Curves of one window's value (``lines``: ``(x, y, name, style)``) between its mean
    and its max (dashed), on a log x axis; ``marker = (x, y, name)`` is the current one."""
    fig = go.Figure([go.Scatter(x=x, y=y, name=name, mode="lines", line=style)
                     for x, y, name, style in lines])
    for value, label, color in ((mean, "average", "#2ca02c"), (top, "max", WINDOW_COLOR)):
        fig.add_hline(y=value, line=dict(color=color, width=1, dash="dash"),
                      annotation_text=f"{label} {fmt(value)}", annotation_position="top left")
    mx, my, name = marker
    fig.add_trace(go.Scatter(x=[mx], y=[my], mode="markers", name=name,
                             marker=dict(size=12, color=CHOSEN_COLOR,
                                         line=dict(color="black", width=1))))
    fig.update_xaxes(type="log", title=xtitle)
    fig.update_yaxes(title="value of the window")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="white",
                      legend=dict(orientation="h", y=1.12))
    return fig


def gem_curve_figure(ps, gem, lp, mean: float, top: float, p_now: float) -> go.Figure:
    """GeM and LPPool2d of one window against p (both from the core), with its mean
    and max; the marker is the current p (∞ drawn at the right end)."""
    ps = np.asarray(ps, dtype=float)
    at = p_now if np.isfinite(p_now) else ps[-1]
    i = int(np.argmin(np.abs(ps - at)))
    return _against_mean_and_max(
        [(ps, gem, "GeM: (mean x^p)^(1/p)", dict(color="#1f77b4", width=3)),
         (ps, lp, "LPPool2d: (Σ x^p)^(1/p)", dict(color="#ff7f0e", width=3, dash="dot"))],
        mean, top, (at, gem[i] if np.isfinite(p_now) else top, f"p = {fmt(p_now)}"), "p", 340)


def window_figure(window, weights=None, *, title="") -> go.Figure:
    """One window's values; with ``weights`` (SoftPool's), the colour is the weight and
    each cell reads ``value`` and ``weight %``."""
    w = np.asarray(window, dtype=float)
    if weights is None:
        fig = go.Figure(_heatmap(w, colorscale="Blues", name="window"))
    else:
        wt = np.asarray(weights, dtype=float)
        text = np.char.add(np.char.add(cell_text(w), "<br>"),
                           np.array([f"{100 * v:.1f}%" for v in wt.ravel()]).reshape(wt.shape))
        fig = go.Figure(_heatmap(wt, colorscale="Purples", zrange=(0, max(wt.max(), 1e-12)),
                                 name="weight", text=text))
    fig.update_layout(title_text=title, height=max(220, 60 * w.shape[0] + 90))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", dtick=1, showgrid=False)
    fig.update_xaxes(dtick=1, showgrid=False)
    fig.update_layout(plot_bgcolor="white", margin=dict(l=10, r=10, t=50, b=10))
    return fig


def soft_continuum_figure(betas, values, mean: float, top: float, soft: float) -> go.Figure:
    """SoftPool of β·x over β against β: from the average (β → 0) to the max (large β)."""
    return _against_mean_and_max(
        [(betas, values, "SoftPool(βx)/β", dict(color="#9467bd", width=3))], mean, top,
        (1.0, soft, f"SoftPool {fmt(soft)}"), "β (the input's scale; 1 = SoftPool as it is)",
        320)


# ----------------------------------------------------------------------------- pyramid


def pyramid_bins_figure(x, levels) -> go.Figure:
    """The input once per pyramid level, that level's bins outlined (core's
    ``spatial_pyramid_bins``: neighbouring bins may share a row or column)."""
    x = np.asarray(x, dtype=float)
    fig = make_subplots(rows=1, cols=len(levels), horizontal_spacing=0.04,
                        subplot_titles=[f"Level {lv.size[0]}×{lv.size[1]}: "
                                        f"{lv.size[0] * lv.size[1]} bins" for lv in levels])
    shapes = []
    for n, lv in enumerate(levels):
        fig.add_trace(_heatmap(x, colorscale="Blues", name=f"level {n + 1}"), row=1, col=n + 1)
        key = "" if n == 0 else str(n + 1)
        color = LEVEL_COLORS[n % len(LEVEL_COLORS)]
        for r0, r1 in zip(*lv.rows):
            for c0, c1 in zip(*lv.cols):
                shapes.append(dict(type="rect", xref=f"x{key}", yref=f"y{key}",
                                   x0=c0 - 0.5 + 0.06, x1=c1 - 0.5 - 0.06, y0=r0 - 0.5 + 0.06,
                                   y1=r1 - 0.5 - 0.06, line=dict(color=color, width=3)))
    fig.update_layout(shapes=shapes, height=max(280, 30 * x.shape[0] + 110))
    _matrix_axes(fig, 1, len(levels))
    return fig


def pyramid_vectors_figure(vectors: dict, sizes) -> go.Figure:
    """The spatial pyramid's output of inputs of several sizes, one row each: always the
    same length, each level's part in its colour."""
    fig = make_subplots(rows=len(vectors), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=list(vectors))
    for row, vec in enumerate(vectors.values(), 1):
        vec = np.asarray(vec, dtype=float)
        colors = np.repeat([LEVEL_COLORS[i % len(LEVEL_COLORS)] for i in range(len(sizes))],
                           sizes)
        fig.add_trace(go.Bar(x=np.arange(vec.size), y=vec, marker_color=list(colors),
                             showlegend=False, hovertemplate="entry %{x}: %{y}<extra></extra>"),
                      row=row, col=1)
    fig.update_xaxes(title="entry of the output vector", row=len(vectors), col=1)
    fig.update_layout(height=150 * len(vectors) + 80, margin=dict(l=10, r=10, t=40, b=10),
                      plot_bgcolor="white", bargap=0.1)
    return fig


# ----------------------------------------------------------------------------- shift lab


def shift_outputs_figure(sweep, shifts, labels: dict, row: int, shift_now: int) -> go.Figure:
    """Row ``row`` of each method's output at every shift (one line of the heatmap per
    shift): max pooling's jumps from line to line, MaxBlurPool's drift."""
    methods = list(sweep.outputs)
    fig = make_subplots(rows=1, cols=len(methods), subplot_titles=[labels[m] for m in methods],
                        horizontal_spacing=0.06)
    shapes = []
    for n, m in enumerate(methods, 1):
        z = np.stack([o[min(row, o.shape[0] - 1)] for o in sweep.outputs[m]])
        fig.add_trace(_heatmap(z, name=labels[m]), row=1, col=n)
        key = "" if n == 1 else str(n)
        shapes.append(dict(type="rect", xref=f"x{key}", yref=f"y{key}", x0=-0.5,
                           x1=z.shape[1] - 0.5, y0=shift_now - 0.5, y1=shift_now + 0.5,
                           line=dict(color=CHOSEN_COLOR, width=3)))
        fig.update_yaxes(title="shift (px)" if n == 1 else None, row=1, col=n)
        fig.update_xaxes(title="output column", row=1, col=n)
    _matrix_axes(fig, 1, len(methods))
    fig.update_yaxes(tickvals=list(shifts))
    fig.update_layout(shapes=shapes, height=max(320, 30 * len(shifts) + 140))
    return fig


def shift_consistency_figure(sweep, shifts, labels: dict, shift_now: int) -> go.Figure:
    """Against shift 0, per shift: the share of output positions unchanged, the
    correlation of the outputs and their mean change."""
    panels = (("unchanged", "Share of positions unchanged (1 = all)"),
              ("correlation", "Correlation with shift 0 (1 = same)"),
              ("mean_change", "Mean change from shift 0 (0 = same)"))
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.07,
                        subplot_titles=[title for _, title in panels])
    for m, results in sweep.consistency.items():
        color = METHOD_COLORS.get(m, "#444")
        for c, (field, _) in enumerate(panels, 1):
            fig.add_trace(go.Scatter(x=list(shifts), y=[getattr(r, field) for r in results],
                                     name=labels[m], mode="lines+markers", legendgroup=m,
                                     showlegend=c == 1, line=dict(color=color, width=3)),
                          row=1, col=c)
    for c in (1, 2, 3):
        fig.add_vline(x=shift_now, line=dict(color=CHOSEN_COLOR, width=3), row=1, col=c)
        fig.update_xaxes(title="shift of the input (px)", dtick=1, row=1, col=c)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.25))
    return fig
