"""Keras 3 in the conventions: its adaptive pooling layers, their bins, and its SAME average.

Keras documents ``AdaptiveAveragePooling2D(output_size)`` only as working out "the kernel
size and stride"; its code (``keras/src/backend/{numpy,jax,tensorflow}/nn.py``) pools every
window of ``small = ceil(n/out)`` and ``small + 1`` cells with stride 1 and gives bin ``i``
the window of its size (``ceil((i+1)·n/out) - floor(i·n/out)``) that starts at
``floor(i·n/out)``. ``keras_bins`` below follows that description, independently of the
core, and must give PyTorch's bins. Keras itself (on its torch backend, which calls
PyTorch's op) is the extra oracle for the layers' numbers.
"""
import os

import numpy as np
import pytest

from pooling_core import adaptive_bins, adaptive_pool2d
from pooling_core.conventions import FRAMEWORKS, Settings, adaptive_args, framework_args


def keras_bins(n, out):
    """Keras's two-pool gather: the window each bin takes, as ``(starts, ends)``."""
    small = -(-n // out)
    big = small + 1
    starts = [int(np.floor(i * n / out)) for i in range(out)]
    ends = [int(np.ceil((i + 1) * n / out)) for i in range(out)]
    size = [big if e - s == big else small for s, e in zip(starts, ends)]
    return np.array(starts), np.array(starts) + np.array(size)


def keras_pool(x, out, reduce):
    """Keras's algorithm on a 2-D plane: rows, then columns, from the two pools."""
    for axis, o in enumerate(out):
        starts, ends = keras_bins(x.shape[axis], o)
        x = np.stack([reduce(np.take(x, range(a, b), axis=axis), axis=axis)
                      for a, b in zip(starts, ends)], axis=axis)
    return x


def test_keras_bins_are_pytorchs():
    for n in range(1, 41):
        for out in range(1, 41):
            starts, ends = keras_bins(n, out)
            torch_starts, torch_ends = adaptive_bins(n, out)
            np.testing.assert_array_equal(starts, torch_starts)
            np.testing.assert_array_equal(ends, torch_ends)
    # 5 cells into 3 bins: 0-1, 1-3, 3-4 (sizes 2, 3, 2: the middle one overlaps both)
    assert [a.tolist() for a in keras_bins(5, 3)] == [[0, 1, 3], [2, 4, 5]]


@pytest.mark.parametrize("mode, reduce", [("avg", np.mean), ("max", np.max)])
def test_keras_algorithm_gives_the_cores_numbers(mode, reduce):
    rng = np.random.default_rng(3)
    for _ in range(40):
        shape = tuple(int(v) for v in rng.integers(1, 12, 2))
        out = tuple(int(v) for v in rng.integers(1, 12, 2))  # smaller and larger than n
        x = rng.standard_normal(shape)
        np.testing.assert_allclose(adaptive_pool2d(x, out, mode), keras_pool(x, out, reduce),
                                   rtol=1e-12)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # keras's __array__ on NumPy 2
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_keras_adaptive_layers(mode):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(4)
    for _ in range(10):
        shape = tuple(int(v) for v in rng.integers(1, 12, 2))
        out = tuple(int(v) for v in rng.integers(1, 9, 2))
        x = rng.standard_normal((2,) + shape + (3,)).astype(np.float32)  # channels last
        call = adaptive_args(shape, out, mode, "keras")
        layer = getattr(keras.layers, call.code.split("(")[0].removeprefix("layers."))(out)
        ref = np.moveaxis(np.asarray(keras.ops.convert_to_numpy(layer(x))), -1, 1)
        got = adaptive_pool2d(np.moveaxis(x, -1, 1), **call.kwargs)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    # where Keras differs from PyTorch: output_size is ints only (PyTorch's None keeps an axis)
    with pytest.raises(TypeError):
        keras.layers.AdaptiveAveragePooling2D(None)


def test_adaptive_in_each_framework():
    calls = {key: adaptive_args((7, 7), (3, 3), "avg", key) for key in FRAMEWORKS}
    assert calls["pytorch"].code == "nn.AdaptiveAvgPool2d(output_size=(3, 3))"
    assert calls["keras"].code == "layers.AdaptiveAveragePooling2D(output_size=(3, 3))"
    assert calls["keras"].notes[0].startswith("Keras places the bins as PyTorch does")
    assert {k for k, c in calls.items() if c.ok} == {"pytorch", "keras"}
    assert calls["tensorflow"].reason.startswith("TensorFlow has no adaptive pooling op")
    assert calls["caffe"].reason == "Caffe has no adaptive pooling"
    assert adaptive_args((7, 7), 3, "max", "keras").code == (
        "layers.AdaptiveMaxPooling2D(output_size=(3, 3))")
    assert adaptive_args((7, 7), 3, "min", "keras").reason == "Keras has no adaptive min pooling"
    assert adaptive_args((7, 7), 1, "avg", "onnx").ok
    with pytest.raises(ValueError, match="not available adaptively"):
        adaptive_args((7, 7), 3, "lp", "keras")


def test_keras_same_average_note_names_the_torch_backend():
    # n=6, k=3, s=2: out 3, total (3 - 1)*2 + 3 - 6 = 1: uneven, after
    call = framework_args(Settings(shape=6, kernel=3, stride=2, padding="same", mode="avg"),
                          "keras")
    assert call.pads == ((0, 1), (0, 1)) and "torch backend" in call.notes[0]
    even = framework_args(Settings(shape=5, kernel=3, stride=2, padding="same", mode="avg"),
                          "keras")
    assert even.pads == ((1, 1), (1, 1)) and not even.notes
