"""One setting, every framework's answer: how seven libraries read the same pooling layer.

The frameworks disagree on four things: how the output size is rounded, where
padding goes, what padding is worth, and what an average divides by. Each
framework is a small record (its calls, where dilation and 'same' exist, its
adaptive layers, its sources); :func:`framework_args` turns the user's
:class:`Settings` into that framework's real call plus the
:func:`~pooling_core.pool2d` keyword arguments that give its numbers, or into
the reason it cannot express the settings. :func:`compare_frameworks` runs them
all and compares each with PyTorch; :func:`adaptive_args` does the same for
adaptive pooling.

ONNX is read from its own terms: :func:`onnx_args` maps a node's attributes
(any of 1-3 spatial axes) onto the core by the ONNX specification, or, with
``runtime=True``, as onnxruntime computes it where the two part (the "ONNX
Runtime" record); :func:`onnx_run`, :func:`onnx_indices` and :func:`onnx_unpool`
run a node. Pure NumPy, no UI.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod

import numpy as np

from ._checks import as_real_array, check_flag, check_real, is_int
from .geometry import AxisPlan, normalize_tuple, plan_axes
from .reductions import MODES, _count_include_pad, pool2d, pool_nd

__all__ = ["Settings", "Framework", "FRAMEWORKS", "FrameworkCall", "framework_args",
           "Comparison", "compare_frameworks", "ONNX_OPS", "onnx_args", "onnx_run",
           "onnx_indices", "onnx_unpool", "adaptive_args"]

_PAD_STRINGS = ("valid", "same", "same_lower")  # same_lower: ONNX's odd cell top/left
_FLT_MAX = float(np.finfo(np.float32).max)       # Caffe's max starts from -FLT_MAX


@dataclass(frozen=True)
class Settings:
    """The user's 2-D pooling settings; an int is widened to an ``(h, w)`` pair.

    ``padding`` is symmetric per axis (int or ``(ph, pw)``) or ``'valid'``,
    ``'same'`` (odd cell bottom/right) or ``'same_lower'`` (odd cell top/left);
    ``stride=None`` means the kernel. ``count_include_pad=None`` is read as
    :func:`~pooling_core.pool2d` reads it (True for numeric padding, False for
    named padding in an average). ``p`` is the power of 'lp'.

    >>> s = Settings(shape=32, kernel=3, stride=2, padding=1)
    >>> s.shape, s.kernel, s.stride, s.padding, s.dilation
    ((32, 32), (3, 3), (2, 2), (1, 1), (1, 1))
    >>> Settings(shape=8, kernel=2, mode="avg", padding="same").count_include_pad
    False
    """

    shape: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] | str = 0
    dilation: tuple[int, int] = 1
    mode: str = "max"
    ceil_mode: bool = False
    count_include_pad: bool | None = None
    p: float = 2.0

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)
        put("shape", normalize_tuple(self.shape, 2, "shape"))
        put("kernel", normalize_tuple(self.kernel, 2, "kernel"))
        put("stride", self.kernel if self.stride is None
            else normalize_tuple(self.stride, 2, "stride"))
        put("dilation", normalize_tuple(self.dilation, 2, "dilation"))
        if isinstance(self.padding, str):
            if self.padding.lower() not in _PAD_STRINGS:
                raise ValueError(f"padding={self.padding!r}: give ints or one of {_PAD_STRINGS}")
            put("padding", self.padding.lower())
        else:
            put("padding", normalize_tuple(self.padding, 2, "padding", minimum=0))
        put("ceil_mode", check_flag(self.ceil_mode, "ceil_mode"))
        if not isinstance(self.mode, str) or self.mode not in MODES:
            raise ValueError(f"mode={self.mode!r} is unknown; choose one of {', '.join(MODES)}")
        cip = self.count_include_pad
        put("count_include_pad", _count_include_pad(
            None if cip is None else check_flag(cip, "count_include_pad"),
            self.padding if isinstance(self.padding, str) else "symmetric", self.mode))
        p = check_real(self.p, "p")
        if not (np.isfinite(p) and p > 0):
            raise ValueError(f"p={self.p!r} must be a positive, finite number")
        put("p", float(p))

    @property
    def pads(self) -> tuple[int, int]:
        """Numeric padding per axis (``'valid'`` is 0); only for non-'same' settings."""
        return (0, 0) if self.padding == "valid" else self.padding

    padded = property(lambda self: not isinstance(self.padding, str) and any(self.padding))
    same = property(lambda self: self.padding in ("same", "same_lower"))
    dilated = property(lambda self: any(d > 1 for d in self.dilation))


@dataclass(frozen=True)
class Framework:
    """One framework: display name, real call per mode, the modes that take a
    dilation, the 'same' paddings it knows, where the mapping was checked, and its
    adaptive pooling layer per mode (or why it has none: :func:`adaptive_args`)."""

    key: str
    name: str
    calls: dict
    dilation_modes: tuple = ()
    same: tuple = ()
    sources: tuple = ()
    adaptive: dict | str = ""


_DOCS = "https://www.mathworks.com/help/deeplearning/ref/nnet.cnn.layer."
FRAMEWORKS = {f.key: f for f in (
    # floor, or ceil with the clip rule; padding <= k//2; max pads -inf; avg per count_include_pad
    Framework("pytorch", "PyTorch",
              {"max": "nn.MaxPool2d", "avg": "nn.AvgPool2d", "lp": "nn.LPPool2d"}, ("max",), (),
              ("https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html",
               "pytorch/pytorch aten/src/ATen/native/Pool.h",
               "https://pytorch.org/docs/stable/generated/torch.nn.AdaptiveAvgPool2d.html"),
              {"max": "nn.AdaptiveMaxPool2d", "avg": "nn.AdaptiveAvgPool2d"}),
    # SAME: out = ceil(n/s), odd cell bottom/right, padded cells ignored (avg excludes them);
    # explicit pads (each <= window) in max_pool2d only; dilation via tf.nn.pool: strides 1, VALID
    Framework("tensorflow", "TensorFlow",
              {"max": "tf.nn.max_pool2d", "avg": "tf.nn.avg_pool2d"}, ("max", "avg"), ("same",),
              ("https://www.tensorflow.org/api_docs/python/tf/nn/max_pool2d",
               "https://www.tensorflow.org/api_docs/python/tf/nn#notes_on_padding_2",
               "tensorflow/tensorflow tensorflow/python/ops/nn_ops.py (pool_v2)"),
              "TensorFlow has no adaptive pooling op (Keras 3, its layers API, has "
              "layers.AdaptiveAveragePooling2D)"),
    # TensorFlow's ops underneath; 'valid'/'same' only, no dilation. Keras 3 adaptive layers:
    # bin i of n cells is floor(i·n/out) .. ceil((i+1)·n/out), PyTorch's (keras/src/backend/
    # */nn.py pools every window of ceil(n/out) and ceil(n/out) + 1 cells and gathers)
    Framework("keras", "Keras",
              {"max": "layers.MaxPooling2D", "avg": "layers.AveragePooling2D"}, (), ("same",),
              ("https://keras.io/api/layers/pooling_layers/max_pooling2d/",
               "https://keras.io/api/layers/pooling_layers/average_pooling2d/",
               "https://keras.io/api/layers/pooling_layers/adaptive_average_pooling2d",
               "keras-team/keras keras/src/layers/pooling/base_adaptive_pooling.py, "
               "keras/src/backend/numpy/nn.py (_adaptive_pool2d_impl)"),
              {"max": "layers.AdaptiveMaxPooling2D", "avg": "layers.AdaptiveAveragePooling2D"}),
    # pads [x1_begin, x2_begin, x1_end, x2_end]; ceil with the clip rule (opset 22); AveragePool
    # count_include_pad (default 0), dilations since 19; LpPool (sum |x|^p)^(1/p); ORT pad < k
    Framework("onnx", "ONNX",
              {"max": "MaxPool", "avg": "AveragePool", "lp": "LpPool"}, ("max", "avg", "lp"),
              ("same", "same_lower"),
              ("onnx/onnx docs/Operators.md (MaxPool, AveragePool, LpPool), opset 22",
               "onnx/onnx onnx/backend/test/case/node (the node tests, run in "
               "tests/test_onnx.py)"),
              "ONNX has no adaptive pooling (GlobalAveragePool and GlobalMaxPool are its 1×1 "
              "case)"),
    # what onnxruntime 1.32 computes where it departs from the spec: SAME padded for the
    # undilated kernel, ceil_mode applied to SAME/VALID, each pad < kernel, MaxPool's empty
    # window -FLT_MAX (measured in tests/test_onnx.py against random models)
    Framework("onnxruntime", "ONNX Runtime",
              {"max": "MaxPool", "avg": "AveragePool", "lp": "LpPool"}, ("max", "avg", "lp"),
              ("same", "same_lower"),
              ("microsoft/onnxruntime onnxruntime/core/providers/cpu/nn/pool_attributes.h",
               "onnxruntime 1.32 CPU, cross-checked in tests/test_onnx.py"),
              "ONNX has no adaptive pooling (GlobalAveragePool and GlobalMaxPool are its 1×1 "
              "case)"),
    # round_mode CEIL (default) | FLOOR; clip only when pad > 0; pad < kernel; pads MAX/AVE only;
    # AVE divides by the window clipped to input + pad; STOCHASTIC runs on the GPU only
    Framework("caffe", "Caffe",
              {"max": "Pooling (pool: MAX)", "avg": "Pooling (pool: AVE)",
               "stochastic": "Pooling (pool: STOCHASTIC)"}, (), (),
              ("BVLC/caffe src/caffe/layers/pooling_layer.cpp (Reshape, Forward_cpu)",
               "BVLC/caffe src/caffe/proto/caffe.proto (PoolingParameter)")),
    # 'same': out = ceil(n/s), odd cell bottom/right; [t b l r] each < pool size; floor only;
    # the average layer's zero padding counts; max padding value undocumented (taken as -Inf)
    Framework("matlab", "MATLAB",
              {"max": "maxPooling2dLayer", "avg": "averagePooling2dLayer"}, (), ("same",),
              (_DOCS + "maxpooling2dlayer.html", _DOCS + "averagepooling2dlayer.html"),
              "MATLAB's adaptiveAveragePooling2dLayer (R2024a): Poolscope has not checked "
              "where its bins fall"),
    # non-overlapping blocks; pads the END of each axis with cval up to a multiple of the block
    Framework("skimage", "scikit-image",
              dict.fromkeys(("max", "avg", "sum", "min", "median"), "block_reduce"), (), (),
              ("scikit-image/scikit-image skimage/measure/block.py (block_reduce)",)),
)}

_FUNC = {"max": "np.max", "avg": "np.mean", "sum": "np.sum", "min": "np.min", "median": "np.median"}
_CAFFE_POOL = {"max": "MAX", "avg": "AVE", "stochastic": "STOCHASTIC"}


def _over(s, limit):
    return s.padded and any(p > limit(k) for p, k in zip(s.pads, s.kernel))


# (framework, test, reason), checked in order after the mode / 'same' / dilation checks
_RULES = (
    ("pytorch", lambda s: s.mode == "lp" and s.padded, "nn.LPPool2d in PyTorch has no padding"),
    ("pytorch", lambda s: _over(s, lambda k: k // 2), "PyTorch requires padding ≤ kernel/2"),
    ("tensorflow", lambda s: s.dilated and s.stride != (1, 1),
     "TensorFlow requires dilation 1 when stride > 1 (tf.nn.pool)"),
    ("tensorflow", lambda s: s.dilated and s.same,
     "tf.nn.pool has no 'SAME' padding when dilation > 1"),
    ("tensorflow", lambda s: s.padded and (s.mode != "max" or s.dilated),
     "only tf.nn.max_pool2d takes explicit padding (avg_pool2d and pool: 'SAME'/'VALID')"),
    ("tensorflow", lambda s: _over(s, lambda k: k),
     "TensorFlow requires explicit padding ≤ the window size"),
    ("keras", lambda s: s.padded, "Keras pooling pads only 'valid' or 'same'"),
    ("onnx", lambda s: s.mode == "lp" and not s.p.is_integer(),
     "ONNX LpPool takes an integer p"),
    ("onnxruntime", lambda s: s.mode == "lp" and not s.p.is_integer(),
     "ONNX LpPool takes an integer p"),
    ("caffe", lambda s: s.padded and s.mode == "stochastic", "Caffe pads only MAX and AVE"),
    ("caffe", lambda s: _over(s, lambda k: k - 1), "Caffe requires pad < kernel"),
    ("matlab", lambda s: _over(s, lambda k: k - 1), "MATLAB requires padding < pool size"),
    ("skimage", lambda s: s.stride != s.kernel,
     "scikit-image block_reduce has no stride different from the block size"),
    ("skimage", lambda s: s.padded,
     "scikit-image block_reduce takes no padding (it pads the end with cval itself)"),
    ("skimage", lambda s: s.mode == "median" and prod(s.kernel) % 2 == 0,
     "np.median averages the two middle values of an even-sized block; Poolscope's median "
     "keeps the lower one"),
)


@dataclass(frozen=True)
class FrameworkCall:
    """What one framework does with the settings.

    ok, reason : whether it can express them, and if not why.
    kwargs : ``pool2d(x, **kwargs)`` gives this framework's numbers (from
        :func:`onnx_args`: ``pool_nd(x, len(out_shape), **kwargs)``; from
        :func:`adaptive_args`: ``adaptive_pool2d(x, **kwargs)``).
    out_shape, pads : ``(H_out, W_out)``; ``((top, bottom), (left, right))`` as applied.
    pad_value_text, divisor_rule : what padding is worth; what an average divides by.
    code : the framework's real call. notes : sentences for the UI (defaults, deviations).
    """

    framework: str
    ok: bool
    reason: str = ""
    kwargs: dict | None = None
    out_shape: tuple[int, int] | None = None
    pads: tuple | None = None
    pad_value_text: str = ""
    divisor_rule: str = ""
    code: str = ""
    notes: tuple[str, ...] = ()


def _reason(fw: Framework, s: Settings) -> str:
    if s.mode not in fw.calls:
        return f"{fw.name} has no {s.mode} pooling"
    if s.same and s.padding not in fw.same:
        kind = "SAME_LOWER" if s.padding == "same_lower" else "'same'"
        return f"{fw.name} has no {kind} padding"
    if s.dilated and s.mode not in fw.dilation_modes:
        return f"{fw.calls[s.mode]} in {fw.name} has no dilation"
    return next((text for key, test, text in _RULES if key == fw.key and test(s)), "")


def _code(key, s, pads):
    """The framework's own call for these settings."""
    k, st, d, m, call = s.kernel, s.stride, s.dilation, s.mode, FRAMEWORKS[key].calls[s.mode]
    (t, b), (l, r) = pads
    if key == "pytorch":
        if m == "lp":
            return (f"nn.LPPool2d(norm_type={s.p:g}, kernel_size={k}, stride={st}, "
                    f"ceil_mode={s.ceil_mode})")
        extra = f"dilation={d}" if m == "max" else f"count_include_pad={s.count_include_pad}"
        return (f"{call}(kernel_size={k}, stride={st}, padding={s.pads}, {extra}, "
                f"ceil_mode={s.ceil_mode})")
    if key == "tensorflow":
        pad = ('"SAME"' if s.same else f"[[0, 0], [{t}, {b}], [{l}, {r}], [0, 0]]" if s.padded
               else '"VALID"')
        if s.dilated:
            return (f'tf.nn.pool(x, window_shape={list(k)}, pooling_type="{m.upper()}", '
                    f"strides={list(st)}, padding={pad}, dilations={list(d)})")
        return (f"{call}(x, ksize=[1, {k[0]}, {k[1]}, 1], strides=[1, {st[0]}, {st[1]}, 1], "
                f"padding={pad})")
    if key == "keras":
        return f'{call}(pool_size={k}, strides={st}, padding="{"same" if s.same else "valid"}")'
    if key == "caffe":
        def field(one, base, v):
            return f"{one}: {v[0]}" if v[0] == v[1] else f"{base}_h: {v[0]} {base}_w: {v[1]}"
        body = [f"pool: {_CAFFE_POOL[m]}", field("kernel_size", "kernel", k),
                field("stride", "stride", st)]
        body += ([field("pad", "pad", s.pads)] if s.padded else []) + (
            [] if s.ceil_mode else ["round_mode: FLOOR"])
        return f"pooling_param {{ {' '.join(body)} }}"
    if key == "matlab":
        pad = (",'Padding','same'" if s.same else f",'Padding',[{t} {b} {l} {r}]" if s.padded
               else "")
        return f"{call}([{k[0]} {k[1]}],'Stride',[{st[0]} {st[1]}]{pad})"
    return f"block_reduce(image, block_size={k}, func={_FUNC[m]}, cval=0)"


def _texts(key, m, kw, pads):
    """``(pad_value_text, divisor_rule)``."""
    value = kw["pad_value"]
    if not any(v for pair in pads for v in pair):
        pad_text = "no padding"
    elif value is not None:
        pad_text = "−FLT_MAX (never wins)" if value == -_FLT_MAX else f"{value:g} (takes part)"
    else:
        pad_text = {"max": "−inf (never wins)", "min": "+inf (never wins)", "median": "ignored",
                    "stochastic": "weight 0 (never picked)"}.get(m, "0 (adds nothing)")
    if m == "lp":
        rule = ("kh·kw × mean of x**p over the window clipped to input + padding (edge windows "
                "rescaled)" if key == "pytorch" else "none: (Σ |x|**p)**(1/p) over the window")
    elif m != "avg":
        rule = "none (not an average)"
    elif key == "skimage":
        rule = "the whole block (cval cells count)"
    elif kw["count_include_pad"]:
        rule = "cells inside input + padding (overhang past the padding never counts)"
    else:
        rule = "real input cells only (padding never counts)"
    return pad_text, rule


def _check_settings(settings) -> None:
    if not isinstance(settings, Settings):
        raise ValueError(f"settings={settings!r} must be a pooling_core.conventions.Settings")


# ----------------------------------------------------------------------------- adaptive


def adaptive_args(shape, output_size, mode: str, framework: str) -> FrameworkCall:
    """One framework's adaptive pooling of a ``shape`` plane to ``output_size``.

    PyTorch's bins (:func:`~pooling_core.adaptive_bins`): bin ``i`` of ``n``
    cells into ``out`` spans ``floor(i·n/out)`` to ``ceil((i+1)·n/out)``, so
    neighbours overlap when ``out`` does not divide ``n``. Keras 3's
    ``AdaptiveAveragePooling2D`` / ``AdaptiveMaxPooling2D`` documents only that
    it works out the kernel and stride; its code (every backend but torch, which
    calls PyTorch's op) pools every window of ``ceil(n/out)`` and ``ceil(n/out)
    + 1`` cells and gives each bin the one of its size that starts at
    ``floor(i·n/out)``: the same bins. Keras differs in the call, not the
    numbers: ints only for ``output_size`` (PyTorch takes None for "keep this
    axis"), no ``return_indices``, channels last by default. ONNX expresses
    only the 1×1 case (``GlobalAveragePool`` / ``GlobalMaxPool``).

    Returns a :class:`FrameworkCall` whose ``kwargs`` are those of
    :func:`~pooling_core.adaptive_pool2d`, or the reason the framework has none.

    >>> adaptive_args((7, 7), (3, 3), "avg", "keras").code
    'layers.AdaptiveAveragePooling2D(output_size=(3, 3))'
    >>> adaptive_args((7, 7), (3, 3), "max", "onnx").reason
    'ONNX has no adaptive pooling (GlobalAveragePool and GlobalMaxPool are its 1×1 case)'
    >>> adaptive_args((7, 7), 1, "max", "onnx").code
    'onnx.helper.make_node("GlobalMaxPool", ["x"], ["y"])'
    """
    if not isinstance(framework, str) or framework not in FRAMEWORKS:
        raise ValueError(f"framework={framework!r} is unknown; choose one of "
                         f"{', '.join(FRAMEWORKS)}")
    if not isinstance(mode, str) or mode not in ("max", "avg", "min", "sum"):
        raise ValueError(f"mode={mode!r} is not available adaptively; use max, avg, min or sum")
    shape = normalize_tuple(shape, 2, "shape")
    size = normalize_tuple(output_size, 2, "output_size")
    fw = FRAMEWORKS[framework]
    call, reason = None, fw.adaptive if isinstance(fw.adaptive, str) else ""
    if isinstance(fw.adaptive, dict):
        call = fw.adaptive.get(mode)
        reason = "" if call else f"{fw.name} has no adaptive {mode} pooling"
    elif framework in ("onnx", "onnxruntime") and size == (1, 1) and mode in ("max", "avg"):
        call, reason = {"max": "GlobalMaxPool", "avg": "GlobalAveragePool"}[mode], ""
    if not reason and not call:
        reason = f"{fw.name} has no adaptive pooling"
    if reason:
        return FrameworkCall(framework, False, reason)
    if framework in ("onnx", "onnxruntime"):
        code = f'onnx.helper.make_node("{call}", ["x"], ["y"])'
    else:
        code = f"{call}(output_size={size})"
    notes = ()
    if framework == "keras":
        notes = ("Keras places the bins as PyTorch does: bin i spans floor(i·n/out) to "
                 "ceil((i+1)·n/out) (it pools every window of ceil(n/out) and ceil(n/out) + 1 "
                 "cells and picks each bin's); it has no return_indices.",)
    return FrameworkCall(framework, True, "", dict(output_size=size, mode=mode), size,
                         ((0, 0), (0, 0)), "no padding",
                         "the bin's cells" if mode == "avg" else "none (not an average)",
                         code, notes)


# ----------------------------------------------------------------------------- ONNX


#: The ONNX pooling operators the core computes, and their mode.
ONNX_OPS = {"MaxPool": "max", "AveragePool": "avg", "LpPool": "lp", "GlobalMaxPool": "max",
            "GlobalAveragePool": "avg", "GlobalLpPool": "lp"}
_ONNX_WINDOW = ("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides")
_ONNX_ATTRS = {"MaxPool": _ONNX_WINDOW + ("storage_order",),
               "AveragePool": _ONNX_WINDOW + ("count_include_pad",),
               "LpPool": _ONNX_WINDOW + ("p",), "GlobalMaxPool": (), "GlobalAveragePool": (),
               "GlobalLpPool": ("p",)}
_AUTO_PADS = {"NOTSET": None, "SAME_UPPER": "same", "SAME_LOWER": "same_lower",
              "VALID": "valid"}
_EMPTY_WINDOW = ("a window reads only padding here, and the ONNX spec does not say what "
                 "{op} gives for it")
_NEGATIVE_SAME = ("ONNX's SAME padding is negative here (the kernel is shorter than the stride "
                  "leaves over), which the ONNX spec does not define")
_ORT_NEGATIVE_SAME = ("ONNX Runtime's SAME padding is negative here (it pads for the undilated "
                      "kernel): MaxPool rejects it, AveragePool and LpPool crop the input")
_ORT_PAD = "ONNX Runtime requires each pad < kernel"
_ORT_TRUNCATES = ("the kernel spans more than input + padding here: ONNX Runtime rounds the "
                  "negative (n + pads - span) / stride toward zero and keeps one window, "
                  "where the spec's floor (and PyTorch) gives none")
_ORT_EMPTY_AVG = ("a window reads only padding here: ONNX Runtime averages it to 0, Poolscope's "
                  "count_include_pad=0 average to 0/0")


@dataclass(frozen=True)
class _OnnxNode:
    """One pooling node's attributes with ONNX's defaults filled in."""

    op: str
    spatial: tuple
    kernel: tuple
    strides: tuple
    dilations: tuple
    pads: tuple            # ((begin, end), ...) as given (NOTSET)
    auto_pad: str
    ceil_mode: bool
    count_include_pad: bool
    p: int
    storage_order: int

    @property
    def mode(self) -> str:
        return ONNX_OPS[self.op]


def _onnx_ints(value, name, op, ndim, minimum):
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1 or len(value) != ndim:
        raise ValueError(f"{op} attribute {name}={value!r} must list {ndim} ints, one per "
                         f"spatial axis")
    return normalize_tuple(tuple(int(v) if isinstance(v, (int, np.integer)) and not
                                 isinstance(v, (bool, np.bool_)) else v for v in value),
                           ndim, name, minimum=minimum)


def _onnx_node(op_type, attrs, input_shape) -> _OnnxNode:
    """Validate a node's op type, attributes and input shape ``(N, C, *spatial)``."""
    if not isinstance(op_type, str) or op_type not in ONNX_OPS:
        raise ValueError(f"op_type={op_type!r} is not an ONNX pooling operator Poolscope "
                         f"computes; choose one of {', '.join(ONNX_OPS)} (MaxUnpool: "
                         f"onnx_unpool)")
    if not isinstance(attrs, dict):
        raise ValueError(f"attrs={attrs!r} must be a dict of the node's attributes")
    unknown = sorted(set(attrs) - set(_ONNX_ATTRS[op_type]))
    if unknown:
        raise ValueError(f"{op_type} has no attribute {', '.join(unknown)}; it takes "
                         f"{', '.join(_ONNX_ATTRS[op_type]) or 'none'}")
    try:
        shape = tuple(int(n) for n in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_shape={input_shape!r} must be a tuple of ints "
                         f"(N, C, *spatial)") from None
    if not 3 <= len(shape) <= 5 or min(shape) < 1:
        raise ValueError(f"input_shape={input_shape!r} must be (N, C, *spatial) with 1-3 "
                         f"spatial axes of positive sizes")
    spatial, nd = shape[2:], len(shape) - 2

    def flag(name):
        value = attrs.get(name, 0)
        if value not in (0, 1) or isinstance(value, float):
            raise ValueError(f"{op_type} attribute {name}={value!r} must be 0 or 1")
        return bool(value)

    p = attrs.get("p", 2)
    if not is_int(p) or p < 1:
        raise ValueError(f"{op_type} attribute p={p!r} must be a positive int (ONNX's p is an "
                         f"INT)")
    if op_type.startswith("Global"):
        return _OnnxNode(op_type, spatial, spatial, spatial, (1,) * nd, ((0, 0),) * nd,
                         "NOTSET", False, False, int(p), 0)
    if "kernel_shape" not in attrs:
        raise ValueError(f"{op_type} needs the attribute kernel_shape")
    kernel = _onnx_ints(attrs["kernel_shape"], "kernel_shape", op_type, nd, 1)
    strides = _onnx_ints(attrs.get("strides", (1,) * nd), "strides", op_type, nd, 1)
    dilations = _onnx_ints(attrs.get("dilations", (1,) * nd), "dilations", op_type, nd, 1)
    flat = _onnx_ints(attrs.get("pads", (0,) * 2 * nd), "pads", op_type, 2 * nd, 0)
    auto = attrs.get("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto not in _AUTO_PADS:
        raise ValueError(f"{op_type} attribute auto_pad={auto!r} must be one of "
                         f"{', '.join(_AUTO_PADS)}")
    order = attrs.get("storage_order", 0)
    if order not in (0, 1) or isinstance(order, float):
        raise ValueError(f"{op_type} attribute storage_order={order!r} must be 0 (row major) "
                         f"or 1 (column major)")
    return _OnnxNode(op_type, spatial, kernel, strides, dilations,
                     tuple(zip(flat[:nd], flat[nd:])), auto, flag("ceil_mode"),
                     flag("count_include_pad"), int(p), int(order))


def _onnx_code(node: _OnnxNode) -> str:
    """The node as ``onnx.helper.make_node`` writes it."""
    head = f'onnx.helper.make_node("{node.op}", ["x"], ["y"]'
    if node.op.startswith("Global"):
        return head + (f", p={node.p})" if node.op == "GlobalLpPool" else ")")
    flat = [b for b, _ in node.pads] + [a for _, a in node.pads]
    parts = [f"kernel_shape={list(node.kernel)}", f"strides={list(node.strides)}",
             f'auto_pad="{node.auto_pad}"' if node.auto_pad != "NOTSET" else f"pads={flat}"]
    if any(d > 1 for d in node.dilations):
        parts.append(f"dilations={list(node.dilations)}")
    if node.mode == "avg":
        parts.append(f"count_include_pad={int(node.count_include_pad)}")
    if node.mode == "lp":
        parts.append(f"p={node.p}")
    if node.storage_order:
        parts.append(f"storage_order={node.storage_order}")
    parts.append(f"ceil_mode={int(node.ceil_mode)}")
    return f"{head}, {', '.join(parts)})"


def _same_total(node, dilated: bool):
    """ONNX's SAME total per axis, ``(ceil(n/s) - 1)*s + span - n`` (may be negative)."""
    return [AxisPlan.same_total(n, k, s, d if dilated else 1) for n, k, s, d
            in zip(node.spatial, node.kernel, node.strides, node.dilations)]


def _onnx_call(node: _OnnxNode, runtime: bool) -> FrameworkCall:
    """The core's keyword arguments for one node, by the spec or as onnxruntime runs it."""
    key = "onnxruntime" if runtime else "onnx"
    mode, same = node.mode, _AUTO_PADS[node.auto_pad]

    def refuse(reason):
        return FrameworkCall(key, False, reason)
    if node.auto_pad != "NOTSET" and any(v for pair in node.pads for v in pair):
        return refuse(f"ONNX takes pads or auto_pad={node.auto_pad}, not both")
    ceil = node.ceil_mode
    if same in ("same", "same_lower"):
        if min(_same_total(node, dilated=not runtime)) < 0:
            return refuse(_ORT_NEGATIVE_SAME if runtime else _NEGATIVE_SAME)
        if runtime:  # padded for the undilated kernel, then read with the dilated one
            padding = tuple((p.pad_before, p.pad_after) for p in plan_axes(
                node.spatial, node.kernel, node.strides, same, 1, check_half_kernel=False))
        else:  # the spec: out = ceil(n / s), whatever ceil_mode says
            padding, ceil = same, False
    elif same == "valid":
        padding, ceil = "valid", ceil and runtime  # the spec's VALID ignores ceil_mode
    else:
        padding = node.pads
        if runtime and any(v >= k for pair, k in zip(node.pads, node.kernel) for v in pair):
            return refuse(_ORT_PAD)
    if runtime and not ceil:
        pairs = ((0, 0),) * len(node.spatial) if padding == "valid" else padding
        if any(-s < n + b + a - AxisPlan.window_span(k, d) < 0 for n, k, s, d, (b, a) in zip(
                node.spatial, node.kernel, node.strides, node.dilations, pairs)):
            return refuse(_ORT_TRUNCATES)
    kw = dict(kernel_size=node.kernel, stride=node.strides, padding=padding,
              dilation=node.dilations, mode=mode, ceil_mode=ceil,
              count_include_pad=node.count_include_pad, pad_value=None, ceil_clip=True,
              check_half_kernel=False)
    if mode == "lp":  # the p-norm of |x|: zero padding adds nothing, no divisor
        kw.update(count_include_pad=True, p=float(node.p), absolute=True)
    try:
        plans = plan_axes(node.spatial, node.kernel, node.strides, padding, node.dilations,
                          ceil, check_half_kernel=False)
    except ValueError as err:
        return refuse(str(err))
    empty = any(not p.inside.any(axis=1).all() for p in plans)
    if empty and (mode == "max" or (mode == "avg" and not node.count_include_pad)):
        if not runtime:
            return refuse(_EMPTY_WINDOW.format(op=node.op))
        if mode == "avg":
            return refuse(_ORT_EMPTY_AVG)
        kw["pad_value"] = -_FLT_MAX  # ORT's max starts from the lowest float
    if mode == "lp" and any(p.extra_after > p.pad_after for p in plans):
        # the core's lp rescales a ceil-mode edge window by K / its cells inside input +
        # padding. Padding every axis up to exactly what its last window reads (zeros, and
        # no window reads past it) keeps the same windows in floor mode, each divisor K.
        kw.update(padding=tuple((p.pad_before, p.extra_after) for p in plans), ceil_mode=False)
    pads = tuple((p.pad_before, p.pad_after) for p in plans)
    pad_text, rule = _texts(key, mode, kw, pads)
    if kw["pad_value"] is not None:
        pad_text = "−FLT_MAX (ONNX Runtime's start value: a window of padding only gives it)"
    notes = []
    if not runtime and node.ceil_mode and same:
        notes.append(f"ceil_mode does not change ONNX's {node.auto_pad} output size (the "
                     f"spec's formulas already round); ONNX Runtime may differ.")
    return FrameworkCall(key, True, "", kw, tuple(p.out for p in plans), pads, pad_text, rule,
                         _onnx_code(node), tuple(notes))


def _runtime_notes(node: _OnnxNode, spec: FrameworkCall, ort: FrameworkCall) -> tuple:
    """One sentence per way ONNX Runtime departs from the spec for this node."""
    if not ort.ok or (spec.ok and spec.out_shape == ort.out_shape and spec.pads == ort.pads
                      and spec.kwargs["pad_value"] == ort.kwargs["pad_value"]
                      and spec.kwargs["ceil_mode"] == ort.kwargs["ceil_mode"]):
        return ()
    notes = []
    same = _AUTO_PADS[node.auto_pad]
    if same in ("same", "same_lower") and any(d > 1 for d in node.dilations):
        notes.append("ONNX Runtime sizes SAME padding for the undilated kernel (k, not "
                     "d·(k−1)+1) and reads it with the dilated one" +
                     (", rounding up in ceil mode" if node.ceil_mode else "") +
                     "; the spec pads for the dilated window.")
    if same == "valid" and node.ceil_mode and (not spec.ok or spec.out_shape != ort.out_shape):
        notes.append("ONNX Runtime rounds VALID up in ceil mode; the spec's VALID output "
                     "size ignores ceil_mode.")
    if ort.kwargs["pad_value"] is not None:
        notes.append("ONNX Runtime gives −FLT_MAX (−3.4e38) for a MaxPool window that reads "
                     "only padding; the spec does not define it.")
    return tuple(notes)


def onnx_args(op_type: str, attrs: dict, input_shape, *, runtime: bool = False) -> FrameworkCall:
    """Map one ONNX pooling node (its op type and attributes) onto the core.

    Parameters
    ----------
    op_type : str
        A key of :data:`ONNX_OPS` (``MaxPool``, ``AveragePool``, ``LpPool`` and
        their ``Global`` forms).
    attrs : dict
        The node's attributes by name, as ``onnx.helper.get_attribute_value``
        gives them (``auto_pad`` may be bytes); missing ones take ONNX's defaults.
    input_shape : tuple of int
        ``(N, C, *spatial)`` with 1-3 spatial axes.
    runtime : bool
        Follow onnxruntime 1.32 (the "ONNX Runtime" record) where it departs
        from the ONNX specification (opset 22): SAME padded for the undilated
        kernel, ceil_mode applied to SAME and VALID, each pad < kernel, -FLT_MAX
        for a MaxPool window of padding only.

    Returns
    -------
    FrameworkCall
        ``kwargs`` such that ``pool_nd(x, len(out_shape), **kwargs)`` (one
        ``(N, C)`` plane per leading index) gives the node's ``Y``; or
        ``ok=False`` and the ``reason`` the core cannot give it.

    Raises
    ------
    ValueError
        For an unknown op type or attribute, or an attribute or shape ONNX
        itself rejects.

    Notes
    -----
    The mapping costs ``O(sum of output sizes)`` (the axis plans); the pooling
    is the core's. LpPool is ``(sum |x|**p) ** (1/p)`` over the window, with
    no divisor: ``absolute=True``, and windows clipped at the border in ceil
    mode are not rescaled.

    Examples
    --------
    ONNX's own ``test_averagepool_2d_ceil_last_window_starts_on_pad``: 2×2
    input, kernel 3, stride 3, pads 1. Ceil mode rounds ``(2 + 2 - 3) / 3 + 1``
    up to 2 windows, but the second would start at 3 - 1 = 2, in the right
    padding, so it is dropped; the one window divides by its 9 cells:

    >>> attrs = dict(kernel_shape=[3, 3], strides=[3, 3], pads=[1, 1, 1, 1], ceil_mode=1,
    ...              count_include_pad=1)
    >>> call = onnx_args("AveragePool", attrs, (1, 3, 2, 2))
    >>> call.out_shape, call.pads
    ((1, 1), ((1, 1), (1, 1)))
    >>> onnx_run("AveragePool", attrs, [np.array([[[[1.0, 2.0], [3.0, 6.0]]]])])[0].tolist()
    [[[[1.3333333333333333]]]]

    SAME with dilation, where onnxruntime pads for the undilated kernel:

    >>> attrs = dict(kernel_shape=[2], dilations=[2], auto_pad="SAME_UPPER")
    >>> onnx_args("MaxPool", attrs, (1, 1, 4)).pads, onnx_args("MaxPool", attrs, (1, 1, 4),
    ...                                                         runtime=True).pads
    (((1, 1),), ((0, 1),))
    """
    runtime = check_flag(runtime, "runtime")
    node = _onnx_node(op_type, attrs, input_shape)
    call = _onnx_call(node, runtime)
    if runtime and call.ok:
        call = replace(call, notes=call.notes + _runtime_notes(node, _onnx_call(node, False),
                                                               call))
    return call


def onnx_run(op_type: str, attrs: dict, inputs, *, runtime: bool = False,
             outputs: int | None = None) -> list:
    """Run one ONNX pooling node on the core: ``[Y]``, or ``[Y, Indices]`` for MaxPool.

    ``inputs`` is the node's input list (``[X]``; ``MaxUnpool``: ``[X, I]`` or ``[X, I,
    output_shape]``); ``outputs`` the number of outputs the node has (default: 1, and
    MaxUnpool's one). Indices are ONNX's: flat over ``N·C·spatial``, row major
    (``storage_order=0``) or column major within each plane (``1``). Raises
    ``ValueError`` with :func:`onnx_args`'s reason when the core cannot express the node.

    >>> x = np.array([[[[1.0, 5.0], [7.0, 2.0]]]])
    >>> y, i = onnx_run("MaxPool", dict(kernel_shape=[2, 2]), [x], outputs=2)
    >>> y.tolist(), i.tolist()
    ([[[[7.0]]]], [[[[2]]]])
    >>> onnx_run("MaxPool", dict(kernel_shape=[2, 2], storage_order=1), [x], outputs=2)[1].tolist()
    [[[[1]]]]
    """
    if op_type == "MaxUnpool":
        return [onnx_unpool(inputs[0], inputs[1], attrs, *inputs[2:3], runtime=runtime)]
    x = as_real_array(inputs[0], "X")
    call = onnx_args(op_type, attrs, x.shape, runtime=runtime)
    if not call.ok:
        raise ValueError(f"{op_type}: {call.reason}")
    indices = outputs == 2
    if indices and op_type != "MaxPool":
        raise ValueError(f"{op_type} has one output; only MaxPool gives Indices")
    ndim = len(call.out_shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = pool_nd(x, ndim, **call.kwargs, return_indices=indices)
    if not indices:
        return [result]
    y, idx = result
    if call.kwargs["pad_value"] is not None:
        raise ValueError(f"{op_type}: a window reads only padding here, and ONNX Runtime's "
                         f"index for it names no cell (it counts from row and column -1)")
    return [y, onnx_indices(idx, x.shape, attrs.get("storage_order", 0))]


def onnx_indices(indices, input_shape, storage_order: int = 0) -> np.ndarray:
    """The core's per-plane indices as ONNX's MaxPool gives them.

    The core (like PyTorch) numbers the cells of each ``spatial`` plane row
    major from 0; ONNX counts over the whole ``N·C·spatial`` tensor, plane
    after plane, and with ``storage_order=1`` numbers each plane column major.

    Cell (1, 2) of a 2×3 plane is 5 row major, 1 + 2·2 = 5 column major; cell (1, 1)
    is 4 row major and 1 + 1·2 = 3 column major; the second channel adds 6:

    >>> five = np.array([[[[5]], [[5]]]])                 # (N, C, 1, 1) = (1, 2, 1, 1)
    >>> onnx_indices(five, (1, 2, 2, 3)).ravel().tolist()
    [5, 11]
    >>> onnx_indices(five - 1, (1, 2, 2, 3), storage_order=1).ravel().tolist()
    [3, 9]
    """
    if storage_order not in (0, 1) or isinstance(storage_order, (bool, float)):
        raise ValueError(f"storage_order={storage_order!r} must be 0 or 1")
    shape = tuple(int(n) for n in input_shape)
    idx = np.asarray(indices, dtype=np.int64)
    spatial, plane = shape[2:], prod(shape[2:])
    if idx.ndim != len(shape) or idx.shape[:2] != shape[:2]:
        raise ValueError(f"indices has shape {idx.shape}; input_shape={input_shape!r} needs "
                         f"(N, C) = {shape[:2]} in front and {len(spatial)} spatial axes")
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        raise ValueError("indices name a padded cell (-1) or lie outside the plane; ONNX's "
                         "MaxPool never picks padding")
    if storage_order == 1:
        idx = np.ravel_multi_index(np.unravel_index(idx, spatial), spatial, order="F")
    base = np.arange(shape[0] * shape[1], dtype=np.int64).reshape(shape[:2]) * plane
    return idx + base.reshape(shape[:2] + (1,) * len(spatial))


def onnx_unpool(x, indices, attrs: dict, output_shape=None, *, runtime: bool = False):
    """ONNX's ``MaxUnpool`` on the core (:func:`~pooling_core.unpool_nd`).

    ``indices`` are ONNX's (flat over ``N·C·spatial``, as MaxPool gives them),
    into the inferred plane of ``(in - 1)*stride + kernel - pad_begin - pad_end``
    cells per axis. A larger ``output_shape`` then adds zeros at the end of each
    axis (ONNX's node test ``test_maxunpool_export_with_output_shape``);
    onnxruntime (``runtime=True``) reads the indices in the ``output_shape``
    plane instead, as PyTorch's ``max_unpool2d`` does.

    >>> onnx_unpool(np.array([[[[8.0]]]]), np.array([[[[3]]]]), dict(kernel_shape=[2, 2]))
    array([[[[0., 0.],
             [0., 8.]]]])
    >>> big = np.array([1, 1, 3, 3])
    >>> onnx_unpool(np.array([[[[8.0]]]]), np.array([[[[3]]]]), dict(kernel_shape=[2, 2]),
    ...             big)[0, 0].tolist()
    [[0.0, 0.0, 0.0], [0.0, 8.0, 0.0], [0.0, 0.0, 0.0]]
    >>> onnx_unpool(np.array([[[[8.0]]]]), np.array([[[[3]]]]), dict(kernel_shape=[2, 2]),
    ...             big, runtime=True)[0, 0].tolist()
    [[0.0, 0.0, 0.0], [8.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    from .backward import unpool_nd  # backward imports reductions, as this module does

    x = as_real_array(x, "X")
    allowed = ("kernel_shape", "pads", "strides")
    if not isinstance(attrs, dict) or set(attrs) - set(allowed) or "kernel_shape" not in attrs:
        raise ValueError(f"attrs={attrs!r}: MaxUnpool takes kernel_shape (required), pads and "
                         f"strides")
    if not 3 <= x.ndim <= 5:
        raise ValueError(f"X has shape {x.shape}; MaxUnpool needs (N, C, *spatial)")
    nd = x.ndim - 2
    kernel = _onnx_ints(attrs["kernel_shape"], "kernel_shape", "MaxUnpool", nd, 1)
    strides = _onnx_ints(attrs.get("strides", (1,) * nd), "strides", "MaxUnpool", nd, 1)
    flat = _onnx_ints(attrs.get("pads", (0,) * 2 * nd), "pads", "MaxUnpool", 2 * nd, 0)
    inferred = tuple((n - 1) * s + k - b - e for n, s, k, b, e
                     in zip(x.shape[2:], strides, kernel, flat[:nd], flat[nd:]))
    spatial = inferred
    if output_shape is not None:
        given = tuple(int(n) for n in np.asarray(output_shape).ravel())
        if len(given) != x.ndim or given[:2] != x.shape[:2]:
            raise ValueError(f"output_shape={given} must be (N, C, *spatial) with (N, C) = "
                             f"{x.shape[:2]}")
        spatial = given[2:]
    idx = np.asarray(indices)
    if idx.shape != x.shape or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"I has shape {idx.shape} and dtype {idx.dtype}; MaxUnpool needs "
                         f"ints shaped like X {x.shape}")
    source = spatial if runtime else inferred  # the plane the indices count in
    plane = prod(source)
    base = (np.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2]) * plane).reshape(
        x.shape[:2] + (1,) * nd)
    local = idx.astype(np.int64) - base
    if local.size and (local.min() < 0 or local.max() >= plane):
        raise ValueError(f"I names a cell outside its own (N, C) plane of {source} cells")
    if source != spatial:
        coords = np.unravel_index(local, source)
        if any((c >= n).any() for c, n in zip(coords, spatial)):
            raise ValueError(f"I names a cell outside output_shape's plane {spatial}")
        local = np.ravel_multi_index(coords, spatial)
    return unpool_nd(x, local, x.shape[:2] + spatial, nd)


def framework_args(settings: Settings, framework: str, *, fallback: bool = False) -> FrameworkCall:
    """Map the user's settings onto one framework.

    Parameters
    ----------
    settings : Settings
    framework : str
        A key of :data:`FRAMEWORKS`.
    fallback : bool
        If the framework has no such mode (PyTorch has no median pooling), place
        the windows as its max pooling would and let the core compute the mode
        there, with a note, instead of refusing.

    Returns
    -------
    FrameworkCall
        ``ok=False`` and a ``reason`` when the framework cannot express the
        settings; otherwise its real call, output size and padding, and
        ``kwargs`` such that ``pool2d(x, **kwargs)`` reproduces its numbers.
        A setting the framework has no knob for (TensorFlow's ceil_mode,
        Caffe's count_include_pad) takes the framework's fixed behaviour.

    Examples
    --------
    A 1×1 window with stride 2 on 32 cells, rounding up: ceil(31/2) + 1 = 17
    windows. PyTorch drops the 17th (it would start at 32, past the input);
    Caffe keeps it, as it clips only when there is padding:

    >>> s = Settings(shape=32, kernel=1, stride=2, ceil_mode=True)
    >>> framework_args(s, "pytorch").out_shape, framework_args(s, "caffe").out_shape
    ((16, 16), (17, 17))
    >>> call = framework_args(s, "caffe")
    >>> call.code
    'pooling_param { pool: MAX kernel_size: 1 stride: 2 }'
    >>> call.kwargs["ceil_clip"]
    False
    >>> framework_args(Settings(shape=8, kernel=2, dilation=2), "keras").reason
    'layers.MaxPooling2D in Keras has no dilation'
    """
    if not isinstance(framework, str) or framework not in FRAMEWORKS:
        raise ValueError(f"framework={framework!r} is unknown; choose one of "
                         f"{', '.join(FRAMEWORKS)}")
    _check_settings(settings)
    fallback = check_flag(fallback, "fallback")
    fw, s = FRAMEWORKS[framework], settings
    missing = fallback and s.mode not in fw.calls
    windows = replace(s, mode="max") if missing else s  # whose windows the mode uses
    reason = _reason(fw, windows)
    if reason:
        return FrameworkCall(framework, False, reason)
    if framework in ("onnx", "onnxruntime"):
        return _onnx_settings_call(s, windows, framework, missing)
    padding = s.padding if s.same else s.pads
    kw = dict(kernel_size=s.kernel, stride=s.stride, padding=padding, dilation=s.dilation,
              mode=s.mode, ceil_mode=s.ceil_mode, count_include_pad=s.count_include_pad,
              pad_value=None, ceil_clip=True, check_half_kernel=framework == "pytorch")
    if framework in ("tensorflow", "keras", "matlab"):  # floor only; TF ignores padded cells
        kw.update(ceil_mode=False, count_include_pad=framework == "matlab")
    if s.mode == "lp":  # an Lp norm: the divisor must be the whole window (see the end)
        kw.update(count_include_pad=True, p=s.p)
    if framework == "caffe":
        kw.update(ceil_clip=s.padded, count_include_pad=True,
                  pad_value=-_FLT_MAX if s.mode == "max" else None)
    if framework == "skimage":
        kw.update(padding=tuple((0, -n % k) for n, k in zip(s.shape, s.kernel)), pad_value=0,
                  count_include_pad=True)
    try:
        plans = plan_axes(s.shape, s.kernel, s.stride, kw["padding"], s.dilation, kw["ceil_mode"],
                          ceil_clip=kw["ceil_clip"], check_half_kernel=kw["check_half_kernel"])
    except ValueError as err:
        return FrameworkCall(framework, False, str(err))
    out = tuple(p.out for p in plans)
    pads = tuple((p.pad_before, p.pad_after) for p in plans)

    def rounded_up(clip=True):
        return tuple(p.out for p in plan_axes(s.shape, s.kernel, s.stride, kw["padding"],
                                              s.dilation, True, ceil_clip=clip,
                                              check_half_kernel=False))
    notes = []
    if s.ceil_mode and framework in ("tensorflow", "keras", "matlab") and rounded_up() != out:
        notes.append(f"{fw.name} has no ceil_mode: it rounds down ({out[0]}×{out[1]}, not "
                     f"{rounded_up()[0]}×{rounded_up()[1]}).")
    if framework == "caffe" and not s.ceil_mode and rounded_up(s.padded) != out:
        h, w = rounded_up(s.padded)
        notes.append(f"round_mode: FLOOR needs a recent BVLC Caffe; older builds and the "
                     f"default CEIL give {h}×{w}.")
    if framework == "keras" and s.mode == "avg" and s.same and any(b != a for b, a in pads):
        notes.append("Keras on its torch backend pads an uneven SAME by repeating the edge "
                     "cells and divides by the whole window; shown: TensorFlow's average of "
                     "the real cells (Keras's default backend).")
    if framework == "caffe" and s.mode == "stochastic":
        notes.append("Caffe runs STOCHASTIC on the GPU only (TRAIN samples, TEST averages).")
    if framework == "skimage" and any(b for _, b in pads):
        notes.append("block_reduce pads the end of each axis with cval=0 to a multiple of the "
                     "block.")
    pad_text, rule = _texts(framework, s.mode, kw, pads)
    return _fallback(FrameworkCall(framework, True, "", kw, out, pads, pad_text, rule,
                                   _code(framework, windows, pads), tuple(notes)), s, missing)


def _fallback(call: FrameworkCall, s: Settings, missing: bool) -> FrameworkCall:
    """A mode the framework lacks, computed on the windows of its max pooling (as said)."""
    if not missing:
        return call
    name = FRAMEWORKS[call.framework].name
    kw = dict(call.kwargs, mode=s.mode, pad_value=None)
    return replace(call, kwargs=kw, pad_value_text=_texts(call.framework, s.mode, kw,
                                                          call.pads)[0],
                   code=f"# {name} has no {s.mode} pooling; these are the windows of:\n"
                        f"{call.code}",
                   notes=(f"{name} has no {s.mode} pooling: Poolscope computes it on the "
                          f"windows of {name}'s max pooling.",) + call.notes)


def _onnx_settings_call(s: Settings, windows: Settings, key: str, missing: bool):
    """framework_args for the ONNX records: the settings as a node, through onnx_args."""
    attrs = dict(kernel_shape=list(s.kernel), strides=list(s.stride),
                 ceil_mode=int(s.ceil_mode))
    if isinstance(s.padding, str):
        attrs["auto_pad"] = {"same": "SAME_UPPER", "same_lower": "SAME_LOWER",
                             "valid": "VALID"}[s.padding]
    else:
        attrs["pads"] = list(s.pads) * 2
    if s.dilated:
        attrs["dilations"] = list(s.dilation)
    if windows.mode == "avg":
        attrs["count_include_pad"] = int(s.count_include_pad)
    if windows.mode == "lp":
        attrs["p"] = int(s.p)
    call = onnx_args(FRAMEWORKS[key].calls[windows.mode], attrs, (1, 1) + s.shape,
                     runtime=key == "onnxruntime")
    return _fallback(call, s, missing) if call.ok else call


def _same_result(a: FrameworkCall, a_out, b: FrameworkCall, b_out) -> bool:
    if a.ok != b.ok:
        return False
    if not a.ok:
        return a.reason == b.reason
    return a_out.shape == b_out.shape and np.array_equal(a_out, b_out, equal_nan=True)


@dataclass(frozen=True)
class Comparison:
    """One framework's output next to PyTorch's.

    ``same_shape``, ``max_abs_diff`` and ``diff_mask`` are None when either side
    cannot run; ``max_abs_diff`` and ``diff_mask`` also when the shapes differ.
    """

    framework: str
    call: FrameworkCall
    output: np.ndarray | None = None
    same_shape: bool | None = None
    max_abs_diff: float | None = None
    diff_mask: np.ndarray | None = None


def compare_frameworks(x, settings: Settings, seed: int = 0) -> list[Comparison]:
    """Run every framework on ``x`` (shape ``(..., H, W)``) and compare with PyTorch.

    A cell differs unless equal (max/min) or within a relative 1e-9 (other
    modes); NaN equals NaN. Stochastic pooling draws with ``rng=seed``. The
    ONNX Runtime row is left out when onnxruntime gives the spec's answer (the
    same numbers, or the same refusal): the ONNX row then speaks for both.

    >>> rows = compare_frameworks(np.arange(16.0).reshape(4, 4), Settings(shape=4, kernel=2))
    >>> [(r.framework, r.same_shape, r.max_abs_diff) for r in rows[:2]]
    [('pytorch', True, 0.0), ('tensorflow', True, 0.0)]
    """
    _check_settings(settings)
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative int")
    x = as_real_array(x, "x")
    if x.ndim < 2 or x.shape[-2:] != settings.shape:
        raise ValueError(f"x has shape {x.shape}; settings.shape is {settings.shape}")
    results = []
    for key in FRAMEWORKS:
        call, out = framework_args(settings, key), None
        if call.ok:
            with np.errstate(invalid="ignore", divide="ignore"):  # Caffe's empty windows: 0/0
                out = pool2d(x, **call.kwargs, rng=seed)
        results.append((key, call, out))
    found = {key: (call, out) for key, call, out in results}
    if _same_result(*found["onnx"], *found["onnxruntime"]):  # one ONNX row says it
        results = [r for r in results if r[0] != "onnxruntime"]
    ref = results[0][2]  # PyTorch
    rows = []
    for key, call, out in results:
        if out is None or ref is None or out.shape != ref.shape:
            same = None if out is None or ref is None else False
            rows.append(Comparison(key, call, out, same))
            continue
        a, b = out.astype(np.float64), ref.astype(np.float64)
        both_nan = np.isnan(a) & np.isnan(b)
        if settings.mode in ("max", "min"):
            mask = ~((a == b) | both_nan)
        else:
            mask = ~np.isclose(a, b, rtol=1e-9, atol=0.0, equal_nan=True)
        with np.errstate(invalid="ignore"):
            gap = np.where(mask, np.abs(a - b), 0.0)
        gap = np.where(np.isnan(gap), np.inf, gap)  # NaN against a number
        rows.append(Comparison(key, call, out, True, float(gap.max(initial=0.0)), mask))
    return rows
