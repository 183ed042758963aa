"""ui/export.py: the offline HTML of an animation, the PNG of a step, and the download
buttons on the pages with animations (AppTest through app.py)."""
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from ui import export, figures
from ui.gif import RED, YELLOW

APP = str(ROOT / "app.py")
SEED = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
KW = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), mode="max")


def test_html_is_self_contained_and_keeps_every_frame():
    fig, _ = figures.animation_figure(SEED, KW)
    page = export.html_bytes(figures.open_at(fig, 2), "Poolscope: test", "anim").decode()
    assert page.startswith("<!doctype html>") and "<title>Poolscope: test</title>" in page
    assert not re.search(r"<script[^>]+src=", page)  # Plotly inlined, nothing fetched
    assert len(page) > 3_000_000  # plotly.js itself
    # the figure's own script: all 4 frames added, opened on step 2, not playing by itself
    script = page[page.rindex("Plotly.newPlot("):]
    added = script[script.index("Plotly.addFrames("):]
    frames = json.loads(added[added.index("["):added.rindex("]);") + 1])
    assert [f["name"] for f in frames] == ["0", "1", "2", "3"]
    assert "out[1, 0] = max(7, 1, 0, 3) = 7" in page  # step 2's caption is the title
    assert "Plotly.animate" not in page  # auto_play=False
    assert '"filename": "anim"' in page and '"scale": 2' in page


def test_title_is_escaped():
    fig = figures.matrix_figure(np.eye(2))
    assert b"<title>a &lt;b&gt; &amp; c</title>" in export.html_bytes(fig, "a <b> & c")


def colours(img):
    return {tuple(c) for c in np.asarray(img.convert("RGB")).reshape(-1, 3)}


@pytest.mark.parametrize("step,filled", [(0, 1), (3, 4)])
def test_step_png_shows_the_window_and_the_output_so_far(step, filled):
    img = Image.open(io.BytesIO(export.step_png(SEED, KW, step)))
    assert img.format == "PNG" and img.width > 200 and img.height > 150
    found = colours(img)
    assert tuple(RED) in found and tuple(YELLOW) in found  # the window, the chosen cell
    # the output panel: cells filled so far have the output's orange shades, others white
    arr = np.asarray(img.convert("RGB")).astype(int)
    orange = (arr[..., 0] > 240) & (arr[..., 2] < 200) & (arr[..., 1] < 235)
    lit = sum(1 for i in range(2) for j in range(2)
              if orange[_cell_y(i), _cell_x(img, j)])
    assert lit == filled


def _cell_y(i):
    from ui.gif import CAPTION_H, CELL, MARGIN
    return MARGIN + CAPTION_H + i * CELL + CELL // 4


def _cell_x(img, j):
    from ui.gif import CELL, MARGIN
    return img.width - MARGIN - (2 - j) * CELL + CELL // 4


def test_step_png_of_a_late_step_of_a_large_matrix():
    x = np.arange(400).reshape(20, 20)
    kw = dict(kernel_size=(2, 2), stride=(1, 1), padding=(0, 0), mode="avg")
    img = Image.open(io.BytesIO(export.step_png(x, kw, 300)))
    assert img.format == "PNG"


def test_chart_config_names_the_png():
    config = export.chart_config("x")
    assert config["toImageButtonOptions"] == {"format": "png", "scale": 2, "filename": "x"}
    assert export.CHART_CONFIG["toImageButtonOptions"]["filename"] == "poolscope"


def download_labels(at):
    return [d.proto.label for d in at.get("download_button")]


@pytest.mark.parametrize("page,expected", [
    ("pages/playground.py", ["Download the animation (HTML, plays offline)",
                             "Download this step (PNG, for slides)"]),
    ("pages/backprop.py", ["Download the animation (HTML, plays offline)"]),
    ("pages/dims.py", ["Download the animation (HTML, plays offline)"]),
])
def test_pages_offer_the_downloads(page, expected):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    if page == "pages/playground.py":  # its tabs are lazy: only the open one runs
        at.query_params["pg_tab"] = "Export"
    at.run()
    assert not at.exception
    labels = download_labels(at)
    for label in expected:
        assert label in labels, labels


def test_every_lesson_step_makes_a_slide_of_the_same_width():
    from ui.quiz_lesson import STEPS
    for number, lesson in enumerate(STEPS, 1):
        img = Image.open(io.BytesIO(export.lesson_slide(lesson, number)))
        assert img.format == "PNG" and img.width == export.SLIDE_WIDTH and img.height >= 720
        pictures = export.lesson_pictures(lesson)
        assert pictures and all(p.width > 50 for p in pictures)
        if lesson.figure == "backward":
            assert len(pictures) == 2  # the pooling and the gradient


def test_plain_text_drops_markdown():
    assert export.plain_text("**max** of `x` [docs](https://a.b) ×") == "max of x docs x"


def test_lesson_step_offers_the_slide_and_the_html():
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/lesson.py")
    at.query_params["step"] = "2"
    at.run()
    at.button(key="lesson_skip_2").click().run()
    assert not at.exception
    labels = download_labels(at)
    assert "Download this step as a slide (PNG)" in labels
    assert "Download the figure (HTML, plays offline)" in labels


def test_step_png_is_the_gifs_frame_of_that_step():
    """The picture of step t (drawn alone, the earlier cells filled in) is the GIF's frame t."""
    x = np.arange(36).reshape(6, 6) % 7
    kw = dict(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), mode="avg")
    steps = figures.animation_steps(x, kw)
    gif = Image.open(io.BytesIO(export.animation_gif(x, kw, steps[:20])))
    gif.seek(19)
    png = Image.open(io.BytesIO(export.step_png(x, kw, 19)))
    assert np.array_equal(np.asarray(gif.convert("RGB")), np.asarray(png.convert("RGB")))
