"""What the screen says is what it does (issue 22): the stride control starts from the
stride in force, a refused setting is named next to a greyed figure, the seed preset's
sliders say its size and the Preset box says "Custom" once the settings leave it."""
import json

from streamlit.testing.v1 import AppTest

from conftest import ROOT
from test_playground import caption
from ui import widgets
from ui.pool_settings import SEED_PRESET

APP = str(ROOT / "app.py")


def open_page(page="playground", **query):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(f"pages/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def chart(at, key):
    (el,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key) or
             key in c.proto.id]
    return json.loads(el.proto.spec)


def stale_lines(at):
    return [w.value for w in at.warning if w.value.startswith("**Not updated**")]


def greyed(spec):
    return (spec["layout"].get("paper_bgcolor") == widgets.STALE_BACKGROUND
            and all(t.get("opacity") == widgets.STALE_OPACITY
                    for t in spec["data"] + spec["layout"].get("images", [])))


# ------------------------------------------------------------------ the stride in force


def test_unticking_stride_equals_kernel_keeps_the_stride_in_force():
    at = open_page()
    at.slider(key="kh").set_value(3).run()
    at.checkbox(key="sk").uncheck().run()
    assert at.slider(key="sh").value == 3
    assert [c.value for c in at.caption if c.value.startswith("floor")][0].startswith(
        "floor((6 + 2·0 - 1·(3 - 1) - 1) / 3)")


def test_unticking_with_separate_axes_takes_each_kernel_axis():
    at = open_page(sq="false", kh="3", kw="4")
    at.checkbox(key="sk").uncheck().run()
    assert (at.slider(key="sh").value, at.slider(key="sw").value) == (3, 4)


# ------------------------------------------------------------------ a refused setting


def test_a_refused_setting_is_named_next_to_a_greyed_figure():
    at = open_page(kh="3", dh="2")
    assert not stale_lines(at) and not greyed(chart(at, "animation"))
    at.selectbox(key="mode").set_value("avg").run()  # PyTorch's AvgPool2d has no dilation
    (line,) = stale_lines(at)
    assert "no dilation" in line and "mode Max" in line and "\n" not in line
    assert greyed(chart(at, "animation")) and greyed(chart(at, "coverage"))
    # the figure is still the last valid one (max)
    assert caption(chart(at, "animation")).startswith("out[0, 0] = max(")
    at.selectbox(key="mode").set_value("max").run()
    assert not stale_lines(at) and not greyed(chart(at, "animation"))


def test_the_notice_names_what_the_stale_figure_was_computed_with():
    at = open_page(page="backprop", kh="2")
    at.slider(key="ph").set_value(2).run()  # more than half the kernel: refused
    (line,) = stale_lines(at)
    assert "padding" in line and "(here padding 0)" in line, line
    assert greyed(chart(at, "bp_forward_fig"))


def test_greyed_copies_and_leaves_the_original():
    import plotly.graph_objects as go
    fig = go.Figure(go.Heatmap(z=[[1, 2]], opacity=0.5))
    grey = widgets.greyed(fig)
    assert grey.data[0].opacity == 0.5 * widgets.STALE_OPACITY
    assert fig.data[0].opacity == 0.5 and fig.layout.paper_bgcolor is None


# ------------------------------------------------------------------ presets


def test_the_seed_preset_sliders_say_four_by_four():
    at = open_page()
    at.selectbox(key="preset").set_value(SEED_PRESET).run()
    rows, cols = at.slider(key="rows"), at.slider(key="cols")
    assert (rows.value, cols.value) == (4, 4) and rows.proto.disabled and cols.proto.disabled
    assert at.selectbox(key="preset").value == SEED_PRESET


def test_the_preset_box_says_custom_once_the_settings_leave_the_preset():
    at = open_page()
    assert at.selectbox(key="preset").proto.placeholder == "Choose a preset…"
    at.selectbox(key="preset").set_value("Overlapping 3×3 stride 2 (AlexNet)").run()
    assert at.selectbox(key="preset").value == "Overlapping 3×3 stride 2 (AlexNet)"
    at.slider(key="kh").set_value(4).run()
    box = at.selectbox(key="preset")
    assert box.value is None and box.proto.placeholder == "Custom"
    at.run()  # stays Custom
    assert at.selectbox(key="preset").proto.placeholder == "Custom"
    at.button[0].click().run()  # Reset
    assert at.selectbox(key="preset").proto.placeholder == "Choose a preset…"


def test_the_seed_preset_becomes_custom_when_the_input_changes():
    at = open_page()
    at.selectbox(key="preset").set_value(SEED_PRESET).run()
    at.radio(key="src").set_value("random").run()
    at.run()
    assert at.selectbox(key="preset").proto.placeholder == "Custom"
