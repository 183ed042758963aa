"""The app frame, the shared sidebar and the matrix playground, through AppTest,
plus the figure builders tested without Streamlit."""
import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pooling_core import coverage, plan_axes, pool2d, window_cells
from ui import figures, pool_settings, startup, widgets
from ui.gif import animation_gif

SEED = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
APP = str(ROOT / "app.py")
PLAYGROUND = "pages/playground.py"
GEOMETRY = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")


def open_playground(**query):
    """The playground reached through app.py, as a shared link ``?key=value`` opens it."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PLAYGROUND)
    for key, value in query.items():  # bound widgets read the URL (labels, as users see them)
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def plotly_array(value):
    """A Plotly JSON array, plain or base64-typed (``{"bdata", "dtype", "shape"}``)."""
    if isinstance(value, dict) and "bdata" in value:
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), value["dtype"]).reshape(shape)
    return np.array(value, dtype=float)


def formula_text(at):
    return [c.value for c in at.caption if c.value.startswith(("floor", "ceil"))]


def animation(at):
    charts = [c for c in at.get("plotly_chart")]
    return json.loads(charts[0].proto.spec)


def trace_index(spec, name):
    return [t.get("name") for t in spec["data"]].index(name)


def caption(spec, frame=None):
    """The step caption a sliding figure shows (a text trace above the grids), or that
    ``frame`` writes."""
    if frame is not None:
        text = frame_parts(spec, frame)["caption"]["text"][0]
    else:
        text = spec["data"][trace_index(spec, "caption")]["text"][0]
    return text.removesuffix("<br> ")


def drawn_grid(spec, xref):
    """The numbers written in the layout image on ``xref``'s axes (a sliding figure's grids
    are SVG pictures), as a 2-D array of strings, row by row."""
    from urllib.parse import unquote
    image = [im for im in spec["layout"]["images"] if im["xref"] == xref][0]
    svg = unquote(image["source"].split(",", 1)[1])
    cells = {(int(y) // 100, int(x) // 100): t
             for x, y, t in re.findall(r'<text x="(\d+)" y="(\d+)"[^>]*>([^<]*)</text>', svg)}
    assert (image["sizex"], image["sizey"]) == (max(c for _, c in cells) + 1,
                                                max(r for r, _ in cells) + 1)
    grid = np.full((image["sizey"], image["sizex"]), "", dtype=object)
    for (r, c), t in cells.items():
        grid[r, c] = t
    return grid


def drawn_rows(spec):
    """The input rows the sliding figure's input picture covers (padding included)."""
    image = [im for im in spec["layout"]["images"] if im["xref"] == "x"][0]
    return np.arange(image["sizey"]) + round(image["y"] + 0.5)


def drawn_output(spec):
    """The output values the figure writes in its output panel."""
    return drawn_grid(spec, "x2").astype(float)


def boxes(update):
    """The rectangles ``(x0, x1, y0, y1)`` of a trace drawn by ``ui.figures.sliding._boxes``."""
    xs, ys = update["x"], update["y"]
    out = []
    for k in range(0, len(xs), 6):
        assert xs[k + 5] is None and ys[k + 5] is None  # one closed path per rectangle
        assert (xs[k], ys[k]) == (xs[k + 4], ys[k + 4])
        out.append((min(xs[k:k + 5]), max(xs[k:k + 5]), min(ys[k:k + 5]), max(ys[k:k + 5])))
    return out


def cells_in(rects):
    """The unit cells (row, col) the rectangles cover (cell edges sit at half steps)."""
    return {(r, c) for x0, x1, y0, y1 in rects
            for r in range(round(y0 + 0.5), round(y1 + 0.5))
            for c in range(round(x0 + 0.5), round(x1 + 0.5))}


def bars(update):
    """The cells (row, col) of a bar trace drawn by the window: one bar a cell, its
    column ``x``, from the row's top edge ``base`` down one row."""
    assert update["y"] == [1] * len(update["x"]) == [1] * len(update["base"])
    return [(round(b + 0.5), x) for x, b in zip(update["x"], update["base"])]


def sent(fig):
    """The figure as the browser gets it: its JSON, parsed (the builders keep their
    frames as tuples, which JSON makes lists)."""
    return json.loads(fig.to_json())


def frame_parts(spec, frame):
    """What a frame of ``figures.sliding_figure`` shows, by trace name."""
    names = [spec["data"][i]["name"] for i in frame["traces"]]
    return dict(zip(names, frame["data"]))


def check_frames(fig, x, kwargs):
    """Every frame outlines exactly ``window_cells``' taps of its output cell (padding ones
    apart, each tap outlined, dilation gaps left uncovered), marks the output cell, and
    reveals the output row by row up to it, with pool2d's values."""
    spec = sent(fig)
    for name in ("window", "window (padding)"):  # bars one cell wide, each outlined
        trace = spec["data"][trace_index(spec, name)]
        assert trace["type"] == "bar" and trace["width"] == 1 and trace["marker"]["line"]["width"]
    assert spec["layout"]["barmode"] == "overlay"
    wc = window_cells(x.shape, **{k: v for k, v in kwargs.items() if k in GEOMETRY})
    out = pool2d(x, **kwargs)
    # drawn once, whole, at its own size; frames hide what is not due
    np.testing.assert_array_equal(drawn_grid(spec, "x2"), figures.windows.cell_text(out))
    assert spec["layout"]["yaxis2"]["range"] == [out.shape[0] - 0.5, -0.5]
    assert spec["layout"]["xaxis2"]["range"] == [-0.5, out.shape[1] - 0.5]
    assert len(spec["frames"]) == out.size
    for t, frame in enumerate(spec["frames"]):
        i, j = divmod(t, out.shape[1])
        part = frame_parts(spec, frame)
        taps = [tuple(rc) for rc in wc.coords[i, j].reshape(-1, 2).tolist()]
        inside = wc.inside[i, j].ravel().tolist()
        # one bar (a cell, outlined) per tap: the real ones, then the padding ones
        assert bars(part["window"]) == [rc for rc, ok in zip(taps, inside) if ok]
        assert bars(part["window (padding)"]) == [rc for rc, ok in zip(taps, inside) if not ok]
        assert cells_in(boxes(part["output cell"])) == {(i, j)}
        hidden = cells_in(boxes(part["not yet computed"]))
        shown = {divmod(k, out.shape[1]) for k in range(t + 1)}
        assert hidden == {(a, b) for a in range(out.shape[0]) for b in range(out.shape[1])} - shown
        assert caption(spec, frame).startswith(f"out[{i}, {j}] = ")
        assert caption(spec, frame).endswith(f" = {figures.fmt(out[i, j])}")
    return spec


# ---------------------------------------------------------------- app frame


def test_home_links_every_page():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "Pooling" in at.markdown[0].value
    linked = {el.proto.page.rsplit("/", 1)[-1].removesuffix(".py")
              for el in at.get("page_link")}
    pages = {p.stem for p in (ROOT / "pages").glob("*.py")} - {"home"}
    assert linked == pages, (linked, pages)


def test_the_app_freezes_its_startup_objects_once():
    """app.py takes the imported libraries' objects out of the collector's scans on its
    first run, and later runs (other sessions, other pages) leave the rest collectable."""
    import gc

    import streamlit
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and startup._STARTUP_FROZEN
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # Streamlit, Plotly, pandas, NumPy
    keep = [[] for _ in range(1000)]  # new container objects: collectable, not frozen
    open_playground()
    startup.freeze_startup_objects()
    assert gc.get_freeze_count() <= frozen  # nothing more frozen (some frozen ones freed)
    collectable = {id(obj) for obj in gc.get_objects()}  # generations 0-2, not the frozen
    assert all(id(k) in collectable for k in keep)
    assert id(vars(streamlit)) not in collectable


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "pages").glob("*.py")))
def test_every_page_runs_through_the_app(page):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, at.exception
    assert at.title, f"{page} has no title"


# ---------------------------------------------------------------- playground


def test_playground_default_shows_formula_and_animation():
    at = open_playground()
    assert at.title[0].value == "Matrix playground"
    assert formula_text(at)[0] == ("floor((6 + 2·0 - 1·(2 - 1) - 1) / 2) + 1 = floor(4 / 2) + 1 "
                                   "= 2 + 1 = 3")
    spec = animation(at)
    assert len(spec["frames"]) == 9  # 3×3 output cells
    assert caption(spec).startswith("out[0, 0] = max(")


def test_each_control_changes_output_and_formula():
    at = open_playground()
    before = formula_text(at)[0]
    at.slider(key="kh").set_value(3).run()
    assert not at.exception
    after = formula_text(at)[0]
    assert after != before and after.startswith("floor((6 + 2·0 - 1·(3 - 1) - 1) / 3)")
    at.checkbox(key="sk").uncheck().run()
    at.slider(key="sh").set_value(1).run()
    assert formula_text(at)[0].endswith("= 4")  # floor(3/1)+1
    at.radio(key="pad").set_value("same").run()  # PyTorch has no SAME: refused, with a hint
    assert any("PyTorch has no 'same' padding" in e.value and "TensorFlow" in e.value
               for e in at.error)
    at.selectbox(key="fw").set_value("tensorflow").run()
    assert not at.error
    assert any("SAME: out = ceil(n / s) = ceil(6 / 1) = 6" in i.value for i in at.info)
    at.selectbox(key="fw").set_value("pytorch").run()
    at.radio(key="pad").set_value("number").run()
    at.slider(key="dh").set_value(2).run()
    assert formula_text(at)[0].startswith("floor((6 + 2·0 - 2·(3 - 1) - 1) / 1)")
    at.selectbox(key="mode").set_value("avg").run()
    # PyTorch's AvgPool2d has no dilation: a message, and the last valid (max) result stays
    assert any("has no dilation" in e.value for e in at.error)
    assert caption(animation(at)).startswith("out[0, 0] = max(")
    at.slider(key="dh").set_value(1).run()
    assert not at.error
    assert caption(animation(at)).startswith("out[0, 0] = avg(")
    at.checkbox(key="ceil").check().run()
    assert formula_text(at)[0].startswith("ceil(")


def test_bad_combination_shows_error_keeps_last_result():
    at = open_playground()
    at.slider(key="kh").set_value(4).run()
    at.slider(key="ph").set_value(3).run()  # 3 > 4 // 2
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any("PyTorch requires padding ≤ kernel/2 (here kernel (4, 4), stride (4, 4), "
               "padding (3, 3)" in m and "These settings work in: TensorFlow" in m
               for m in messages)
    assert any("last valid result" in m for m in messages)
    assert at.get("plotly_chart"), "the last valid figure stays on screen"
    at.slider(key="ph").set_value(2).run()
    assert not at.error


def test_error_slot_names_the_control_at_fault():
    from ui.pool_settings import error_slot
    assert error_slot("padding=3 is more than half of kernel_size=4") == "padding"
    assert error_slot("framework=PyTorch: nn.AvgPool2d in PyTorch has no dilation (here ...") \
        == "dilation"
    assert error_slot("framework=Keras: Keras pooling pads only 'valid' or 'same' (here") \
        == "padding"
    assert error_slot("framework=Caffe: Caffe has no median pooling (here ...") == "mode"


def test_window_larger_than_input_is_a_message_not_a_traceback():
    at = open_playground()
    at.slider(key="rows").set_value(3).run()
    at.slider(key="kh").set_value(5).run()
    assert not at.exception
    assert any("more than the input" in e.value for e in at.error)


def test_query_string_restores_state():
    at = open_playground(kh="3", sk="false", sh="1", mode="Average", src="Preset",
                         in_preset="Seed example (4×4)")
    assert at.slider(key="kh").value == 3 and at.selectbox(key="mode").value == "avg"
    # seed 4×4, k=3, s=1: out = floor((4 - 2 - 1) / 1) + 1 = 2
    assert formula_text(at)[0].endswith("= 1 + 1 = 2")
    assert caption(animation(at)) == \
        "out[0, 0] = avg(1, 3, 2, 4, 8, 5, 7, 1, 9) = 40 / 9 = 4.44"


def test_seed_preset_gives_the_classic_result():
    at = open_playground()
    at.selectbox(key="preset").set_value("Seed example: 4×4 → [[8 5] [7 9]]").run()
    assert not at.exception
    spec = animation(at)
    np.testing.assert_array_equal(drawn_output(spec), [[8, 5], [7, 9]])
    assert frame_parts(spec, spec["frames"][-1])["not yet computed"]["x"] == []  # all shown


def test_presets_and_reset():
    at = open_playground()
    at.selectbox(key="preset").set_value("TensorFlow SAME 3×3 stride 2").run()
    assert not at.exception
    assert at.radio(key="pad").value == "same" and at.selectbox(key="fw").value == "tensorflow"
    at.selectbox(key="preset").set_value("Global average").run()
    assert formula_text(at)[0].endswith("= 0 + 1 = 1")
    at.button[0].click().run() if at.button[0].label == "Reset" else None
    reset = [b for b in at.button if b.label == "Reset"][0]
    reset.click().run()
    assert at.slider(key="kh").value == 2 and at.selectbox(key="mode").value == "max"


def test_editable_grid_drives_the_output():
    at = open_playground(src="Edit the grid", rows="2", cols="2")
    assert at.data_editor[0].value.shape == (2, 2)
    at.session_state["grid_2x2"] = {"edited_rows": {1: {"1": 42}}, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    assert not at.exception
    spec = animation(at)
    assert len(spec["frames"]) == 1 and caption(spec).endswith("= 42")


def test_edited_matrix_travels_in_the_link():
    at = open_playground(src="Edit the grid", rows="2", cols="3", m="1,2,3;4,5,60")
    assert caption(animation(at)) == "out[0, 0] = max(1, 2, 4, 5) = 5"
    assert at.query_params["m"] == "1,2,3;4,5,60"


def test_framework_selector_and_comparison_table():
    at = open_playground(src="Preset", in_preset="Seed example (4×4)", kh="3", sk="false",
                         sh="2", ph="1")
    table = at.table[0].value
    assert list(table["Framework"])[:2] == ["PyTorch", "TensorFlow"]
    assert table.iloc[0]["Output"] == "2×2"
    at.selectbox(key="fw").set_value("keras").run()
    assert not at.exception
    assert any("Keras" in e.value for e in at.error)  # Keras pads only valid/same


def test_downloads_offered():
    at = open_playground(pg_tab="Export")  # the tabs are lazy: only the open one runs
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the animation (GIF)" in labels and "Download the output (CSV)" in labels


# ---------------------------------------------------------------- figure builders


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=2, stride=1, dilation=2), dict(kernel_size=3, stride=2, padding="same",
                                                     mode="avg", count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), ceil_mode=True, mode="min"),
])
def test_steps_read_the_cells_window_cells_gives(kwargs):
    x = np.arange(42).reshape(6, 7) % 5
    steps = figures.animation_steps(x, kwargs)
    wc = window_cells(x.shape, **{k: v for k, v in kwargs.items()
                                  if k in ("kernel_size", "stride", "padding", "dilation",
                                           "ceil_mode")})
    out = pool2d(x, **kwargs)
    assert len(steps) == out.size
    for s in steps:
        np.testing.assert_array_equal(s.taps, wc.coords[s.index].reshape(-1, 2))
        np.testing.assert_array_equal(s.inside, wc.inside[s.index].ravel())
        assert s.value == out[s.index]


def test_figure_frames_outline_the_window_and_fill_the_output():
    kwargs = dict(kernel_size=2, stride=1, dilation=2)
    x = np.arange(25).reshape(5, 5)
    fig, note = figures.animation_figure(x, kwargs)
    assert note == ""
    spec = check_frames(fig, x, kwargs)
    part = frame_parts(spec, spec["frames"][4])
    # dilation 2: four separate taps, the gaps between them not covered
    assert bars(part["window"]) == [(1, 1), (1, 3), (3, 1), (3, 3)]
    assert boxes(part["chosen cell"]) == [(2.58, 3.42, 2.58, 3.42)]  # 18 at (3, 3)
    assert caption(spec, spec["frames"][4]) == "out[1, 1] = max(6, 8, 16, 18) = 18"


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=(1, 2),
                                                   ceil_mode=True, mode="min"),
    dict(kernel_size=3, stride=1, padding=1, dilation=2, mode="avg"),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 3), mode="median"),
])
def test_every_frame_matches_the_core(kwargs):
    x = np.random.default_rng(1).integers(0, 10, size=(7, 8))
    check_frames(figures.animation_figure(x, kwargs)[0], x, kwargs)


def test_a_32x32_matrix_animates_every_cell_in_under_5_mb():
    """The issue's worst case for the animation: 2×2 stride 1 on 32×32, 961 output cells."""
    x = widgets.random_matrix(32, 32, 0)
    kwargs = dict(kernel_size=2, stride=1)
    fig, note = figures.animation_figure(x, kwargs)
    assert note == "" and len(fig.frames) == 961
    check_frames(fig, x, kwargs)
    assert len(fig.to_json().encode()) < 1_000_000  # the budget is 5 MB
    # the most frames and taps a 32×32 input can have in the playground (PyTorch's limit,
    # padding ≤ kernel/2): 8×8 windows, dilation 2, padding 4 (26×26 windows of 64 taps)
    big = dict(kernel_size=8, stride=1, padding=4, dilation=2)
    fig, _ = figures.animation_figure(x, big)
    assert len(fig.frames) == 676 and len(fig.to_json().encode()) < 2_000_000


def test_frames_do_not_grow_with_the_step_number():
    x = widgets.random_matrix(32, 32, 0)
    frames = figures.animation_figure(x, dict(kernel_size=2, stride=1))[0].frames
    sizes = [len(json.dumps(f)) for f in frames]
    assert max(sizes) - min(sizes) < 200  # the longest caption and box list, not the output


def test_figure_is_valid_plotly():
    """The builders skip Plotly's validation for speed: check here that what they write is
    what Plotly accepts (go.Figure validates data, layout and every frame)."""
    import plotly.graph_objects as go
    x = np.arange(30).reshape(5, 6) % 7
    for kwargs in (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                   dict(kernel_size=2, stride=1, dilation=2, mode="avg")):
        fig, _ = figures.animation_figure(x, kwargs, start=3)
        checked = go.Figure(fig.to_dict())
        assert len(checked.frames) == len(fig.frames)
        assert checked.layout.sliders[0].active == 3
        json.dumps(fig.to_dict())  # JSON-ready: no arrays left for a slow fallback encoder


def test_figure_survives_pickling_and_copies_share_the_frames():
    import pickle
    x = np.arange(36).reshape(6, 6)
    fig, _ = figures.animation_figure(x, dict(kernel_size=2))
    back = pickle.loads(pickle.dumps(fig))
    assert type(back) is figures.AnimatedFigure
    assert json.loads(back.to_json()) == json.loads(fig.to_json())
    copy = figures.AnimatedFigure(fig)
    assert copy.frames[3] is fig.frames[3]
    assert json.loads(copy.to_json()) == json.loads(fig.to_json())


def test_figure_opens_on_a_clicked_output_cell():
    x = np.arange(36).reshape(6, 6)
    kwargs = dict(kernel_size=2)
    steps = figures.animation_steps(x, kwargs)
    selection = {"selection": {"points": [{"x": 2, "y": 1, "curve_number": 3}]}}
    start = figures.clicked_step(selection, steps)
    assert steps[start].index == (1, 2) and figures.clicked_step({}, steps) is None
    assert figures.clicked_cell(selection) == (1, 2) and figures.clicked_cell(None) is None
    fig, _ = figures.animation_figure(x, kwargs)
    opened = figures.open_at(fig, start)
    for shown in (opened, figures.animation_figure(x, kwargs, start=start)[0]):
        spec = sent(shown)
        assert caption(spec) == steps[start].caption
        assert spec["layout"]["sliders"][0]["active"] == start
        for name, update in frame_parts(spec, spec["frames"][start]).items():
            trace = spec["data"][trace_index(spec, name)]
            assert {key: trace.get(key) for key in update} == update
    # the cached figure itself still opens on the first cell
    assert figures.caption_of(fig) == steps[0].caption and fig.sliders[0]["active"] == 0
    targets = [t for t in fig.data if t.name == figures.CLICK_TARGETS][0]
    assert len(plotly_array(targets.x)) == 9


def test_past_the_cap_the_animation_covers_a_part_and_says_so():
    x = np.zeros((32, 32))
    fig, note = figures.animation_figure(x, dict(kernel_size=2, stride=1), max_frames=50)
    assert len(fig.frames) == 50 and "first 50 of 961" in note
    spec = sent(fig)  # cells past the animation stay hidden in its last frame
    hidden = cells_in(boxes(frame_parts(spec, spec["frames"][-1])["not yet computed"]))
    assert len(hidden) == 961 - 50 and (1, 18) not in hidden and (1, 19) in hidden
    fig, note = figures.animation_figure(x, dict(kernel_size=2, stride=1), row=3)
    assert len(fig.frames) == 31 and "row 3" in note
    spec = sent(fig)
    hidden = cells_in(boxes(frame_parts(spec, spec["frames"][0])["not yet computed"]))
    assert len(hidden) == 960 and (3, 0) not in hidden


def test_playground_animates_every_cell_of_a_32x32_matrix():
    at = open_playground(rows="32", cols="32", sk="false", sh="1")
    spec = animation(at)
    assert len(spec["frames"]) == 961 and not at.info
    assert len(at.get("plotly_chart")[0].proto.spec.encode()) < 5_000_000


def test_padding_cells_are_drawn_with_their_value():
    traces, (rows, cols) = figures.grid_layers(np.ones((3, 3)), dict(kernel_size=3, padding=1))
    pad = [t for t in traces if t.name == "padding"][0]
    assert rows.tolist() == [-1, 0, 1, 2, 3] and pad.text[0][0] == "−∞"
    traces, _ = figures.grid_layers(np.ones((3, 3)), dict(kernel_size=3, padding=1, mode="avg"))
    assert [t for t in traces if t.name == "padding"][0].text[0][0] == "0"


def test_coverage_figure_marks_unread_cells():
    cov = coverage((5, 5), 2)
    fig = figures.coverage_figure(cov)
    marks = [t for t in fig.data if t.name == "never read"][0]
    assert len(marks.x) == 9  # last row and column


def test_gif_has_one_frame_per_step_and_shows_the_grid():
    kwargs = dict(kernel_size=2)
    steps = figures.animation_steps(SEED, kwargs)
    data = animation_gif(SEED, kwargs, steps)
    img = Image.open(io.BytesIO(data))
    assert img.format == "GIF" and img.n_frames == 4
    plans = plan_axes(SEED.shape, 2)
    assert img.size[0] > (plans[1].n + plans[1].out) * 30
    # frame 0 outlines out[0, 0]'s window in the exact red (one palette for all frames)
    from ui import gif
    x0 = y0 = gif.MARGIN
    y0 += gif.CAPTION_H
    assert img.convert("RGB").getpixel((x0 + 1, y0 + gif.CELL // 2)) == gif.RED
    img.seek(3)  # the last frame: out[1, 1], whose window starts at input (2, 2)
    rgb = img.convert("RGB")
    assert rgb.getpixel((x0 + 2 * gif.CELL + 1, y0 + 2 * gif.CELL + gif.CELL // 2)) == gif.RED
    assert rgb.getpixel((x0 + 1, y0 + gif.CELL // 2)) != gif.RED


@pytest.mark.parametrize("mode, word", [("min", "min("), ("median", "median("),
                                        ("stochastic", "sample(")])
def test_modes_a_framework_lacks_use_its_windows_and_say_so(mode, word):
    at = open_playground()
    at.selectbox(key="mode").set_value(mode).run()
    assert not at.exception and not at.error
    assert any("PyTorch has no" in c.value and "Poolscope computes it" in c.value
               for c in at.caption)
    assert caption(animation(at)).startswith(f"out[0, 0] = {word}")


def test_framework_padding_side_is_drawn():
    # TensorFlow SAME, k=3, s=2, n=6: total padding 1, all of it after (bottom/right)
    at = open_playground(fw="TensorFlow", kh="3", sk="false", sh="2", pad="SAME")
    spec = animation(at)
    rows = drawn_rows(spec)
    assert rows.min() == 0 and rows.max() == 6  # no row above, one padded row below
    at.radio(key="pad").set_value("same_lower").run()
    assert any("TensorFlow has no SAME_LOWER padding" in e.value for e in at.error)
    at.selectbox(key="fw").set_value("onnx").run()
    rows = drawn_rows(animation(at))
    assert rows.min() == -1 and rows.max() == 5  # ONNX SAME_LOWER: the odd cell on top


def test_lp_on_a_framework_without_lp_still_divides_by_the_whole_window():
    # TensorFlow has no Lp pooling: the core computes it on TF's SAME windows. A corner window
    # of a 5×5 array of ones reads 4 real cells: (1+1+1+1) ** (1/2) = 2.
    s = pool_settings.PoolSettings(kernel=(3, 3), stride=(2, 2), padding="same", mode="lp",
                           framework="tensorflow")
    kwargs, note = s.resolve((5, 5))
    assert note.startswith("TensorFlow has no lp pooling")
    assert pool2d(np.ones((5, 5)), **kwargs)[0, 0] == 2.0


def test_hover_names_the_real_cells_a_dilated_padded_window_reads():
    hover = figures.window_hover((5, 5), dict(kernel_size=3, stride=1, padding=1, dilation=2))
    # out[0, 0]: taps at -1, 1, 3 on each axis; the real ones are 1 and 3
    assert hover[0, 0] == "reads rows 1–3 step 2, cols 1–3 step 2"
    assert hover[1, 2] == "reads rows 0–4 step 2, cols 1–3 step 2"


def test_csv_and_link_values_read_back_exactly():
    assert figures.exact(40 / 9) == repr(40 / 9) and figures.exact(8.0) == "8"
    assert figures.exact(-np.inf) == "-inf" and figures.exact(1234.5) == "1234.5"


def test_count_include_pad_defaults_to_the_paddings_own_average():
    # ONNX, average, SAME 2x2 stride 1 on the seed matrix: the default divides by the real
    # cells (ONNX's count_include_pad=0); True counts the padding; a link's old true/false
    # still reads.
    at = open_playground(src="Preset", in_preset="Seed example (4×4)", mode="Average",
                         pad="SAME", sk="false", sh="1", fw="onnx", pg_tab="Code")
    assert at.radio(key="cip").value == "default"
    codes = [c.value for c in at.code]
    assert any("count_include_pad=0" in c for c in codes), codes
    assert any("count_include_pad=False" in c for c in codes)  # the core's own call
    at.radio(key="cip").set_value("true").run()
    assert any("count_include_pad=1" in c.value for c in at.code)
    assert any("count_include_pad=True" in c.value for c in at.code)
    old = open_playground(mode="Average", pad="SAME", cip="false")
    assert old.session_state["cip"] == "false" and not old.exception


def test_onnx_runtime_gets_its_own_row_and_reason_where_it_departs_from_the_spec():
    # SAME, kernel 2, dilation 2, stride 1: onnxruntime pads for the undilated kernel
    at = open_playground(fw="onnx", pad="SAME", sk="false", sh="1", dh="2")
    table = at.table[0].value
    names = list(table["Framework"])
    assert "ONNX" in names and "ONNX Runtime" in names
    assert any(c.value.startswith("**ONNX Runtime**: ONNX Runtime sizes SAME padding for the "
                                  "undilated kernel") for c in at.caption)
    # pads 2 with kernel 2 and dilation 3 (taps -2 and 1): the spec takes it, onnxruntime not
    at = open_playground(fw="onnx", sk="false", sh="1", dh="3", ph="2")
    table = at.table[0].value
    row = table[table["Framework"] == "ONNX Runtime"].iloc[0]
    assert row["Values vs PyTorch"] == "cannot express (see below)"  # the reason wraps below
    assert "**ONNX Runtime** cannot express these settings: ONNX Runtime requires each pad < " \
           "kernel." in [c.value for c in at.caption]
    # the 6×6 matrix: (6 + 2 + 2 - 3·(2 - 1) - 1) / 1 + 1 = 7
    assert table[table["Framework"] == "ONNX"].iloc[0]["Output"] == "7×7"
    # the same reason by the sidebar when ONNX Runtime is the chosen framework
    at.selectbox(key="fw").set_value("onnxruntime").run()
    assert any("ONNX Runtime requires each pad < kernel" in e.value for e in at.error)
    # settings where onnxruntime agrees: one ONNX row
    at = open_playground(fw="onnx")
    assert "ONNX Runtime" not in list(at.table[0].value["Framework"])
