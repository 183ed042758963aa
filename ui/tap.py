"""What a chart's hover says, also for a click or a tap (phones and tablets have no hover).

:func:`chart` draws a Plotly figure with Streamlit's point selection on; a click (or tap)
on a point reruns the page, and :func:`hover_text` writes what that point's hover label
says under the chart. The text is the trace's own ``hovertemplate`` filled in with the
point's values (``%{x}``, ``%{y}``, ``%{z}``, ``%{text}``, ``%{customdata}``, with
``:.3g``-style formats), or its ``text``, so hover and tap never disagree.
"""
from __future__ import annotations

import re

import numpy as np
import streamlit as st

from ui import export, presenter
from ui.figures import AnimatedFigure

_FIELD = re.compile(r"%\{([a-z]+)(?:\[(\d+)\])?(?::([^}]*))?\}")


def _pick(values, point: dict, trace_type: str):
    """The entry of a per-point array (``text``, ``customdata``) for ``point``."""
    if values is None:
        return None
    arr = np.asarray(values, dtype=object)
    if trace_type == "heatmap" and arr.ndim >= 2:
        try:
            return arr[int(round(float(point["y"]))), int(round(float(point["x"])))]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    index = point.get("point_index", point.get("point_number"))
    if arr.ndim == 0 or index is None:
        return arr.item() if arr.ndim == 0 else None
    flat = arr.reshape(-1, *arr.shape[2:]) if arr.ndim > 1 and trace_type != "scatter" else arr
    return flat[int(index)] if 0 <= int(index) < len(flat) else None


def _format(value, spec: str) -> str:
    if value is None:
        return ""
    if spec and isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        try:
            return format(float(value), spec)
        except ValueError:
            return str(value)
    return str(value)


def hover_text(fig, point: dict) -> str | None:
    """What ``fig``'s hover label says for a selected ``point`` (Streamlit's selection
    point: ``curve_number``, ``point_index``, ``x``, ``y``, ...), as plain text; None when
    the trace has no hover label.

    >>> import plotly.graph_objects as go
    >>> fig = go.Figure(go.Scatter(x=[0, 1], y=[2.5, 4.25], text=["a", "b"],
    ...                            hovertemplate="out[%{x}] = %{y:.2f} (%{text})<extra></extra>"))
    >>> hover_text(fig, {"curve_number": 0, "point_index": 1, "x": 1, "y": 4.25})
    'out[1] = 4.25 (b)'
    """
    try:
        trace = fig.data[int(point.get("curve_number", 0))]
    except (IndexError, TypeError, ValueError):
        return None
    if getattr(trace, "hoverinfo", None) == "skip":
        return None
    kind = trace.type
    template = getattr(trace, "hovertemplate", None)
    values = {"x": point.get("x"), "y": point.get("y"), "z": point.get("z")}
    if values["z"] is None and kind == "heatmap" and trace.z is not None:
        values["z"] = _pick(trace.z, point, kind)
    values["text"] = _pick(getattr(trace, "text", None), point, kind)
    values["customdata"] = _pick(getattr(trace, "customdata", None), point, kind)
    if not template:
        return None if values["text"] is None else str(values["text"])
    if isinstance(template, (list, tuple)):
        template = template[int(point.get("point_index", 0)) % len(template)]

    def fill(m):
        value = values.get(m.group(1))
        if m.group(2) is not None and value is not None:
            value = np.asarray(value, dtype=object).ravel()[int(m.group(2))]
        return _format(value, m.group(3) or "")
    text = _FIELD.sub(fill, re.sub(r"<extra>.*?</extra>", "", template))
    parts = [p.strip() for p in re.split(r"<br\s*/?>", text)]
    # "click to ..." tells a mouse user what a click does: the tap has just done it
    return "; ".join(p for p in parts if p and not p.startswith("click")) or None


def selected_text(fig, selection) -> str | None:
    """The hover label of the point a chart's selection state (``on_select``) holds."""
    points = ((selection or {}).get("selection") or {}).get("points") or []
    return hover_text(fig, points[0]) if points else None


def chart(fig, *, key: str, **kwargs) -> None:
    """``st.plotly_chart(fig)`` whose points also answer a click or tap: the hover label of
    the last one clicked shows under the chart. In presenter mode the figure is drawn
    large (:func:`ui.presenter.figure`); its camera button saves a PNG at twice the
    screen's resolution (:func:`ui.export.chart_config`), as the exports' do."""
    fig = presenter.figure(fig)  # large on a projector
    if fig.layout.clickmode is None:  # a click selects the point (and reruns the page)
        fig = AnimatedFigure(fig) if isinstance(fig, AnimatedFigure) else type(fig)(fig)
        fig.update_layout(clickmode="event+select")
    kwargs.setdefault("config", export.chart_config(f"poolscope_{key}"))  # a 2x camera PNG
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points",
                            **kwargs)
    text = selected_text(fig, event)
    if text:
        st.caption(f"Tapped: {text}")
