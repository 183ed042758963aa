"""Pooling beyond one 2-D matrix: a 1-D signal, a 3-D volume, and adaptive pooling.

:func:`signal_figure` animates ``pool1d`` over a line, :func:`volume_slices_figure`
and :func:`volume_scatter_figure` show ``pool3d`` as depth slices and as points, and
:func:`adaptive_figure` draws the bins of ``adaptive_pool2d``.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pooling_core import (adaptive_bins, adaptive_pool2d, geometry_kwargs, normalize_tuple,
                          plan_axes, pool3d, window_divisors)

from .common import (CHOSEN_COLOR, CONTROLS_MARGIN, CONTROLS_TOP, MODE_WORD, PAD_COLOR,
                     WINDOW_COLOR, cell_text, controls_margin, fmt, grid_axes, play_controls,
                     value_range)
from .raster import cell_px_across, text_as_picture
from .windows import pad_value_text, pooled, step_caption

#: Pixels an x axis' title takes under its labels (the signal's "position").
AXIS_TITLE = 24


def signal_figure(x1d, kwargs: dict, *, frame_ms: int = 600, max_frames: int = 128) -> go.Figure:
    """1-D pooling of a signal, animated: the window shaded over the line, the output as steps.

    ``kwargs`` are ``pool1d`` keyword arguments. The figure opens on the whole
    result (frame ``"0"``, slider label "all"); frame ``t + 1`` shades window
    ``t`` (each tap, so dilation gaps show; padding taps paler), marks the
    chosen sample, and draws outputs ``0..t`` as horizontal segments over the
    real samples their windows read.
    """
    x = np.asarray(x1d, dtype=float)
    (plan,) = plan_axes(x.shape, **geometry_kwargs(kwargs))
    mode = kwargs.get("mode", "max")
    out, idx = pooled(x, kwargs, ndim=1)
    out = np.asarray(out, dtype=float)
    taps, inside = plan.taps, plan.inside
    divisors = window_divisors([plan], kwargs.get("count_include_pad", True),
                               kwargs.get("divisor_override"))
    pad_txt = pad_value_text(kwargs)
    count = min(plan.out, max_frames)
    lo, hi = plan.real_bounds  # (-1 for a window of padding only: not drawn)
    drawable = (lo >= 0) & np.isfinite(out)

    def outputs(t):
        xs, ys, cx, cy, labels = [], [], [], [], []
        for k in range(t + 1):
            if not drawable[k]:
                continue
            xs += [lo[k] - 0.45, hi[k] + 0.45, None]
            ys += [out[k], out[k], None]
            cx.append((lo[k] + hi[k]) / 2)  # the middle of its real cells, evenly spaced
            cy.append(out[k])
            labels.append(f"out[{k}] = {fmt(out[k])}")
        return (go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#ff7f0e", width=4),
                           name="output (over its window)", hoverinfo="skip"),
                go.Scatter(x=cx, y=cy, mode="markers", name="output value",
                           marker=dict(symbol="diamond", size=11, color="#ff7f0e",
                                       line=dict(color="#7f3f00", width=1)),
                           text=labels, hovertemplate="%{text}<extra></extra>"))

    def chosen(t):
        ok = t is not None and idx is not None and 0 <= idx[t] < plan.n
        return go.Scatter(x=[idx[t]] if ok else [], y=[x[idx[t]]] if ok else [], mode="markers",
                          name="chosen sample", marker=dict(symbol="star", size=18,
                                                            color=CHOSEN_COLOR,
                                                            line=dict(color="#333", width=1)),
                          hovertemplate="chosen: x[%{x}] = %{y}<extra></extra>")

    static = []
    if plan.pad_before:
        static.append(dict(type="rect", xref="x", yref="paper", x0=-plan.pad_before - 0.5,
                           x1=-0.5, y0=0, y1=1, fillcolor=PAD_COLOR, opacity=0.35,
                           line=dict(width=0), layer="below"))
    right = max(plan.pad_after, plan.extra_after)
    if right:
        static.append(dict(type="rect", xref="x", yref="paper", x0=plan.n - 0.5,
                           x1=plan.n + right - 0.5, y0=0, y1=1, fillcolor=PAD_COLOR,
                           opacity=0.35, line=dict(width=0), layer="below"))

    def shapes(t):
        return static + [dict(type="rect", xref="x", yref="paper", x0=c - 0.45, x1=c + 0.45,
                              y0=0, y1=1, fillcolor=WINDOW_COLOR, opacity=0.18 if ok else 0.08,
                              line=dict(color=WINDOW_COLOR, width=1), layer="below")
                         for c, ok in zip(taps[t], inside[t])]

    def caption(t):
        shown = [fmt(x[c]) if ok else pad_txt for c, ok in zip(taps[t], inside[t])]
        if mode == "median" and kwargs.get("pad_value") is None:
            shown = [s for s, ok in zip(shown, inside[t]) if ok]
        return step_caption((t, 0), mode, shown, out[t], divisors[t], kwargs).replace(f"out[{t}, 0]",
                                                                           f"out[{t}]", 1)

    fig = go.Figure([go.Scatter(x=np.arange(plan.n), y=x, mode="lines+markers", name="input x",
                                line=dict(color="#1f77b4", width=2), marker=dict(size=6),
                                hovertemplate="x[%{x}] = %{y:.3g}<extra></extra>"),
                     *outputs(plan.out - 1), chosen(None)])
    summary = (f"{plan.n} samples → {plan.out} outputs ({MODE_WORD.get(mode, mode)}, "
               f"k={plan.kernel}, s={plan.stride}): press ▶ Play to slide the window")
    whole = go.Frame(name="0", data=[*outputs(plan.out - 1), chosen(None)], traces=[1, 2, 3],
                     layout=dict(shapes=static, title=dict(text=summary)))
    fig.frames = [whole] + [go.Frame(name=str(t + 1), data=[*outputs(t), chosen(t)],
                                     traces=[1, 2, 3],
                                     layout=dict(shapes=shapes(t), title=dict(text=caption(t))))
                            for t in range(count)]
    below = CONTROLS_TOP + AXIS_TITLE  # the controls under the x axis' title and labels
    menus, sliders = play_controls(["all"] + list(range(count)), frame_ms, prefix="output ",
                                   below=below)
    finite = x[np.isfinite(x)]
    pad_y = 0.08 * (float(np.ptp(np.concatenate([finite, out[np.isfinite(out)]])))
                    if finite.size else 1.0) + 0.1
    y_all = np.concatenate([finite, out[np.isfinite(out)], [0.0]])
    fig.update_layout(shapes=static, title_text=summary, updatemenus=menus, sliders=sliders,
                      height=500, margin=dict(l=10, r=10, t=70, b=controls_margin(below)),
                      title_font_size=15,
                      plot_bgcolor="white", legend=dict(orientation="h", y=1.02, x=1,
                                                        xanchor="right", yanchor="bottom"))
    fig.update_xaxes(range=[-plan.pad_before - 0.6, plan.n + right - 0.4], dtick=1 if plan.n <= 40
                     else None, title_text="position", showgrid=False, zeroline=False)
    fig.update_yaxes(range=[y_all.min() - pad_y, y_all.max() + pad_y], title_text="value",
                     gridcolor="#eee")
    return fig


def _volume_window(plans, voxel):
    """Per axis, the real input coordinates the window of output ``voxel`` reads."""
    return [p.real_taps(v) for p, v in zip(plans, voxel)]


def volume_slices_figure(vol, kwargs: dict, voxel=(0, 0, 0)) -> go.Figure:
    """3-D pooling as depth slices: input slices on top, output slices below.

    The window of output ``voxel`` (depth, row, col) is outlined in every input
    slice it reads (those slices get a red frame), and the voxel in its output slice.
    """
    vol = np.asarray(vol, dtype=float)
    plans = plan_axes(vol.shape, **geometry_kwargs(kwargs))
    out = np.asarray(pool3d(vol, **kwargs), dtype=float)
    depth, depth_out = vol.shape[0], out.shape[0]
    ncols = max(depth, depth_out)
    voxel = tuple(int(min(max(v, 0), n - 1)) for v, n in zip(voxel, out.shape))
    titles = [f"x[{d}]" for d in range(depth)] + [""] * (ncols - depth) + \
             [f"out[{k}]" for k in range(depth_out)] + [""] * (ncols - depth_out)
    fig = make_subplots(rows=2, cols=ncols, subplot_titles=titles, horizontal_spacing=0.012,
                        vertical_spacing=0.12)
    zr = value_range(vol, out)
    for d in range(depth):
        fig.add_trace(go.Heatmap(z=vol[d], colorscale="Blues", zmin=zr[0], zmax=zr[1],
                                 showscale=False, xgap=1, ygap=1, name=f"x[{d}]",
                                 hovertemplate=f"x[{d}, %{{y}}, %{{x}}] = %{{z:.3g}}"
                                               "<extra></extra>"), row=1, col=d + 1)
    for k in range(depth_out):
        fig.add_trace(go.Heatmap(z=out[k], colorscale="Oranges", zmin=zr[0], zmax=zr[1],
                                 showscale=False, xgap=1, ygap=1, name=f"out[{k}]",
                                 hovertemplate=f"out[{k}, %{{y}}, %{{x}}] = %{{z:.3g}}"
                                               "<extra></extra>"), row=2, col=k + 1)
    ds, rs, cs = _volume_window(plans, voxel)
    shapes = []
    for d in ds:
        ax = "" if d == 0 else str(d + 1)
        shapes.append(dict(type="rect", xref=f"x{ax} domain", yref=f"y{ax} domain", x0=-0.04,
                           x1=1.04, y0=-0.04, y1=1.04, line=dict(color=WINDOW_COLOR, width=2)))
        for r in rs:
            for c in cs:
                shapes.append(dict(type="rect", xref=f"x{ax}", yref=f"y{ax}", x0=c - 0.5,
                                   x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, fillcolor=WINDOW_COLOR,
                                   opacity=0.35, line=dict(color=WINDOW_COLOR, width=1)))
    k, i, j = voxel
    ax = str(ncols + k + 1)
    shapes.append(dict(type="rect", xref=f"x{ax}", yref=f"y{ax}", x0=j - 0.5, x1=j + 0.5,
                       y0=i - 0.5, y1=i + 0.5, line=dict(color=WINDOW_COLOR, width=3)))
    span = lambda a: (f"{a[0]}–{a[-1]}" if len(a) > 1 else f"{a[0]}") if len(a) else "none"  # noqa: E731
    title = (f"out[{k}, {i}, {j}] = {MODE_WORD.get(kwargs.get('mode', 'max'), '')} over slices "
             f"{span(ds)}, rows {span(rs)}, cols {span(cs)} = {fmt(out[voxel])}")
    fig.update_layout(shapes=shapes, title_text=title, title_font_size=15, plot_bgcolor="white",
                      height=430, margin=dict(l=10, r=10, t=80, b=10))
    for n in range(1, 2 * ncols + 1):
        key = "" if n == 1 else str(n)
        fig.layout[f"yaxis{key}"].update(autorange="reversed", scaleanchor=f"x{key}",
                                         showticklabels=False, showgrid=False, constrain="domain")
        fig.layout[f"xaxis{key}"].update(showticklabels=False, showgrid=False, constrain="domain")
    return fig


def volume_scatter_figure(vol, kwargs: dict) -> go.Figure:
    """3-D pooling as points: input voxels small and pale, each output voxel a large
    diamond at the centre of the input cells its window reads."""
    vol = np.asarray(vol, dtype=float)
    plans = plan_axes(vol.shape, **geometry_kwargs(kwargs))
    out = np.asarray(pool3d(vol, **kwargs), dtype=float)
    zr = value_range(vol, out)
    d, h, w = np.indices(vol.shape)
    centres = [np.where(first >= 0, (first + last) / 2, np.nan)  # real cells evenly spaced
               for first, last in (p.real_bounds for p in plans)]
    cd, ch, cw = np.meshgrid(*centres, indexing="ij")
    od, oh, ow = np.indices(out.shape)
    label = np.vectorize(lambda a, b, c, v: f"out[{a}, {b}, {c}] = {fmt(v)}", otypes=[str])
    fig = go.Figure([
        go.Scatter3d(x=w.ravel(), y=h.ravel(), z=d.ravel(), mode="markers", name="input voxels",
                     marker=dict(size=4, color=vol.ravel(), colorscale="Blues", cmin=zr[0],
                                 cmax=zr[1], opacity=0.35),
                     hovertemplate="x[%{z}, %{y}, %{x}]<extra></extra>"),
        go.Scatter3d(x=cw.ravel(), y=ch.ravel(), z=cd.ravel(), mode="markers",
                     name="output voxels (at their window's centre)",
                     marker=dict(size=9, symbol="diamond", color=out.ravel(),
                                 colorscale="Oranges", cmin=zr[0], cmax=zr[1],
                                 line=dict(color="#7f3f00", width=1)),
                     text=label(od, oh, ow, out).ravel(), hovertemplate="%{text}<extra></extra>"),
    ])
    fig.update_layout(height=520, margin=dict(l=0, r=0, t=30, b=0),
                      legend=dict(orientation="h", y=1.0, x=0),
                      scene=dict(xaxis_title="col (W)", yaxis_title="row (H)",
                                 zaxis_title="slice (D)", aspectmode="data"))
    return fig


def adaptive_figure(x2d, output_size, mode: str = "max", *, frame_ms: int = 600) -> go.Figure:
    """Adaptive pooling: the input with its bins, the output beside it.

    Row bins are brackets left of the grid, column bins brackets above it (two
    alternating lanes, so bins that overlap — when the input size is not a
    multiple of the output size — stay visible). Frame ``t`` fills bin ``t``
    on the input, reddens its brackets and outlines output cell ``t``. Bins
    come from :func:`~pooling_core.adaptive_bins`.
    """
    x2d = np.asarray(x2d, dtype=float)
    oh, ow = normalize_tuple(output_size, 2, "output_size")
    out = np.asarray(adaptive_pool2d(x2d, (oh, ow), mode), dtype=float)
    h, w = x2d.shape
    (r0, r1), (c0, c1) = adaptive_bins(h, oh), adaptive_bins(w, ow)
    zr = value_range(x2d, out)
    fig = make_subplots(rows=1, cols=2, column_widths=[(w + 1.05) / (w + 1.05 + ow),
                                                       ow / (w + 1.05 + ow)],
                        horizontal_spacing=0.06,
                        subplot_titles=(f"Input {h}×{w}: row bins left, column bins on top",
                                        f"Output {oh}×{ow}"))
    fig.add_trace(go.Heatmap(z=x2d, text=cell_text(x2d), texttemplate="%{text}", colorscale="Blues",
                             zmin=zr[0], zmax=zr[1], showscale=False, xgap=1, ygap=1,
                             name="input", hovertemplate="x[%{y}, %{x}] = %{text}<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Heatmap(z=out, text=cell_text(out), texttemplate="%{text}", colorscale="Oranges",
                             zmin=zr[0], zmax=zr[1], showscale=False, xgap=1, ygap=1,
                             name="output", hovertemplate="out[%{y}, %{x}] = %{text}<extra></extra>"),
                  row=1, col=2)
    lane_colors = ("#555555", "#1f77b4")

    def brackets(hi_row, hi_col):
        """Row bins as brackets left of the grid, column bins above it, in two alternating
        lanes so overlapping bins stay apart; the current bin's brackets in red."""
        out = []
        for axis, (starts, ends, hi) in enumerate(((r0, r1, hi_row), (c0, c1, hi_col))):
            for k, (a, b) in enumerate(zip(starts, ends)):
                pos = -0.8 - 0.4 * (k % 2)
                color = WINDOW_COLOR if k == hi else lane_colors[k % 2]
                width = 4 if k == hi else 2
                lo_, hi_ = a - 0.4, b - 1 + 0.4
                lines = [(pos, lo_, pos, hi_), (pos, lo_, pos + 0.25, lo_),
                         (pos, hi_, pos + 0.25, hi_)]
                for p0, q0, p1, q1 in lines:
                    x0, y0, x1, y1 = (p0, q0, p1, q1) if axis == 0 else (q0, p0, q1, p1)
                    out.append(dict(type="line", xref="x", yref="y", x0=x0, y0=y0, x1=x1, y1=y1,
                                    line=dict(color=color, width=width)))
        return out

    cells = [(i, j) for i in range(oh) for j in range(ow)]
    word = MODE_WORD.get(mode, mode)

    def shapes(i, j):
        return brackets(i, j) + [
            dict(type="rect", xref="x", yref="y", x0=c0[j] - 0.5, x1=c1[j] - 0.5, y0=r0[i] - 0.5,
                 y1=r1[i] - 0.5, fillcolor=WINDOW_COLOR, opacity=0.25,
                 line=dict(color=WINDOW_COLOR, width=3), layer="above"),
            dict(type="rect", xref="x2", yref="y2", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5,
                 y1=i + 0.5, line=dict(color=WINDOW_COLOR, width=3), layer="above")]

    def caption(i, j):
        rows = f"{r0[i]}–{r1[i] - 1}" if r1[i] - r0[i] > 1 else f"{r0[i]}"
        cols = f"{c0[j]}–{c1[j] - 1}" if c1[j] - c0[j] > 1 else f"{c0[j]}"
        return (f"out[{i}, {j}] = {word} of rows {rows}, cols {cols} "
                f"({(r1[i] - r0[i]) * (c1[j] - c0[j])} cells) = {fmt(out[i, j])}")

    fig.frames = [go.Frame(name=str(t), layout=dict(shapes=shapes(i, j), title=dict(text=caption(i, j))))
                  for t, (i, j) in enumerate(cells)]
    menus, sliders = play_controls([f"{i},{j}" for i, j in cells], frame_ms)
    fig.update_layout(shapes=shapes(0, 0), title_text=caption(0, 0), updatemenus=menus,
                      sliders=sliders, height=max(380, 36 * h + 220), title_font_size=15,
                      margin=dict(l=10, r=10, t=70, b=CONTROLS_MARGIN), plot_bgcolor="white")
    grid_axes(fig, [x2d.shape, (oh, ow)], first_auto=False)
    span_r = max(h, oh)  # room for the brackets, the same in both panels (equal cells)
    fig.update_xaxes(range=[-1.55, w - 0.5], tickvals=list(range(w)), row=1, col=1)
    fig.update_yaxes(range=[span_r - 0.5, -1.55], tickvals=list(range(h)), row=1, col=1)
    fig.update_yaxes(range=[span_r - 0.5, -1.55], tickvals=list(range(oh)), row=1, col=2)
    return text_as_picture(fig, cell_px=cell_px_across(w + 1 + ow))
