"""pooling_core.codeparse: framework code read back into settings (issue 17, code in both
directions). The round trips take the code the code panel shows
(conventions.framework_args / adaptive_args) and check that it reads back to settings
whose own code and pool2d arguments are the same."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pooling_core import MODES, pool2d
from pooling_core.codeparse import ParsedPool, parse_pool_code
from pooling_core.conventions import FRAMEWORKS, Settings, adaptive_args, framework_args

ISSUE_EXAMPLES = {
    "nn.MaxPool2d(3, 2, 1, ceil_mode=True)":
        dict(framework="pytorch", mode="max", kernel=(3, 3), stride=(2, 2), padding=(1, 1),
             ceil_mode=True),
    "torch.nn.functional.avg_pool2d(x, 3, 2, count_include_pad=False)":
        dict(framework="pytorch", mode="avg", kernel=(3, 3), stride=(2, 2), padding=(0, 0),
             count_include_pad=False),
    "nn.AdaptiveAvgPool2d((7, 7))":
        dict(framework="pytorch", mode="avg", output_size=(7, 7), kernel=None),
    'tf.keras.layers.MaxPooling2D(pool_size=3, strides=2, padding="same")':
        dict(framework="keras", mode="max", kernel=(3, 3), stride=(2, 2), padding="same"),
    'tf.nn.max_pool2d(x, ksize=3, strides=2, padding="SAME")':
        dict(framework="tensorflow", mode="max", kernel=(3, 3), stride=(2, 2), padding="same"),
    'onnx.helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], '
    'pads=[1, 1, 1, 1])':
        dict(framework="onnx", mode="max", kernel=(3, 3), stride=(2, 2), padding=(1, 1)),
    'helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 3], auto_pad="SAME_LOWER",'
    ' count_include_pad=1, ceil_mode=1)':
        dict(framework="onnx", mode="avg", kernel=(2, 3), stride=(1, 1), padding="same_lower",
             count_include_pad=True, ceil_mode=True),
    "import torch.nn as nn\npool = nn.LPPool2d(3, (2, 4), stride=1)  # a comment":
        dict(framework="pytorch", mode="lp", p=3.0, kernel=(2, 4), stride=(1, 1)),
    "y = F.max_pool2d(x, kernel_size=(2, 3), stride=(1, 2), dilation=2)":
        dict(framework="pytorch", mode="max", kernel=(2, 3), stride=(1, 2), dilation=(2, 2)),
    "keras.layers.GlobalAveragePooling2D()": dict(framework="keras", mode="avg",
                                                  global_pool=True),
    'tf.nn.avg_pool2d(x, [1, 2, 2, 1], [1, 1, 1, 1], "VALID")':
        dict(framework="tensorflow", mode="avg", kernel=(2, 2), stride=(1, 1),
             padding="valid"),
    'tf.nn.max_pool2d(x, ksize=[1, 1, 3, 2], strides=[1, 1, 2, 1], padding="VALID", '
    'data_format="NCHW")':
        dict(framework="tensorflow", kernel=(3, 2), stride=(2, 1)),
    "pooling_param {\n  pool: AVE\n  kernel_h: 3 kernel_w: 2\n  stride: 2\n}":
        dict(framework="caffe", mode="avg", kernel=(3, 2), stride=(2, 2), ceil_mode=True),
    "averagePooling2dLayer(2,'Stride',[2 1],'Padding','same')":
        dict(framework="matlab", mode="avg", kernel=(2, 2), stride=(2, 1), padding="same"),
    "skimage.measure.block_reduce(image, (2, 3), np.median)":
        dict(framework="skimage", mode="median", kernel=(2, 3), stride=(2, 3)),
}


@pytest.mark.parametrize("code", list(ISSUE_EXAMPLES))
def test_examples(code):
    parsed = parse_pool_code(code)
    for name, value in ISSUE_EXAMPLES[code].items():
        assert getattr(parsed, name) == value, (name, parsed)


REFUSED = {
    "nn.MaxPool2d(k)": "kernel_size=k is not a literal",
    "nn.MaxPool2d(2, foo=1)": "no argument foo",
    "nn.AvgPool2d(2, divisor_override=3)": "divisor_override=3",
    "nn.MaxPool2d(2, padding='same')": "padding='same'",
    "nn.MaxPool2d()": "needs kernel_size",
    "nn.MaxPool2d(0)": "kernel_size=0 must be at least 1",
    "nn.MaxPool2d((2, 3, 4))": "kernel_size=(2, 3, 4) must be an int or 2 ints",
    "nn.MaxPool2d(2, ceil_mode='yes')": "ceil_mode='yes'",
    "nn.MaxPool2d(2); nn.AvgPool2d(2)": "found 2 pooling calls",
    "nn.Conv2d(3, 8, 3)": "no pooling call found",
    "nn.MaxPool2d(2,": "not valid Python",
    "": "empty",
    "nn.MaxPool2d(**opts)": "**opts",
    "nn.MaxPool2d(2, 2, 0, 1, False, False, 7)": "at most 6 positional",
    'tf.nn.max_pool2d(x, ksize=3, strides=2, padding="FULL")': "padding='FULL'",
    'tf.nn.max_pool2d(x, ksize=[2, 3, 3, 1], strides=2, padding="SAME")': "across the batch",
    "tf.nn.max_pool2d(x, ksize=3, strides=2, padding=[[0, 0], [1, 2], [1, 1], [0, 0]])":
        "uneven padding",
    'tf.nn.max_pool2d(x, ksize=3, padding="SAME")': "needs strides",
    'tf.nn.pool(x, [2, 2], "MIN")': "pooling_type='MIN'",
    'layers.MaxPooling2D(2, padding="causal")': "padding='causal'",
    'onnx.helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], '
    'pads=[1, 1, 2, 1])': "uneven padding",
    'onnx.helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], '
    'count_include_pad=1)': "MaxPool has no attribute count_include_pad",
    'onnx.helper.make_node("Conv", ["x"], ["y"], kernel_shape=[3, 3])': "op_type='Conv'",
    'onnx.helper.make_node("MaxPool", ["x"], ["y"], strides=[2, 2])': "kernel_shape",
    'onnx.helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3, 3])':
        "kernel_shape=(3, 3, 3) must list 2 ints",
    'onnx.helper.make_node("LpPool", ["x"], ["y"], kernel_shape=[2, 2], p=2.5)': "p=2.5",
    "pooling_param { pool: MAX kernel_size: 3 dilation: 2 }": "no field dilation",
    "pooling_param { pool: MAX stride: 2 }": "needs kernel_size",
    "maxPooling2dLayer(3,'Stride',2,'PaddingValue',0)": "no option 'PaddingValue'",
    "maxPooling2dLayer([3 3],'Padding',[1 0 1 1])": "uneven padding",
    "block_reduce(image, 2, func=np.std)": "func='np.std'",
    "block_reduce(image, 2, np.max, cval=5)": "cval=5",
    "nn.AdaptiveAvgPool2d((0, 3))": "output_size=(0, 3)",
    "x" * 3000: "3,000 characters",
}


@pytest.mark.parametrize("code", list(REFUSED))
def test_refused_with_a_message_naming_it(code):
    with pytest.raises(ValueError, match=None) as err:
        parse_pool_code(code)
    assert REFUSED[code] in str(err.value)


def test_never_runs_the_code(tmp_path):
    marker = tmp_path / "ran"
    code = f"nn.MaxPool2d(__import__('pathlib').Path({str(marker)!r}).touch())"
    with pytest.raises(ValueError, match="not a literal"):
        parse_pool_code(code)
    assert not marker.exists()


def test_notes_for_what_the_settings_leave_out():
    assert "return_indices" in parse_pool_code("nn.MaxPool2d(2, return_indices=True)").notes[0]
    node = 'onnx.helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], storage_order=1)'
    assert "storage_order" in parse_pool_code(node).notes[0]


def test_fallback_comment_gives_the_mode():
    s = Settings(shape=6, kernel=3, mode="median")
    code = framework_args(s, "pytorch", fallback=True).code
    assert code.startswith("# PyTorch has no median pooling")
    assert parse_pool_code(code).mode == "median"


# ----------------------------------------------------------------------------- round trips

PARSED_AS = {"onnxruntime": "onnx"}  # the same make_node line


def round_trip(s: Settings, key: str):
    """The code for ``s`` in framework ``key``, read back and written again."""
    call = framework_args(s, key, fallback=True)
    if not call.ok:
        return None
    parsed = parse_pool_code(call.code)
    assert parsed.framework == PARSED_AS.get(key, key)
    back = parsed.settings(s.shape)
    if s.mode == "lp" and parsed.p is None:  # only a fallback's code leaves p out
        assert key not in ("pytorch", "onnx", "onnxruntime")
        back = Settings(**{**back.__dict__, "p": s.p})
    elif s.mode == "lp":
        assert parsed.p == s.p
    again = framework_args(back, key, fallback=True)
    assert again.ok, again.reason
    assert again.code == call.code
    assert again.out_shape == call.out_shape
    if key != "skimage":  # its code has no ceil_mode: it pads to whole blocks either way
        unread = {} if s.mode == "avg" else {"count_include_pad": None}  # not an average
        assert {**again.kwargs, **unread} == {**call.kwargs, **unread}
    x = np.random.default_rng(0).normal(size=s.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(pool2d(x, **again.kwargs, rng=0),
                                      pool2d(x, **call.kwargs, rng=0))
    return parsed


padding = st.one_of(st.tuples(st.integers(0, 4), st.integers(0, 4)),
                    st.sampled_from(["valid", "same", "same_lower"]))
pool_settings = st.builds(
    Settings, shape=st.tuples(st.integers(1, 32), st.integers(1, 32)),
    kernel=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    stride=st.tuples(st.integers(1, 8), st.integers(1, 8)), padding=padding,
    dilation=st.tuples(st.integers(1, 4), st.integers(1, 4)), mode=st.sampled_from(MODES),
    ceil_mode=st.booleans(), count_include_pad=st.sampled_from([None, True, False]),
    p=st.sampled_from([1.0, 2.0, 3.0, 2.5, 7.0]))


@pytest.mark.parametrize("key", list(FRAMEWORKS))
@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(s=pool_settings)
def test_round_trip_random_settings(key, s):
    round_trip(s, key)


@pytest.mark.parametrize("key", list(FRAMEWORKS))
def test_round_trip_reaches_every_framework(key):
    """Each framework's code is read at least once with padding, stride and the avg/max modes
    (the random test above may meet many settings a framework refuses)."""
    cases = [Settings(shape=9, kernel=3, stride=st, padding=p, mode=m, ceil_mode=c,
                      count_include_pad=cip)
             for st in (2, 3) for p in (0, 1, "same", "valid") for m in ("max", "avg")
             for c in (False, True) for cip in (None, False)]
    read = [round_trip(s, key) for s in cases]
    assert sum(r is not None for r in read) >= 4


@pytest.mark.parametrize("key", list(FRAMEWORKS))
@pytest.mark.parametrize("size", [(1, 1), (3, 3), (2, 5)])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_round_trip_adaptive(key, size, mode):
    call = adaptive_args((7, 7), size, mode, key)
    if not call.ok:
        return
    parsed = parse_pool_code(call.code)
    assert parsed.mode == mode and parsed.framework == PARSED_AS.get(key, key)
    assert parsed.global_pool == (size == (1, 1))
    again = adaptive_args((7, 7), parsed.output_size or (1, 1), parsed.mode, key)
    assert again.code == call.code


def test_parsed_settings_of_adaptive_refused():
    with pytest.raises(ValueError, match="output_size"):
        parse_pool_code("nn.AdaptiveMaxPool2d(3)").settings((8, 8))


def test_global_settings_cover_the_input():
    s = parse_pool_code("keras.layers.GlobalMaxPool2D()").settings((5, 7))
    assert isinstance(s, Settings) and s.kernel == (5, 7) and s.stride == (5, 7)
    assert isinstance(parse_pool_code("nn.MaxPool2d(2)"), ParsedPool)
