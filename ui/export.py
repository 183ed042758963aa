"""Exports for lessons and slides: an animation as one offline HTML file, a step as a PNG.

:func:`html_bytes` writes a figure as a self-contained HTML page (Plotly's JavaScript
inlined, no server, no network): ▶ Play, the step slider and the hover texts work from
``file://``. :func:`step_png` draws one step of the playground's animation with Pillow
(the GIF's drawing, :mod:`ui.gif`; Plotly's own PNG export needs kaleido, which the app
does not ship). :func:`downloads` puts the buttons next to a figure, drawn only when
clicked (:func:`ui.budget.deferred`). :data:`CHART_CONFIG` is the Plotly config the
exports share: the camera button of every chart and of the HTML file saves a PNG at twice
the screen's resolution, a size slides can use.
"""
from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from ui import budget
from ui.figures import animation_steps
from ui.gif import MAX_GIF_FRAMES, animation_gif

#: Plotly's config for charts and HTML exports: the camera button saves a 2× PNG
CHART_CONFIG = {"toImageButtonOptions": {"format": "png", "scale": 2,
                                         "filename": "poolscope"},
                "displaylogo": False}
HTML_HELP = ("One HTML file with Plotly inlined (about 5 MB): open it in any browser, with "
             "no server and no network, to play, scrub and hover the animation. Drawn when "
             "you click.")
PNG_HELP = ("The step on screen as a picture for slides: the input with the window, the "
            "output so far and the step's caption. Every chart's camera button (top right) "
            "also saves a PNG of that chart.")


def chart_config(name: str) -> dict:
    """:data:`CHART_CONFIG` with the PNG's file name ``name``."""
    return {**CHART_CONFIG, "toImageButtonOptions": {**CHART_CONFIG["toImageButtonOptions"],
                                                     "filename": name}}


def html_bytes(fig, title: str = "Poolscope", name: str = "poolscope") -> bytes:
    """``fig`` as one self-contained HTML page (UTF-8), opened on the step it shows.

    >>> import plotly.graph_objects as go
    >>> page = html_bytes(go.Figure(go.Heatmap(z=[[1, 2]])), "Two cells")
    >>> b"<title>Two cells</title>" in page, b"<script src=" in page, len(page) > 3_000_000
    (True, False, True)
    """
    html = fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False,
                       config=chart_config(name))
    return html.replace("<head>", f"<head>\n    <title>{_escape(title)}</title>", 1).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def step_png(x2d, kwargs: dict, step: int) -> bytes:
    """PNG bytes of step ``step`` of the playground's animation of ``x2d``: the window and
    its chosen cell, the output filled up to this step, the caption.

    The output shows the :data:`~ui.gif.MAX_GIF_FRAMES` steps up to this one (all of
    them on any matrix of up to 16×16 outputs).
    """
    steps = animation_steps(np.asarray(x2d), kwargs, limit=step + 1)
    shown = steps[max(0, len(steps) - MAX_GIF_FRAMES):]
    gif = Image.open(io.BytesIO(animation_gif(x2d, kwargs, shown)))
    gif.seek(gif.n_frames - 1)
    buf = io.BytesIO()
    gif.convert("RGB").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def downloads(fig, name: str, key: str, *, title: str = "Poolscope", png=None) -> None:
    """The offline HTML download of ``fig`` and, when ``png`` (a function giving PNG
    bytes) is given, the PNG of the step on screen; files ``name``.html / .png."""
    st.download_button("Download the animation (HTML, plays offline)",
                       budget.deferred(lambda: html_bytes(fig, title, name)), f"{name}.html",
                       "text/html", key=f"{key}_html", on_click="ignore",
                       icon=":material/html:", help=HTML_HELP)
    if png is not None:
        st.download_button("Download this step (PNG, for slides)", budget.deferred(png),
                           f"{name}_step.png", "image/png", key=f"{key}_png",
                           on_click="ignore", icon=":material/image:", help=PNG_HELP)
