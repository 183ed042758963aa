"""The app frame, the shared sidebar and the matrix playground, through AppTest,
plus the figure builders tested without Streamlit."""
import base64
import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pooling_core import coverage, plan_axes, pool2d, window_cells
from ui import figures, state
from ui.gif import animation_gif

SEED = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
APP = str(ROOT / "app.py")
PLAYGROUND = "pages/playground.py"


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
    import json
    return json.loads(charts[0].proto.spec)


# ---------------------------------------------------------------- app frame


def test_home_links_every_page():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "Pooling" in at.markdown[0].value
    linked = {el.proto.page.rsplit("/", 1)[-1].removesuffix(".py")
              for el in at.get("page_link")}
    pages = {p.stem for p in (ROOT / "pages").glob("*.py")} - {"home"}
    assert linked == pages, (linked, pages)


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
    assert spec["layout"]["title"]["text"].startswith("out[0, 0] = max(")


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
    assert animation(at)["layout"]["title"]["text"].startswith("out[0, 0] = max(")
    at.slider(key="dh").set_value(1).run()
    assert not at.error
    assert animation(at)["layout"]["title"]["text"].startswith("out[0, 0] = avg(")
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
    from ui.state import error_slot
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
    assert animation(at)["layout"]["title"]["text"] == \
        "out[0, 0] = avg(1, 3, 2, 4, 8, 5, 7, 1, 9) = 40 / 9 = 4.44"


def test_seed_preset_gives_the_classic_result():
    at = open_playground()
    at.selectbox(key="preset").set_value("Seed example: 4×4 → [[8 5] [7 9]]").run()
    assert not at.exception
    spec = animation(at)
    out = plotly_array(spec["frames"][-1]["data"][0]["z"])
    np.testing.assert_array_equal(out, [[8, 5], [7, 9]])


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
    assert len(spec["frames"]) == 1 and spec["layout"]["title"]["text"].endswith("= 42")


def test_edited_matrix_travels_in_the_link():
    at = open_playground(src="Edit the grid", rows="2", cols="3", m="1,2,3;4,5,60")
    assert animation(at)["layout"]["title"]["text"] == "out[0, 0] = max(1, 2, 4, 5) = 5"
    assert at.query_params["m"] == "1,2,3;4,5,60"


def test_framework_selector_and_comparison_table():
    at = open_playground(src="Preset", in_preset="Seed example (4×4)", kh="3", sk="false",
                         sh="2", ph="1")
    table = at.dataframe[0].value
    assert list(table["Framework"])[:2] == ["PyTorch", "TensorFlow"]
    assert table.iloc[0]["Output"] == "2×2"
    at.selectbox(key="fw").set_value("keras").run()
    assert not at.exception
    assert any("Keras" in e.value for e in at.error)  # Keras pads only valid/same


def test_downloads_offered():
    at = open_playground()
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
    steps = figures.animation_steps(x, kwargs)
    assert len(fig.frames) == len(steps) == 9 and note == ""
    frame = fig.frames[4]
    rects = [s for s in frame.layout.shapes if s.xref == "x" and s.line.color == figures.WINDOW_COLOR]
    centres = sorted((int(round(r.y0 + 0.5)), int(round(r.x0 + 0.5))) for r in rects)
    assert centres == sorted(map(tuple, steps[4].taps.tolist()))
    assert centres == [(1, 1), (1, 3), (3, 1), (3, 3)]  # dilation 2: gaps between taps
    z = np.array(frame.data[0].z, dtype=float)
    assert np.isfinite(z).sum() == 5  # filled up to and including step 4
    assert frame.layout.title.text == "out[1, 1] = max(6, 8, 16, 18) = 18"


def test_figure_opens_on_a_clicked_output_cell():
    x = np.arange(36).reshape(6, 6)
    kwargs = dict(kernel_size=2)
    steps = figures.animation_steps(x, kwargs)
    selection = {"selection": {"points": [{"x": 2, "y": 1, "curve_number": 3}]}}
    start = figures.clicked_step(selection, steps)
    assert steps[start].index == (1, 2) and figures.clicked_step({}, steps) is None
    fig, _ = figures.animation_figure(x, kwargs, start=start)
    assert fig.layout.title.text == steps[start].caption
    assert fig.layout.sliders[0].active == start
    z = np.array(fig.data[-2].z, dtype=float)  # the output, filled up to the clicked cell
    assert np.isfinite(z).sum() == start + 1
    targets = [t for t in fig.data if t.name == figures.CLICK_TARGETS][0]
    assert len(targets.x) == 9


def test_large_input_animates_a_part_and_says_so():
    x = np.zeros((32, 32))
    fig, note = figures.animation_figure(x, dict(kernel_size=2, stride=1), max_frames=50)
    assert len(fig.frames) == 50 and "first 50 of 961" in note
    fig, note = figures.animation_figure(x, dict(kernel_size=2, stride=1), row=3)
    assert len(fig.frames) == 31 and "row 3" in note


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


@pytest.mark.parametrize("mode, word", [("min", "min("), ("median", "median("),
                                        ("stochastic", "sample(")])
def test_modes_a_framework_lacks_use_its_windows_and_say_so(mode, word):
    at = open_playground()
    at.selectbox(key="mode").set_value(mode).run()
    assert not at.exception and not at.error
    assert any("PyTorch has no" in c.value and "Poolscope computes it" in c.value
               for c in at.caption)
    assert animation(at)["layout"]["title"]["text"].startswith(f"out[0, 0] = {word}")


def test_framework_padding_side_is_drawn():
    # TensorFlow SAME, k=3, s=2, n=6: total padding 1, all of it after (bottom/right)
    at = open_playground(fw="TensorFlow", kh="3", sk="false", sh="2", pad="SAME")
    spec = animation(at)
    rows = plotly_array(spec["data"][0]["y"])
    assert rows.min() == 0 and rows.max() == 6  # no row above, one padded row below
    at.radio(key="pad").set_value("same_lower").run()
    assert any("TensorFlow has no SAME_LOWER padding" in e.value for e in at.error)
    at.selectbox(key="fw").set_value("onnx").run()
    rows = plotly_array(animation(at)["data"][0]["y"])
    assert rows.min() == -1 and rows.max() == 5  # ONNX SAME_LOWER: the odd cell on top


def test_lp_on_a_framework_without_lp_still_divides_by_the_whole_window():
    # TensorFlow has no Lp pooling: the core computes it on TF's SAME windows. A corner window
    # of a 5×5 array of ones reads 4 real cells: (1+1+1+1) ** (1/2) = 2.
    s = state.PoolSettings(kernel=(3, 3), stride=(2, 2), padding="same", mode="lp",
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
