"""Every framework's reading of one pooling setting: worked examples, traps and reasons.

Expected values are computed by hand in each test (the arithmetic is in the
comments); the PyTorch rows are also checked against torch itself.
"""
import numpy as np
import pytest

from pooling_core import pool2d
from pooling_core.conventions import (FRAMEWORKS, Settings, compare_frameworks,
                                      framework_args)


def run(settings, framework, x):
    call = framework_args(settings, framework)
    assert call.ok, call.reason
    out = pool2d(x, **call.kwargs)
    assert out.shape[-2:] == call.out_shape
    return call, out


def test_frameworks_in_order():
    assert list(FRAMEWORKS) == ["pytorch", "tensorflow", "keras", "onnx", "onnxruntime",
                                "caffe", "matlab", "skimage"]
    assert all(f.sources for f in FRAMEWORKS.values())


def test_settings_widen_ints_and_validate():
    s = Settings(shape=32, kernel=3, stride=(2, 1), padding="SAME", dilation=1)
    assert (s.shape, s.kernel, s.stride, s.padding, s.dilation) == (
        (32, 32), (3, 3), (2, 1), "same", (1, 1))
    assert Settings(shape=8, kernel=(2, 3)).stride == (2, 3)  # stride defaults to the kernel
    for bad in (dict(mode="mean"), dict(padding="full"), dict(padding=-1), dict(kernel=0)):
        with pytest.raises(ValueError):
            Settings(**{"shape": 8, "kernel": 2, **bad})
    with pytest.raises(ValueError, match="unknown"):
        framework_args(Settings(shape=8, kernel=2), "jax")


# --------------------------------------------------------------------- rounding traps


def test_clip_rule_pytorch_16_caffe_17():
    # n=32, k=1, s=2, ceil: ceil((32 - 1) / 2) + 1 = 16 + 1 = 17 windows.
    # PyTorch: window 16 would start at 16*2 = 32 >= n + pad = 32 -> dropped: 16.
    # Caffe clips only when pad > 0: keeps it, and that window reads nothing.
    s = Settings(shape=(32, 32), kernel=1, stride=2, ceil_mode=True)
    x = np.arange(32 * 32, dtype=float).reshape(32, 32)
    _, torch_out = run(s, "pytorch", x)
    call, caffe_out = run(s, "caffe", x)
    assert torch_out.shape == (16, 16) and caffe_out.shape == (17, 17)
    assert call.code == "pooling_param { pool: MAX kernel_size: 1 stride: 2 }"
    np.testing.assert_array_equal(caffe_out[:16, :16], torch_out)
    # the empty window keeps Caffe's initial -FLT_MAX; its average is 0 / 0
    assert caffe_out[16, 0] == -np.finfo(np.float32).max
    with np.errstate(invalid="ignore"):
        _, caffe_avg = run(Settings(shape=32, kernel=1, stride=2, ceil_mode=True, mode="avg"),
                           "caffe", x)
    assert np.isnan(caffe_avg[16, 0]) and caffe_avg[0, 0] == 0.0


def test_floor_drops_a_row_and_caffe_default_ceils():
    # n=25, k=2, s=2: floor((25 - 2) / 2) + 1 = 11 + 1 = 12: row 24 is never read.
    # ceil((25 - 2) / 2) + 1 = 12 + 1 = 13 (last start 24 < 25: no clip).
    floor = Settings(shape=25, kernel=2, stride=2)
    assert framework_args(floor, "pytorch").out_shape == (12, 12)
    caffe = framework_args(floor, "caffe")  # ceil_mode=False -> round_mode: FLOOR
    assert caffe.out_shape == (12, 12) and "round_mode: FLOOR" in caffe.code
    assert "default CEIL give 13×13" in caffe.notes[0]
    ceil = Settings(shape=25, kernel=2, stride=2, ceil_mode=True)
    assert framework_args(ceil, "caffe").out_shape == (13, 13)
    assert "round_mode" not in framework_args(ceil, "caffe").code


def test_keras_same_is_13_where_pytorch_is_12():
    # Keras 'same': floor((25 - 1) / 2) + 1 = 13 = ceil(25 / 2); total padding
    # (13 - 1)*2 + 2 - 25 = 1, the odd cell at the bottom/right.
    call = framework_args(Settings(shape=25, kernel=2, stride=2, padding="same"), "keras")
    assert call.out_shape == (13, 13) and call.pads == ((0, 1), (0, 1))
    assert call.code == 'layers.MaxPooling2D(pool_size=(2, 2), strides=(2, 2), padding="same")'
    # n=13, k=3, s=2: floor(12 / 2) + 1 = 7 = ceil(13 / 2)
    assert framework_args(Settings(shape=13, kernel=3, stride=2, padding="same"),
                          "keras").out_shape == (7, 7)


def test_tensorflow_without_ceil_mode_rounds_down():
    # n=5, k=2, s=2: floor(3 / 2) + 1 = 2, ceil gives 3 (start 4 < 5: kept)
    call = framework_args(Settings(shape=5, kernel=2, stride=2, ceil_mode=True), "tensorflow")
    assert call.ok and call.out_shape == (2, 2) and "no ceil_mode" in call.notes[0]
    assert call.code == ('tf.nn.max_pool2d(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], '
                         'padding="VALID")')


# --------------------------------------------------------------------- padding


def test_onnx_same_lower_puts_the_odd_cell_top_left():
    # n=5, k=2, s=2: out = ceil(5 / 2) = 3; total = (3 - 1)*2 + 2 - 5 = 1.
    x = np.arange(25.0).reshape(5, 5)
    upper, up = run(Settings(shape=5, kernel=2, padding="same"), "onnx", x)
    lower, lo = run(Settings(shape=5, kernel=2, padding="same_lower"), "onnx", x)
    assert upper.pads == ((0, 1), (0, 1)) and lower.pads == ((1, 0), (1, 0))
    assert 'auto_pad="SAME_LOWER"' in lower.code
    assert up[0, 0] == 6.0    # max of x[0:2, 0:2] = x[1, 1] = 6
    assert lo[0, 0] == 0.0    # window rows/cols -1..0: only x[0, 0] = 0 is real
    assert lo[1, 1] == 12.0   # rows/cols 1..2: x[2, 2] = 12


def test_tensorflow_same_average_ignores_padding():
    # 5x5 of ones, k=3, s=1, 'same' pads 1 all round. Corner window: 4 real ones.
    # TensorFlow: 4 / 4 = 1.0. PyTorch (padding=1, count_include_pad=True): 4 / 9.
    x = np.ones((5, 5))
    tf, tf_out = run(Settings(shape=5, kernel=3, stride=1, padding="same", mode="avg"),
                     "tensorflow", x)
    assert tf.pads == ((1, 1), (1, 1)) and tf_out[0, 0] == 1.0 and np.all(tf_out == 1.0)
    assert tf.divisor_rule.startswith("real input cells only")
    _, pt = run(Settings(shape=5, kernel=3, stride=1, padding=1, mode="avg"), "pytorch", x)
    assert pt[0, 0] == pytest.approx(4 / 9) and pt[0, 2] == pytest.approx(6 / 9)
    # MATLAB pads with zeros that count: also 4 / 9
    _, ml = run(Settings(shape=5, kernel=3, stride=1, padding="same", mode="avg"), "matlab", x)
    assert ml[0, 0] == pytest.approx(4 / 9)


def test_skimage_mean_darkens_the_last_row():
    # 5x5 of 9s in 2x2 blocks: pad the end to 6x6 with cval=0.
    # inner blocks 36 / 4 = 9; last row/col (9 + 9 + 0 + 0) / 4 = 4.5; corner 9 / 4 = 2.25
    call, out = run(Settings(shape=5, kernel=2, mode="avg"), "skimage", np.full((5, 5), 9.0))
    np.testing.assert_array_equal(out, [[9, 9, 4.5], [9, 9, 4.5], [4.5, 4.5, 2.25]])
    assert call.pads == ((0, 1), (0, 1)) and call.pad_value_text == "0 (takes part)"
    assert call.code == "block_reduce(image, block_size=(2, 2), func=np.mean, cval=0)"
    # cval takes part in the max: a negative image gets 0 on its last row
    _, mx = run(Settings(shape=5, kernel=2), "skimage", -np.ones((5, 5)))
    assert mx[0, 0] == -1 and mx[2, 0] == 0 and mx[0, 2] == 0


def test_caffe_average_counts_padding_not_overhang():
    # n=4, k=3, s=2, pad 1, ceil: ceil((4 + 2 - 3) / 2) + 1 = 3; start 2*2 = 4 < 4 + 1: kept.
    # Last window rows 3..5: row 3 real, row 4 padding, row 5 overhang -> divisor 2 per axis.
    # Ones: corner = 1 real cell / (2 * 2) = 0.25; first = 4 real / (3 * 3) (pad counted).
    call, out = run(Settings(shape=4, kernel=3, stride=2, padding=1, mode="avg",
                             ceil_mode=True, count_include_pad=False), "caffe", np.ones((4, 4)))
    assert call.out_shape == (3, 3)
    assert out[2, 2] == 0.25 and out[0, 0] == pytest.approx(4 / 9)
    assert call.code == "pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }"


def test_onnx_lppool_sums_where_pytorch_rescales():
    # 1x5 ones, kernel (1, 2), s=2, ceil -> 3 windows; the last holds one real cell.
    # ONNX LpPool: sqrt(1**2) = 1. PyTorch: kh*kw * mean = 2 * (1 / 1) -> sqrt(2).
    s = Settings(shape=(1, 5), kernel=(1, 2), mode="lp", ceil_mode=True)
    x = np.ones((1, 5))
    _, onnx = run(s, "onnx", x)
    _, pt = run(s, "pytorch", x)
    np.testing.assert_allclose(onnx, [[np.sqrt(2), np.sqrt(2), 1.0]])
    np.testing.assert_allclose(pt, [[np.sqrt(2), np.sqrt(2), np.sqrt(2)]])


def test_codes_show_each_real_call():
    s = Settings(shape=32, kernel=3, stride=2, padding=1)
    codes = {k: framework_args(s, k).code for k in FRAMEWORKS if framework_args(s, k).ok}
    assert codes["pytorch"] == ("nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), "
                                "padding=(1, 1), dilation=(1, 1), ceil_mode=False)")
    assert codes["tensorflow"] == ("tf.nn.max_pool2d(x, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], "
                                   "padding=[[0, 0], [1, 1], [1, 1], [0, 0]])")
    assert codes["onnx"] == ('onnx.helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], '
                             'strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=0)')
    assert codes["matlab"] == "maxPooling2dLayer([3 3],'Stride',[2 2],'Padding',[1 1 1 1])"
    assert set(codes) == {"pytorch", "tensorflow", "onnx", "onnxruntime", "caffe", "matlab"}
    assert codes["onnxruntime"] == codes["onnx"]  # the same node, run by onnxruntime
    dil = framework_args(Settings(shape=9, kernel=2, stride=1, dilation=2), "tensorflow")
    assert dil.code.startswith('tf.nn.pool(x, window_shape=[2, 2], pooling_type="MAX"')


# --------------------------------------------------------------------- cannot express

REASONS = [
    (dict(mode="median"), "keras", "Keras has no median pooling"),
    (dict(mode="sum"), "pytorch", "PyTorch has no sum pooling"),
    (dict(mode="lp"), "caffe", "Caffe has no lp pooling"),
    (dict(mode="stochastic"), "skimage", "scikit-image has no stochastic pooling"),
    (dict(padding="same"), "pytorch", "PyTorch has no 'same' padding"),
    (dict(padding="same"), "caffe", "Caffe has no 'same' padding"),
    (dict(padding="same_lower"), "tensorflow", "TensorFlow has no SAME_LOWER padding"),
    (dict(padding="same_lower"), "matlab", "MATLAB has no SAME_LOWER padding"),
    (dict(dilation=2, stride=1), "keras", "layers.MaxPooling2D in Keras has no dilation"),
    (dict(dilation=2, mode="avg"), "pytorch", "nn.AvgPool2d in PyTorch has no dilation"),
    (dict(dilation=2, mode="lp"), "pytorch", "nn.LPPool2d in PyTorch has no dilation"),
    (dict(dilation=2), "caffe", "in Caffe has no dilation"),
    (dict(dilation=2), "matlab", "maxPooling2dLayer in MATLAB has no dilation"),
    (dict(dilation=2), "skimage", "block_reduce in scikit-image has no dilation"),
    (dict(padding=1, mode="lp"), "pytorch", "nn.LPPool2d in PyTorch has no padding"),
    (dict(kernel=3, padding=2), "pytorch", "PyTorch requires padding ≤ kernel/2"),
    (dict(dilation=2, stride=2), "tensorflow", "requires dilation 1 when stride > 1"),
    (dict(dilation=2, stride=1, padding="same"), "tensorflow", "no 'SAME' padding when dilation"),
    (dict(padding=1, mode="avg"), "tensorflow", "only tf.nn.max_pool2d takes explicit padding"),
    (dict(padding=1, dilation=2, stride=1), "tensorflow", "only tf.nn.max_pool2d takes explicit"),
    (dict(kernel=2, padding=3), "tensorflow", "explicit padding ≤ the window size"),
    (dict(padding=1), "keras", "Keras pooling pads only 'valid' or 'same'"),
    (dict(kernel=2, padding=2), "onnxruntime", "ONNX Runtime requires each pad < kernel"),
    (dict(kernel=2, padding=2), "onnx", "a window reads only padding here, and the ONNX spec"),
    (dict(shape=9, kernel=1, stride=3, padding="same"), "onnx", "ONNX's SAME padding is negative"),
    (dict(shape=9, kernel=1, stride=3, padding="same"), "onnxruntime",
     "ONNX Runtime's SAME padding is negative"),
    (dict(mode="lp", p=2.5), "onnx", "ONNX LpPool takes an integer p"),
    (dict(padding=1, mode="stochastic"), "caffe", "Caffe pads only MAX and AVE"),
    (dict(kernel=2, padding=2), "caffe", "Caffe requires pad < kernel"),
    (dict(kernel=2, padding=2), "matlab", "MATLAB requires padding < pool size"),
    (dict(stride=1), "skimage", "no stride different from the block size"),
    (dict(padding=1), "skimage", "block_reduce takes no padding"),
    (dict(mode="median"), "skimage", "np.median averages the two middle values"),
    (dict(kernel=9), "pytorch", "output would be empty"),
]


@pytest.mark.parametrize("change, framework, reason", REASONS)
def test_cannot_express(change, framework, reason):
    call = framework_args(Settings(**{"shape": 8, "kernel": 2, **change}), framework)
    assert not call.ok and reason in call.reason and call.kwargs is None


def test_odd_median_block_is_fine_in_skimage():
    # 3x3 blocks hold 9 cells: np.median is then an element, like the core's
    call, out = run(Settings(shape=3, kernel=3, mode="median"), "skimage",
                    np.arange(9.0).reshape(3, 3))
    assert out[0, 0] == 4.0 and call.code.endswith("func=np.median, cval=0)")


# --------------------------------------------------------------------- compare


def test_compare_marks_border_cells_where_padding_counts():
    # 6x6, k=3, s=2, pad 1, avg, count_include_pad=False: out 3x3, windows start -1, 1, 3.
    # Only row/col 0 windows touch padding; Caffe and MATLAB count it, PyTorch/ONNX do not.
    x = np.random.default_rng(0).random((2, 6, 6)) + 1
    s = Settings(shape=6, kernel=3, stride=2, padding=1, mode="avg", count_include_pad=False)
    rows = {r.framework: r for r in compare_frameworks(x, s)}
    border = np.zeros((3, 3), bool)
    border[0, :] = border[:, 0] = True
    for key in ("caffe", "matlab"):
        assert rows[key].same_shape and rows[key].max_abs_diff > 0
        np.testing.assert_array_equal(rows[key].diff_mask, np.broadcast_to(border, (2, 3, 3)))
    assert rows["onnx"].max_abs_diff == 0 and not rows["onnx"].diff_mask.any()
    assert rows["tensorflow"].output is None and rows["tensorflow"].same_shape is None


def test_compare_shapes_nan_and_no_reference():
    x = np.arange(32 * 32, dtype=float).reshape(32, 32)
    x[3, 5] = np.nan
    rows = {r.framework: r for r in
            compare_frameworks(x, Settings(shape=32, kernel=1, stride=2, ceil_mode=True))}
    assert rows["caffe"].same_shape is False and rows["caffe"].diff_mask is None
    assert rows["tensorflow"].same_shape and rows["tensorflow"].max_abs_diff == 0.0
    # without a PyTorch answer nothing is compared, but the others still run
    rows = compare_frameworks(np.ones((3, 3)), Settings(shape=3, kernel=3, mode="median"))
    assert rows[0].call.ok is False and all(r.same_shape is None for r in rows)
    assert [r.framework for r in rows if r.output is not None] == ["skimage"]
    with pytest.raises(ValueError, match="settings.shape"):
        compare_frameworks(np.ones((3, 3)), Settings(shape=4, kernel=2))


def test_stochastic_is_seeded():
    x = np.random.default_rng(1).random((6, 6))
    s = Settings(shape=6, kernel=2, mode="stochastic")
    a = {r.framework: r.output for r in compare_frameworks(x, s, seed=3)}
    b = {r.framework: r.output for r in compare_frameworks(x, s, seed=3)}
    np.testing.assert_array_equal(a["caffe"], b["caffe"])
    assert set(k for k, v in a.items() if v is not None) == {"caffe"}


def test_every_ok_call_matches_its_own_shape():
    rng = np.random.default_rng(7)
    for _ in range(300):
        k = tuple(rng.integers(1, 4, 2))
        s = Settings(shape=tuple(rng.integers(4, 10, 2)), kernel=k,
                     stride=tuple(rng.integers(1, 4, 2)),
                     padding=[0, 1, "same", "valid", "same_lower"][rng.integers(5)],
                     dilation=tuple(rng.integers(1, 3, 2)), mode=str(rng.choice(
                         ["max", "avg", "lp", "min", "sum", "median", "stochastic"])),
                     ceil_mode=bool(rng.integers(2)), count_include_pad=bool(rng.integers(2)))
        x = rng.random((2,) + s.shape)
        for key in FRAMEWORKS:
            call = framework_args(s, key)
            if call.ok:
                with np.errstate(invalid="ignore"):  # Caffe's empty windows average 0 / 0
                    assert pool2d(x, **call.kwargs, rng=0).shape == (2,) + call.out_shape
                assert len(call.pads) == 2 and call.code and call.divisor_rule
            else:
                assert call.reason


# --------------------------------------------------------------------- PyTorch itself


def _torch_cases(n):
    rng = np.random.default_rng(2024)
    while n:
        mode = ["max", "avg", "lp"][n % 3]
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = Settings(shape=tuple(int(v) for v in rng.integers(3, 12, 2)), kernel=k,
                     stride=tuple(int(v) for v in rng.integers(1, 4, 2)),
                     padding=(0, 0) if mode == "lp" else tuple(int(rng.integers(0, v // 2 + 1))
                                                               for v in k),
                     dilation=tuple(int(v) for v in rng.integers(1, 3, 2)) if mode == "max" else 1,
                     mode=mode, ceil_mode=bool(rng.integers(2)),
                     count_include_pad=bool(rng.integers(2)))
        if framework_args(s, "pytorch").ok:
            n -= 1
            yield s, rng.standard_normal((2, 3) + s.shape)


@pytest.mark.parametrize("s, x", list(_torch_cases(150)))
def test_pytorch_row_is_torch(s, x):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    call, out = run(s, "pytorch", x)
    t = torch.from_numpy(x)
    if s.mode == "max":
        ref = F.max_pool2d(t, s.kernel, s.stride, s.pads, s.dilation, ceil_mode=s.ceil_mode)
        np.testing.assert_array_equal(out, ref.numpy())
        return
    if s.mode == "avg":
        ref = F.avg_pool2d(t, s.kernel, s.stride, s.pads, ceil_mode=s.ceil_mode,
                           count_include_pad=s.count_include_pad)
    else:
        ref = F.lp_pool2d(t, 2, s.kernel, s.stride, ceil_mode=s.ceil_mode)
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------- optional oracles


def _random_settings(rng, modes, paddings):
    k = tuple(int(v) for v in rng.integers(1, 5, 2))
    return Settings(shape=tuple(int(v) for v in rng.integers(3, 10, 2)), kernel=k,
                    stride=tuple(int(v) for v in rng.integers(1, 4, 2)),
                    padding=paddings[rng.integers(len(paddings))],
                    dilation=tuple(int(v) for v in rng.integers(1, 3, 2)),
                    mode=str(rng.choice(modes)), ceil_mode=bool(rng.integers(2)),
                    count_include_pad=bool(rng.integers(2)))


def test_skimage_rows_are_block_reduce():
    measure = pytest.importorskip("skimage.measure")
    rng = np.random.default_rng(5)
    funcs = {"max": np.max, "avg": np.mean, "sum": np.sum, "min": np.min, "median": np.median}
    for _ in range(200):
        s = Settings(shape=tuple(int(v) for v in rng.integers(3, 10, 2)),
                     kernel=tuple(int(v) for v in rng.integers(1, 5, 2)),
                     mode=str(rng.choice(list(funcs))))
        call = framework_args(s, "skimage")
        if call.ok:
            x = rng.standard_normal(s.shape)
            ref = measure.block_reduce(x, block_size=s.kernel, func=funcs[s.mode], cval=0)
            np.testing.assert_allclose(pool2d(x, **call.kwargs), ref, rtol=1e-12)


def test_onnx_rows_are_onnxruntime():
    import onnxruntime as ort  # test dependencies (requirements-dev.txt): no skip
    from onnx import TensorProto, helper
    rng = np.random.default_rng(6)
    for _ in range(300):
        s = _random_settings(rng, ["max", "avg", "lp"], [0, 1, 2, (1, 0), "same", "same_lower",
                                                          "valid"])
        call = framework_args(s, "onnxruntime")  # SAME with dilation included (see its notes)
        if not call.ok:
            continue
        attrs = dict(kernel_shape=list(s.kernel), strides=list(s.stride),
                     dilations=list(s.dilation), ceil_mode=int(s.ceil_mode))
        if isinstance(s.padding, str):
            attrs["auto_pad"] = {"same": "SAME_UPPER", "same_lower": "SAME_LOWER",
                                 "valid": "VALID"}[s.padding]
        else:
            attrs["pads"] = [*s.pads, *s.pads]
        if s.mode == "avg":
            attrs["count_include_pad"] = int(s.count_include_pad)
        node = helper.make_node(FRAMEWORKS["onnx"].calls[s.mode], ["x"], ["y"], **attrs)
        x = rng.standard_normal((1, 2) + s.shape).astype(np.float32)
        graph = helper.make_graph(
            [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        ref = session.run(None, {"x": x})[0]
        np.testing.assert_allclose(pool2d(x.astype(np.float64), **call.kwargs), ref,
                                   rtol=1e-5, atol=1e-5)
