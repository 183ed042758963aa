"""One setting, every framework's answer: how seven libraries read the same pooling layer.

The frameworks disagree on four things: how the output size is rounded, where
padding goes, what padding is worth, and what an average divides by. Each
framework is a small record (its calls, where dilation and 'same' exist, its
sources); :func:`framework_args` turns the user's :class:`Settings` into that
framework's real call plus the :func:`~pooling_core.pool2d` keyword arguments
that give its numbers, or into the reason it cannot express the settings.
:func:`compare_frameworks` runs them all and compares each with PyTorch.
Pure NumPy, no UI.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod

import numpy as np

from .geometry import _check_flag, normalize_tuple, plan_axes
from .reductions import MODES, _as_real_array, _check_real, _count_include_pad, pool2d

__all__ = ["Settings", "Framework", "FRAMEWORKS", "FrameworkCall", "framework_args",
           "Comparison", "compare_frameworks"]

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
        put("ceil_mode", _check_flag(self.ceil_mode, "ceil_mode"))
        if not isinstance(self.mode, str) or self.mode not in MODES:
            raise ValueError(f"mode={self.mode!r} is unknown; choose one of {', '.join(MODES)}")
        cip = self.count_include_pad
        put("count_include_pad", _count_include_pad(
            None if cip is None else _check_flag(cip, "count_include_pad"),
            self.padding if isinstance(self.padding, str) else "symmetric", self.mode))
        p = _check_real(self.p, "p")
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
    dilation, the 'same' paddings it knows, and where the mapping was checked."""

    key: str
    name: str
    calls: dict
    dilation_modes: tuple = ()
    same: tuple = ()
    sources: tuple = ()


_DOCS = "https://www.mathworks.com/help/deeplearning/ref/nnet.cnn.layer."
FRAMEWORKS = {f.key: f for f in (
    # floor, or ceil with the clip rule; padding <= k//2; max pads -inf; avg per count_include_pad
    Framework("pytorch", "PyTorch",
              {"max": "nn.MaxPool2d", "avg": "nn.AvgPool2d", "lp": "nn.LPPool2d"}, ("max",), (),
              ("https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html",
               "pytorch/pytorch aten/src/ATen/native/Pool.h")),
    # SAME: out = ceil(n/s), odd cell bottom/right, padded cells ignored (avg excludes them);
    # explicit pads (each <= window) in max_pool2d only; dilation via tf.nn.pool: strides 1, VALID
    Framework("tensorflow", "TensorFlow",
              {"max": "tf.nn.max_pool2d", "avg": "tf.nn.avg_pool2d"}, ("max", "avg"), ("same",),
              ("https://www.tensorflow.org/api_docs/python/tf/nn/max_pool2d",
               "https://www.tensorflow.org/api_docs/python/tf/nn#notes_on_padding_2",
               "tensorflow/tensorflow tensorflow/python/ops/nn_ops.py (pool_v2)")),
    # TensorFlow's ops underneath; 'valid'/'same' only, no dilation
    Framework("keras", "Keras",
              {"max": "layers.MaxPooling2D", "avg": "layers.AveragePooling2D"}, (), ("same",),
              ("https://keras.io/api/layers/pooling_layers/max_pooling2d/",
               "https://keras.io/api/layers/pooling_layers/average_pooling2d/")),
    # pads [x1_begin, x2_begin, x1_end, x2_end]; ceil with the clip rule (opset 22); AveragePool
    # count_include_pad (default 0), dilations since 19; LpPool (sum |x|^p)^(1/p); ORT pad < k
    Framework("onnx", "ONNX",
              {"max": "MaxPool", "avg": "AveragePool", "lp": "LpPool"}, ("max", "avg", "lp"),
              ("same", "same_lower"),
              ("onnx/onnx docs/Operators.md (MaxPool, AveragePool, LpPool)",
               "microsoft/onnxruntime onnxruntime/core/providers/cpu/nn/pool_attributes.h")),
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
              (_DOCS + "maxpooling2dlayer.html", _DOCS + "averagepooling2dlayer.html")),
    # non-overlapping blocks; pads the END of each axis with cval up to a multiple of the block
    Framework("skimage", "scikit-image",
              dict.fromkeys(("max", "avg", "sum", "min", "median"), "block_reduce"), (), (),
              ("scikit-image/scikit-image skimage/measure/block.py (block_reduce)",)),
)}

_FUNC = {"max": "np.max", "avg": "np.mean", "sum": "np.sum", "min": "np.min", "median": "np.median"}
_CAFFE_POOL = {"max": "MAX", "avg": "AVE", "stochastic": "STOCHASTIC"}


def _over(s, limit):
    return s.padded and any(p > limit(k) for p, k in zip(s.pads, s.kernel))


def _negative_same(s):
    """ONNX's SAME total ``(ceil(n/s) - 1)*s + span - n`` is below 0 on some axis."""
    return s.same and any((-(-n // st) - 1) * st + d * (k - 1) + 1 < n for n, k, st, d
                          in zip(s.shape, s.kernel, s.stride, s.dilation))


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
    ("onnx", lambda s: _over(s, lambda k: k - 1), "ONNX Runtime requires each pad < kernel"),
    ("onnx", _negative_same, "ONNX SAME padding goes negative when the window is shorter than "
                             "the stride (ONNX Runtime rejects it)"),
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
    kwargs : ``pool2d(x, **kwargs)`` gives this framework's numbers.
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
    if key == "onnx":
        pad = (f'auto_pad="SAME_{"LOWER" if s.padding == "same_lower" else "UPPER"}"' if s.same
               else f"pads={[t, l, b, r]}")
        extra = ((f", dilations={list(d)}" if s.dilated else "")
                 + (f", count_include_pad={int(s.count_include_pad)}" if m == "avg" else "")
                 + (f", p={s.p:g}" if m == "lp" else ""))
        return (f'onnx.helper.make_node("{call}", ["x"], ["y"], kernel_shape={list(k)}, '
                f"strides={list(st)}, {pad}{extra}, ceil_mode={int(s.ceil_mode)})")
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


def _texts(key, s, kw, pads):
    """``(pad_value_text, divisor_rule)``."""
    m, value = s.mode, kw["pad_value"]
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
    fallback = _check_flag(fallback, "fallback")
    fw, s = FRAMEWORKS[framework], settings
    missing = fallback and s.mode not in fw.calls
    windows = replace(s, mode="max") if missing else s  # whose windows the mode uses
    reason = _reason(fw, windows)
    if reason:
        return FrameworkCall(framework, False, reason)
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
    if framework == "caffe" and s.mode == "stochastic":
        notes.append("Caffe runs STOCHASTIC on the GPU only (TRAIN samples, TEST averages).")
    if framework == "onnx" and s.same and s.dilated:
        notes.append("ONNX Runtime sizes SAME padding from the undilated kernel; shown: the "
                     "spec's dilated window.")
    if framework == "skimage" and any(b for _, b in pads):
        notes.append("block_reduce pads the end of each axis with cval=0 to a multiple of the "
                     "block.")
    if framework == "onnx" and s.mode == "lp" and any(p.extra_after > p.pad_after for p in plans):
        # LpPool sums; the core's lp rescales a ceil-mode edge window by kh·kw / its clipped
        # size. Declaring the overhang as padding (zeros) makes that divisor the whole window.
        kw.update(padding=tuple((p.pad_before, max(p.pad_after, p.extra_after)) for p in plans),
                  ceil_mode=False)
    pad_text, rule = _texts(framework, s, kw, pads)
    code = _code(framework, windows, pads)
    if missing:
        notes.insert(0, f"{fw.name} has no {s.mode} pooling: Poolscope computes it on the "
                        f"windows of {fw.name}'s max pooling.")
        code = f"# {fw.name} has no {s.mode} pooling; these are the windows of:\n{code}"
    return FrameworkCall(framework, True, "", kw, out, pads, pad_text, rule, code, tuple(notes))


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
    modes); NaN equals NaN. Stochastic pooling draws with ``rng=seed``.

    >>> rows = compare_frameworks(np.arange(16.0).reshape(4, 4), Settings(shape=4, kernel=2))
    >>> [(r.framework, r.same_shape, r.max_abs_diff) for r in rows[:2]]
    [('pytorch', True, 0.0), ('tensorflow', True, 0.0)]
    """
    _check_settings(settings)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative int")
    x = _as_real_array(x, "x")
    if x.ndim < 2 or x.shape[-2:] != settings.shape:
        raise ValueError(f"x has shape {x.shape}; settings.shape is {settings.shape}")
    results = []
    for key in FRAMEWORKS:
        call, out = framework_args(settings, key), None
        if call.ok:
            with np.errstate(invalid="ignore", divide="ignore"):  # Caffe's empty windows: 0/0
                out = pool2d(x, **call.kwargs, rng=seed)
        results.append((key, call, out))
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
