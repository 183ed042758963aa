"""The sliding-window figure as the browser gets it (issue 22's speed and promises, issue 20's
output axes), checked without a browser: what each frame carries, the output panel's own
size, the hover geometry against the core's windows, the grids' pictures."""
import json
from urllib.parse import unquote

import numpy as np
import pytest
from plotly.colors import sample_colorscale, unlabel_rgb

from pooling_core import plan_axes, pool2d, window_cells
from ui import figures, widgets
from ui.figures import raster
from ui.figures.sliding import MAX_SLIDER_STEPS, hover_geometry

GEOMETRY = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
CASES = [dict(kernel_size=2, stride=2), dict(kernel_size=3, stride=1, padding=1),
         dict(kernel_size=(2, 3), stride=(1, 2), ceil_mode=True, mode="min"),
         dict(kernel_size=2, stride=1, padding=1, dilation=2, mode="avg")]


def spec_of(fig):
    return json.loads(fig.to_json())


def geometry(kwargs):
    return {k: v for k, v in kwargs.items() if k in GEOMETRY}


@pytest.mark.parametrize("kwargs", CASES)
def test_hover_geometry_is_the_cores_windows(kwargs):
    """The browser's hover draws, for output cell (i, j), row taps × column taps: exactly the
    cells (and which are padding) that window_cells says the window reads."""
    shape = (7, 8)
    g = hover_geometry(shape, kwargs)
    wc = window_cells(shape, **geometry(kwargs))
    assert g["out"] == list(wc.coords.shape[:2])
    for i in range(g["out"][0]):
        for j in range(g["out"][1]):
            drawn = [((r, c), r_ok and c_ok) for r, r_ok in g["rows"][i] for c, c_ok in g["cols"][j]]
            want = list(zip(map(tuple, wc.coords[i, j].reshape(-1, 2).tolist()),
                            wc.inside[i, j].ravel().tolist()))
            assert drawn == want
    ph, pw = plan_axes(shape, **geometry(kwargs))
    assert g["origin"] == [ph.drawn[0], pw.drawn[0]] and g["drawn"] == [len(ph.drawn), len(pw.drawn)]


@pytest.mark.parametrize("kwargs", CASES)
def test_the_output_panel_has_the_outputs_own_size_and_its_empty_grid(kwargs):
    x = np.random.default_rng(0).integers(0, 10, (7, 8))
    out = pool2d(x, **kwargs)
    spec = spec_of(figures.animation_figure(x, kwargs)[0])
    lay = spec["layout"]
    rows, cols = out.shape
    assert lay["yaxis2"]["range"] == [rows - 0.5, -0.5] and lay["xaxis2"]["range"] == [-0.5, cols - 0.5]
    ph, pw = plan_axes(x.shape, **geometry(kwargs))
    span = max(len(ph.drawn), rows)
    # each panel takes its rows' share of the height from the top: same cell size in both
    assert lay["yaxis"]["domain"] == pytest.approx([1 - len(ph.drawn) / span, 1])
    assert lay["yaxis2"]["domain"] == pytest.approx([1 - rows / span, 1])
    out_image = [im for im in lay["images"] if im["xref"] == "x2"][0]
    assert (out_image["sizey"], out_image["sizex"]) == out.shape
    assert (out_image["x"], out_image["y"]) == (-0.5, -0.5)
    grid = spec["data"][[t["name"] for t in spec["data"]].index("output grid")]
    xs = [v for v in grid["x"] if v is not None]
    ys = [v for v in grid["y"] if v is not None]
    # every cell border of the output, computed or not
    assert sorted(set(xs)) == [c - 0.5 for c in range(cols + 1)]
    assert sorted(set(ys)) == [r - 0.5 for r in range(rows + 1)]


def test_frames_carry_only_what_changes_and_do_not_redraw():
    x = widgets.random_matrix(32, 32, 0)
    fig, _ = figures.animation_figure(x, dict(kernel_size=2, stride=1))
    spec = spec_of(fig)
    names = [t["name"] for t in spec["data"]]
    # nothing a frame would have to redraw: no heatmap (the grids are pictures)
    assert {t["type"] for t in spec["data"]} <= {"scatter", "bar"}
    animated = [names.index(n) for n in figures.ANIMATED_TRACES]
    for frame in spec["frames"][:50] + spec["frames"][-5:]:
        assert frame["traces"] == list(range(len(names)))  # every trace listed (see sliding.py)
        for k, update in zip(frame["traces"], frame["data"]):
            if k not in animated or names[k] == "output grid":
                assert update == {}  # static: unchanged
        assert "layout" not in frame  # a layout change would need a full redraw
    play = spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]
    assert play["frame"]["redraw"] is False
    slider = spec["layout"]["sliders"][0]
    assert all(s["args"][1]["frame"]["redraw"] is False for s in slider["steps"])


def test_past_40_frames_the_slider_has_a_step_per_output_row():
    x = widgets.random_matrix(32, 32, 0)
    fig, _ = figures.animation_figure(x, dict(kernel_size=2, stride=1))
    steps = spec_of(fig)["layout"]["sliders"][0]["steps"]
    # out[i, 0] for every row, then the last cell
    assert [s["args"][0][0] for s in steps] == [str(31 * i) for i in range(31)] + ["960"]
    assert len(steps) <= 31 + 1
    opened = spec_of(figures.open_at(fig, 5 * 31 + 7))
    assert opened["layout"]["sliders"][0]["active"] == 5  # the step of its row
    small, _ = figures.animation_figure(np.arange(36).reshape(6, 6), dict(kernel_size=2, stride=1))
    assert len(spec_of(small)["layout"]["sliders"][0]["steps"]) == 25 <= MAX_SLIDER_STEPS


def test_the_caption_is_a_trace_each_frame_rewrites():
    x = np.arange(16).reshape(4, 4)
    kwargs = dict(kernel_size=2)
    steps = figures.animation_steps(x, kwargs)
    spec = spec_of(figures.animation_figure(x, kwargs, start=2)[0])
    k = [t["name"] for t in spec["data"]].index("caption")
    assert spec["data"][k]["mode"] == "text"
    assert spec["data"][k]["text"][0].startswith(steps[2].caption)
    for t, frame in enumerate(spec["frames"]):
        assert frame["data"][frame["traces"].index(k)]["text"][0].startswith(steps[t].caption)


def test_heatmap_image_colours_cells_as_plotly_does():
    z = np.array([[0.0, 2.5, 10.0], [np.nan, 7.0, 1.0]])
    rgb = raster.cell_colors(z, "Blues", 0, 10)
    for (r, c), v in np.ndenumerate(z):
        if np.isfinite(v):
            want = unlabel_rgb(sample_colorscale("Blues", [v / 10])[0])
            assert np.abs(rgb[r, c].astype(float) - want).max() <= 1
    # white text on dark cells, Plotly's dark grey on light ones
    assert raster.text_colors(np.array([[8, 48, 107], [247, 251, 255]])).tolist() == \
        ["#ffffff", "#444444"]
    image, hovers = raster.heatmap_image([dict(x=[0, 1, 2], y=[0, 1], z=z, colorscale="Blues",
                                               zmin=0, zmax=10,
                                               text=[["0", "2.5", "10"], ["", "7", "1"]],
                                               hovertemplate="%{text}")])
    svg = unquote(image["source"].split(",", 1)[1])
    assert svg.count("<rect") == 5  # the NaN cell is not drawn
    assert ">2.5</text>" in svg and image["layer"] == "below"
    assert (image["sizex"], image["sizey"], image["x"], image["y"]) == (3, 2, -0.5, -0.5)
    assert hovers[0]["x"] == [0, 1, 2, 1, 2] and hovers[0]["y"] == [0, 0, 0, 1, 1]
    assert hovers[0]["text"] == ["0", "2.5", "10", "7", "1"]


def test_the_input_picture_covers_the_drawn_grid_with_its_numbers():
    x = np.arange(12).reshape(3, 4)
    kwargs = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    spec = spec_of(figures.animation_figure(x, kwargs)[0])
    image = [im for im in spec["layout"]["images"] if im["xref"] == "x"][0]
    ph, pw = plan_axes(x.shape, **geometry(kwargs))
    assert (image["sizey"], image["sizex"]) == (len(ph.drawn), len(pw.drawn))
    assert (image["y"], image["x"]) == (ph.drawn[0] - 0.5, pw.drawn[0] - 0.5)
    svg = unquote(image["source"].split(",", 1)[1])
    for v in x.ravel():
        assert f">{v}</text>" in svg
    assert "−∞" in svg  # the padding ring shows what a padded cell is worth to max


def test_backprop_figures_write_their_numbers_in_pictures_the_frames_leave_alone():
    """Backprop at 12×12: unpooling's three 12×12 panels write their numbers in pictures
    (the 6×6 pooled panel keeps Plotly's text), with no grey 0 left under a value put
    back; the backward animation keeps the text of the
    heatmap its frames redraw (∂L/∂x) and pictures the static ∂L/∂out."""
    x = widgets.random_matrix(12, 12, 0)
    kw = dict(kernel_size=2, mode="max")
    unpool = figures.unpool_figure(x, kw)
    assert [t.texttemplate for t in unpool.data] == [None, "%{text}", None, None]
    # one picture an axes (Plotly drew only one of two on the same axes): the zeros, then the
    # values put back over the cells the zeros leave empty
    assert [(im.xref, im.yref) for im in unpool.layout.images] == [("x", "y"), ("x3", "y3")]
    back = unquote(unpool.layout.images[1].source.split(",", 1)[1])
    assert back.count(">0</text>") == 144 - 36 and back.count("</text>") == 144
    kept = unpool.data[3]
    for r, c in np.argwhere(np.isfinite(np.asarray(kept.z, dtype=float)))[:3].tolist():
        assert f'<text x="{c * 100 + 50}" y="{r * 100 + 50}"' in back
    g = np.ones((11, 11))  # stride 1: an 11×11 ∂L/∂out
    fig = figures.backward_figure(x, dict(kw, stride=1), g)
    assert fig.data[0].texttemplate == "%{text}"  # redrawn by every frame
    static = [t for t in fig.data if t.name == "∂L/∂out"]
    assert static[0].texttemplate is None and len(fig.layout.images) == 1


def test_large_annotated_heatmaps_write_their_numbers_in_one_picture():
    """Coverage and panels: past TEXT_PICTURE_CELLS cells the numbers go into a picture
    above the heatmap (which keeps its colours and hover); small ones keep Plotly's text."""
    from pooling_core import coverage
    cov = coverage((32, 32), kernel_size=3, stride=2)
    fig = figures.coverage_figure(cov)
    assert fig.data[0].texttemplate is None and fig.data[0].type == "heatmap"
    (image,) = fig.layout.images
    assert image.layer == "above" and (image.sizex, image.sizey) == (32, 32)
    svg = unquote(image.source.split(",", 1)[1])
    assert "<rect" not in svg  # the numbers only: the heatmap draws the colours
    assert svg.count("</text>") == cov.size and ">0 ✗</text>" in svg
    small = figures.coverage_figure(coverage((6, 6), kernel_size=2, stride=2))
    assert small.data[0].texttemplate == "%{text}" and not small.layout.images
    panels = figures.panels_figure([dict(values=np.arange(256).reshape(16, 16), title="big"),
                                    dict(values=np.ones((4, 4)), title="small")])
    assert [t.texttemplate for t in panels.data] == [None, "%{text}"]
    assert [(im.xref, im.yref) for im in panels.layout.images] == [("x", "y")]
