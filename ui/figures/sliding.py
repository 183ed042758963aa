"""The forward animation: the window sliding over the input while the output fills up.

:func:`sliding_figure` is an :class:`~ui.figures.common.AnimatedFigure` written as
plain JSON-ready dicts, with frames of constant size (each updates only the
:data:`ANIMATED_TRACES` and the caption), so every output cell of a 32×32 input can
be animated. :func:`animation_figure` is the playground's entry point,
:func:`open_at` reopens a cached animation on a clicked cell, and
:func:`clicked_cell` / :func:`clicked_step` read a click back.
"""
from __future__ import annotations

import numpy as np
from plotly.colors import get_colorscale

from pooling_core import geometry_kwargs, plan_axes

from .common import (CHOSEN_COLOR, CONTROLS_MARGIN, INPUT_SCALE, OUTPUT_SCALE, WINDOW_COLOR,
                     AnimatedFigure, cell_text, label_step, play_controls, value_range)
from .raster import heatmap_image
from .windows import Step, animation_steps, grid_layers, pooled, window_hover

CLICK_TARGETS = "output cells"
EMPTY_GRID_COLOR = "#d9d9d9"  # the borders of the output's cells, computed or not


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
                   "output grid", "output cell", "caption")
# past this many frames the step slider gets one step per output row (and the last cell):
# a step is a few SVG elements the browser draws on every change, 961 of them at 32×32
MAX_SLIDER_STEPS = 40


def _grid_lines(rows: int, cols: int) -> dict:
    """``{"x", "y"}`` of the borders of every cell of a ``rows × cols`` grid: one path."""
    xs, ys = [], []
    for r in range(rows + 1):
        xs += [-0.5, cols - 0.5, None]
        ys += [r - 0.5, r - 0.5, None]
    for c in range(cols + 1):
        xs += [c - 0.5, c - 0.5, None]
        ys += [-0.5, rows - 0.5, None]
    return {"x": tuple(xs), "y": tuple(ys)}


def _slider_frames(steps: list[Step]) -> list[int]:
    """The frames the step slider offers: all of them, or past :data:`MAX_SLIDER_STEPS`
    the first cell of each output row and the last cell."""
    if len(steps) <= MAX_SLIDER_STEPS:
        return list(range(len(steps)))
    first_col = steps[0].index[1]
    return [t for t, s in enumerate(steps)
            if t == 0 or t == len(steps) - 1 or s.index[1] == first_col]


def sliding_figure(x2d, kwargs: dict, steps: list[Step], *, frame_ms: int = 600,
                   title: str = "", out_colorscale=OUTPUT_SCALE, in_colorscale=INPUT_SCALE,
                   out_values=None, left_title="Input (grey: padding)",
                   right_title="Output", start: int = 0) -> AnimatedFigure:
    """Input and output side by side, animated over ``steps``: Play/Pause and a step slider.

    Frame ``t`` outlines step ``t``'s window on the input (each tap, so dilation
    gaps show; padding taps paler), marks its chosen cell, outlines its output
    cell, shows the output filled up to and including step ``t`` and writes the
    step's caption above the grids; the figure opens on frame ``start``.
    ``out_values`` replaces the right panel's values (the pooling-vs-conv page uses
    it). The output panel has the output's own size, its empty cells outlined. A
    transparent marker on every output cell makes it clickable
    (:func:`clicked_step` reads the click back).

    The output heatmap is drawn once, whole; a frame covers the cells not
    computed yet with at most six white rectangles, and draws the window's taps
    as bars one cell wide and high. So each frame updates only the
    :data:`ANIMATED_TRACES`, a few numbers a tap: its size does not grow with the
    step number or the output's size. The animated traces live on axes of their
    own laid over the input's and the output's (``x3``/``y3``, ``x4``/``y4``), and
    are all bars and scatters, so the browser moves them without redrawing the
    heatmaps (``redraw=False``). ``steps`` are expected in row-major order without
    gaps, as :func:`animation_steps` gives them.
    """
    x2d = np.asarray(x2d)
    out = np.asarray(pooled(x2d, kwargs)[0] if out_values is None else out_values, dtype=float)
    ph, pw = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    zr = value_range(x2d, out)
    grid, (rows, cols) = grid_layers(x2d, kwargs, colorscale=in_colorscale, zrange=zr)
    hover = window_hover(x2d.shape, kwargs)
    out_rows, out_cols = max(out.shape[0], 1), max(out.shape[1], 1)
    span_r = max(len(rows), out_rows)
    # square cells, as large as a chart about 900 px wide allows (at most 40 px): the height
    # follows, so a large matrix leaves no empty band above and below the grids
    cell_px = min(40.0, 900 / (len(cols) + out_cols + 2))
    # the grids as pictures (heatmaps cannot take part in frames that do not redraw, and
    # their numbers cost the browser a text element each): the input's, with a hover
    # trace a layer, and the output's, whose click targets carry its hover
    in_image, data = heatmap_image(grid, cell_px=cell_px)
    out_text = cell_text(out)
    out_image, _ = heatmap_image(
        [dict(x=list(range(out.shape[1])), y=list(range(out.shape[0])), z=out,
              text=out_text, colorscale=_colorscale(out_colorscale), zmin=zr[0], zmax=zr[1])],
        xref="x2", yref="y2", cell_px=cell_px) if out.size else (None, [])
    oi, oj = np.indices(out.shape)
    data.append(dict(  # click targets: selecting one shows that output cell's window
        type="scatter", xaxis="x2", yaxis="y2", x=oj.ravel(), y=oi.ravel(), mode="markers",
        name=CLICK_TARGETS, showlegend=False, text=out_text.ravel().tolist(),
        marker=dict(symbol="square", size=24, color="rgba(0,0,0,0)"),
        customdata=hover.ravel().tolist(),
        hovertemplate="out[%{y}, %{x}] = %{text}<br>%{customdata}<br>"
                      "click to show its window<extra></extra>"))
    first_animated = len(data)
    red = dict(color=_rgba(WINDOW_COLOR, 0.85), width=2)
    on_in, on_out = dict(xaxis="x", yaxis="y"), dict(xaxis="x2", yaxis="y2")
    data += [
        dict(type="bar", name=ANIMATED_TRACES[0], width=1, hoverinfo="skip",
             marker=dict(color=_rgba(WINDOW_COLOR, 0.25), line=red), **on_in),
        dict(type="bar", name=ANIMATED_TRACES[1], width=1, hoverinfo="skip",
             marker=dict(color=_rgba(WINDOW_COLOR, 0.1), line=red), **on_in),
        dict(type="scatter", name=ANIMATED_TRACES[2], mode="lines", hoverinfo="skip",
             line=dict(color=CHOSEN_COLOR, width=4), **on_in),
        # a white border too: no anti-aliased sliver of a hidden cell at the edges
        dict(type="scatter", name=ANIMATED_TRACES[3], mode="lines", hoverinfo="skip",
             fill="toself", fillcolor="white", line=dict(color="white", width=1.5), **on_out),
        dict(type="scatter", name=ANIMATED_TRACES[4], mode="lines", hoverinfo="skip",
             line=dict(color=EMPTY_GRID_COLOR, width=1), **_grid_lines(*out.shape), **on_out),
        dict(type="scatter", name=ANIMATED_TRACES[5], mode="lines", hoverinfo="skip",
             line=dict(color=WINDOW_COLOR, width=3), **on_out),
        # the step's caption, above the input's top-left corner (a trace, not the title:
        # frames that do not redraw update traces only)
        dict(type="scatter", name=ANIMATED_TRACES[6], mode="text", hoverinfo="skip",
             x=(cols[0] - 0.5,), y=(rows[0] - 0.5,), text=("",), textposition="top right",
             cliponaxis=False, textfont=dict(size=15, color="#333"), **on_in)]

    # a frame lists the static traces too, unchanged (``{}``): one that does not redraw
    # recomputes what it lists, and a trace left out would keep data the browser's click
    # selection can no longer find on the page
    static = tuple(range(first_animated))
    traces = tuple(range(first_animated, first_animated + len(ANIMATED_TRACES)))
    window = _WindowBars(ph, pw)
    order = [i * out.shape[1] + j for i, j in (s.index for s in steps)]
    in_order = order == list(range(order[0], order[0] + len(order))) if order else True
    frames = []
    unchanged = {}
    for t, s in enumerate(steps):
        i, j = s.index
        if in_order:
            pending = _pending_boxes(order[0], order[t], out.shape)
        else:  # any other order: one box per cell not shown yet
            shown = set(order[:t + 1])
            pending = [_cell_box(*divmod(k, out.shape[1])) for k in range(out.size)
                       if k not in shown]
        chosen = [_cell_box(*s.chosen, half=0.42)] if s.chosen is not None else []
        frames.append({"name": str(t), "traces": static + traces,
                       "data": (*(unchanged,) * len(static), *window(i, j), _boxes(chosen), _boxes(pending), unchanged,
                                _boxes([_cell_box(i, j)]), {"text": (_caption_line(s),)})})
    start = min(max(start, 0), len(steps) - 1) if steps else 0
    if not steps:  # nothing computed: the whole output is pending
        data[traces[3]].update(_boxes(_pending_boxes(0, -1, out.shape)))

    widths = [len(cols), out_cols]
    gap = 0.06
    split = (1 - gap) * widths[0] / sum(widths)
    axis = dict(dtick=label_step(max(len(rows), len(cols))), tick0=0, constrain="domain",
                showgrid=False, zeroline=False)
    offered = _slider_frames(steps)
    menus, sliders = play_controls([f"{s.index[0]},{s.index[1]}" for s in steps], frame_ms,
                                   active=max(start, 0), redraw=False)
    if sliders:
        sliders[0]["steps"] = tuple(sliders[0]["steps"][t] for t in offered)
        sliders[0]["active"] = _slider_step(offered, start)
    # each panel's rows take their share of the height from the top, so cells are the same
    # size in both and the output's axes show its own size
    layout = dict(
        xaxis=dict(axis, anchor="y", domain=[0, split], range=[cols[0] - 0.5, cols[-1] + 0.5]),
        yaxis=dict(axis, anchor="x", domain=[1 - len(rows) / span_r, 1],
                   range=[rows[-1] + 0.5, rows[0] - 0.5], scaleanchor="x",
                   constraintoward="top"),
        xaxis2=dict(axis, anchor="y2", domain=[split + gap, 1], range=[-0.5, out_cols - 0.5]),
        yaxis2=dict(axis, anchor="x2", domain=[1 - out_rows / span_r, 1],
                    range=[out_rows - 0.5, -0.5], scaleanchor="x2", constraintoward="top"),
        annotations=[dict(text=text, x=x, y=1, xref="paper", yref="paper", xanchor="center",
                          yanchor="bottom", showarrow=False, font=dict(size=16))
                     for text, x in ((left_title, split / 2),
                                     (right_title, (split + gap + 1) / 2))],
        images=[im for im in (in_image, out_image) if im is not None],
        title=dict(text=title, font=dict(size=15)), updatemenus=menus, sliders=sliders,
        barmode="overlay", showlegend=False, plot_bgcolor="white",
        margin=dict(l=10, r=10, t=90, b=CONTROLS_MARGIN),
        height=round(max(380, cell_px * span_r + 240)))
    fig = AnimatedFigure(data=data, layout=layout, frames=frames)
    if steps:
        _show_frame(fig, start)
    return fig


def _caption_line(step: Step) -> str:
    """The caption a frame writes above the grids (one blank line under it: the panels'
    titles go there)."""
    return step.caption + "<br> "


def caption_of(fig: AnimatedFigure) -> str:
    """The caption ``fig`` shows (that of the frame it opens on)."""
    for trace in fig.data:
        if trace.name == ANIMATED_TRACES[6]:
            return str(trace.text[0]).removesuffix("<br> ")
    return ""


def _slider_step(offered: list[int], t: int) -> int:
    """The slider step of frame ``t``: the last offered frame at or before it."""
    return max((k for k, f in enumerate(offered) if f <= t), default=0)


def hover_geometry(x_shape, kwargs: dict) -> dict:
    """The windows of every output cell, as the browser's hover handler (``ui.hover``)
    draws them on a :func:`sliding_figure`'s input picture: per output row its taps'
    input rows, per output column its taps' columns (each ``[coordinate, real]``; a
    window is their product), the first drawn row and column (padding included), the
    drawn grid's and the output's shapes. From the core's ``plan_axes``.

    >>> g = hover_geometry((4, 4), dict(kernel_size=2, stride=2))
    >>> g["rows"][1], g["cols"][0], g["origin"], g["drawn"], g["out"]
    ([[2, True], [3, True]], [[0, True], [1, True]], [0, 0], [4, 4], [2, 2])
    """
    ph, pw = plan_axes(tuple(x_shape), **geometry_kwargs(kwargs))

    def taps(p):
        return [[[int(t), bool(ok)] for t, ok in zip(ts, oks)]
                for ts, oks in zip(p.taps.tolist(), p.inside.tolist())]

    return {"rows": taps(ph), "cols": taps(pw), "origin": [int(ph.drawn[0]), int(pw.drawn[0])],
            "drawn": [len(ph.drawn), len(pw.drawn)], "out": [int(ph.out), int(pw.out)]}


def _show_frame(fig: AnimatedFigure, t: int) -> None:
    """Set ``fig``'s traces, caption and slider to frame ``t``, in place."""
    frame = fig.frames[t]
    for trace, update in zip(frame["traces"], frame["data"]):
        if update:
            fig.data[trace].update(update)
    offered = [int(s["args"][0][0]) for s in fig._plain_sliders[0]["steps"]] \
        if fig._plain_sliders else []
    fig._plain_sliders = [dict(s, active=_slider_step(offered, t)) for s in fig._plain_sliders]


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
