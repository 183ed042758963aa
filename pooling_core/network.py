r"""A tiny convolutional network in NumPy: this core's pooling layers in use.

The "Pooling inside a network" page trains it on the UCI handwritten digits
(``assets/digits.npz``, upsampled to 16×16) so a learner can compare ways of
downsampling, and test claims such as Springenberg et al. (2015, "Striving for
simplicity: the all convolutional net") that a strided convolution can replace
max pooling. Its pooling layers run :func:`~pooling_core.pool2d` forward and
:func:`~pooling_core.pool2d_backward` backward -- the functions every page of the
app draws -- on every batch; the tests check the whole network, forward and
backward, against the same network in PyTorch with the weights copied.

The architecture (:class:`Architecture`), for one 16×16 channel in and 10 classes::

    conv 3×3, 1 → 8,  padding 1  → ReLU → downsample   16×16 → 8×8
    conv 3×3, 8 → 16, padding 1  → ReLU → downsample    8×8  → 4×4
    dense 16·4·4 → 10            → softmax cross-entropy

where ``downsample`` is one of :data:`DOWNSAMPLING` (the same choice in both blocks):

* ``'max'``, ``'avg'``, ``'lp'`` (p = 2), ``'stochastic'``: 2×2 pooling with
  stride 2 through ``pool2d``/``pool2d_backward``. Stochastic pooling samples
  a cell per window while training (Zeiler & Fergus 2013) and takes Caffe's
  probability-weighted average at test time.
* ``'fractional'``: fractional max pooling (Graham 2014), 2×2 windows at pseudo-random
  steps of 1 or 2 cells, shrinking each side by ``1/√2`` instead of 2 (16 → 11 → 7):
  :func:`~pooling_core.fractional_max_pool2d` forward and its backward (the gradient
  goes to each window's max through the indices). While training every batch draws new
  windows (one ``u`` per image and channel, from the batch's seed); at test time, and in
  a training pass without an ``rng``, every plane uses ``u = 0.5``: one fixed set of
  windows (Graham averages several random draws instead).
* ``'strided'``: a learned 2×2 convolution with stride 2 (C → C channels, then
  ReLU) in the pooling layer's place: the same windows, learned weights
  (All-CNN's replacement; Springenberg et al. used 3×3 windows).
* ``'stride2'``: no downsampling layer; the 3×3 convolution before it takes
  stride 2 (Springenberg et al.'s smaller "Strided-CNN").
* ``'none'``: no downsampling at all; the dense layer reads 16·16·16 values.

A new pooling layer is one entry in ``_POOLS`` (its forward and backward calls) plus
its name in :data:`DOWNSAMPLING` (and its output size in :meth:`Pool.output_shape`).

Everything is vectorised: a convolution is one matrix product over an im2col
matrix gathered through the same per-kernel-offset strided views the pooling
core uses (the windows placed by :func:`~pooling_core.plan_axes`), and its
backward pass scatters back through those views. Python loops run over epochs,
batches, layers and kernel offsets, never over output positions.

Examples
--------
>>> arch = Architecture("max")
>>> arch.params, arch.macs
(3818, 94720)
>>> [row.output_shape for row in arch.summary()][:3]
[(8, 16, 16), (8, 16, 16), (8, 8, 8)]
>>> net = Network(arch, seed=0)
>>> net.forward(np.zeros((2, 1, 16, 16))).shape
(2, 10)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from math import isfinite, prod
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from ._checks import is_int
from .backward import pool2d_backward
from .fractional import (FractionalWindows, fractional_max_pool2d,
                         fractional_max_pool2d_backward, fractional_windows)
from .geometry import plan_axes
from .reductions import _offset_views, _pad, pool2d

__all__ = ["DOWNSAMPLING", "POOLING", "Architecture", "LayerRow", "Network", "Digits",
           "load_digits", "upsample", "split_indices", "digits", "shift_images",
           "accuracy", "shift_accuracy", "kept_by_max_pool", "Adam", "SGD", "Progress", "TrainResult", "check_run", "train",
           "pool_kwargs", "fractional_samples", "fractional_test_windows", "FRACTIONAL_RATIO",
           "DIGITS_PATH", "IMAGE_SIZE", "EPOCHS", "MAX_EPOCHS", "TEST_FRACTION", "SPLIT_SEED"]

#: Every downsampling choice, in the order the page lists them, with its label.
DOWNSAMPLING = {
    "max": "Max pool 2×2",
    "avg": "Average pool 2×2",
    "lp": "L2 pool 2×2 (Lp, p = 2)",
    "stochastic": "Stochastic pool 2×2",
    "fractional": "Fractional max pool 2×2, ratio 1/√2 (Graham)",
    "strided": "Strided conv 2×2 (learned, in the pool's place)",
    "stride2": "Stride 2 in the 3×3 conv (no pool layer)",
    "none": "No downsampling",
}
#: The choices that are ``pool2d`` modes: 2×2 windows at stride 2 (:func:`pool_kwargs`).
WINDOWED = ("max", "avg", "lp", "stochastic")
#: The choices that are a pooling layer of ``pooling_core`` (the others are convolutions).
POOLING = WINDOWED + ("fractional",)
#: The shipped digits (``assets/make_digits.py`` rebuilds them).
DIGITS_PATH = Path(__file__).resolve().parents[1] / "assets" / "digits.npz"
IMAGE_SIZE = 16  #: the side the 8×8 digits are upsampled to
EPOCHS = 5  #: the default number of epochs
MAX_EPOCHS = 50
TEST_FRACTION = 0.2  #: share of each class held out for testing
SPLIT_SEED = 0  #: the train/test split is fixed, whatever the training seed
POOL_KERNEL = 2  #: every downsampling layer halves the side: 2×2 windows, stride 2
LP_POWER = 2.0
FRACTIONAL_RATIO = 2 ** -0.5  #: fractional max pooling's output_ratio (Graham's √2 per layer)


def _check_int(value, name: str, lo: int, hi: int | None = None) -> int:
    if not is_int(value):
        raise ValueError(f"{name}={value!r} must be an int")
    if value < lo or (hi is not None and value > hi):
        rule = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        raise ValueError(f"{name}={value!r} must be an int {rule}")
    return int(value)


def _check_positive(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)) or not isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive, finite number")
    return float(value)


# ----------------------------------------------------------------------------- layers


class Layer:
    """One step of the network.

    ``forward(x, training, rng)`` returns ``(out, cache)``: ``cache`` holds what
    ``backward`` needs, and is None unless ``training`` (so a trained network shared
    by many readers keeps no per-call state). ``backward(g, cache, need_input)``
    takes the gradient of the loss with respect to the output, stores the gradients
    of the layer's parameters in ``grads`` and returns the gradient with respect to
    the input (None when ``need_input`` is False).
    """

    params: dict

    def __init__(self, name: str):
        self.name, self.params, self.grads = name, {}, {}

    def output_shape(self, shape: tuple) -> tuple:
        return shape

    def macs(self, shape: tuple) -> int:
        """Multiply-adds for one image of input ``shape`` (channels, H, W)."""
        return 0

    def init(self, rng: np.random.Generator, dtype) -> None:
        """Draw the parameters (He-normal weights, zero biases)."""

    def forward(self, x: np.ndarray, training: bool, rng):
        raise NotImplementedError

    def backward(self, g: np.ndarray, cache, need_input: bool = True):
        raise NotImplementedError


class Conv2d(Layer):
    """Cross-correlation like ``nn.Conv2d`` (weights ``(C_out, C_in, k, k)``), through im2col.

    The ``k*k`` kernel offsets are the strided views of the padded input that
    pooling reads (windows placed by :func:`~pooling_core.plan_axes`); they are
    gathered into a ``(N, H_out*W_out, C_in*k*k)`` im2col array and multiplied by the
    weights, one matrix product per image. Costs ``O(N * H_out * W_out * C_in * k² *
    C_out)`` and the im2col array.

    Why per image: OpenBLAS (NumPy's BLAS) splits a product this size over several
    threads, and on a machine whose cores are busy (a server shared by a class, or
    other jobs) such a small product then waits for a core, many times longer than it
    computes (docs/performance.md has the measurement). A product per image is small
    enough that OpenBLAS runs it on the calling thread.
    """

    def __init__(self, name, c_in, c_out, kernel, stride=1, padding=0):
        super().__init__(name)
        self.c_in, self.c_out, self.kernel = c_in, c_out, kernel
        self.stride, self.padding = stride, padding

    def plans(self, hw):
        return plan_axes(hw, self.kernel, self.stride, self.padding)

    def output_shape(self, shape):
        return (self.c_out,) + tuple(p.out for p in self.plans(shape[1:]))

    def macs(self, shape):
        return prod(self.output_shape(shape)) * self.c_in * self.kernel ** 2

    def init(self, rng, dtype):
        fan_in = self.c_in * self.kernel ** 2
        self.params["weight"] = (rng.standard_normal((self.c_out, self.c_in, self.kernel,
                                                      self.kernel)) * np.sqrt(2 / fan_in)
                                 ).astype(dtype)
        self.params["bias"] = np.zeros(self.c_out, dtype=dtype)

    def forward(self, x, training, rng):
        n = x.shape[0]
        plans = self.plans(x.shape[-2:])
        ho, wo = (p.out for p in plans)
        padded = _pad(x, plans, 0)
        taps = self.kernel ** 2
        cols = np.empty((n, ho, wo, self.c_in, taps), dtype=x.dtype)
        for flat, _, view in _offset_views(padded, plans):
            cols[..., flat] = view.transpose(0, 2, 3, 1)
        cols = cols.reshape(n, ho * wo, self.c_in * taps)
        w = self.params["weight"].reshape(self.c_out, -1)
        out = cols @ w.T + self.params["bias"]  # one product per image (class docstring)
        out = np.ascontiguousarray(out.reshape(n, ho, wo, self.c_out).transpose(0, 3, 1, 2))
        return out, ((cols, padded.shape, plans) if training else None)

    def backward(self, g, cache, need_input=True):
        cols, padded_shape, plans = cache
        n, ho, wo = g.shape[0], g.shape[2], g.shape[3]
        g2 = g.transpose(0, 2, 3, 1).reshape(n, ho * wo, self.c_out)
        w = self.params["weight"]
        self.grads["weight"] = (g2.transpose(0, 2, 1) @ cols).sum(axis=0).reshape(w.shape)
        self.grads["bias"] = g2.sum(axis=(0, 1))
        if not need_input:
            return None
        dcols = (g2 @ w.reshape(self.c_out, -1)).reshape(n, ho, wo, self.c_in, -1)
        grad = np.zeros(padded_shape, dtype=g.dtype)
        for flat, _, view in _offset_views(grad, plans):
            view += dcols[..., flat].transpose(0, 3, 1, 2)  # distinct cells within one offset
        (ph, pw) = plans
        return grad[..., ph.pad_before: ph.pad_before + ph.n, pw.pad_before: pw.pad_before + pw.n]


class ReLU(Layer):

    def forward(self, x, training, rng):
        keep = x > 0
        return np.where(keep, x, 0).astype(x.dtype, copy=False), (keep if training else None)

    def backward(self, g, cache, need_input=True):
        return np.where(cache, g, 0).astype(g.dtype, copy=False)


def pool_kwargs(mode: str, training: bool = False) -> dict:
    """The ``pool2d`` keyword arguments of the network's pooling layers for ``mode``
    (the page's window animation uses the same): 2×2 windows, stride 2, no padding.

    >>> pool_kwargs("lp")
    {'kernel_size': (2, 2), 'stride': (2, 2), 'padding': (0, 0), 'dilation': (1, 1), \
'ceil_mode': False, 'mode': 'lp', 'p': 2.0, 'training': False}
    """
    if mode not in WINDOWED:
        raise ValueError(f"mode={mode!r} is not a pool2d choice; choose one of "
                         f"{', '.join(WINDOWED)} (fractional max pooling places its windows "
                         f"with fractional_test_windows)")
    k = (POOL_KERNEL, POOL_KERNEL)
    return dict(kernel_size=k, stride=k, padding=(0, 0), dilation=(1, 1), ceil_mode=False,
                mode=mode, p=LP_POWER, training=bool(training))


# A pooling choice: how its forward and backward passes call the core. ``seed`` is the
# same int for both within a batch (stochastic pooling's sampling), None at test time.
def _pool_forward(mode):
    def run(x, training, seed):
        return pool2d(x, rng=seed, **pool_kwargs(mode, training))
    return run


def _pool_backward(mode):
    def run(g, x, seed):
        return pool2d_backward(g, x, rng=seed, **pool_kwargs(mode, True))
    return run


def fractional_samples(shape, seed: int | None) -> np.ndarray:
    """The ``(N, C, 2)`` samples (PyTorch's ``_random_samples``) of the fractional layer
    for maps of ``shape`` ``(N, C, H, W)``: drawn from ``seed`` while training, all 0.5
    without one (test time: one fixed set of windows).

    >>> fractional_samples((1, 2, 16, 16), None).tolist()
    [[[0.5, 0.5], [0.5, 0.5]]]
    """
    lead = tuple(shape[:2]) + (2,)
    return np.full(lead, 0.5) if seed is None else np.random.default_rng(seed).random(lead)


def fractional_test_windows(shape_hw) -> FractionalWindows:
    """Where the fractional layer's windows sit at test time on an ``(H, W)`` map.

    >>> fractional_test_windows((16, 16)).rows.tolist()
    [[0, 2, 3, 4, 6, 7, 9, 10, 11, 13, 14]]
    """
    return fractional_windows((1,) + tuple(shape_hw), POOL_KERNEL, output_ratio=FRACTIONAL_RATIO,
                              samples=fractional_samples((1, 1), None)[0])


def _fractional_forward(x, training, seed):
    return fractional_max_pool2d(x, POOL_KERNEL, output_ratio=FRACTIONAL_RATIO,
                                 samples=fractional_samples(x.shape, seed if training else None))


def _fractional_backward(g, x, seed):
    return fractional_max_pool2d_backward(g, x, POOL_KERNEL, output_ratio=FRACTIONAL_RATIO,
                                          samples=fractional_samples(x.shape, seed))


#: name -> (forward(x, training, seed), backward(grad, x, seed)); add an entry to add a layer
_POOLS: dict[str, tuple[Callable, Callable]] = {
    **{mode: (_pool_forward(mode), _pool_backward(mode)) for mode in WINDOWED},
    "fractional": (_fractional_forward, _fractional_backward)}


class Pool(Layer):
    """A downsampling layer of ``pooling_core``: 2×2 windows, stride 2, no parameters."""

    def __init__(self, name, mode):
        super().__init__(name)
        self.mode = mode

    def output_shape(self, shape):
        if self.mode == "fractional":  # as torch: int(n * output_ratio)
            return shape[:1] + tuple(int(n * FRACTIONAL_RATIO) for n in shape[1:])
        return shape[:1] + tuple(p.out for p in plan_axes(shape[1:], POOL_KERNEL))

    def forward(self, x, training, rng):
        # one seed for this batch's forward and backward: stochastic pooling samples once,
        # fractional max pooling draws its windows once
        seed = int(rng.integers(2**63)) if training and rng is not None else None
        out = _POOLS[self.mode][0](x, training, seed).astype(x.dtype, copy=False)
        return out, ((x, seed) if training else None)

    def backward(self, g, cache, need_input=True):
        x, seed = cache
        return _POOLS[self.mode][1](g, x, seed).astype(g.dtype, copy=False)


class Dense(Layer):
    """``nn.Linear`` on the flattened ``(C, H, W)`` feature maps (weights ``(out, in)``)."""

    def __init__(self, name, n_in, n_out):
        super().__init__(name)
        self.n_in, self.n_out = n_in, n_out

    def output_shape(self, shape):
        return (self.n_out,)

    def macs(self, shape):
        return self.n_in * self.n_out

    def init(self, rng, dtype):
        self.params["weight"] = (rng.standard_normal((self.n_out, self.n_in))
                                 * np.sqrt(1 / self.n_in)).astype(dtype)
        self.params["bias"] = np.zeros(self.n_out, dtype=dtype)

    def forward(self, x, training, rng):
        flat = x.reshape(x.shape[0], -1)
        # one product per image, like Conv2d (a single one may wait for a second core)
        out = (flat[:, None, :] @ self.params["weight"].T)[:, 0] + self.params["bias"]
        return out, ((flat, x.shape) if training else None)

    def backward(self, g, cache, need_input=True):
        flat, shape = cache
        self.grads["weight"] = np.einsum("no,ni->oi", g, flat)  # NumPy's own loop, no BLAS
        self.grads["bias"] = g.sum(axis=0)
        if not need_input:
            return None
        return (g[:, None, :] @ self.params["weight"])[:, 0].reshape(shape)


# ----------------------------------------------------------------------------- architecture


class LayerRow(NamedTuple):
    """One row of :meth:`Architecture.summary`."""
    name: str
    description: str
    output_shape: tuple
    params: int
    macs: int


@dataclass(frozen=True)
class Architecture:
    """The tiny CNN with one downsampling choice.

    Parameters
    ----------
    downsample : one of :data:`DOWNSAMPLING`
    channels : (int, int)
        Channels of the two 3×3 convolutions.
    size : int
        Side of the square input (16: the digits upsampled).
    classes : int

    Raises
    ------
    ValueError
        An unknown ``downsample``, channels that are not two positive ints, a
        ``size`` that two halvings do not leave at least 1.
    """

    downsample: str = "max"
    channels: tuple = (8, 16)
    size: int = IMAGE_SIZE
    classes: int = 10

    def __post_init__(self):
        if not isinstance(self.downsample, str) or self.downsample not in DOWNSAMPLING:
            raise ValueError(f"downsample={self.downsample!r} is unknown; choose one of "
                             f"{', '.join(DOWNSAMPLING)}")
        if not isinstance(self.channels, (tuple, list)) or len(self.channels) != 2:
            raise ValueError(f"channels={self.channels!r} must be two ints (conv1, conv2)")
        object.__setattr__(self, "channels", tuple(
            _check_int(c, "channels", 1, 256) for c in self.channels))
        _check_int(self.size, "size", 4, 256)
        _check_int(self.classes, "classes", 2, 1000)

    @property
    def label(self) -> str:
        return DOWNSAMPLING[self.downsample]

    def layers(self) -> list[Layer]:
        """Fresh layers (parameters not drawn yet)."""
        c1, c2 = self.channels
        d = self.downsample
        layers: list[Layer] = []
        for block, (c_in, c_out) in enumerate(((1, c1), (c1, c2)), start=1):
            layers.append(Conv2d(f"conv{block}", c_in, c_out, 3, 2 if d == "stride2" else 1, 1))
            layers.append(ReLU(f"relu{block}"))
            if d in _POOLS:
                layers.append(Pool(f"pool{block}", d))
            elif d == "strided":
                layers.append(Conv2d(f"down{block}", c_out, c_out, POOL_KERNEL, POOL_KERNEL))
                layers.append(ReLU(f"down{block}_relu"))
        shape = (1, self.size, self.size)
        for layer in layers:
            shape = layer.output_shape(shape)
        layers.append(Dense("dense", prod(shape), self.classes))
        return layers

    def summary(self) -> list[LayerRow]:
        """Each layer's output shape (per image), parameter count and multiply-adds."""
        rows, shape = [], (1, self.size, self.size)
        for layer in self.layers():
            layer.init(np.random.default_rng(0), np.float32)
            out = layer.output_shape(shape)
            rows.append(LayerRow(layer.name, _describe(layer), out,
                                 sum(p.size for p in layer.params.values()), layer.macs(shape)))
            shape = out
        return rows

    @property
    def params(self) -> int:
        """Learned parameters (weights and biases)."""
        return sum(r.params for r in self.summary())

    @property
    def macs(self) -> int:
        """Multiply-adds of one image's forward pass: the convolutions and the dense layer.

        Pooling layers are counted as 0: their comparisons and additions
        (4 per output for 2×2 windows) are not multiply-adds."""
        return sum(r.macs for r in self.summary())


def _describe(layer: Layer) -> str:
    if isinstance(layer, Conv2d):
        return (f"conv {layer.kernel}×{layer.kernel}, {layer.c_in} → {layer.c_out}, stride "
                f"{layer.stride}, padding {layer.padding}")
    if isinstance(layer, Pool):
        if layer.mode == "fractional":
            return f"{DOWNSAMPLING[layer.mode]} (pooling_core)"
        return f"{DOWNSAMPLING[layer.mode]}, stride 2 (pooling_core)"
    if isinstance(layer, Dense):
        return f"dense {layer.n_in} → {layer.n_out}"
    return "ReLU"


# ----------------------------------------------------------------------------- network


class Network:
    """The layers of an :class:`Architecture` with their parameters drawn from ``seed``.

    ``forward`` maps images ``(N, 1, H, W)`` to logits ``(N, classes)``;
    ``backward`` takes the gradient of the loss with respect to the logits of the
    last ``forward(..., training=True)`` and fills ``grads`` (same keys as
    ``params``: ``'conv1.weight'``, ...). A forward pass in test-time mode keeps
    nothing, so one trained network can serve many readers at once.
    """

    def __init__(self, arch: Architecture, seed: int = 0, dtype=np.float32):
        if not isinstance(arch, Architecture):
            raise ValueError(f"arch={arch!r} must be an Architecture")
        seed = _check_int(seed, "seed", 0, 2**32 - 1)
        self.arch, self.dtype = arch, np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype={dtype!r} must be float32 or float64")
        self.layers = arch.layers()
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.init(rng, self.dtype)
        self._caches = None

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{layer.name}.{k}": v for layer in self.layers for k, v in layer.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{layer.name}.{k}": v for layer in self.layers for k, v in layer.grads.items()}

    def forward(self, x, training: bool = False, rng: np.random.Generator | None = None,
                record: list | None = None) -> np.ndarray:
        """Logits ``(N, classes)`` of images ``x`` shaped ``(N, 1, H, W)``.

        ``training`` keeps what ``backward`` needs and makes stochastic pooling
        sample (from ``rng``); at test time it takes the weighted average.
        ``record``, a list, receives ``(name, output)`` for the input and every layer.
        """
        x = np.asarray(x, dtype=self.dtype)
        want = (1, self.arch.size, self.arch.size)
        if x.ndim != 4 or x.shape[1:] != want:
            raise ValueError(f"x has shape {x.shape}; the network takes (N, {want[0]}, "
                             f"{want[1]}, {want[2]}) images")
        if training and rng is None and self.arch.downsample == "stochastic":
            raise ValueError("training=True with stochastic pooling needs an rng to sample")
        if record is not None:
            record.append(("input", x))
        caches = []
        for layer in self.layers:
            x, cache = layer.forward(x, training, rng)
            caches.append(cache)
            if record is not None:
                record.append((layer.name, x))
        self._caches = caches if training else None
        return x

    def feature_maps(self, x) -> list[tuple[str, np.ndarray]]:
        """``(name, output)`` of the input and of every layer for images ``x`` (test time)."""
        record: list = []
        self.forward(x, record=record)
        return record

    def backward(self, grad_logits, need_input: bool = False):
        """Back-propagate ``dL/dlogits`` through the last training ``forward``; returns
        ``dL/dx`` if ``need_input`` (else None, and the first layer skips that product)."""
        if self._caches is None:
            raise ValueError("backward needs a forward pass with training=True first (a "
                             "test-time forward keeps nothing; stochastic pooling has no "
                             "backward pass at test time)")
        g = np.asarray(grad_logits, dtype=self.dtype)
        for i in range(len(self.layers) - 1, -1, -1):
            g = self.layers[i].backward(g, self._caches[i], need_input=need_input or i > 0)
        return g

    def predict_proba(self, x, batch: int = 512) -> np.ndarray:
        """Softmax probabilities ``(N, classes)`` of ``x`` (test-time mode)."""
        x = np.asarray(x)
        if not len(x):
            return np.zeros((0, self.arch.classes))
        logits = np.concatenate([self.forward(x[i:i + batch]) for i in range(0, len(x), batch)])
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, x, batch: int = 512) -> np.ndarray:
        """Class labels of ``x`` (test-time mode), ``batch`` images at a time."""
        return self.predict_proba(x, batch).argmax(axis=1)


def softmax_cross_entropy(logits, y) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of the softmax of ``logits`` ``(N, K)`` and its gradient."""
    y = np.asarray(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(y)
    loss = -float(log_p[np.arange(n), y].mean())
    grad = np.exp(log_p)
    grad[np.arange(n), y] -= 1
    return loss, (grad / n).astype(logits.dtype, copy=False)


# ----------------------------------------------------------------------------- optimizers


class Adam:
    """Adam (Kingma & Ba 2015) with PyTorch's defaults but for ``lr``."""

    def __init__(self, lr: float = 0.01, betas=(0.9, 0.999), eps: float = 1e-8):
        self.lr, (self.b1, self.b2), self.eps = _check_positive(lr, "lr"), betas, eps
        self.t, self.m, self.v = 0, {}, {}

    def step(self, params: dict, grads: dict) -> None:
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for k, p in params.items():
            g = grads[k]
            m = self.m[k] = self.b1 * self.m.get(k, 0) + (1 - self.b1) * g
            v = self.v[k] = self.b2 * self.v.get(k, 0) + (1 - self.b2) * g * g
            p -= (self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)).astype(p.dtype)


class SGD:
    """Stochastic gradient descent with momentum (PyTorch's form)."""

    def __init__(self, lr: float = 0.05, momentum: float = 0.9):
        self.lr, self.momentum, self.buf = _check_positive(lr, "lr"), momentum, {}

    def step(self, params: dict, grads: dict) -> None:
        for k, p in params.items():
            b = self.buf[k] = self.momentum * self.buf.get(k, 0) + grads[k]
            p -= (self.lr * b).astype(p.dtype)


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


# ----------------------------------------------------------------------------- data


class Digits(NamedTuple):
    """Train and test images ``(N, 1, S, S)`` (float32 in 0..1, read-only) and labels."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(path=None) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 UCI digits: images ``(1797, 8, 8)`` uint8 in 0..16, labels uint8 0..9."""
    path = DIGITS_PATH if path is None else Path(path)
    try:
        with np.load(path) as data:
            images, labels = data["images"], data["labels"]
    except (OSError, KeyError, ValueError) as err:
        raise ValueError(f"{path} is not the digits file ({err}); rebuild it with "
                         f"python assets/make_digits.py") from None
    return images, labels


def _bilinear_matrix(n: int, size: int) -> np.ndarray:
    """``(size, n)`` weights of bilinear resizing with half-pixel centres, edges clamped
    (``F.interpolate(..., mode='bilinear', align_corners=False)``)."""
    pos = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    m = np.zeros((size, n))
    np.add.at(m, (np.arange(size), lo), 1 - frac)
    np.add.at(m, (np.arange(size), hi), frac)
    return m


def upsample(images, size: int = IMAGE_SIZE) -> np.ndarray:
    """Bilinear resize of ``(..., h, w)`` images to ``(..., size, size)`` (float64).

    Equal to ``torch.nn.functional.interpolate(mode='bilinear', align_corners=False)``:
    ``A @ image @ B.T`` with fixed ``(size, h)`` and ``(size, w)`` weight matrices,
    ``O(N * size * (h + w) * size)``.

    >>> upsample(np.array([[0.0, 4.0]]), 4).round(2).tolist()
    [[0.0, 1.0, 3.0, 4.0], [0.0, 1.0, 3.0, 4.0], [0.0, 1.0, 3.0, 4.0], [0.0, 1.0, 3.0, 4.0]]
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim < 2:
        raise ValueError(f"images has shape {images.shape}; give (..., h, w)")
    size = _check_int(size, "size", 1, 1024)
    a = _bilinear_matrix(images.shape[-2], size)
    b = _bilinear_matrix(images.shape[-1], size)
    return np.einsum("ih,...hw,jw->...ij", a, images, b)


def split_indices(labels, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED):
    """A stratified split: ``round(test_fraction * n_c)`` of each class ``c`` for testing.

    Returns sorted ``(train_idx, test_idx)``. The split depends on ``seed`` only, so
    every training seed is tested on the same images.

    >>> train_idx, test_idx = split_indices(np.repeat(np.arange(2), 5), 0.4)
    >>> len(train_idx), len(test_idx), np.bincount(np.repeat(np.arange(2), 5)[test_idx]).tolist()
    (6, 4, [2, 2])
    """
    labels = np.asarray(labels)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction!r} must be between 0 and 1")
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        test.append(rng.choice(members, int(round(test_fraction * len(members))), replace=False))
    test_idx = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(labels)), test_idx), test_idx


@lru_cache(maxsize=4)
def digits(size: int = IMAGE_SIZE, path=None) -> Digits:
    """The digits split into train and test (fixed split), upsampled to ``size``, in 0..1.

    Cached; the arrays are read-only. 1,438 training and 359 test images.
    """
    images, labels = load_digits(path)
    x = (upsample(images, size) / 16.0).astype(np.float32)[:, None]
    train_idx, test_idx = split_indices(labels)
    parts = [x[train_idx], labels[train_idx].astype(np.int64), x[test_idx],
             labels[test_idx].astype(np.int64)]
    for a in parts:
        a.flags.writeable = False
    return Digits(*parts)


def shift_images(x, dy: int, dx: int) -> np.ndarray:
    """Images ``(..., H, W)`` moved ``dy`` rows down and ``dx`` columns right, zeros coming in.

    >>> shift_images(np.arange(4).reshape(2, 2), 0, 1).tolist()
    [[0, 0], [0, 2]]
    """
    x = np.asarray(x)
    h, w = x.shape[-2:]
    dy, dx = int(dy), int(dx)
    out = np.zeros_like(x)
    if abs(dy) < h and abs(dx) < w:
        out[..., max(dy, 0): h + min(dy, 0), max(dx, 0): w + min(dx, 0)] = \
            x[..., max(-dy, 0): h + min(-dy, 0), max(-dx, 0): w + min(-dx, 0)]
    return out


#: The one-pixel shifts of the shift-robustness test: up, down, left, right.
SHIFTS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def accuracy(net: Network, x, y) -> float:
    """Share of ``x`` the network classifies as ``y`` (test-time mode)."""
    return float((net.predict(x) == np.asarray(y)).mean()) if len(y) else float("nan")


def shift_accuracy(net: Network, x, y) -> float:
    """Mean accuracy on the images shifted by one pixel in each of the four directions."""
    return float(np.mean([accuracy(net, shift_images(x, dy, dx), y) for dy, dx in SHIFTS]))


def kept_by_max_pool(maps) -> np.ndarray:
    """The cells of ``maps`` ``(..., H, W)`` that win their window in the network's max
    pooling with a positive value: ``(..., H, W)`` bool.

    A window of zeros (ReLU's output where nothing responded) keeps nothing. The
    indices are ``pool2d``'s own (``return_indices=True``), as its backward pass
    routes the gradient.

    >>> kept_by_max_pool(np.array([[0, 3], [1, 2]])).astype(int).tolist()
    [[0, 1], [0, 0]]
    >>> kept_by_max_pool(np.zeros((2, 2))).any()
    np.False_
    """
    maps = np.asarray(maps)
    values, idx = pool2d(maps, return_indices=True, **pool_kwargs("max"))
    plane = maps.shape[-2] * maps.shape[-1]
    flat = np.zeros((int(np.prod(maps.shape[:-2], dtype=np.int64)), plane), dtype=bool)
    rows = np.arange(flat.shape[0])[:, None]
    won = (values > 0).reshape(flat.shape[0], -1)
    flat[rows, idx.reshape(flat.shape[0], -1)] |= won  # one winner per window, no repeats
    return flat.reshape(maps.shape)


# ----------------------------------------------------------------------------- training


class Progress(NamedTuple):
    """What :func:`train` reports after every batch."""
    step: int  # batches done
    steps: int  # batches in the whole run
    epoch: int  # epochs completed
    losses: list  # the loss of every batch so far
    history: list  # one dict per completed epoch (see TrainResult.history)


@dataclass
class TrainResult:
    """A finished run: the trained network and what was measured on the way.

    ``history`` has one dict per epoch: ``epoch``, ``loss`` (the mean over its
    batches), ``train_accuracy`` (on its batches, while training) and
    ``test_accuracy`` (after the epoch).
    """
    arch: Architecture
    seed: int
    epochs: int
    network: Network
    losses: list = field(default_factory=list)
    history: list = field(default_factory=list)
    test_accuracy: float = float("nan")
    shift_accuracy: float = float("nan")
    seconds: float = 0.0

    @property
    def params(self) -> int:
        return self.arch.params

    @property
    def macs(self) -> int:
        return self.arch.macs


def check_run(seed, epochs) -> tuple[int, int]:
    """``(seed, epochs)`` as ints if :func:`train` takes them, else ValueError naming the value.

    >>> check_run(3, 5)
    (3, 5)
    """
    return (_check_int(seed, "seed", 0, 2**32 - 1), _check_int(epochs, "epochs", 1, MAX_EPOCHS))


def train(arch: Architecture, seed: int = 0, epochs: int = EPOCHS, *, data: Digits | None = None,
          batch_size: int = 32, optimizer: str = "adam", lr: float | None = None,
          callback: Callable[[Progress], None] | None = None) -> TrainResult:
    """Train a :class:`Network` of ``arch`` on the digits; reproducible for a ``seed``.

    ``seed`` draws the initial weights, the order of the batches and stochastic
    pooling's samples, all from one ``numpy.random.default_rng(seed)``.
    ``callback`` gets a :class:`Progress` after every batch (the page draws its
    progress bar and live plot from it; an exception there stops the run).

    Parameters
    ----------
    arch : Architecture
    seed : int, 0 .. 2**32 - 1
    epochs : int, 1 .. MAX_EPOCHS
    data : Digits, optional
        Defaults to :func:`digits` (1,438 training and 359 test images of 16×16).
    batch_size : int
    optimizer : {'adam', 'sgd'}
    lr : float, optional
        Default 0.01 for Adam, 0.05 for SGD with momentum 0.9.

    Returns
    -------
    TrainResult
        With test accuracy, shift-robust accuracy (:func:`shift_accuracy`) and
        the wall-clock training time (evaluation after each epoch included).

    Notes
    -----
    Each batch costs one forward and one backward pass, about 3 × ``arch.macs``
    multiply-adds per image plus the pooling calls.
    """
    if not isinstance(arch, Architecture):
        raise ValueError(f"arch={arch!r} must be an Architecture")
    seed, epochs = check_run(seed, epochs)
    batch_size = _check_int(batch_size, "batch_size", 1, 4096)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer={optimizer!r} is unknown; choose one of "
                         f"{', '.join(OPTIMIZERS)}")
    data = digits(arch.size) if data is None else data
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    net = Network(arch, seed=int(rng.integers(2**32)))
    opt = OPTIMIZERS[optimizer](**({} if lr is None else {"lr": lr}))
    n = len(data.y_train)
    per_epoch = -(-n // batch_size)
    result = TrainResult(arch, seed, epochs, net)
    for epoch in range(epochs):
        order = rng.permutation(n)
        correct, epoch_losses = 0, []
        for b in range(per_epoch):
            idx = order[b * batch_size: (b + 1) * batch_size]
            logits = net.forward(data.x_train[idx], training=True, rng=rng)
            loss, grad = softmax_cross_entropy(logits, data.y_train[idx])
            net.backward(grad)
            opt.step(net.params, net.grads)
            correct += int((logits.argmax(axis=1) == data.y_train[idx]).sum())
            epoch_losses.append(loss)
            result.losses.append(loss)
            if callback is not None and b < per_epoch - 1:
                callback(Progress(epoch * per_epoch + b + 1, epochs * per_epoch, epoch,
                                  result.losses, result.history))
        result.history.append(dict(epoch=epoch + 1, loss=float(np.mean(epoch_losses)),
                                   train_accuracy=correct / n,
                                   test_accuracy=accuracy(net, data.x_test, data.y_test)))
        if callback is not None:
            callback(Progress((epoch + 1) * per_epoch, epochs * per_epoch, epoch + 1,
                              result.losses, result.history))
    result.test_accuracy = result.history[-1]["test_accuracy"]
    result.shift_accuracy = shift_accuracy(net, data.x_test, data.y_test)
    result.seconds = time.perf_counter() - start
    return result
