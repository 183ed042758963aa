"""Heatmaps drawn as one picture: an SVG image the browser draws in one go.

A Plotly heatmap with its numbers written in (``texttemplate``) costs the browser one
SVG text element, laid out by Plotly's script, per cell: about half a second for the
2,000 cells of a 32×32 animation, on every redraw (docs/performance.md). And a
heatmap cannot take part in an animation's frames that skip the full redraw. So
:func:`heatmap_image` turns heatmap traces into a layout image (an SVG data URI:
the cells' colours from the trace's colorscale, as Plotly maps them, and their
text, black or white by the cell's brightness as Plotly picks it) and a hover
trace in ``lines`` mode (hover on every cell, one invisible path for them all).
"""
from __future__ import annotations

from urllib.parse import quote

import numpy as np
from plotly.colors import get_colorscale, hex_to_rgb, unlabel_rgb

FONT = "'Open Sans', verdana, arial, sans-serif"  # Plotly's default
UNIT = 100  # SVG units a cell
INSET = 2   # the white gap around each cell (Plotly's xgap=1 px at about 25 px a cell)


def _rgb(color: str) -> tuple[float, float, float]:
    color = color.strip()
    if color.startswith("#"):
        return tuple(float(v) for v in hex_to_rgb(color))
    return tuple(float(v) for v in unlabel_rgb(color))[:3]


def cell_colors(z, colorscale, zmin: float, zmax: float) -> np.ndarray:
    """``(..., 3)`` uint8 RGB of each value of ``z`` as a Plotly heatmap colours it (linear
    RGB interpolation between the scale's stops, values clipped to ``zmin..zmax``)."""
    scale = get_colorscale(colorscale) if isinstance(colorscale, str) else colorscale
    stops = np.array([float(s) for s, _ in scale])
    rgb = np.array([_rgb(c) for _, c in scale])
    z = np.asarray(z, dtype=float)
    t = np.clip((np.nan_to_num(z, nan=zmin) - zmin) / ((zmax - zmin) or 1.0), 0, 1)
    out = np.stack([np.interp(t, stops, rgb[:, k]) for k in range(3)], axis=-1)
    return np.rint(out).astype(np.uint8)


def text_colors(rgb: np.ndarray) -> np.ndarray:
    """White on dark cells, Plotly's dark grey on light ones (tinycolor's brightness)."""
    rgb = np.asarray(rgb, dtype=float)
    bright = rgb @ np.array([0.299, 0.587, 0.114])
    return np.where(bright < 128, "#ffffff", "#444444")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def heatmap_image(traces, *, xref="x", yref="y", cell_px: float = 25.0, fill: bool = True):
    """``(image, hovers)`` for heatmap ``traces`` (dicts or ``go.Heatmap``, drawn in order,
    on the same integer cell grid of ``x``/``y`` coordinates): ``image`` is a layout
    image below the traces of ``xref``/``yref``; ``hovers`` one ``lines``-mode scatter
    trace a heatmap, with its ``hovertemplate`` and ``text``.

    A cell whose ``z`` is NaN is not drawn (the heatmaps stack as they would). The
    text is sized for cells of about ``cell_px`` pixels (13 px, less in small cells).
    With ``fill=False`` the picture has the text only, above the traces (the heatmap
    itself still draws the colours: :func:`text_as_picture`).

    >>> image, hovers = heatmap_image([dict(x=[0, 1], y=[0], z=[[1.0, 2.0]], text=[["1", "2"]],
    ...                                     colorscale="Blues", zmin=1, zmax=2)])
    >>> image["sizex"], image["sizey"], image["source"].startswith("data:image/svg+xml,")
    (2, 1, True)
    >>> hovers[0]["x"], hovers[0]["mode"]
    ([0, 1], 'lines')
    """
    traces = [t.to_plotly_json() if hasattr(t, "to_plotly_json") else t for t in traces]
    xs = sorted({int(v) for t in traces for v in np.asarray(t["x"]).ravel()})
    ys = sorted({int(v) for t in traces for v in np.asarray(t["y"]).ravel()})
    x0, y0 = xs[0], ys[0]
    w, h = xs[-1] - x0 + 1, ys[-1] - y0 + 1
    size = round(UNIT * min(0.55, 13.0 / max(cell_px, 1.0)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w * UNIT} {h * UNIT}" '
             f'preserveAspectRatio="none" font-family="{FONT}" text-anchor="middle" '
             f'dominant-baseline="central">']
    hovers = []
    for t in traces:
        z = np.asarray(t["z"], dtype=float)
        tx, ty = np.asarray(t["x"]).astype(int), np.asarray(t["y"]).astype(int)
        text = np.asarray(t.get("text") if t.get("text") is not None else np.full(z.shape, ""),
                          dtype=object)
        rgb = cell_colors(z, t.get("colorscale") or "Blues", float(t.get("zmin", np.nanmin(z))),
                          float(t.get("zmax", np.nanmax(z))))
        fixed = (t.get("textfont") or {}).get("color")
        ink = np.full(z.shape, fixed, dtype=object) if fixed else text_colors(rgb)
        drawn = np.argwhere(np.isfinite(z))
        for r, c in drawn.tolist():
            px, py = (tx[c] - x0) * UNIT, (ty[r] - y0) * UNIT
            if fill:
                color = "#%02x%02x%02x" % tuple(int(v) for v in rgb[r, c])
                parts.append(f'<rect x="{px + INSET}" y="{py + INSET}" '
                             f'width="{UNIT - 2 * INSET}" height="{UNIT - 2 * INSET}" '
                             f'fill="{color}"/>')
            label = str(text[r, c])
            if label:
                fs = min(size, round(UNIT * 1.6 / max(len(label), 1)))
                parts.append(f'<text x="{px + UNIT // 2}" y="{py + UNIT // 2}" '
                             f'font-size="{fs}" fill="{ink[r, c]}">{_esc(label)}</text>')
        # one invisible line through every cell: one path, and a hover point a cell
        hx = [int(v) for v in tx[drawn[:, 1]]]
        hy = [int(v) for v in ty[drawn[:, 0]]]
        htext = [str(text[r, c]) for r, c in drawn.tolist()]
        hovers.append(dict(type="scatter", mode="lines", x=hx, y=hy,
                           text=htext, line=dict(width=0, color="rgba(0,0,0,0)"),
                           xaxis=xref, yaxis=yref, showlegend=False,
                           name=t.get("name", ""), hovertemplate=t.get("hovertemplate"),
                           customdata=_flat_customdata(t, drawn)))
    parts.append("</svg>")
    svg = "".join(parts)
    image = dict(source="data:image/svg+xml," + quote(svg, safe=" =/:;,.-_'()\""),
                 xref=xref, yref=yref, x=x0 - 0.5, y=y0 - 0.5, sizex=w, sizey=h,
                 sizing="stretch", xanchor="left", yanchor="top",
                 layer="below" if fill else "above")
    return image, hovers


# heatmaps of this many cells or more write their numbers in a picture (a text element
# each costs the browser about 0.3 ms on every draw: the 4 × 144 of backprop's
# unpooling panels at 12×12 about 0.2 s, twice a change)
TEXT_PICTURE_CELLS = 64


def cell_px_across(columns: int, most: float = 44.0, width: float = 640.0) -> float:
    """About how many pixels a cell takes when ``columns`` cells share a figure's width
    (``width`` px, a wide page's main column), ``most`` at most: the size
    :func:`text_as_picture` fits its numbers to.

    >>> cell_px_across(36), cell_px_across(6)
    (17.77777777777778, 44.0)
    """
    return min(most, width / max(columns, 1))


def text_as_picture(fig, min_cells: int = TEXT_PICTURE_CELLS, cell_px: float = 25.0):
    """``fig`` with the numbers of each large annotated heatmap (``texttemplate``, at least
    ``min_cells`` cells) written in an SVG picture above it instead, in place; the heatmap
    keeps its colours, hover and ``text``. Heatmaps on the same axes share one picture,
    written in their order (of two layout images on the same axes, the browser showed only
    one). A heatmap the figure's frames change keeps its text (a picture would not follow
    them). Returns ``fig``.

    >>> import plotly.graph_objects as go
    >>> fig = text_as_picture(go.Figure(go.Heatmap(z=np.ones((20, 20)), text=np.full((20, 20), "1"),
    ...                                          texttemplate="%{text}")))
    >>> fig.data[0].texttemplate, len(fig.layout.images), fig.layout.images[0].layer
    (None, 1, 'above')
    """
    animated = {int(i) for frame in fig.frames or ()  # go.Frame, or a plain dict
                for i in (frame.get("traces") if isinstance(frame, dict) else frame.traces) or ()}
    axes: dict[tuple[str, str], list] = {}
    for k, trace in enumerate(fig.data):
        if trace.type != "heatmap" or not trace.texttemplate or trace.text is None \
                or k in animated:
            continue
        z = np.asarray(trace.z, dtype=float)
        if z.size < min_cells:
            continue
        spec = trace.to_plotly_json()
        spec.setdefault("x", list(range(z.shape[1])))
        spec.setdefault("y", list(range(z.shape[0])))
        if spec.get("zmin") is None or spec.get("zmax") is None:
            lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
            spec["zmin"], spec["zmax"] = lo, hi if hi > lo else lo + 1
        spec["colorscale"] = _scale_of(fig, trace)
        axes.setdefault((trace.xaxis or "x", trace.yaxis or "y"), []).append((trace, spec))
    for (xref, yref), traces in axes.items():
        image, _ = heatmap_image([spec for _, spec in traces], xref=xref, yref=yref,
                                 cell_px=cell_px, fill=False)
        fig.add_layout_image(image)
        for trace, _ in traces:
            trace.texttemplate = None
    return fig


def _scale_of(fig, trace):
    """The colorscale a heatmap is drawn with: its own, or the template's default."""
    if trace.colorscale is not None:
        return [[float(s), c] for s, c in trace.colorscale]
    return "Plasma"


def _flat_customdata(trace, drawn):
    data = trace.get("customdata")
    if data is None:
        return None
    data = np.asarray(data, dtype=object)
    return [data[r, c] for r, c in drawn.tolist()]
