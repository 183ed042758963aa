"""Exports for lessons and slides: an animation as one offline HTML file, a step as a PNG.

:func:`html_bytes` writes a figure as a self-contained HTML page (Plotly's JavaScript
inlined, no server, no network): ▶ Play, the step slider and the hover texts work from
``file://``. :func:`step_png` draws one step of the playground's animation with Pillow
(the GIF's drawing, :mod:`ui.gif`; Plotly's own PNG export needs kaleido, which the app
does not ship), and :func:`lesson_slide` a whole lesson step (title, text, pictures) as
one PNG slide of a fixed width. :func:`downloads` puts the buttons next to a figure, drawn only when
clicked (:func:`ui.budget.deferred`). :data:`CHART_CONFIG` is the Plotly config the
exports share: the camera button of every chart and of the HTML file saves a PNG at twice
the screen's resolution, a size slides can use.
"""
from __future__ import annotations

import io
import re
import textwrap

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from pooling_core import adaptive_pool2d, pool2d, pool2d_backward
from ui import budget
from ui.figures import animation_steps, fmt
from ui.gif import CELL, MARGIN, PLAIN, _font, _shade, animation_gif

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
    its chosen cell, the output filled up to this step, the caption."""
    steps = animation_steps(np.asarray(x2d), kwargs, limit=step + 1)
    gif = Image.open(io.BytesIO(animation_gif(x2d, kwargs, steps[-1:], filled=steps[:-1])))
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


# ----------------------------------------------------------------------------- slides

SLIDE_WIDTH = 1280  # every slide the same width (16:9 at 720 px high, taller if it needs)
TEXT_CHARS = 100    # characters per line of the slide's text


def grid_image(values, title: str) -> Image.Image:
    """A matrix as the GIF draws its input: shaded cells with their values, a title."""
    v = np.atleast_2d(np.asarray(values, dtype=float))
    finite = v[np.isfinite(v)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    font, head = _font(12), _font(14)
    img = Image.new("RGB", (max(2 * MARGIN + v.shape[1] * CELL, 160),
                            2 * MARGIN + 24 + v.shape[0] * CELL), "white")
    d = ImageDraw.Draw(img)
    d.text((MARGIN, MARGIN), title.translate(PLAIN), fill="black", font=head)
    for (i, j), value in np.ndenumerate(v):
        x, y = MARGIN + j * CELL, MARGIN + 24 + i * CELL
        d.rectangle([x, y, x + CELL - 2, y + CELL - 2], fill=_shade(value, lo, hi))
        d.text((x + CELL / 2 - 1, y + CELL / 2 - 1), fmt(value).translate(PLAIN),
               fill="black", font=font, anchor="mm")
    return img


def plain_text(markdown: str) -> str:
    """Markdown as a slide shows it: no ``**``, backticks or link targets."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown)
    return re.sub(r"[*`_]{1,2}(?=\S)|(?<=\S)[*`_]{1,2}", "", text).translate(PLAIN)


def slide_png(title: str, text: str, pictures) -> bytes:
    """One slide: ``title``, ``text`` wrapped, then ``pictures`` (PIL images) side by side,
    each scaled to fit :data:`SLIDE_WIDTH`; PNG bytes."""
    lines = [ln for para in plain_text(text).split("\n")
             for ln in (textwrap.wrap(para, TEXT_CHARS) or [""])]
    head, body = _font(36), _font(20)
    top = 40 + 56 + 30 * len(lines) + 20
    gap, room = 30, SLIDE_WIDTH - 80
    total = sum(p.width for p in pictures) + gap * max(len(pictures) - 1, 0)
    scale = min(2.0, room / total) if total else 1.0
    shown = [p.resize((round(p.width * scale), round(p.height * scale)), Image.LANCZOS)
             for p in pictures]
    height = max(720, top + max((p.height for p in shown), default=0) + 40)
    slide = Image.new("RGB", (SLIDE_WIDTH, height), "white")
    d = ImageDraw.Draw(slide)
    d.text((40, 40), plain_text(title), fill="black", font=head)
    for k, line in enumerate(lines):
        d.text((40, 40 + 56 + 30 * k), line, fill=(40, 40, 40), font=body)
    x = 40
    for p in shown:
        slide.paste(p, (x, top))
        x += p.width + gap
    buf = io.BytesIO()
    slide.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def lesson_pictures(lesson) -> list:
    """The pictures of a lesson step (:class:`ui.quiz_lesson.LessonStep`): the pooling's
    last step (every output filled), the gradient, or the adaptive output."""
    x, kw = np.asarray(lesson.x, dtype=float), dict(lesson.kwargs)
    if lesson.output_size is not None:
        out = adaptive_pool2d(x, lesson.output_size, kw.get("mode", "max"))
        return [grid_image(x, "Input"), grid_image(out, "Adaptive output")]
    out = pool2d(x, **kw)
    pictures = [Image.open(io.BytesIO(step_png(x, kw, out.size - 1)))]
    if lesson.figure == "backward":
        grad = pool2d_backward(np.ones(out.shape), x, **kw)
        pictures.append(grid_image(grad, "dL/dx for dL/dout = 1"))
    if lesson.compare_divisors:
        pictures += [grid_image(pool2d(x, **{**kw, "count_include_pad": cip}),
                                f"count_include_pad={cip}") for cip in (True, False)]
    return pictures


def lesson_slide(lesson, number: int) -> bytes:
    """A whole lesson step as one PNG slide."""
    return slide_png(f"{number}. {lesson.title}", lesson.text, lesson_pictures(lesson))


def lesson_downloads(lesson, number: int, figs) -> None:
    """The lesson step's downloads: the slide (PNG) and its first figure as offline HTML."""
    st.download_button("Download this step as a slide (PNG)",
                       budget.deferred(lambda: lesson_slide(lesson, number)),
                       f"poolscope_lesson_step{number}.png", "image/png",
                       key=f"lesson_png_{number}", on_click="ignore", icon=":material/image:",
                       help="The step's title, text and pictures on one 1280-px-wide slide.")
    if figs:
        st.download_button("Download the figure (HTML, plays offline)",
                           budget.deferred(lambda: html_bytes(
                               figs[0], f"Poolscope lesson, step {number}",
                               f"poolscope_lesson_step{number}")),
                           f"poolscope_lesson_step{number}.html", "text/html",
                           key=f"lesson_html_{number}", on_click="ignore",
                           icon=":material/html:", help=HTML_HELP)
