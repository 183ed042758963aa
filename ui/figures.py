"""Figure builders: plain functions that return Plotly figures (no Streamlit).

Every window drawn here comes from the core's geometry (``plan_axes`` /
``window_cells``) and every value from ``pool2d``, so the pictures show exactly
what the numbers are. The building blocks (:func:`animation_steps`,
:func:`grid_layers`, :func:`window_shapes`, :func:`sliding_figure`) are shared by
the playground, the image lab's zoom and the backprop page.

The sliding-window animation (:func:`sliding_figure`) is an :class:`AnimatedFigure`
written as plain JSON-ready dicts, with frames of constant size: a 32×32 input
animates every output cell (961 at 2×2 stride 1) in under a megabyte of JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice

import numpy as np
# pandas before plotly: Plotly looks pandas up in sys.modules without importing it, and
# sessions run in parallel threads, so on a fresh server a figure could meet the half-imported
# pandas of another session's page (AttributeError on pandas.Series; bench/load.py, 30 users).
import pandas  # noqa: F401
import plotly.graph_objects as go
from plotly.colors import get_colorscale
from plotly.subplots import make_subplots

from pooling_core import (INDEX_MODES, adaptive_bins, adaptive_pool2d, geometry_kwargs,
                          normalize_tuple, plan_axes, pool2d, pool2d_backward, pool3d, pool_nd,
                          unpool2d, window_cells)

WINDOW_COLOR = "#d62728"
CHOSEN_COLOR = "#ffd400"
PAD_COLOR = "#c8c8c8"
OVERHANG_COLOR = "#efefef"
CLICK_TARGETS = "output cells"
MODE_WORD = {"max": "max", "min": "min", "avg": "avg", "sum": "sum", "lp": "lp",
             "median": "median", "stochastic": "sample"}


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


def _caption(index, mode, shown, value, divisor, kwargs):
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
    text = _text(x2d).tolist()  # every input value written once, not once per tap
    cip = kwargs.get("count_include_pad", True)
    div_h, div_w = ph.divisor(cip), pw.divisor(cip)
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
        divisor = kwargs.get("divisor_override") or div_h[i] * div_w[j]
        steps.append(Step((i, j), taps, inside, chosen, float(out[i, j]),
                          _caption((i, j), mode, shown, out[i, j], divisor, kwargs)))
    return steps


def _real_cells(x2d, plans):
    """``(z, text)`` of the real cells on the drawn grid (``AxisPlan.drawn``); NaN and ""
    elsewhere. The first trace of :func:`grid_layers`, and what its frames update."""
    ph, pw = plans
    rr, cc = np.meshgrid(ph.drawn, pw.drawn, indexing="ij")
    real = (rr >= 0) & (rr < ph.n) & (cc >= 0) & (cc < pw.n)
    values = np.full(rr.shape, np.nan)
    values[real] = x2d[rr[real], cc[real]]
    return values, np.where(real, _text(np.nan_to_num(values, nan=0)), "")


def grid_layers(x2d, kwargs: dict, *, colorscale="Blues", zrange=None, name="input"):
    """Heatmap traces of the input with its padding ring and ceil-mode overhang.

    Returns ``(traces, (rows, cols))``: the real cells (annotated), the padding
    cells in grey showing their value (−∞, 0, …), and the overhang past the
    padding (never counted) in light grey. Axis values are input coordinates:
    padding sits at negative rows/cols and at ``>= H`` / ``>= W``.
    """
    x2d = np.asarray(x2d, dtype=float)
    ph, pw = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    rows, cols = ph.drawn, pw.drawn
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    real = (rr >= 0) & (rr < ph.n) & (cc >= 0) & (cc < pw.n)
    frame = (rr < ph.n + ph.pad_after) & (cc < pw.n + pw.pad_after)
    values, text = _real_cells(x2d, (ph, pw))
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
            xgap=1, ygap=1, name="padding", textfont={"color": "#555"},
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
        names = []
        for taps in (t[ok] for t, ok in zip(p.taps, p.inside)):  # the real cells only
            if taps.size == 0:
                names.append("padding only")
            elif taps.size == 1:
                names.append(f"{taps[0]}")
            else:
                step = f" step {p.dilation}" if p.dilation > 1 else ""
                names.append(f"{taps[0]}–{taps[-1]}{step}")
        return names

    rs, cs = span(ph), span(pw)
    return np.array([[f"reads rows {r}, cols {c}" for c in cs] for r in rs], dtype=object)


def _zrange(*arrays):
    finite = np.concatenate([np.asarray(a, float)[np.isfinite(np.asarray(a, float))].ravel()
                             for a in arrays])
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi if hi > lo else lo + 1.0)


class AnimatedFigure(go.Figure):
    """A ``go.Figure`` whose animation (frames and slider steps) stays as plain dicts.

    Plotly validates every frame that joins a figure (about 0.35 ms a frame) and
    deep-copies frames and layout in ``to_dict``: for a 961-frame animation that
    is most of the time of a page run. The builders in this module write their
    figures as JSON-ready dicts of plain lists, checked against Plotly's schema
    by the tests, so this figure takes them as they are: data and layout
    unvalidated, and the parts that grow with the number of frames (the frames
    and the sliders with one step per frame) kept aside, uncopied. :attr:`frames`
    and :attr:`sliders` return them; :meth:`to_dict` (what ``st.plotly_chart``
    and ``to_json`` send) adds them to the figure's dict by reference. Treat them
    as read-only: copies (``AnimatedFigure(fig)``, :func:`open_at`) share them.

    The builders make the frames' data of tuples and dict literals, not lists:
    Python's garbage collector stops scanning those once it has seen them hold
    no containers, so a cached 961-frame animation costs every later full
    collection about 5,000 objects instead of 19,000 (JSON makes them lists).
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


def _colorscale(scale):
    """A named colorscale as the list Plotly's validation would make of it (the browser
    knows only some names, and this module's animation figures skip validation)."""
    return get_colorscale(scale) if isinstance(scale, str) else scale


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[k:k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _boxes(boxes) -> dict:
    """``{"x", "y"}`` outlining rectangles ``(x0, x1, y0, y1)`` as one closed path each,
    separated by gaps (``None``): one scatter trace draws them all."""
    xs, ys = [], []
    for x0, x1, y0, y1 in boxes:
        xs += [x0, x1, x1, x0, x0, None]
        ys += [y0, y0, y1, y1, y0, None]
    return {"x": tuple(xs), "y": tuple(ys)}


class _WindowBars:
    """The window of each output cell as the data of two bar traces, one bar per tap (so
    every tap has its own outline and dilation gaps stay uncovered): the real taps, then
    the padding ones.

    A bar is a cell: centred on its column ``x`` (width 1, set on the trace), from
    ``base`` (the row's top edge) down ``y = 1`` row: three short numbers a tap. Windows
    without padding (most of them) reuse lists built once per output row and column.
    (``type`` is repeated so that a frame reads as bars, not Plotly's default scatter.)
    """

    def __init__(self, ph, pw):
        self.rows = [list(zip(t, ok)) for t, ok in zip(ph.taps.tolist(), ph.inside.tolist())]
        self.cols = [list(zip(t, ok)) for t, ok in zip(pw.taps.tolist(), pw.inside.tolist())]
        self.real_rows = ph.inside.all(axis=1).tolist()
        self.real_cols = pw.inside.all(axis=1).tolist()
        self.col_x = [tuple(taps) for taps in pw.taps.tolist()]
        self.row_bases = [tuple(r - 0.5 for r in taps for _ in range(pw.kernel))
                          for taps in ph.taps.tolist()]
        self.ones = (1,) * (ph.kernel * pw.kernel)
        self.empty = {"type": "bar", "x": (), "base": (), "y": ()}

    def __call__(self, i: int, j: int) -> tuple[dict, dict]:
        if self.real_rows[i] and self.real_cols[j]:
            return ({"type": "bar", "x": self.col_x[j] * len(self.rows[i]),
                     "base": self.row_bases[i], "y": self.ones}, self.empty)
        real, pad = ([], []), ([], [])
        for r, r_ok in self.rows[i]:
            for c, c_ok in self.cols[j]:
                xs, bases = real if r_ok and c_ok else pad
                xs.append(c)
                bases.append(r - 0.5)
        return tuple({"type": "bar", "x": tuple(xs), "base": tuple(bases),
                      "y": (1,) * len(xs)} for xs, bases in (real, pad))


def _pending_boxes(first: int, last: int, shape) -> list:
    """Rectangles covering the output cells outside the row-major run ``first..last``
    (the ones not computed yet, or never in this animation): at most six."""
    rows, cols = shape
    boxes = []
    for a, b in ((0, first), (last + 1, rows * cols)):  # each a row-major run [a, b)
        if a >= b:
            continue
        (ra, ca), (rb, cb) = divmod(a, cols), divmod(b, cols)
        if ra == rb:
            boxes.append((ca, cb, ra, ra + 1))
            continue
        if ca:
            boxes.append((ca, cols, ra, ra + 1))
            ra += 1
        if rb > ra:
            boxes.append((0, cols, ra, rb))
        if cb:
            boxes.append((0, cb, rb, rb + 1))
    return [(x0 - 0.5, x1 - 0.5, y0 - 0.5, y1 - 0.5) for x0, x1, y0, y1 in boxes]


def _cell_box(r, c, half=0.5):
    return (c - half, c + half, r - half, r + half)


# the traces a frame of :func:`sliding_figure` updates, in the figure's order
ANIMATED_TRACES = ("window", "window (padding)", "chosen cell", "not yet computed",
                   "output cell")


def sliding_figure(x2d, kwargs: dict, steps: list[Step], *, frame_ms: int = 600,
                   title: str = "", out_colorscale="Oranges", in_colorscale="Blues",
                   out_values=None, left_title="Input (grey: padding)",
                   right_title="Output", start: int = 0) -> AnimatedFigure:
    """Input and output side by side, animated over ``steps``: Play/Pause and a step slider.

    Frame ``t`` outlines step ``t``'s window on the input (each tap, so dilation
    gaps show; padding taps paler), marks its chosen cell, outlines its output
    cell and shows the output filled up to and including step ``t``; the figure
    opens on frame ``start``. ``out_values`` replaces the right panel's values
    (the pooling-vs-conv page uses it). A transparent marker on every output
    cell makes it clickable (:func:`clicked_step` reads the click back).

    The output heatmap is drawn once, whole; a frame covers the cells not
    computed yet with at most six white rectangles, and draws the window's taps
    as bars one cell wide and high. So each frame updates only the
    :data:`ANIMATED_TRACES`, a few numbers a tap, and the caption: its size does
    not grow with the step number or the output's size. ``steps``
    are expected in row-major order without gaps, as :func:`animation_steps`
    gives them.
    """
    x2d = np.asarray(x2d)
    out = np.asarray(pooled(x2d, kwargs)[0] if out_values is None else out_values, dtype=float)
    ph, pw = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    zr = _zrange(x2d, out)
    grid, (rows, cols) = grid_layers(x2d, kwargs, colorscale=in_colorscale, zrange=zr)
    hover = window_hover(x2d.shape, kwargs)
    data = [{k: v.tolist() if isinstance(v, np.ndarray) and v.dtype.kind in "OUS" else v
             for k, v in t.to_plotly_json().items()} for t in grid]  # text as lists: JSON-ready
    data.append(dict(type="heatmap", xaxis="x2", yaxis="y2", z=out, text=_text(out).tolist(),
                     texttemplate="%{text}", colorscale=_colorscale(out_colorscale), zmin=zr[0],
                     zmax=zr[1], showscale=False, xgap=1, ygap=1, customdata=hover.tolist(),
                     name="output", hovertemplate="out[%{y}, %{x}] = %{text}<br>"
                                                  "%{customdata}<extra></extra>"))
    first_animated = len(data)
    red = dict(color=_rgba(WINDOW_COLOR, 0.85), width=2)
    on_out = dict(xaxis="x2", yaxis="y2")
    data += [
        dict(type="bar", name=ANIMATED_TRACES[0], width=1, hoverinfo="skip",
             marker=dict(color=_rgba(WINDOW_COLOR, 0.25), line=red)),
        dict(type="bar", name=ANIMATED_TRACES[1], width=1, hoverinfo="skip",
             marker=dict(color=_rgba(WINDOW_COLOR, 0.1), line=red)),
        dict(type="scatter", name=ANIMATED_TRACES[2], mode="lines", hoverinfo="skip",
             line=dict(color=CHOSEN_COLOR, width=4)),
        # a white border too: no anti-aliased sliver of a hidden cell at the edges
        dict(type="scatter", name=ANIMATED_TRACES[3], mode="lines", hoverinfo="skip",
             fill="toself", fillcolor="white", line=dict(color="white", width=1.5), **on_out),
        dict(type="scatter", name=ANIMATED_TRACES[4], mode="lines", hoverinfo="skip",
             line=dict(color=WINDOW_COLOR, width=3), **on_out)]
    oi, oj = np.indices(out.shape)
    data.append(dict(  # click targets: selecting one shows that output cell's window
        type="scatter", xaxis="x2", yaxis="y2", x=oj.ravel(), y=oi.ravel(), mode="markers",
        name=CLICK_TARGETS, showlegend=False,
        marker=dict(symbol="square", size=24, color="rgba(0,0,0,0)"),
        customdata=hover.ravel().tolist(),
        hovertemplate="out[%{y}, %{x}]: %{customdata}<br>click to show its window"
                      "<extra></extra>"))

    traces = tuple(range(first_animated, first_animated + len(ANIMATED_TRACES)))
    window = _WindowBars(ph, pw)
    order = [i * out.shape[1] + j for i, j in (s.index for s in steps)]
    in_order = order == list(range(order[0], order[0] + len(order))) if order else True
    frames = []
    for t, s in enumerate(steps):
        i, j = s.index
        if in_order:
            pending = _pending_boxes(order[0], order[t], out.shape)
        else:  # any other order: one box per cell not shown yet
            shown = set(order[:t + 1])
            pending = [_cell_box(*divmod(k, out.shape[1])) for k in range(out.size)
                       if k not in shown]
        chosen = [_cell_box(*s.chosen, half=0.42)] if s.chosen is not None else []
        frames.append({"name": str(t), "traces": traces,
                       "data": (*window(i, j), _boxes(chosen), _boxes(pending),
                                _boxes([_cell_box(i, j)])),
                       "layout": {"title": {"text": s.caption}}})
    start = min(max(start, 0), len(steps) - 1) if steps else 0
    if not steps:  # nothing computed: the whole output is pending
        data[traces[3]].update(_boxes(_pending_boxes(0, -1, out.shape)))

    widths = [len(cols), max(out.shape[1], 1)]
    gap = 0.06
    split = (1 - gap) * widths[0] / sum(widths)
    span_r = max(len(rows), out.shape[0])
    axis = dict(dtick=1, constrain="domain", showgrid=False, zeroline=False)
    menus, sliders = _play_controls([f"{s.index[0]},{s.index[1]}" for s in steps], frame_ms,
                                    active=max(start, 0))
    # square cells, as large as a chart about 900 px wide allows (at most 40 px): the height
    # follows, so a large matrix leaves no empty band above and below the grids
    cell_px = min(40.0, 900 / (len(cols) + widths[1] + 2))
    layout = dict(
        xaxis=dict(axis, anchor="y", domain=[0, split], range=[cols[0] - 0.5, cols[-1] + 0.5]),
        yaxis=dict(axis, anchor="x", domain=[0, 1], range=[rows[-1] + 0.5, rows[0] - 0.5],
                   scaleanchor="x"),
        xaxis2=dict(axis, anchor="y2", domain=[split + gap, 1], range=[-0.5, widths[1] - 0.5]),
        yaxis2=dict(axis, anchor="x2", domain=[0, 1], range=[span_r - 0.5, -0.5],
                    scaleanchor="x2"),
        annotations=[dict(text=text, x=x, y=1, xref="paper", yref="paper", xanchor="center",
                          yanchor="bottom", showarrow=False, font=dict(size=16))
                     for text, x in ((left_title, split / 2),
                                     (right_title, (split + gap + 1) / 2))],
        title=dict(text=title, font=dict(size=15)), updatemenus=menus, sliders=sliders,
        barmode="overlay", showlegend=False, plot_bgcolor="white",
        margin=dict(l=10, r=10, t=70, b=110),
        height=round(max(360, cell_px * span_r + 200)))
    fig = AnimatedFigure(data=data, layout=layout, frames=frames)
    if steps:
        _show_frame(fig, start)
    return fig


def _show_frame(fig: AnimatedFigure, t: int) -> None:
    """Set ``fig``'s traces, caption and slider to frame ``t``, in place."""
    frame = fig.frames[t]
    for trace, update in zip(frame["traces"], frame["data"]):
        fig.data[trace].update(update)
    fig.layout.title.text = frame["layout"]["title"]["text"]
    fig._plain_sliders = [dict(s, active=t) for s in fig._plain_sliders]


def open_at(fig: AnimatedFigure, start: int) -> AnimatedFigure:
    """A copy of a :func:`sliding_figure` that opens on frame ``start``: its window, output
    and caption, the slider on it. The copy shares the frames, so it is cheap: one cached
    animation serves every clicked cell, and ``fig`` itself is left as it was."""
    if not fig.frames:
        return fig
    opened = AnimatedFigure(fig)
    _show_frame(opened, min(max(int(start), 0), len(fig.frames) - 1))
    return opened


def clicked_cell(selection) -> tuple[int, int] | None:
    """The output cell ``(row, col)`` a user clicked in a :func:`sliding_figure`, if any.

    ``selection`` is Streamlit's ``on_select`` state (``{"selection": {"points": [...]}}``).
    """
    points = ((selection or {}).get("selection") or {}).get("points") or []
    for point in points:
        return int(point.get("y", -1)), int(point.get("x", -1))
    return None


def clicked_step(selection, steps: list[Step]) -> int | None:
    """The step of the output cell a user clicked in a :func:`sliding_figure`, if any."""
    cell = clicked_cell(selection)
    for t, s in enumerate(steps):
        if s.index == cell:
            return t
    return None


# Output cells the playground animates in full: more than any 32×32 input can give
# (40×40, a 1×1 window over 4 cells of padding). Past it, the first cells or one row.
MAX_ANIMATED_CELLS = 1600


def animation_figure(x2d, kwargs: dict, *, max_frames: int | None = MAX_ANIMATED_CELLS,
                     row: int | None = None, frame_ms: int = 600,
                     start: int = 0) -> tuple[AnimatedFigure, str]:
    """The playground's animation, and a note when it covers only part of the output.

    Every output cell, in row-major order, up to ``max_frames`` of them; ``row``
    picks one output row instead. The figure opens on step ``start``.
    """
    x2d = np.asarray(x2d)
    total = int(np.prod([p.out for p in plan_axes(x2d.shape, **geometry_kwargs(kwargs))]))
    steps = animation_steps(x2d, kwargs, limit=max_frames, row=row)
    note = ""
    if row is not None:
        note = f"The animation covers output row {steps[0].index[0]} ({len(steps)} cells)."
    elif len(steps) < total:
        note = (f"The animation covers the first {len(steps)} of {total} output cells; "
                f"pick a row to animate another part.")
    return sliding_figure(x2d, kwargs, steps, frame_ms=frame_ms, start=start), note


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
    fig.update_yaxes(autorange="reversed", scaleanchor="x", dtick=1, showgrid=False)
    fig.update_xaxes(dtick=1, showgrid=False)
    fig.update_layout(title_text="Coverage: how many windows read each input cell",
                      height=round(max(300, min(32, 420 / cov.shape[1]) * cov.shape[0] + 120)),
                      margin=dict(l=10, r=10, t=60, b=10),
                      showlegend=bool((cov == 0).any()), plot_bgcolor="white")
    return fig


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
    fig.update_yaxes(autorange="reversed", scaleanchor="x", dtick=1, showgrid=False)
    fig.update_xaxes(dtick=1, showgrid=False)
    fig.update_layout(title_text=title, height=max(220, 32 * values.shape[0] + 100),
                      margin=dict(l=10, r=10, t=60, b=10), plot_bgcolor="white")
    return fig


# ----------------------------------------------------------------------------- learning pages
# Builders for the backprop, pooling-vs-conv and 1-D/3-D/adaptive pages (appended).

# gradients and signed values (use with zmid=0 or a symmetric range): red negative,
# light grey zero (visible on white), blue positive
GRAD_COLORSCALE = [[0.0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#ececec"], [0.75, "#67a9cf"],
                   [1.0, "#2166ac"]]
INDEX_WORD = {"max": "the maximum", "min": "the minimum", "median": "the median",
              "stochastic": "the sampled cell"}


def _play_controls(labels, frame_ms: int, prefix: str = "step: ", active: int = 0):
    """``(updatemenus, sliders)``: ▶ Play / ❚❚ Pause and a step slider on frame ``active``.

    Past 40 steps the slider's own labels would overlap: they are hidden, and the
    current step's label shows above the slider as always.
    """
    if not labels:
        return [], []
    play = dict(frame=dict(duration=frame_ms, redraw=True), fromcurrent=True,
                transition=dict(duration=0), mode="immediate")
    menus = [dict(type="buttons", direction="left", x=0.0, y=-0.08, xanchor="left",
                  yanchor="top", showactive=False, buttons=[
                      dict(label="▶ Play", method="animate", args=[None, play]),
                      dict(label="❚❚ Pause", method="animate",
                           args=[[None], dict(frame=dict(duration=0, redraw=False),
                                              mode="immediate")])])]
    jump = dict(mode="immediate", transition=dict(duration=0),
                frame=dict(duration=0, redraw=True))
    slider = dict(active=active, x=0.18, len=0.82, y=-0.04, yanchor="top",
                  currentvalue=dict(prefix=prefix), pad=dict(t=30),
                  steps=tuple(dict(method="animate", label=str(label),
                                   args=((str(t),), jump)) for t, label in enumerate(labels)))
    if len(labels) > 40:
        slider.update(font=dict(color="rgba(0,0,0,0)"), ticklen=3, minorticklen=0,
                      currentvalue=dict(prefix=prefix, font=dict(color="#444")))
    return menus, [slider]


def _grid_axes(fig, panels, first_auto=True):
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
        fig.update_yaxes(scaleanchor=f"x{key}", constrain="domain", dtick=1, row=1, col=c,
                         showgrid=False, zeroline=False)
        fig.update_xaxes(dtick=1, constrain="domain", row=1, col=c, showgrid=False,
                         zeroline=False)


def _text(values) -> np.ndarray:
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


# --- backprop ------------------------------------------------------------------------------


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


def _backward_caption(step: Step, g: float, cells, amounts, kwargs) -> str:
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
        divisor = g / amounts[0]
        dropped = ""
        if round(divisor) > real:
            dropped = f"; the {round(divisor) - real} padded cell(s)' share is dropped"
        return (f"{head} → each of the {len(cells)} cells gets {fmt(g)} / {fmt(round(divisor, 6))}"
                f" = {fmt(amounts[0])}{dropped}")
    return (f"{head} → each cell gets {fmt(g)}·(x/out)^(p−1): bigger cells get more "
            f"({fmt(amounts.min())} … {fmt(amounts.max())})")


def backward_steps(x2d, kwargs: dict, grad_out, *, limit: int | None = None) -> list[BackStep]:
    """The output cells in the forward order, each sending its gradient back."""
    x2d = np.asarray(x2d)
    g = np.asarray(grad_out, dtype=float)
    forward = animation_steps(x2d, kwargs, limit=limit)
    parts = backward_contributions(x2d, kwargs, g)
    steps = []
    for s in forward:
        part = parts[s.index]
        nz = part != 0
        cells, amounts = np.argwhere(nz), part[nz]
        steps.append(BackStep(s.index, float(g[s.index]), cells, amounts, s,
                              _backward_caption(s, float(g[s.index]), cells, amounts, kwargs)))
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
    fig.add_trace(go.Heatmap(z=g, text=_text(g), texttemplate="%{text}",
                             colorscale=GRAD_COLORSCALE, zmin=-m, zmax=m, showscale=False,
                             xgap=1, ygap=1, name="∂L/∂out",
                             hovertemplate="∂L/∂out[%{y}, %{x}] = %{text}<extra></extra>"),
                  row=1, col=2)

    def shapes(s: BackStep):
        out = window_shapes(replace(s.window, chosen=None))
        for r, c in s.cells:
            out.append(dict(type="rect", xref="x", yref="y", x0=c - 0.42, x1=c + 0.42,
                            y0=r - 0.42, y1=r + 0.42, line=dict(color=CHOSEN_COLOR, width=4),
                            layer="above"))
        return out

    plans = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    frame_cells = (_real_cells(np.asarray(a, dtype=float), plans) for a in accumulated)
    frame_axes = dict(x=plans[1].drawn, y=plans[0].drawn)
    fig.frames = [go.Frame(name=str(t), data=[dict(type="heatmap", z=z, text=text, **frame_axes)],
                           traces=[0],
                           layout=dict(shapes=shapes(s), title=dict(text=s.caption)))
                  for t, (s, (z, text)) in enumerate(zip(steps, frame_cells))]
    if steps:
        fig.update_layout(shapes=shapes(steps[0]), title_text=steps[0].caption)
    menus, sliders = _play_controls([f"{s.index[0]},{s.index[1]}" for s in steps], frame_ms)
    fig.update_layout(updatemenus=menus, sliders=sliders, title_font_size=15,
                      margin=dict(l=10, r=10, t=70, b=110), height=max(360, 40 * len(rows) + 200),
                      plot_bgcolor="white")
    _grid_axes(fig, [(len(rows), len(cols)), g.shape])
    return fig


def unpool_figure(x2d, kwargs: dict) -> go.Figure:
    """Max unpooling as three panels: the input with the chosen cells, the pooled values
    with their flat indices, and the sparse unpooled map (zeros everywhere else)."""
    x2d = np.asarray(x2d)
    values, idx = pool2d(x2d, return_indices=True, **kwargs)
    unpooled = unpool2d(values, idx, x2d.shape).astype(float)
    kept = np.zeros(x2d.shape, dtype=bool)
    flat = idx.ravel()
    kept.flat[flat[(flat >= 0) & (flat < x2d.size)]] = True
    zr = _zrange(x2d, values)
    h, w = x2d.shape
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.05,
                        column_widths=[w / (2 * w + values.shape[1]), values.shape[1] /
                                       (2 * w + values.shape[1]), w / (2 * w + values.shape[1])],
                        subplot_titles=("Input x (yellow: the cells max pooling picked)",
                                        "Pooled values, #flat index",
                                        "Unpooled: each value back at its index"))
    fig.add_trace(go.Heatmap(z=x2d.astype(float), text=_text(x2d), texttemplate="%{text}",
                             colorscale="Blues", zmin=zr[0], zmax=zr[1], showscale=False,
                             xgap=1, ygap=1, name="input",
                             hovertemplate="x[%{y}, %{x}] = %{text}<extra></extra>"), row=1, col=1)
    label = np.vectorize(lambda v, i: f"{fmt(v)}<br>#{i}", otypes=[str])(values, idx)
    fig.add_trace(go.Heatmap(z=values.astype(float), text=label, texttemplate="%{text}",
                             colorscale="Oranges", zmin=zr[0], zmax=zr[1], showscale=False,
                             xgap=1, ygap=1, name="pooled",
                             hovertemplate="out[%{y}, %{x}]: %{text}<extra></extra>"),
                  row=1, col=2)
    fig.add_trace(go.Heatmap(z=np.zeros(x2d.shape), text=np.full(x2d.shape, "0"),
                             texttemplate="%{text}", textfont=dict(color="#bbbbbb"),
                             colorscale=[[0, "#f7f7f7"], [1, "#f7f7f7"]], showscale=False,
                             xgap=1, ygap=1, name="zero",
                             hovertemplate="[%{y}, %{x}] = 0 (no index points here)"
                                           "<extra></extra>"), row=1, col=3)
    fig.add_trace(go.Heatmap(z=np.where(kept, unpooled, np.nan),
                             text=np.where(kept, _text(unpooled), ""), texttemplate="%{text}",
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
    _grid_axes(fig, [x2d.shape, values.shape, x2d.shape], first_auto=False)
    return fig


# --- 1-D, 3-D and adaptive -----------------------------------------------------------------


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
    divisor = plan.divisor(kwargs.get("count_include_pad", True))
    pad_txt = pad_value_text(kwargs)
    count = min(plan.out, max_frames)
    lo = np.where(inside.any(1), np.where(inside, taps, np.iinfo(int).max).min(1), 0)
    hi = np.where(inside.any(1), np.where(inside, taps, -1).max(1), 0)
    drawable = inside.any(1) & np.isfinite(out)

    def outputs(t):
        xs, ys, cx, cy, labels = [], [], [], [], []
        for k in range(t + 1):
            if not drawable[k]:
                continue
            xs += [lo[k] - 0.45, hi[k] + 0.45, None]
            ys += [out[k], out[k], None]
            cx.append(taps[k][inside[k]].mean())
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
        div = kwargs.get("divisor_override") or divisor[t]
        return _caption((t, 0), mode, shown, out[t], div, kwargs).replace(f"out[{t}, 0]",
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
    menus, sliders = _play_controls(["all"] + list(range(count)), frame_ms, prefix="output ")
    finite = x[np.isfinite(x)]
    pad_y = 0.08 * (float(np.ptp(np.concatenate([finite, out[np.isfinite(out)]])))
                    if finite.size else 1.0) + 0.1
    y_all = np.concatenate([finite, out[np.isfinite(out)], [0.0]])
    fig.update_layout(shapes=static, title_text=summary, updatemenus=menus, sliders=sliders,
                      height=460, margin=dict(l=10, r=10, t=70, b=110), title_font_size=15,
                      plot_bgcolor="white", legend=dict(orientation="h", y=1.02, x=1,
                                                        xanchor="right", yanchor="bottom"))
    fig.update_xaxes(range=[-plan.pad_before - 0.6, plan.n + right - 0.4], dtick=1 if plan.n <= 40
                     else None, title_text="position", showgrid=False, zeroline=False)
    fig.update_yaxes(range=[y_all.min() - pad_y, y_all.max() + pad_y], title_text="value",
                     gridcolor="#eee")
    return fig


def _volume_window(plans, voxel):
    """Per axis, the real input coordinates the window of output ``voxel`` reads."""
    return [p.taps[v][p.inside[v]] for p, v in zip(plans, voxel)]


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
    zr = _zrange(vol, out)
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
    zr = _zrange(vol, out)
    d, h, w = np.indices(vol.shape)
    centres = [np.array([p.taps[o][p.inside[o]].mean() if p.inside[o].any() else np.nan
                         for o in range(p.out)]) for p in plans]
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
    zr = _zrange(x2d, out)
    fig = make_subplots(rows=1, cols=2, column_widths=[(w + 1.05) / (w + 1.05 + ow),
                                                       ow / (w + 1.05 + ow)],
                        horizontal_spacing=0.06,
                        subplot_titles=(f"Input {h}×{w}: row bins left, column bins on top",
                                        f"Output {oh}×{ow}"))
    fig.add_trace(go.Heatmap(z=x2d, text=_text(x2d), texttemplate="%{text}", colorscale="Blues",
                             zmin=zr[0], zmax=zr[1], showscale=False, xgap=1, ygap=1,
                             name="input", hovertemplate="x[%{y}, %{x}] = %{text}<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Heatmap(z=out, text=_text(out), texttemplate="%{text}", colorscale="Oranges",
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
    menus, sliders = _play_controls([f"{i},{j}" for i, j in cells], frame_ms)
    fig.update_layout(shapes=shapes(0, 0), title_text=caption(0, 0), updatemenus=menus,
                      sliders=sliders, height=max(360, 36 * h + 200), title_font_size=15,
                      margin=dict(l=10, r=10, t=70, b=110), plot_bgcolor="white")
    _grid_axes(fig, [x2d.shape, (oh, ow)], first_auto=False)
    span_r = max(h, oh)  # room for the brackets, the same in both panels (equal cells)
    fig.update_xaxes(range=[-1.55, w - 0.5], tickvals=list(range(w)), row=1, col=1)
    fig.update_yaxes(range=[span_r - 0.5, -1.55], tickvals=list(range(h)), row=1, col=1)
    fig.update_yaxes(range=[span_r - 0.5, -1.55], tickvals=list(range(oh)), row=1, col=2)
    return fig


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
        zr = p.get("zrange") or _zrange(a)
        if p.get("signed"):
            m = max(float(np.nanmax(np.abs(a), initial=0)), 1e-12)
            zr = (-m, m)
        fig.add_trace(go.Heatmap(z=a, text=_text(a), texttemplate="%{text}", showscale=False,
                                 colorscale=p.get("colorscale", "Oranges"), zmin=zr[0],
                                 zmax=zr[1], xgap=1, ygap=1, name=p.get("title", ""),
                                 hovertemplate="[%{y}, %{x}] = %{text}<extra></extra>"),
                      row=1, col=c)
    rows = max(a.shape[0] for a in arrays)
    fig.update_layout(height=height or max(240, 44 * rows + 90), plot_bgcolor="white",
                      margin=dict(l=10, r=10, t=40, b=10))
    _grid_axes(fig, [a.shape for a in arrays], first_auto=False)
    return fig
