"""Layouts for small screens: a phone gets the playground's input and output one above the other.

The server does not know the browser's width; a phone says what it is in its User-Agent
("Mobi", RFC-less but what every phone browser sends, Android and iOS alike). On such a
browser :func:`is_phone` is True and :func:`stacked` redraws a two-panel figure (input on
``xaxis``/``yaxis``, output on ``xaxis2``/``yaxis2``, as
:func:`ui.figures.sliding_figure` draws it) with the output below the input, each as wide
as the screen allows, instead of squeezing the output into a sliver beside the input.
Wider screens (a projector, a laptop, a tablet in landscape) keep the side-by-side figure.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

#: the plot's width on a 390 px phone, px (the page's padding and the figure's margins out)
PHONE_PLOT_PX = 330
_TITLE_PX, _GAP_PX = 28, 36


def is_phone() -> bool:
    """True when the browser says it is a phone (``Mobi`` in its User-Agent)."""
    try:
        agent = st.context.headers.get("User-Agent", "") or ""
    except (AttributeError, RuntimeError):  # no browser (AppTest, a bare script)
        return False
    return "Mobi" in agent


def _spans(fig, suffix: str) -> tuple[float, float] | None:
    """The columns and rows panel ``suffix`` shows: its axes' ranges, or (autorange) the
    size of its heatmap; None when neither says."""
    lay = fig.layout
    x, y = lay[f"xaxis{suffix}"], lay[f"yaxis{suffix}"]
    if x.range is not None and y.range is not None:
        return abs(x.range[1] - x.range[0]), abs(y.range[1] - y.range[0])
    for trace in fig.data:
        if trace.type == "heatmap" and (trace.xaxis or "x") == f"x{suffix}":
            shape = _shape(trace.z)
            if shape is not None:
                return shape[1], shape[0]
    return None


def _shape(z) -> tuple[int, int] | None:
    """``(rows, columns)`` of a heatmap's ``z``: nested lists, an array, or Plotly's typed
    array (``{"bdata", "dtype", "shape"}``); None when it is not 2-D."""
    if z is None:
        return None
    if isinstance(z, dict):
        try:
            shape = tuple(int(n) for n in str(z.get("shape", "")).split(","))
        except ValueError:
            return None
    else:
        shape = np.shape(z)
    return (int(shape[0]), int(shape[1])) if len(shape) == 2 else None


def _own_rows(fig, suffix: str) -> int | None:
    """The rows of panel ``suffix``'s heatmap, when it is drawn at row indices 0, 1, ..."""
    for trace in fig.data:
        if trace.type == "heatmap" and (trace.xaxis or "x") == f"x{suffix}" and trace.y is None:
            shape = _shape(trace.z)
            if shape is not None:
                return shape[0]
    return None


def _panels(fig) -> list[str]:
    """The axis suffixes ("", "2", ...) of a figure's panels, when they stand side by side
    in one row and their sizes are known (the builders of ui/figures draw them so); else []."""
    keys = set(fig.layout.to_plotly_json())
    suffixes = [""] + [str(i) for i in range(2, 10) if f"xaxis{i}" in keys]
    if not all(k == "" or f"yaxis{k}" in keys for k in suffixes):
        return []
    if any(_spans(fig, k) is None for k in suffixes):
        return []
    if len({round((fig.layout[f"yaxis{k}"].domain or (0, 1))[1], 6) for k in suffixes}) != 1:
        return []  # not one row of panels (their tops differ): more than one row already
    return suffixes


def wrap(text: str, width: int = 38) -> str:
    """``text`` broken (``<br>``) at spaces into lines of about ``width`` characters.

    >>> wrap("Coverage: how many windows read each input cell", 30)
    'Coverage: how many windows<br>read each input cell'
    """
    if not text or len(text) <= width or "<br>" in text:
        return text
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(lines + [line])


def stacked(fig, plot_px: int = PHONE_PLOT_PX):
    """A copy of ``fig`` with its panels (side by side in one row) one below the other, in
    order, each as wide as ``plot_px`` allows with square cells (at most 40 px) and its
    title above it; long titles wrap and the figure's title is smaller. A figure of another
    shape is only given the smaller, wrapped titles.

    >>> import plotly.graph_objects as go
    >>> fig = go.Figure(layout=dict(
    ...     xaxis=dict(domain=[0, 0.6], range=[-0.5, 5.5]), yaxis=dict(range=[5.5, -0.5]),
    ...     xaxis2=dict(domain=[0.66, 1], range=[-0.5, 2.5]), yaxis2=dict(range=[2.5, -0.5]),
    ...     annotations=[dict(text="Input", x=0.3, y=1), dict(text="Output", x=0.8, y=1)],
    ...     margin=dict(t=70, b=110), height=400))
    >>> s = stacked(fig)
    >>> s.layout.xaxis.domain, s.layout.xaxis2.domain
    ((0, 1), (0, 1))
    >>> s.layout.yaxis.domain[0] > s.layout.yaxis2.domain[1]  # the input above the output
    True
    """
    copy = type(fig)(fig)
    lay = copy.layout
    lay.title.font.size = 12
    extra = 0  # px the wrapped title takes beyond its first line
    if isinstance(lay.title.text, str):
        lay.title.text = wrap(lay.title.text, 44)
        extra = 16 * lay.title.text.count("<br>")
    suffixes = _panels(copy)
    if len(suffixes) < 2:
        for note in lay.annotations:
            note.text = wrap(note.text)
        return copy
    xs = [lay[f"xaxis{k}"] for k in suffixes]
    ys = [lay[f"yaxis{k}"] for k in suffixes]
    titles = {}  # panel -> its title annotation (the one above the panel's x-domain)
    for note in lay.annotations:
        if note.xref in (None, "paper") and note.y is not None and note.y >= 0.99:
            for i, x in enumerate(xs):
                low, high = x.domain or (0, 1)
                if low - 1e-6 <= (note.x if note.x is not None else 0.5) <= high + 1e-6:
                    titles.setdefault(i, note)
    for k, y in zip(suffixes[1:], ys[1:]):  # an output panel drawn at its own height
        rows = _own_rows(copy, k)
        if rows is not None and y.range is not None and y.range[0] > y.range[1]:
            y.range = (rows - 0.5, -0.5)
    spans = [_spans(copy, k) for k in suffixes]
    cell = min(40.0, plot_px / max(max(cols for cols, _ in spans), 1))
    heights = [cell * rows for _, rows in spans]
    plot = sum(heights) + len(xs) * _TITLE_PX + (len(xs) - 1) * _GAP_PX
    top = 1 - _TITLE_PX / plot
    for i, (x, y, height) in enumerate(zip(xs, ys, heights)):
        x.domain = (0, 1)
        y.domain = (max(top - height / plot, 0), top)
        if i in titles:
            titles[i].update(text=wrap(titles[i].text), x=0.5, y=top, xanchor="center",
                             yanchor="bottom")
        top = top - height / plot - (_GAP_PX + _TITLE_PX) / plot
    margin_t = (lay.margin.t if lay.margin.t is not None else 70) + extra
    margin_b = lay.margin.b if lay.margin.b is not None else 80
    lay.margin.t, lay.margin.b = margin_t, margin_b
    lay.height = round(margin_t + margin_b + plot)
    return copy


def fit(fig):
    """``fig`` for this browser: :func:`stacked` on a phone, as it is elsewhere."""
    return stacked(fig) if is_phone() else fig
