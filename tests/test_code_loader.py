"""The sidebar's "Load settings from code" (ui/code_loader.py), through app.py with AppTest."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from test_playground import caption
from pooling_core.codeparse import parse_pool_code
from pooling_core.conventions import Settings, framework_args
from ui.code_loader import sidebar_values

APP = str(ROOT / "app.py")


def open_page(page="pages/playground.py"):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception
    return at


def load(at, code):
    at.text_area(key="code_in").input(code)
    at.button(key="code_load").click().run()
    assert not at.exception, at.exception
    return at


def title(at):
    """The animation's step caption (a text trace above its grids)."""
    return caption(json.loads(at.get("plotly_chart")[0].proto.spec))


def test_loading_a_pytorch_line_sets_the_sidebar_and_the_figure():
    at = load(open_page(), "nn.MaxPool2d(3, 2, 1, ceil_mode=True)")
    assert at.slider(key="kh").value == 3
    assert at.checkbox(key="sk").value is False and at.slider(key="sh").value == 2
    assert at.radio(key="pad").value == "number" and at.slider(key="ph").value == 1
    assert at.checkbox(key="ceil").value is True
    assert any("Loaded PyTorch max, kernel 3×3, stride 2×2, padding 1×1, ceil_mode" in s.value
               for s in at.success)
    # 6x6, k3 s2 p1 ceil: ceil((6 + 2 - 2 - 1) / 2) + 1 = 4
    assert any(c.value.startswith("ceil(") and c.value.endswith("= 4") for c in at.caption)
    assert at.query_params["kh"] in ("3", ["3"])  # the link follows


def test_loading_tensorflow_same_and_keras_switch_framework():
    at = load(open_page(), 'tf.nn.max_pool2d(x, ksize=3, strides=2, padding="SAME")')
    assert at.selectbox(key="fw").value == "tensorflow" and at.radio(key="pad").value == "same"
    assert not at.error
    load(at, 'tf.keras.layers.AveragePooling2D(pool_size=(2, 3), strides=1)')
    assert at.selectbox(key="fw").value == "keras" and at.selectbox(key="mode").value == "avg"
    assert at.toggle(key="sq").value is False
    assert at.slider(key="kh").value == 2 and at.slider(key="kw").value == 3
    assert title(at).startswith("out[0, 0] = avg(")


def test_loading_onnx_keeps_onnx_runtime_when_chosen():
    at = open_page()
    at.selectbox(key="fw").set_value("onnxruntime").run()
    load(at, 'onnx.helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], '
             'strides=[2, 2], pads=[1, 1, 1, 1])')
    assert at.selectbox(key="fw").value == "onnxruntime" and at.slider(key="ph").value == 1


def test_bad_code_is_a_message_and_nothing_changes():
    at = open_page()
    at.slider(key="kh").set_value(4).run()
    load(at, "nn.MaxPool2d(3, foo=2)")
    assert any("Could not load this code: MaxPool2d has no argument foo" in e.value
               for e in at.error)
    assert at.slider(key="kh").value == 4
    load(at, "nn.MaxPool2d(11)")
    assert any("kernel H=11 is outside the sidebar's range (1–8)" in e.value for e in at.error)
    assert at.slider(key="kh").value == 4
    load(at, "import os; os.system('true')")
    assert any("no pooling call found" in e.value for e in at.error)


def test_adaptive_code_goes_to_the_adaptive_section():
    at = load(open_page(), "nn.AdaptiveAvgPool2d((7, 5))")
    assert any("adaptive section" in s.value for s in at.success)
    at.switch_page("pages/dims.py").run()
    assert not at.exception
    assert at.slider(key="ad_oh").value == 7 and at.slider(key="ad_ow").value == 5


def test_global_code_turns_on_global_pooling():
    at = load(open_page(), "keras.layers.GlobalMaxPooling2D()")
    assert at.toggle(key="glob").value is True and at.selectbox(key="fw").value == "keras"


def test_the_code_tab_reads_back_to_the_same_sidebar():
    """The playground's Code tab, pasted back, leaves every setting as it was."""
    at = open_page()
    at.session_state["pg_tab"] = "Code"  # the tabs are lazy: only the open one runs
    at.slider(key="kh").set_value(3).run()
    at.checkbox(key="sk").uncheck().run()
    at.slider(key="sh").set_value(2).run()
    at.slider(key="ph").set_value(1).run()
    at.selectbox(key="mode").set_value("avg").run()
    at.radio(key="cip").set_value("false").run()
    before = {k: at.session_state[k] for k in ("kh", "sk", "sh", "ph", "mode", "cip", "fw")}
    torch_code = [c.value for c in at.code if "nn.AvgPool2d(" in c.value][0]  # the whole snippet
    load(at, torch_code)
    after = {k: at.session_state[k] for k in before}
    assert after == before


@pytest.mark.parametrize("fw", ["pytorch", "tensorflow", "keras", "onnx", "caffe", "matlab"])
def test_sidebar_values_reproduce_the_call(fw):
    s = Settings(shape=8, kernel=(3, 2), stride=(2, 1), padding="same" if fw in (
        "tensorflow", "keras", "matlab") else 0, mode="avg")
    call = framework_args(s, fw)
    values = sidebar_values(parse_pool_code(call.code))
    assert (values["kh"], values["kw"], values["sh"], values["sw"]) == (3, 2, 2, 1)
    assert values["sq"] is False and values["fw"] == fw and values["mode"] == "avg"
