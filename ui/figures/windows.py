"""The window each output cell reads, as data and on the input grid.

:func:`animation_steps` lists the output cells in the order the window visits them
(:class:`Step`: the taps, which are padding, the chosen cell, the caption);
:func:`grid_layers` draws the input with its padding ring and ceil-mode overhang,
:func:`window_shapes` outlines one step on it and :func:`window_hover` names what
each output cell reads. Windows come from the core's geometry (``plan_axes`` /
``window_cells``) and values from ``pool_nd``, so the pictures show exactly what the
numbers are.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

import numpy as np
import plotly.graph_objects as go

from pooling_core import (INDEX_MODES, geometry_kwargs, plan_axes, pool_nd, window_cells,
                          window_divisors)

from .common import (CHOSEN_COLOR, INPUT_SCALE, MODE_WORD, OVERHANG_COLOR, PAD_COLOR,
                     PAD_TEXT_COLOR, WINDOW_COLOR, cell_text, fmt)

def pad_value_text(kwargs: dict) -> str:
    """What a padded cell is worth in this reduction, as drawn on the grid."""
    mode = kwargs.get("mode", "max")
    if kwargs.get("pad_value") is not None:
        return fmt(kwargs["pad_value"])
    return {"max": "−∞", "min": "+∞", "median": "–", "stochastic": "0"}.get(mode, "0")


@dataclass(frozen=True)
class Step:
    """One output cell being computed.

    index : (row, col) of the output cell.
    taps : (K, 2) int array, input coordinates read (padding included).
    inside : (K,) bool, the tap is a real cell.
    chosen : input (row, col) that the value came from (max/min/median/stochastic), or None.
    value : the output value.
    caption : e.g. ``out[1, 0] = max(3, 7, 1, 4) = 7``.
    """

    index: tuple[int, int]
    taps: np.ndarray
    inside: np.ndarray
    chosen: tuple[int, int] | None
    value: float
    caption: str


def step_caption(index, mode, shown, value, divisor, kwargs):
    i, j = index
    args = ", ".join(shown) if len(shown) <= 12 else ", ".join(shown[:11]) + ", …"
    word = MODE_WORD[mode]
    if mode == "avg":
        total = fmt(float(value) * float(divisor))
        return f"out[{i}, {j}] = avg({args}) = {total} / {fmt(divisor)} = {fmt(value)}"
    if mode == "lp":
        p = kwargs.get("p", 2.0)
        return f"out[{i}, {j}] = (Σ xᵖ)^(1/p), p={fmt(p)}, over ({args}) = {fmt(value)}"
    if mode == "stochastic" and not kwargs.get("training", True):
        return f"out[{i}, {j}] = Σw·x / Σw, w = max(x, 0), over ({args}) = {fmt(value)}"
    return f"out[{i}, {j}] = {word}({args}) = {fmt(value)}"


def pooled(x, kwargs, ndim: int = 2):
    """Pool the last ``ndim`` axes of ``x``; ``(out, indices)``, indices ``None`` unless the
    mode picks one cell."""
    picks = kwargs.get("mode", "max") in INDEX_MODES and kwargs.get("training", True)
    if picks:
        return pool_nd(x, ndim, return_indices=True, **kwargs)
    return pool_nd(x, ndim, **kwargs), None


def animation_steps(x2d, kwargs: dict, *, limit: int | None = None,
                    row: int | None = None) -> list[Step]:
    """The output cells in the order the window visits them, with what each reads.

    Parameters
    ----------
    x2d : array, shape ``(H, W)``.
    kwargs : ``pool2d`` keyword arguments.
    limit : keep the first ``limit`` steps.
    row : keep only output row ``row``.
    """
    x2d = np.asarray(x2d)
    plans = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    windows = window_cells(x2d.shape, **geometry_kwargs(kwargs))
    out, idx = pooled(x2d, kwargs)
    mode = kwargs.get("mode", "max")
    ph, pw = plans
    rows = range(ph.out) if row is None else [min(max(row, 0), ph.out - 1)]
    cells = [(i, j) for i in rows for j in range(pw.out)]
    if limit is not None:
        cells = cells[:limit]
    pad_txt = pad_value_text(kwargs)
    real_only = mode == "median" and kwargs.get("pad_value") is None
    text = cell_text(x2d).tolist()  # every input value written once, not once per tap
    divisors = window_divisors(plans, kwargs.get("count_include_pad", True),
                               kwargs.get("divisor_override"))
    steps = []
    for i, j in cells:
        taps, inside = windows.coords[i, j].reshape(-1, 2), windows.inside[i, j].ravel()
        pairs = zip(taps.tolist(), inside.tolist())
        if real_only:
            pairs = ((rc, ok) for rc, ok in pairs if ok)
        # a caption names at most 12 values (11 and "…" when there are more)
        shown = [text[r][c] if ok else pad_txt for (r, c), ok in islice(pairs, 13)]
        chosen = None
        if idx is not None and 0 <= idx[i, j] < x2d.size:
            chosen = divmod(int(idx[i, j]), x2d.shape[1])
        steps.append(Step((i, j), taps, inside, chosen, float(out[i, j]),
                          step_caption((i, j), mode, shown, out[i, j], divisors[i, j], kwargs)))
    return steps


def real_cells(x2d, plans):
    """``(z, text)`` of the real cells on the drawn grid (``AxisPlan.drawn``); NaN and ""
    elsewhere. The first trace of :func:`grid_layers`, and what its frames update."""
    ph, pw = plans
    rr, cc = np.meshgrid(ph.drawn, pw.drawn, indexing="ij")
    real = np.logical_and.outer(ph.drawn_real, pw.drawn_real)
    values = np.full(rr.shape, np.nan)
    values[real] = x2d[rr[real], cc[real]]
    return values, np.where(real, cell_text(np.nan_to_num(values, nan=0)), "")


def grid_layers(x2d, kwargs: dict, *, colorscale=INPUT_SCALE, zrange=None, name="input"):
    """Heatmap traces of the input with its padding ring and ceil-mode overhang.

    Returns ``(traces, (rows, cols))``: the real cells (annotated), the padding
    cells in grey showing their value (−∞, 0, …), and the overhang past the
    padding (never counted) in light grey. Axis values are input coordinates:
    padding sits at negative rows/cols and at ``>= H`` / ``>= W``.
    """
    x2d = np.asarray(x2d, dtype=float)
    ph, pw = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    rows, cols = ph.drawn, pw.drawn
    real = np.logical_and.outer(ph.drawn_real, pw.drawn_real)
    frame = np.logical_and.outer(ph.drawn_in_frame, pw.drawn_in_frame)
    values, text = real_cells(x2d, (ph, pw))
    zmin, zmax = zrange if zrange is not None else (np.nanmin(x2d), np.nanmax(x2d))
    traces = [go.Heatmap(
        x=cols, y=rows, z=values, text=text, texttemplate="%{text}", colorscale=colorscale,
        zmin=zmin, zmax=zmax, showscale=False, name=name, xgap=1, ygap=1,
        hovertemplate="row %{y}, col %{x}: %{text}<extra>" + name + "</extra>")]
    pad = ~real & frame
    if pad.any():
        traces.append(go.Heatmap(
            x=cols, y=rows, z=np.where(pad, 0.0, np.nan), text=np.where(pad, pad_value_text(kwargs), ""),
            texttemplate="%{text}", colorscale=[[0, PAD_COLOR], [1, PAD_COLOR]], showscale=False,
            xgap=1, ygap=1, name="padding", textfont={"color": PAD_TEXT_COLOR},
            hovertemplate="padding (row %{y}, col %{x}): %{text}<extra></extra>"))
    overhang = ~frame
    if overhang.any():
        traces.append(go.Heatmap(
            x=cols, y=rows, z=np.where(overhang, 0.0, np.nan), showscale=False, xgap=1, ygap=1,
            colorscale=[[0, OVERHANG_COLOR], [1, OVERHANG_COLOR]], name="overhang",
            hovertemplate="ceil-mode overhang (never counted)<extra></extra>"))
    return traces, (rows, cols)


def window_shapes(step: Step, *, xref="x", yref="y", out_xref="x2", out_yref="y2",
                  color=WINDOW_COLOR) -> list[dict]:
    """Outlines of the cells a step reads (gaps visible when dilated), its chosen
    cell, and the output cell being written."""
    shapes = []
    for (r, c), ok in zip(step.taps, step.inside):
        shapes.append(dict(type="rect", xref=xref, yref=yref, x0=c - 0.5, x1=c + 0.5,
                           y0=r - 0.5, y1=r + 0.5, line=dict(color=color, width=3),
                           fillcolor=color, opacity=0.25 if ok else 0.15,
                           layer="above"))
    if step.chosen is not None:
        r, c = step.chosen
        shapes.append(dict(type="rect", xref=xref, yref=yref, x0=c - 0.42, x1=c + 0.42,
                           y0=r - 0.42, y1=r + 0.42, line=dict(color=CHOSEN_COLOR, width=4),
                           layer="above"))
    if out_xref:
        i, j = step.index
        shapes.append(dict(type="rect", xref=out_xref, yref=out_yref, x0=j - 0.5, x1=j + 0.5,
                           y0=i - 0.5, y1=i + 0.5, line=dict(color=color, width=3),
                           layer="above"))
    return shapes


def window_hover(x_shape, kwargs) -> np.ndarray:
    """Per output cell, a line naming the input rows and columns its window reads."""
    ph, pw = plan_axes(tuple(x_shape), **geometry_kwargs(kwargs))

    def span(p):
        step = f" step {p.dilation}" if p.dilation > 1 else ""
        return ["padding only" if first < 0 else f"{first}" if first == last
                else f"{first}–{last}{step}" for first, last in zip(*p.real_bounds)]

    rs, cs = span(ph), span(pw)
    return np.array([[f"reads rows {r}, cols {c}" for c in cs] for r in rs], dtype=object)
