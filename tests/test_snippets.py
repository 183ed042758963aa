"""The code tab's snippets run on their own (issue 22): each Python one is executed in a
fresh namespace and its ``out`` must be the numbers the playground shows for that framework.

PyTorch, Keras (on its torch backend), ONNX Runtime and scikit-image run here; TensorFlow is
not installed (its snippet is checked for its parts), Caffe and MATLAB are not Python.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before anything imports keras

import numpy as np
import pytest

from pooling_core import pool2d
from pooling_core.conventions import compare_frameworks
from ui import snippets
from ui.pool_settings import PoolSettings
from ui.widgets import random_matrix

SEED = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
SETTINGS = {
    "max 2x2": PoolSettings(),
    "max 3x3 s2 pad 1": PoolSettings(kernel=(3, 3), stride=(2, 2), padding=(1, 1)),
    "avg 3x3 s2 pad 1": PoolSettings(kernel=(3, 3), stride=(2, 2), padding=(1, 1), mode="avg"),
    "avg same": PoolSettings(kernel=(3, 3), stride=(2, 2), padding="same", mode="avg",
                             framework="tensorflow"),
    "max dilated ceil": PoolSettings(kernel=(2, 3), stride=(1, 2), dilation=(2, 1),
                                     ceil_mode=True),
    "lp 3": PoolSettings(mode="lp", p=3.0),
    "sum": PoolSettings(mode="sum"),
}
INPUTS = {"seed 4x4": SEED, "random 5x7": random_matrix(5, 7, 3),
          "halves 6x6": random_matrix(6, 6, 1) / 2 - 2}
RUNNABLE = {"pytorch": "torch", "keras": "keras", "onnx": "onnxruntime",
            "onnxruntime": "onnxruntime", "skimage": "skimage"}


def run(code: str) -> np.ndarray:
    """Execute a snippet as a script would and return its ``out``."""
    namespace = {"__name__": "__snippet__"}
    exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102 - our own snippet
    return np.asarray(namespace["out"], dtype=float)


CASES = [(s, i) for s in SETTINGS for i in INPUTS]


@pytest.mark.parametrize("setting,inp", CASES)
def test_the_core_snippet_runs_and_gives_the_playground_output(setting, inp, capsys):
    x, s = INPUTS[inp], SETTINGS[setting]
    kwargs = s.pool_kwargs(x.shape)
    out = run(snippets.core_snippet(x, kwargs))
    np.testing.assert_allclose(out, pool2d(x, **kwargs))
    assert capsys.readouterr().out  # it prints the result


@pytest.mark.parametrize("setting,inp", CASES)
def test_every_framework_snippet_runs_and_gives_its_numbers(setting, inp, capsys):
    x, s = INPUTS[inp], SETTINGS[setting]
    ran = 0
    for c in compare_frameworks(x, s.conventions_settings(x.shape)):
        if not c.call.ok:
            continue
        code = snippets.snippet(c.framework, c.call.code, x)
        if c.framework in RUNNABLE:
            pytest.importorskip(RUNNABLE[c.framework])
            out = run(code)
            assert out.shape == c.output.shape, code
            if any("torch backend" in note for note in c.call.notes):
                continue  # Keras's SAME average on torch counts the padding (its note says so)
            np.testing.assert_allclose(out, c.output, rtol=1e-5, atol=1e-5,
                                       err_msg=f"{c.framework}:\n{code}")
            ran += 1
        elif c.framework == "tensorflow":
            compile(code, "<snippet>", "exec")  # valid Python, with its imports and x
            assert "import tensorflow as tf" in code and "x = tf.constant(" in code
        else:  # Caffe's prototxt, MATLAB: the matrix and the call are in it
            assert c.call.code in code
            assert all(snippets._number(v) in code for v in x.ravel())
    assert ran >= 1  # PyTorch or ONNX expresses every case above
    assert capsys.readouterr().out


def test_the_playground_code_tab_shows_complete_snippets():
    from streamlit.testing.v1 import AppTest

    from conftest import ROOT
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/playground.py")
    at.query_params["src"] = "Preset"
    at.query_params["pg_tab"] = "Code"  # the tabs are lazy: only the open one runs
    at.run()
    codes = [c.value for c in at.code if "import" in c.value]
    core = next(c for c in codes if "from pooling_core import pool2d" in c)
    torch_code = next(c for c in codes if "import torch" in c)
    for code in (core, torch_code):
        np.testing.assert_array_equal(run(code), [[8, 5], [7, 9]])
