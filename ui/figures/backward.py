"""The backward pass and max unpooling: where each output cell's gradient goes.

:func:`backward_steps` splits ``pool2d_backward`` into one step per output cell
(:class:`BackStep`); :func:`backward_figure` animates them like the forward
animation, and :func:`unpool_figure` shows max unpooling as three panels.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pooling_core import (geometry_kwargs, plan_axes, pool2d, pool2d_backward, unpool2d,
                          window_divisors)

from .common import (CHOSEN_COLOR, CONTROLS_MARGIN, GRAD_COLORSCALE, AnimatedFigure, cell_text, fmt,
                     grid_axes, play_controls, value_range)
from .raster import cell_px_across, text_as_picture
from .windows import Step, animation_steps, grid_layers, real_cells, window_shapes

INDEX_WORD = {"max": "the maximum", "min": "the minimum", "median": "the median",
              "stochastic": "the sampled cell"}


@dataclass(frozen=True)
class BackStep:
    """One output cell sending its upstream gradient back to the input.

    index : (row, col) of the output cell.
    grad : its upstream gradient ∂L/∂out[index].
    cells : (M, 2) input cells that receive a non-zero share.
    amounts : (M,) what each of them receives.
    window : the forward :class:`Step` of that output cell (taps, padding, chosen cell).
    caption : the rule in words with the numbers.
    """

    index: tuple[int, int]
    grad: float
    cells: np.ndarray
    amounts: np.ndarray
    window: Step
    caption: str


def backward_contributions(x2d, kwargs: dict, grad_out) -> np.ndarray:
    """What each output cell's gradient gives each input cell, shape ``(Ho, Wo, H, W)``.

    Output cell ``t`` alone sends ``grad_out[t]`` back through ``pool2d_backward``;
    summing over the output cells gives ``pool2d_backward(grad_out, x2d)`` (the
    backward pass is linear in the upstream gradient).
    """
    x2d = np.asarray(x2d)
    g = np.asarray(grad_out, dtype=float)
    count = g.size
    one_hot = (np.eye(count) * g.ravel()[:, None]).reshape((count,) + g.shape)
    if kwargs.get("mode", "max") == "stochastic":  # same seed per call, same samples
        parts = np.stack([pool2d_backward(e, x2d, **kwargs) for e in one_hot])
    else:
        parts = pool2d_backward(one_hot, np.broadcast_to(x2d, (count,) + x2d.shape), **kwargs)
    return parts.reshape(g.shape + x2d.shape)


def _backward_caption(step: Step, g: float, cells, amounts, kwargs, divisor) -> str:
    i, j = step.index
    head = f"∂L/∂out[{i}, {j}] = {fmt(g)}"
    mode = kwargs.get("mode", "max")
    if g == 0:
        return f"{head}: nothing flows back from this cell"
    if len(cells) == 0:
        return f"{head}, but no input cell receives any of it"
    if mode in INDEX_WORD:
        r, c = cells[0]
        return f"{head} → all of it to x[{r}, {c}], {INDEX_WORD[mode]} of the window"
    real = int(step.inside.sum())
    if mode == "sum":
        return f"{head} → each of the {len(cells)} cells of the window gets all of it: {fmt(g)}"
    if mode == "avg":
        dropped = ""
        if divisor > real:
            dropped = f"; the {divisor - real} padded cell(s)' share is dropped"
        return (f"{head} → each of the {len(cells)} cells gets {fmt(g)} / {fmt(divisor)}"
                f" = {fmt(amounts[0])}{dropped}")
    return (f"{head} → each cell gets {fmt(g)}·(x/out)^(p−1): bigger cells get more "
            f"({fmt(amounts.min())} … {fmt(amounts.max())})")


def backward_steps(x2d, kwargs: dict, grad_out, *, limit: int | None = None) -> list[BackStep]:
    """The output cells in the forward order, each sending its gradient back."""
    x2d = np.asarray(x2d)
    g = np.asarray(grad_out, dtype=float)
    forward = animation_steps(x2d, kwargs, limit=limit)
    parts = backward_contributions(x2d, kwargs, g)
    divisors = window_divisors(plan_axes(x2d.shape, **geometry_kwargs(kwargs)),
                               kwargs.get("count_include_pad", True),
                               kwargs.get("divisor_override"))
    steps = []
    for s in forward:
        part = parts[s.index]
        nz = part != 0
        cells, amounts = np.argwhere(nz), part[nz]
        steps.append(BackStep(s.index, float(g[s.index]), cells, amounts, s,
                              _backward_caption(s, float(g[s.index]), cells, amounts, kwargs,
                                                int(divisors[s.index]))))
    return steps


def _gradient_layer(values, kwargs, zr):
    """∂L/∂x on the input grid; padding drawn grey and empty (its gradient is dropped)."""
    traces, axes = grid_layers(values, kwargs, colorscale=GRAD_COLORSCALE, zrange=zr,
                               name="∂L/∂x")
    for t in traces[1:]:
        if t.name == "padding":
            t.update(text=np.where(np.isnan(np.asarray(t.z, dtype=float)), "", "·"),
                     hovertemplate="padding (row %{y}, col %{x}): its share of the gradient "
                                   "is dropped<extra></extra>")
    return traces, axes


def backward_figure(x2d, kwargs: dict, grad_out, *, limit: int | None = None,
                    frame_ms: int = 600) -> go.Figure:
    """The backward pass as an animation, laid out like the forward one.

    Left: ∂L/∂x on the input grid, accumulated over the frames so far. Right:
    the upstream gradient ∂L/∂out. Frame ``t`` outlines output cell ``t`` and
    its window (red) and the input cells that receive gradient from it (yellow).
    """
    x2d = np.asarray(x2d)
    g = np.asarray(grad_out, dtype=float)
    steps = backward_steps(x2d, kwargs, g, limit=limit)
    acc = np.zeros(x2d.shape)
    accumulated = []
    for s in steps:
        acc = acc.copy()
        if len(s.cells):
            np.add.at(acc, (s.cells[:, 0], s.cells[:, 1]), s.amounts)
        accumulated.append(acc)
    final = accumulated[-1] if accumulated else acc
    m = max(float(np.abs(final).max(initial=0)), float(np.abs(g).max(initial=0)), 1e-12)
    zr = (-m, m)
    grid, (rows, cols) = _gradient_layer(accumulated[0] if steps else acc, kwargs, zr)
    widths = [len(cols), max(g.shape[1], 1)]
    fig = make_subplots(rows=1, cols=2, column_widths=[w / sum(widths) for w in widths],
                        horizontal_spacing=0.06,
                        subplot_titles=("∂L/∂x (input gradient so far)", "∂L/∂out"))
    for t in grid:
        fig.add_trace(t, row=1, col=1)
    fig.add_trace(go.Heatmap(z=g, text=cell_text(g), texttemplate="%{text}",
                             colorscale=GRAD_COLORSCALE, zmin=-m, zmax=m, showscale=False,
                             xgap=1, ygap=1, name="∂L/∂out",
                             hovertemplate="∂L/∂out[%{y}, %{x}] = %{text}<extra></extra>"),
                  row=1, col=2)

    def shapes(s: BackStep):
        out = window_shapes(replace(s.window, chosen=None))
        for r, c in s.cells.tolist():
            out.append(dict(type="rect", xref="x", yref="y", x0=c - 0.42, x1=c + 0.42,
                            y0=r - 0.42, y1=r + 0.42, line=dict(color=CHOSEN_COLOR, width=4),
                            layer="above"))
        return out

    if steps:
        fig.update_layout(shapes=shapes(steps[0]), title_text=steps[0].caption)
    menus, sliders = play_controls([f"{s.index[0]},{s.index[1]}" for s in steps], frame_ms)
    fig.update_layout(updatemenus=menus, title_font_size=15,
                      margin=dict(l=10, r=10, t=70, b=CONTROLS_MARGIN),
                      height=max(380, 40 * len(rows) + 220),
                      plot_bgcolor="white")
    grid_axes(fig, [(len(rows), len(cols)), g.shape])
    # the frames as plain dicts (AnimatedFigure): Plotly's validation of a hundred frames
    # took most of this figure's 0.4 s at 12×12
    plans = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    axes = dict(x=plans[1].drawn.tolist(), y=plans[0].drawn.tolist())
    frames = []
    for t, (s, a) in enumerate(zip(steps, accumulated)):
        z, text = real_cells(np.asarray(a, dtype=float), plans)
        z = np.where(np.isnan(z), None, z).tolist()  # JSON: null, not NaN
        frames.append(dict(name=str(t), traces=[0],
                           data=[dict(type="heatmap", z=z, text=text.tolist(), **axes)],
                           layout=dict(shapes=shapes(s), title=dict(text=s.caption))))
    layout = fig.layout.to_plotly_json()
    layout["sliders"] = sliders
    fig = AnimatedFigure(data=[t.to_plotly_json() for t in fig.data], layout=layout,
                         frames=frames)
    # ∂L/∂out's numbers (the frames redraw ∂L/∂x's)
    return text_as_picture(fig, cell_px=cell_px_across(len(cols) + g.shape[1]))


def unpool_figure(x2d, kwargs: dict) -> go.Figure:
    """Max unpooling as three panels: the input with the chosen cells, the pooled values
    with their flat indices, and the sparse unpooled map (zeros everywhere else)."""
    x2d = np.asarray(x2d)
    values, idx = pool2d(x2d, return_indices=True, **kwargs)
    unpooled = unpool2d(values, idx, x2d.shape).astype(float)
    kept = np.zeros(x2d.shape, dtype=bool)
    flat = idx.ravel()
    kept.flat[flat[(flat >= 0) & (flat < x2d.size)]] = True
    zr = value_range(x2d, values)
    h, w = x2d.shape
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.05,
                        column_widths=[w / (2 * w + values.shape[1]), values.shape[1] /
                                       (2 * w + values.shape[1]), w / (2 * w + values.shape[1])],
                        subplot_titles=("Input x (yellow: the cells max pooling picked)",
                                        "Pooled values, #flat index",
                                        "Unpooled: each value back at its index"))
    fig.add_trace(go.Heatmap(z=x2d.astype(float), text=cell_text(x2d), texttemplate="%{text}",
                             colorscale="Blues", zmin=zr[0], zmax=zr[1], showscale=False,
                             xgap=1, ygap=1, name="input",
                             hovertemplate="x[%{y}, %{x}] = %{text}<extra></extra>"), row=1, col=1)
    label = np.vectorize(lambda v, i: f"{fmt(v)}<br>#{i}", otypes=[str])(values, idx)
    fig.add_trace(go.Heatmap(z=values.astype(float), text=label, texttemplate="%{text}",
                             colorscale="Oranges", zmin=zr[0], zmax=zr[1], showscale=False,
                             xgap=1, ygap=1, name="pooled",
                             hovertemplate="out[%{y}, %{x}]: %{text}<extra></extra>"),
                  row=1, col=2)
    fig.add_trace(go.Heatmap(z=np.zeros(x2d.shape), text=np.where(kept, "", "0"),
                             texttemplate="%{text}", textfont=dict(color="#bbbbbb"),
                             colorscale=[[0, "#f7f7f7"], [1, "#f7f7f7"]], showscale=False,
                             xgap=1, ygap=1, name="zero",
                             hovertemplate="[%{y}, %{x}] = 0 (no index points here)"
                                           "<extra></extra>"), row=1, col=3)
    fig.add_trace(go.Heatmap(z=np.where(kept, unpooled, np.nan),
                             text=np.where(kept, cell_text(unpooled), ""), texttemplate="%{text}",
                             colorscale="Oranges", zmin=zr[0], zmax=zr[1], showscale=False,
                             xgap=1, ygap=1, name="unpooled",
                             hovertemplate="[%{y}, %{x}] = %{text} (index %{customdata})"
                                           "<extra></extra>",
                             customdata=np.arange(x2d.size).reshape(x2d.shape)), row=1, col=3)
    r, c = np.nonzero(kept)
    fig.update_layout(shapes=[dict(type="rect", xref="x", yref="y", x0=b - 0.42, x1=b + 0.42,
                                   y0=a - 0.42, y1=a + 0.42, layer="above",
                                   line=dict(color=CHOSEN_COLOR, width=4))
                              for a, b in zip(r, c)],
                      height=max(300, 40 * h + 120), margin=dict(l=10, r=10, t=60, b=10),
                      plot_bgcolor="white")
    grid_axes(fig, [x2d.shape, values.shape, x2d.shape], first_auto=False)
    return text_as_picture(fig, cell_px=cell_px_across(2 * w + values.shape[1]))
