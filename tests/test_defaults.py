"""``count_include_pad=None``: each padding gets the average its frameworks compute.

Numeric padding is PyTorch's (``count_include_pad=True``: padded zeros count);
padding given by name ('same', 'same_lower', 'valid') is TensorFlow's, Keras's and
ONNX's ``auto_pad`` (padded cells never count). An explicit True/False wins. The
expected values are worked by hand from TensorFlow's documented rule (SAME: ``out =
ceil(n / s)``, total padding ``(out - 1)*s + k - n``, the odd cell after; the average
divides by the real cells), and the first one is the example in the
``tf.keras.layers.AveragePooling2D`` documentation. Keras 3 (on its torch backend) is
an extra oracle where it installs.
"""
import os

import numpy as np
import pytest

from pooling_core import pool1d, pool2d, pool2d_backward, pool3d, pool_nd
from pooling_core.conventions import Settings, framework_args

NINE = np.arange(1.0, 10.0).reshape(3, 3)  # [[1 2 3] [4 5 6] [7 8 9]]


# --------------------------------------------------------------------- TensorFlow's worked examples


def test_the_tensorflow_documentation_examples():
    # tf.keras.layers.AveragePooling2D docs: pool (2, 2), strides (1, 1), padding="same" on
    # 1..9. out = ceil(3 / 1) = 3; total padding (3 - 1)*1 + 2 - 3 = 1: one zero row/col at
    # the end. Window (0, 2) holds 3, 6 -> 4.5; (2, 2) holds 9 alone -> 9.
    np.testing.assert_array_equal(pool2d(NINE, 2, 1, padding="same", mode="avg"),
                                  [[3, 4, 4.5], [6, 7, 7.5], [7.5, 8.5, 9]])
    # the same page, padding="valid": strides 1 -> [[3, 4], [6, 7]]; strides 2 on 3x4 ->
    # [[3.5, 5.5]] (floor((3 - 2) / 2) + 1 = 1 row, floor((4 - 2) / 2) + 1 = 2 columns)
    np.testing.assert_array_equal(pool2d(NINE, 2, 1, padding="valid", mode="avg"),
                                  [[3, 4], [6, 7]])
    np.testing.assert_array_equal(
        pool2d(np.arange(1.0, 13.0).reshape(3, 4), 2, 2, padding="valid", mode="avg"),
        [[3.5, 5.5]])


def test_same_3x3_stride_2_pads_one_cell_each_side():
    # n=5, k=3, s=2: out = ceil(5 / 2) = 3; total (3 - 1)*2 + 3 - 5 = 2 -> 1 before, 1 after.
    # Window (0, 0) reads rows/cols -1..1: real cells 0, 1, 5, 6 -> 12 / 4 = 3.
    # Window (1, 1) reads rows/cols 1..3: no padding, mean of 6 7 8 / 11 12 13 / 16 17 18 = 12.
    # Window (0, 2) reads rows -1..1, cols 3..5: 3, 4, 8, 9 -> 6.
    x = np.arange(25.0).reshape(5, 5)
    out = pool2d(x, 3, 2, padding="same", mode="avg")
    assert out.shape == (3, 3)
    assert (out[0, 0], out[1, 1], out[0, 2], out[2, 2]) == (3.0, 12.0, 6.0, 21.0)
    # PyTorch's numeric padding 1 counts the zeros: 12 / 9
    assert pool2d(x, 3, 2, padding=1, mode="avg")[0, 0] == pytest.approx(12 / 9)


def test_same_with_an_even_kernel_puts_the_odd_cell_at_the_end():
    # 1-D: n=5, k=2, s=2: out = ceil(5 / 2) = 3; total (3 - 1)*2 + 2 - 5 = 1, after.
    # Windows [1, 2], [3, 4], [5, pad] -> 1.5, 3.5, 5 (TensorFlow), not 2.5.
    np.testing.assert_array_equal(pool1d(np.arange(1.0, 6.0), 2, 2, padding="same", mode="avg"),
                                  [1.5, 3.5, 5.0])


def test_same_lower_is_onnx_and_puts_the_odd_cell_first():
    # ONNX AveragePool(auto_pad="SAME_LOWER", kernel 2, strides 1) on 1..9: the padding row
    # and column come first. out[i, j] averages NINE[i-1..i, j-1..j] where it exists.
    np.testing.assert_array_equal(pool2d(NINE, 2, 1, padding="same_lower", mode="avg"),
                                  [[1, 1.5, 2.5], [2.5, 3, 4], [5.5, 6, 7]])
    # the same windows for max: the top-left one reads 1 alone
    np.testing.assert_array_equal(pool2d(NINE, 2, 1, padding="same_lower"),
                                  [[1, 2, 3], [4, 5, 6], [7, 8, 9]])


def test_a_3d_same_average_of_ones_is_one_everywhere():
    # n=4, k=3, s=2: out = 2, total (2 - 1)*2 + 3 - 4 = 1, after. The last window reads
    # cells 2, 3 and the padding cell 4 on each axis: TensorFlow's average of ones stays 1;
    # counting the padding would give 2*2*2 / 27 there.
    out = pool3d(np.ones((4, 4, 4)), 3, 2, padding="same", mode="avg")
    assert out.shape == (2, 2, 2) and np.all(out == 1.0)
    counted = pool3d(np.ones((4, 4, 4)), 3, 2, padding="same", mode="avg", count_include_pad=True)
    assert counted[0, 0, 0] == 1.0 and counted[1, 1, 1] == pytest.approx(8 / 27)


# --------------------------------------------------------------------- the rule, every entry point


def test_numeric_padding_keeps_pytorchs_default():
    # padding 1 on 1..9, k=2, s=2: windows start at -1 and 1. Corner: 1 real cell of 4.
    assert pool2d(NINE, 2, 2, padding=1, mode="avg")[0, 0] == 0.25
    assert pool2d(NINE, 2, 2, padding=1, mode="avg", count_include_pad=False)[0, 0] == 1.0
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(NINE).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(pool2d(NINE, 2, 2, padding=1, mode="avg"),
                                  torch.nn.functional.avg_pool2d(t, 2, 2, 1)[0, 0].numpy())


def test_an_explicit_flag_wins_over_the_default():
    same = dict(kernel_size=2, stride=1, padding="same", mode="avg")
    # counting the padding: the corner window (2, 2) is 9 / 4
    assert pool2d(NINE, **same, count_include_pad=True)[2, 2] == 2.25
    assert pool2d(NINE, **same, count_include_pad=False)[2, 2] == 9.0
    assert pool2d(NINE, **same, count_include_pad=None)[2, 2] == 9.0
    with pytest.raises(ValueError, match="count_include_pad"):
        pool2d(NINE, **same, count_include_pad="auto")


@pytest.mark.parametrize("padding", ["same", "same_lower", "valid", "SAME"])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_named_padding_defaults_to_the_real_cells_in_every_dimension(ndim, padding):
    x = np.random.default_rng(ndim).random((2,) + (5,) * ndim)
    args = dict(kernel_size=2, stride=2, padding=padding, mode="avg", ceil_mode=True)
    np.testing.assert_array_equal(pool_nd(x, ndim, **args),
                                  pool_nd(x, ndim, **args, count_include_pad=False))
    args["padding"] = 1
    np.testing.assert_array_equal(pool_nd(x, ndim, **args),
                                  pool_nd(x, ndim, **args, count_include_pad=True))


@pytest.mark.parametrize("mode", ["max", "min", "sum", "median"])
def test_modes_without_a_divisor_ignore_the_flag(mode):
    for padding in ("same", 1):
        a, b, c = (pool2d(NINE, 3, 2, padding=padding, mode=mode, count_include_pad=v)
                   for v in (None, True, False))
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_lp_with_named_padding_is_the_plain_p_norm():
    # lp divides sum x**p by the window's cells and multiplies by K (torch's lp_pool):
    # the default counts the (zero) padding, so a 'same' window is (sum x**p) ** (1/p),
    # ONNX's LpPool(auto_pad="SAME_UPPER"). [3, 4], k=2, s=1: windows [3, 4], [4, pad].
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(pool1d(x, 2, 1, padding="same", mode="lp"), [5.0, 4.0])
    # real cells only would rescale the edge window by K / 1 = 2: sqrt(2 * 16)
    np.testing.assert_allclose(
        pool1d(x, 2, 1, padding="same", mode="lp", count_include_pad=False), [5.0, np.sqrt(32)])


def test_lp_in_ceil_mode_keeps_pytorchs_rescaled_edge_window():
    # [1..5], k=2, s=2, ceil: the last window reads 5 alone; torch: sqrt(2 * 25 / 1)
    x = np.arange(1.0, 6.0)
    out = pool1d(x, 2, 2, mode="lp", ceil_mode=True)
    np.testing.assert_allclose(out, [np.sqrt(5), 5.0, np.sqrt(50)])
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.lp_pool1d(torch.from_numpy(x).reshape(1, 1, 5), 2, 2,
                                        ceil_mode=True)
    np.testing.assert_allclose(out, ref.numpy().ravel())


def test_lp_absolute_is_the_norm_of_the_magnitudes():
    # ONNX's LpPool is (sum |x|**p) ** (1/p); PyTorch raises x itself (NaN for a negative
    # sum of cubes). [-2, 1]: |.|**3 sums to 9 -> 9 ** (1/3).
    x = np.array([-2.0, 1.0])
    assert pool1d(x, 2, mode="lp", p=3, absolute=True)[0] == pytest.approx(9 ** (1 / 3))
    with np.errstate(invalid="ignore"):
        assert np.isnan(pool1d(x, 2, mode="lp", p=3)[0])
    with pytest.raises(ValueError, match="absolute=True applies to mode='lp'"):
        pool1d(x, 2, mode="max", absolute=True)


def test_lp_absolute_gradient_matches_finite_differences():
    x = np.array([[-2.0, 1.0, 0.5], [1.5, -0.7, 2.0]])
    g = pool2d_backward(np.ones((1, 1)), x, (2, 3), mode="lp", p=3, absolute=True)
    eps, numeric = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        numeric[i] = (pool2d(x + d, (2, 3), mode="lp", p=3, absolute=True)
                      - pool2d(x - d, (2, 3), mode="lp", p=3, absolute=True))[0, 0] / (2 * eps)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)


def test_backward_follows_the_same_default():
    # avg 'same' k=2 s=1 on 3x3: the corner window (2, 2) reads x[2, 2] alone, so that cell
    # gets its whole gradient from it; with the padding counted it would get a quarter.
    g = np.zeros((3, 3))
    g[2, 2] = 1.0
    grad = pool2d_backward(g, NINE, 2, 1, padding="same", mode="avg")
    assert grad[2, 2] == 1.0 and grad.sum() == 1.0
    counted = pool2d_backward(g, NINE, 2, 1, padding="same", mode="avg", count_include_pad=True)
    assert counted[2, 2] == 0.25


def test_ceil_mode_keeps_a_window_longer_than_input_and_padding():
    # n=2, k=3, d=2 (span 5), padding 1, s=3, ceil: ceil((2 + 2 - 5) / 3) + 1 = 1 window at
    # -1 with taps -1, 1, 3: only x[1] is real. PyTorch, ONNX and Caffe all keep it.
    x = np.array([1.0, 2.0])
    assert pool1d(x, 3, 3, padding=1, dilation=2, ceil_mode=True).tolist() == [2.0]
    # avg, k=5, padding 1, s=3: one window at -1 over -1..3; torch divides by the cells of
    # input + padding it covers, min(-1 + 5, 2 + 1) - (-1) = 4: (1 + 2) / 4 = 0.75
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(x).reshape(1, 1, 2)
    ref = torch.nn.functional.max_pool1d(t, 3, 3, 1, dilation=2, ceil_mode=True)
    np.testing.assert_array_equal(pool1d(x, 3, 3, padding=1, dilation=2, ceil_mode=True),
                                  ref.numpy().ravel())
    assert pool1d(x, 5, 3, padding=1, mode="avg", ceil_mode=True).tolist() == [0.75]
    for k, pad in ((5, 1), (5, 2)):
        ref = torch.nn.functional.avg_pool1d(t, k, 3, pad, ceil_mode=True)
        np.testing.assert_allclose(pool1d(x, k, 3, padding=pad, mode="avg", ceil_mode=True),
                                   ref.numpy().ravel())
    with pytest.raises(ValueError, match="would be empty"):  # floor mode: no window
        pool1d(x, 3, 3, padding=1, dilation=2)


# --------------------------------------------------------------------- conventions and Keras


def test_settings_read_the_default_the_same_way():
    for padding, mode, want in (("same", "avg", False), ("valid", "avg", False), (1, "avg", True),
                                ("same", "lp", True), ("same", "max", True)):
        assert Settings(shape=6, kernel=2, padding=padding, mode=mode).count_include_pad is want
    assert Settings(shape=6, kernel=2, padding="same", mode="avg",
                    count_include_pad=True).count_include_pad is True
    # ONNX's SAME average with the default: count_include_pad=0, as ONNX's own default
    call = framework_args(Settings(shape=6, kernel=3, stride=2, padding="same", mode="avg"),
                          "onnx")
    assert "count_include_pad=0" in call.code and call.kwargs["count_include_pad"] is False


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def _tf_same_pads(shape, k, s):
    """TensorFlow's SAME amounts per axis, from the documented rule."""
    pads = []
    for n, kk, ss in zip(shape, k, s):
        total = max((-(-n // ss) - 1) * ss + kk - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # keras's __array__ on NumPy 2
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_keras_pooling_layers_agree_with_the_defaults(ndim):
    """Keras 3 on its torch backend: 'valid' and max 'same' always agree. Its average with
    an uneven SAME padding on some axis pads by repeating the edge cells (torch has no
    asymmetric padding) and divides by the whole window; TensorFlow, the default backend,
    averages the real cells (the core's default). Both rules are checked."""
    keras = _keras()
    rng = np.random.default_rng(ndim)
    layers = {1: ("MaxPooling1D", "AveragePooling1D"), 2: ("MaxPooling2D", "AveragePooling2D"),
              3: ("MaxPooling3D", "AveragePooling3D")}[ndim]
    side = 9 if ndim < 3 else 6
    uneven = 0
    for _ in range(10):
        k = tuple(int(v) for v in rng.integers(1, 5, ndim))
        s = tuple(int(v) for v in rng.integers(1, 4, ndim))
        x = rng.standard_normal((2,) + (side,) * ndim + (1,)).astype(np.float32)  # channels last
        plane = x[..., 0]
        for name, mode in zip(layers, ("max", "avg")):
            for padding in ("same", "valid"):
                layer = getattr(keras.layers, name)(pool_size=k, strides=s, padding=padding)
                ref = np.asarray(keras.ops.convert_to_numpy(layer(x)))[..., 0]
                got = pool_nd(plane, ndim, k, s, padding=padding, mode=mode)
                pads = _tf_same_pads(plane.shape[1:], k, s)
                if mode == "avg" and padding == "same" and any(a != b for a, b in pads):
                    uneven += 1
                    edge = np.pad(plane, [(0, 0)] + pads, mode="edge")
                    got = pool_nd(edge, ndim, k, s, mode="avg")
                np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    assert uneven  # the torch backend's edge rule was exercised
