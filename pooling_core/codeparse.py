"""Read a framework's pooling call back into settings: the code panel, in reverse.

:func:`parse_pool_code` takes one line of PyTorch, TensorFlow, Keras, ONNX
(``onnx.helper.make_node``) or scikit-image Python, a Caffe ``pooling_param``
block or a MATLAB layer call, and returns the :class:`ParsedPool` it stands
for. Python is read with :mod:`ast` and only literal values are accepted (the
code is never run); the other two with a small tokenizer. Anything the
settings cannot hold (an unknown argument, a variable where a number must be,
uneven padding, ``divisor_override``) raises ``ValueError`` naming it.

Every call :func:`~pooling_core.conventions.framework_args` and
:func:`~pooling_core.conventions.adaptive_args` write reads back to the same
settings (tests/test_codeparse.py). Pure Python, no UI.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace

from ._checks import is_int
from .conventions import Settings

__all__ = ["ParsedPool", "parse_pool_code"]

MAX_CODE_CHARS = 2000


@dataclass(frozen=True)
class ParsedPool:
    """The settings one framework call stands for.

    ``kernel``, ``stride``, ``dilation`` are ``(h, w)``; ``padding`` is ``(ph,
    pw)`` (symmetric) or ``'valid'``, ``'same'``, ``'same_lower'``;
    ``count_include_pad`` is None when the call leaves it to the framework; ``p``
    (the Lp norm's power) None when the call does not say it.
    ``global_pool``: one window over the whole input. ``output_size``: adaptive
    pooling's ``(h, w)`` (None for ordinary pooling; ``None`` inside keeps that
    axis, as PyTorch allows). ``notes``: what the call says that the settings
    leave out (``return_indices``, ``storage_order``).
    """

    framework: str
    mode: str
    kernel: tuple | None = None
    stride: tuple | None = None
    padding: tuple | str = (0, 0)
    dilation: tuple = (1, 1)
    ceil_mode: bool = False
    count_include_pad: bool | None = None
    p: float | None = None
    global_pool: bool = False
    output_size: tuple | None = None
    notes: tuple = field(default=(), compare=False)

    def settings(self, shape) -> Settings:
        """These settings on an input of ``shape`` (``(H, W)``), as
        :func:`~pooling_core.conventions.framework_args` takes them.

        >>> parse_pool_code("nn.MaxPool2d(3, 2, 1)").settings((8, 8)).padding
        (1, 1)
        """
        if self.output_size is not None:
            raise ValueError("output_size: adaptive pooling has no fixed window; use "
                             "pooling_core.adaptive_pool2d")
        if self.global_pool:
            shape = tuple(int(n) for n in shape)
            return Settings(shape=shape, kernel=shape, stride=shape, mode=self.mode,
                            p=self.p or 2.0)
        return Settings(shape=shape, kernel=self.kernel, stride=self.stride,
                        padding=self.padding, dilation=self.dilation, mode=self.mode,
                        ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad,
                        p=self.p or 2.0)


# ----------------------------------------------------------------------------- values

_INPUT = object()  # an argument that is the input tensor: any expression, never read


def _text(node) -> str:
    return ast.unparse(node) if isinstance(node, ast.AST) else repr(node)


def _literal(node, name):
    """A literal value (numbers, strings, bools, None, tuples/lists of them, ``np.max``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, type(None))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal(e, name) for e in node.elts)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"  # np.max, numpy.mean
    raise ValueError(f"{name}={_text(node)} is not a literal value; write the number itself "
                     f"(Poolscope reads the code, it never runs it)")


def _ints(value, name, n=2, minimum=0):
    """An int or ``n`` ints as an ``n``-tuple, each at least ``minimum``."""
    values = value if isinstance(value, tuple) else (value,) * n
    if len(values) != n or not all(is_int(v) for v in values):
        raise ValueError(f"{name}={value!r} must be an int or {n} ints")
    if any(v < minimum for v in values):
        raise ValueError(f"{name}={value!r} must be at least {minimum}")
    return tuple(int(v) for v in values)


def _flag(value, name) -> bool:
    if isinstance(value, bool) or (is_int(value) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{name}={value!r} must be True or False (0 or 1)")


def _positive(value, name) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}={value!r} must be a positive number")
    return float(value)


# ----------------------------------------------------------------------------- Python calls


@dataclass(frozen=True)
class _Call:
    framework: str
    kind: str           # pool, adaptive, global, onnx, block
    mode: str | None
    params: tuple       # positional order; "input" marks the tensor argument


_T = ("input", "kernel_size", "stride", "padding", "dilation")
_CALLS = {
    ("pytorch", "MaxPool2d"): _Call("pytorch", "pool", "max", _T[1:] + ("return_indices",
                                                                        "ceil_mode")),
    ("pytorch", "AvgPool2d"): _Call("pytorch", "pool", "avg", _T[1:4] + (
        "ceil_mode", "count_include_pad", "divisor_override")),
    ("pytorch", "LPPool2d"): _Call("pytorch", "pool", "lp", ("norm_type", "kernel_size",
                                                             "stride", "ceil_mode")),
    ("pytorch", "max_pool2d"): _Call("pytorch", "pool", "max", _T + ("ceil_mode",
                                                                     "return_indices")),
    ("pytorch", "avg_pool2d"): _Call("pytorch", "pool", "avg", _T[:4] + (
        "ceil_mode", "count_include_pad", "divisor_override")),
    ("pytorch", "lp_pool2d"): _Call("pytorch", "pool", "lp", ("input", "norm_type",
                                                              "kernel_size", "stride",
                                                              "ceil_mode")),
    ("pytorch", "AdaptiveMaxPool2d"): _Call("pytorch", "adaptive", "max",
                                            ("output_size", "return_indices")),
    ("pytorch", "AdaptiveAvgPool2d"): _Call("pytorch", "adaptive", "avg", ("output_size",)),
    ("pytorch", "adaptive_max_pool2d"): _Call("pytorch", "adaptive", "max",
                                              ("input", "output_size", "return_indices")),
    ("pytorch", "adaptive_avg_pool2d"): _Call("pytorch", "adaptive", "avg",
                                              ("input", "output_size")),
    ("tensorflow", "pool"): _Call("tensorflow", "pool", None, (
        "input", "window_shape", "pooling_type", "strides", "padding", "data_format",
        "dilations", "name")),
    ("keras", "AdaptiveMaxPooling2D"): _Call("keras", "adaptive", "max", ("output_size",)),
    ("keras", "AdaptiveAveragePooling2D"): _Call("keras", "adaptive", "avg", ("output_size",)),
    ("onnx", "make_node"): _Call("onnx", "onnx", None, ("op_type", "inputs", "outputs",
                                                        "name", "doc_string", "domain")),
    ("skimage", "block_reduce"): _Call("skimage", "block", None, (
        "image", "block_size", "func", "cval", "func_kwargs")),
}
for _name in ("max_pool2d", "max_pool", "avg_pool2d", "avg_pool"):
    _CALLS["tensorflow", _name] = _Call("tensorflow", "pool", _name[:3], (
        "input", "ksize", "strides", "padding", "data_format", "name"))
for _names, _mode in ((("MaxPooling2D", "MaxPool2D"), "max"),
                      (("AveragePooling2D", "AvgPool2D"), "avg")):
    for _name in _names:
        _CALLS["keras", _name] = _Call("keras", "pool", _mode, ("pool_size", "strides",
                                                                "padding", "data_format",
                                                                "name"))
        _CALLS["keras", "Global" + _name.replace("ing", "")] = _Call(
            "keras", "global", _mode, ("data_format", "keepdims"))
        _CALLS["keras", "Global" + _name] = _Call("keras", "global", _mode,
                                                  ("data_format", "keepdims"))

_PREFIX = {"torch": "pytorch", "nn": "pytorch", "F": "pytorch", "functional": "pytorch",
           "tf": "tensorflow", "tensorflow": "tensorflow", "keras": "keras",
           "layers": "keras", "onnx": "onnx", "helper": "onnx", "skimage": "skimage",
           "measure": "skimage"}


def _dotted(node) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id] + parts[::-1]


def _find_call(node: ast.Call):
    """The :class:`_Call` a call node names, or None when it is no pooling call."""
    parts = _dotted(node.func)
    if not parts:
        return None
    last, prefix = parts[-1], parts[:-1]
    named = {_PREFIX[p] for p in prefix if p in _PREFIX}
    # tf.keras.layers.X is Keras, tf.nn.X TensorFlow (its "nn" is not torch.nn)
    named = next(([fw] for fw in ("keras", "tensorflow", "onnx", "skimage", "pytorch")
                  if fw in named), [])
    options = [fw for fw in ("pytorch", "tensorflow", "keras", "onnx", "skimage")
               if (fw, last) in _CALLS]
    if not options:
        return None
    if named:
        if named[0] not in options:
            return None
        fw = named[0]
    elif len(options) > 1:  # a bare max_pool2d(...): PyTorch's names its kernel kernel_size
        words = {k.arg for k in node.keywords}
        fw = "tensorflow" if words & {"ksize", "strides"} else "pytorch"
    else:
        fw = options[0]
    return _CALLS[fw, last], last


def _arguments(node: ast.Call, call: _Call, last: str) -> dict:
    """The call's arguments by parameter name, as literal values (the input as _INPUT)."""
    args = {}
    if len(node.args) > len(call.params):
        raise ValueError(f"{last} takes at most {len(call.params)} positional arguments "
                         f"({', '.join(call.params)}); this call gives {len(node.args)}")
    for name, value in zip(call.params, node.args):
        if isinstance(value, ast.Starred):
            raise ValueError(f"{last}: *{_text(value.value)} is not a literal value")
        args[name] = value
    for kw in node.keywords:
        if kw.arg is None:
            raise ValueError(f"{last}: **{_text(kw.value)} is not a literal value")
        if kw.arg in args:
            raise ValueError(f"{last} got {kw.arg} twice")
        if kw.arg not in call.params and call.kind != "onnx":
            raise ValueError(f"{last} has no argument {kw.arg}; it takes "
                             f"{', '.join(p for p in call.params if p not in ('input', 'image'))}")
        args[kw.arg] = kw.value
    out = {}
    for name, value in args.items():
        if name in ("input", "image", "inputs", "outputs"):
            out[name] = _INPUT
        else:
            out[name] = _literal(value, name)
    return out


def _pytorch(call: _Call, a: dict, last: str) -> ParsedPool:
    notes = ("return_indices only adds the argmax indices; the settings are the same",) \
        if a.get("return_indices") else ()
    if call.kind == "adaptive":
        return _adaptive("pytorch", call.mode, a, last, notes, allow_none=True)
    if "kernel_size" not in a:
        raise ValueError(f"{last} needs kernel_size")
    if a.get("divisor_override") is not None:
        raise ValueError(f"divisor_override={a['divisor_override']!r}: Poolscope's settings "
                         f"divide by the window (count_include_pad); remove divisor_override")
    kernel = _ints(a["kernel_size"], "kernel_size", minimum=1)
    stride = a.get("stride")
    stride = kernel if stride in (None, ()) else _ints(stride, "stride", minimum=1)
    p = None
    if call.mode == "lp":
        if "norm_type" not in a:
            raise ValueError(f"{last} needs norm_type (the p of the Lp norm)")
        p = _positive(a["norm_type"], "norm_type")
    padding = a.get("padding", 0)
    if isinstance(padding, str):
        raise ValueError(f"padding={padding!r}: PyTorch's pooling takes numbers only; use "
                         f"tf.nn or Keras for 'same'/'valid'")
    cip = a.get("count_include_pad", True) if call.mode == "avg" else None
    return ParsedPool("pytorch", call.mode, kernel, stride, _ints(padding, "padding"),
                      _ints(a.get("dilation", 1), "dilation", minimum=1),
                      _flag(a.get("ceil_mode", False), "ceil_mode"),
                      None if cip is None else _flag(cip, "count_include_pad"), p,
                      notes=notes)


def _adaptive(fw, mode, a, last, notes=(), allow_none=False) -> ParsedPool:
    if "output_size" not in a:
        raise ValueError(f"{last} needs output_size")
    size = a["output_size"]
    values = size if isinstance(size, tuple) else (size, size)
    if len(values) != 2 or not all((v is None and allow_none) or (is_int(v) and v >= 1)
                                   for v in values):
        raise ValueError(f"output_size={size!r} must be a positive int or two"
                         + (" (None keeps that axis)" if allow_none else ""))
    values = tuple(None if v is None else int(v) for v in values)
    return ParsedPool(fw, mode, global_pool=values == (1, 1), output_size=values, notes=notes)


def _tf_window(value, name, fmt, minimum=1):
    """TensorFlow's ksize/strides/dilations: int, [h, w], or [1, h, w, 1] (NHWC)."""
    if isinstance(value, tuple) and len(value) == 4:
        outer = (value[0], value[3]) if fmt == "NHWC" else (value[0], value[1])
        if outer != (1, 1):
            raise ValueError(f"{name}={list(value)!r} pools across the batch or channels; "
                             f"Poolscope pools the two spatial axes only")
        value = value[1:3] if fmt == "NHWC" else value[2:]
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    return _ints(value, name, minimum=minimum)


def _tf_padding(value, fmt):
    if isinstance(value, str):
        word = value.upper()
        if word not in ("SAME", "VALID"):
            raise ValueError(f"padding={value!r} must be 'SAME', 'VALID' or explicit pairs")
        return word.lower()
    pairs = value if isinstance(value, tuple) else None
    if (pairs is None or len(pairs) != 4
            or not all(isinstance(p, tuple) and len(p) == 2 and all(is_int(v) for v in p)
                       for p in pairs)):
        raise ValueError(f"padding={value!r} must be 'SAME', 'VALID' or four [before, after] "
                         f"pairs")
    spatial = pairs[1:3] if fmt == "NHWC" else pairs[2:]
    outer = [v for p in (pairs[0], pairs[3] if fmt == "NHWC" else pairs[1]) for v in p]
    if any(outer):
        raise ValueError(f"padding={value!r} pads the batch or channels; only the spatial "
                         f"axes can be padded")
    return _symmetric(spatial, "padding")


def _symmetric(pairs, name):
    """((top, bottom), (left, right)) as Poolscope's symmetric (ph, pw)."""
    if any(b != a for b, a in pairs):
        raise ValueError(f"{name}: uneven padding {[list(p) for p in pairs]} (before ≠ after); "
                         f"Poolscope's settings pad both sides of an axis alike (or use "
                         f"SAME / SAME_LOWER)")
    return _ints(tuple(b for b, _ in pairs), name)


def _tensorflow(call: _Call, a: dict, last: str) -> ParsedPool:
    fmt = a.get("data_format") or "NHWC"
    if fmt not in ("NHWC", "NCHW"):
        raise ValueError(f"data_format={fmt!r} must be 'NHWC' or 'NCHW'")
    if last == "pool":
        kind = str(a.get("pooling_type", "")).upper()
        if kind not in ("MAX", "AVG"):
            raise ValueError(f"pooling_type={a.get('pooling_type')!r} must be 'MAX' or 'AVG'")
        mode, size_name = kind.lower(), "window_shape"
    else:
        mode, size_name = call.mode, "ksize"
    for need in (size_name, "padding") + (("strides",) if last != "pool" else ()):
        if need not in a:
            raise ValueError(f"{last} needs {need}")
    kernel = _tf_window(a[size_name], size_name, fmt)
    strides = a.get("strides")
    stride = (1, 1) if strides is None else _tf_window(strides, "strides", fmt)
    dilation = _tf_window(a.get("dilations", 1), "dilations", fmt)
    return ParsedPool("tensorflow", mode, kernel, stride, _tf_padding(a["padding"], fmt),
                      dilation)


def _keras(call: _Call, a: dict, last: str) -> ParsedPool:
    if call.kind == "adaptive":
        return _adaptive("keras", call.mode, a, last)
    if call.kind == "global":
        return ParsedPool("keras", call.mode, global_pool=True)
    kernel = _ints(a.get("pool_size", 2), "pool_size", minimum=1)
    stride = a.get("strides")
    stride = kernel if stride is None else _ints(stride, "strides", minimum=1)
    padding = str(a.get("padding", "valid"))
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding={a.get('padding')!r} must be 'valid' or 'same' in Keras")
    return ParsedPool("keras", call.mode, kernel, stride, padding.lower())


_ONNX_MODES = {"MaxPool": "max", "AveragePool": "avg", "LpPool": "lp"}
_AUTO = {"NOTSET": None, "SAME_UPPER": "same", "SAME_LOWER": "same_lower", "VALID": "valid"}


def _onnx(a: dict) -> ParsedPool:
    op = a.get("op_type")
    attrs = {k: v for k, v in a.items() if k not in ("op_type", "inputs", "outputs", "name",
                                                      "doc_string", "domain")}
    glob = {"GlobalMaxPool": "max", "GlobalAveragePool": "avg", "GlobalLpPool": "lp"}
    if op in glob:
        extra = sorted(set(attrs) - ({"p"} if op == "GlobalLpPool" else set()))
        if extra:
            raise ValueError(f"{op} has no attribute {', '.join(extra)}")
        p = _positive(attrs.get("p", 2), "p") if op == "GlobalLpPool" else None
        return ParsedPool("onnx", glob[op], global_pool=True, p=p)
    if op not in _ONNX_MODES:
        raise ValueError(f"op_type={op!r} is not an ONNX pooling node Poolscope shows; use "
                         f"{', '.join(list(_ONNX_MODES) + list(glob))}")
    allowed = {"kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode",
               "storage_order" if op == "MaxPool" else "",
               "count_include_pad" if op == "AveragePool" else "", "p" if op == "LpPool" else ""}
    unknown = sorted(set(attrs) - allowed)
    if unknown:
        raise ValueError(f"{op} has no attribute {', '.join(unknown)}; it takes "
                         f"{', '.join(sorted(allowed - {''}))}")
    if "kernel_shape" not in attrs:
        raise ValueError(f"{op} needs the attribute kernel_shape")

    def pair(name, default, minimum):
        value = attrs.get(name, default)
        if not isinstance(value, tuple) or len(value) != 2:
            raise ValueError(f"{name}={value!r} must list 2 ints (one per spatial axis)")
        return _ints(value, name, minimum=minimum)
    kernel = pair("kernel_shape", None, 1)
    stride = pair("strides", (1, 1), 1)
    dilation = pair("dilations", (1, 1), 1)
    pads = attrs.get("pads", (0, 0, 0, 0))
    if not isinstance(pads, tuple) or len(pads) != 4:
        raise ValueError(f"pads={pads!r} must list 4 ints [top, left, bottom, right]")
    auto = attrs.get("auto_pad", "NOTSET")
    if auto not in _AUTO:
        raise ValueError(f"auto_pad={auto!r} must be one of {', '.join(_AUTO)}")
    if _AUTO[auto] is not None:
        if any(pads):
            raise ValueError(f"ONNX takes pads or auto_pad={auto}, not both")
        padding = _AUTO[auto]
    else:
        padding = _symmetric(((pads[0], pads[2]), (pads[1], pads[3])), "pads")
    notes = ("storage_order only changes how MaxPool numbers its indices",) \
        if attrs.get("storage_order") else ()
    if "storage_order" in attrs and attrs["storage_order"] not in (0, 1):
        raise ValueError(f"storage_order={attrs['storage_order']!r} must be 0 or 1")
    mode = _ONNX_MODES[op]
    cip = _flag(attrs.get("count_include_pad", 0), "count_include_pad") if mode == "avg" \
        else None
    p = None
    if mode == "lp":
        p = attrs.get("p", 2)
        if not is_int(p) or p < 1:
            raise ValueError(f"p={p!r} must be a positive int (ONNX's LpPool p is an INT)")
        p = float(p)
    return ParsedPool("onnx", mode, kernel, stride, padding, dilation,
                      _flag(attrs.get("ceil_mode", 0), "ceil_mode"), cip, p, notes=notes)


_NP_FUNCS = {"max": "max", "amax": "max", "mean": "avg", "average": "avg", "sum": "sum",
             "min": "min", "amin": "min", "median": "median"}


def _skimage(a: dict) -> ParsedPool:
    kernel = _ints(a.get("block_size", 2), "block_size", minimum=1)
    func = a.get("func", "np.sum")
    name = str(func).rsplit(".", 1)[-1]
    if not isinstance(func, str) or name not in _NP_FUNCS:
        raise ValueError(f"func={func!r}: Poolscope pools with np.max, np.mean, np.sum, "
                         f"np.min or np.median")
    cval = a.get("cval", 0)
    if cval != 0:
        raise ValueError(f"cval={cval!r}: Poolscope's block_reduce pads with 0; use cval=0")
    if a.get("func_kwargs"):
        raise ValueError(f"func_kwargs={a['func_kwargs']!r} is not a setting Poolscope has")
    return ParsedPool("skimage", _NP_FUNCS[name], kernel, kernel)


def _from_python(tree) -> ParsedPool:
    found = [(node, hit) for node in ast.walk(tree) if isinstance(node, ast.Call)
             for hit in [_find_call(node)] if hit]
    if not found:
        raise ValueError("no pooling call found; paste one line such as "
                         "nn.MaxPool2d(3, 2, 1) or tf.nn.max_pool2d(x, ksize=3, strides=2, "
                         "padding=\"SAME\")")
    if len(found) > 1:
        names = ", ".join(hit[1] for _, hit in found)
        raise ValueError(f"found {len(found)} pooling calls ({names}); paste one")
    node, (call, last) = found[0]
    a = _arguments(node, call, last)  # arguments not read below change nothing shown
    if call.framework == "pytorch":
        return _pytorch(call, a, last)
    if call.framework == "tensorflow":
        return _tensorflow(call, a, last)
    if call.framework == "keras":
        return _keras(call, a, last)
    if call.framework == "onnx":
        return _onnx(a)
    return _skimage(a)


# ----------------------------------------------------------------------------- Caffe, MATLAB

_CAFFE_POOL = {"MAX": "max", "AVE": "avg", "STOCHASTIC": "stochastic"}


def _from_caffe(text: str) -> ParsedPool:
    """``pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 round_mode: FLOOR }``."""
    body = re.search(r"pooling_param\s*\{(.*?)\}", text, re.S)
    fields = re.findall(r"(\w+)\s*:\s*(\w+)", body.group(1) if body else text)
    got = {}
    for name, value in fields:
        if name in got:
            raise ValueError(f"pooling_param gives {name} twice")
        got[name] = value
    known = {"pool", "kernel_size", "kernel_h", "kernel_w", "stride", "stride_h", "stride_w",
             "pad", "pad_h", "pad_w", "round_mode", "global_pooling", "engine"}
    unknown = sorted(set(got) - known)
    if unknown:
        raise ValueError(f"pooling_param has no field {', '.join(unknown)}")
    pool = got.get("pool", "MAX")
    if pool not in _CAFFE_POOL:
        raise ValueError(f"pool: {pool} must be MAX, AVE or STOCHASTIC")
    if got.get("global_pooling", "false").lower() == "true":
        return ParsedPool("caffe", _CAFFE_POOL[pool], global_pool=True, ceil_mode=True)

    def number(name):
        if not got[name].isdigit():
            raise ValueError(f"{name}: {got[name]} must be a whole number")
        return int(got[name])

    def pair(one, base, default):
        if one in got:
            if f"{base}_h" in got or f"{base}_w" in got:
                raise ValueError(f"pooling_param gives {one} and {base}_h/{base}_w; give one")
            return (number(one),) * 2
        if (f"{base}_h" in got) != (f"{base}_w" in got):
            raise ValueError(f"pooling_param needs both {base}_h and {base}_w")
        if f"{base}_h" in got:
            return number(f"{base}_h"), number(f"{base}_w")
        return default
    kernel = pair("kernel_size", "kernel", None)
    if kernel is None:
        raise ValueError("pooling_param needs kernel_size (or kernel_h and kernel_w)")
    rounding = got.get("round_mode", "CEIL")
    if rounding not in ("CEIL", "FLOOR"):
        raise ValueError(f"round_mode: {rounding} must be CEIL or FLOOR")
    return ParsedPool("caffe", _CAFFE_POOL[pool], _ints(kernel, "kernel_size", minimum=1),
                      _ints(pair("stride", "stride", (1, 1)), "stride", minimum=1),
                      _ints(pair("pad", "pad", (0, 0)), "pad"), ceil_mode=rounding == "CEIL")


_MATLAB = re.compile(r"(max|average)Pooling2dLayer\s*\((.*)\)\s*;?\s*$", re.S)


def _matlab_value(text: str, name: str):
    text = text.strip()
    if re.fullmatch(r"'[^']*'|\"[^\"]*\"", text):
        return text[1:-1]
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    items = [t for t in re.split(r"[\s,]+", inner.strip()) if t]
    if not items or not all(t.isdigit() for t in items):
        raise ValueError(f"{name} {text} must be a whole number or [numbers]")
    values = tuple(int(t) for t in items)
    return values[0] if len(values) == 1 else values


def _from_matlab(text: str) -> ParsedPool:
    """``maxPooling2dLayer([3 3],'Stride',[2 2],'Padding',[1 1 1 1])``."""
    match = _MATLAB.search(text.strip())
    if not match:
        raise ValueError("no pooling call found")
    parts = re.findall(r"\[[^\]]*\]|'[^']*'|\"[^\"]*\"|[^,]+", match.group(2))
    parts = [p.strip() for p in parts if p.strip()]
    if not parts:
        raise ValueError(f"{match.group(1)}Pooling2dLayer needs a pool size")
    kernel = _ints(_matlab_value(parts[0], "poolSize"), "poolSize", minimum=1)
    if len(parts[1:]) % 2:
        raise ValueError("name-value arguments come in pairs ('Stride',[2 2])")
    stride, padding = (1, 1), (0, 0)
    for name_text, value_text in zip(parts[1::2], parts[2::2]):
        name = _matlab_value(name_text, "name")
        if not isinstance(name, str):
            raise ValueError(f"{name_text} must be a quoted name such as 'Stride'")
        value = _matlab_value(value_text, name)
        if name.lower() == "stride":
            stride = _ints(value, "Stride", minimum=1)
        elif name.lower() == "padding":
            if isinstance(value, str):
                if value.lower() != "same":
                    raise ValueError(f"Padding '{value}' must be 'same' or [t b l r]")
                padding = "same"
            elif isinstance(value, tuple) and len(value) == 4:
                padding = _symmetric(((value[0], value[1]), (value[2], value[3])), "Padding")
            else:
                padding = _ints(value, "Padding")
        elif name.lower() != "name":
            raise ValueError(f"{match.group(1)}Pooling2dLayer has no option '{name}' that "
                             f"Poolscope can show (it takes 'Stride', 'Padding', 'Name')")
    mode = "max" if match.group(1) == "max" else "avg"
    return ParsedPool("matlab", mode, kernel, stride, padding)


# ----------------------------------------------------------------------------- entry point

_FALLBACK = re.compile(r"#\s*.+? has no (\w+) pooling; these are the windows of:")


def parse_pool_code(text: str) -> ParsedPool:
    """The pooling settings one framework call stands for.

    Parameters
    ----------
    text : str
        One call (a few lines at most: imports and comments are skipped) in
        PyTorch, TensorFlow, Keras, ONNX (``onnx.helper.make_node``) or
        scikit-image Python, a Caffe ``pooling_param { ... }`` block, or a
        MATLAB ``maxPooling2dLayer(...)`` / ``averagePooling2dLayer(...)``.

    Returns
    -------
    ParsedPool

    Raises
    ------
    ValueError
        Naming the argument or value the settings cannot hold, or saying that no
        (or more than one) pooling call was found.

    Examples
    --------
    >>> s = parse_pool_code("nn.MaxPool2d(3, 2, 1, ceil_mode=True)")
    >>> s.framework, s.mode, s.kernel, s.stride, s.padding, s.ceil_mode
    ('pytorch', 'max', (3, 3), (2, 2), (1, 1), True)
    >>> parse_pool_code('tf.nn.max_pool2d(x, ksize=3, strides=2, padding="SAME")').padding
    'same'
    >>> parse_pool_code("nn.AdaptiveAvgPool2d((7, 7))").output_size
    (7, 7)
    >>> parse_pool_code("nn.AvgPool2d(2, divisor_override=3)")
    Traceback (most recent call last):
    ValueError: divisor_override=3: Poolscope's settings divide by the window (count_include_pad); remove divisor_override
    """
    if not isinstance(text, str):
        raise ValueError(f"code={text!r} must be text")
    if len(text) > MAX_CODE_CHARS:
        raise ValueError(f"the code is {len(text):,} characters; paste one call (at most "
                         f"{MAX_CODE_CHARS:,})")
    if not text.strip():
        raise ValueError("the code is empty; paste one pooling call")
    fallback = _FALLBACK.search(text)
    if "pooling_param" in text or re.search(r"\bpool\s*:\s*[A-Z]", text):
        parsed = _from_caffe(text)
    elif _MATLAB.search(text.strip()):
        parsed = _from_matlab(text)
    else:
        try:
            tree = ast.parse(text.strip(), mode="exec")
        except SyntaxError as exc:
            raise ValueError(f"the code is not valid Python (line {exc.lineno}: {exc.msg}); "
                             f"paste one call such as nn.MaxPool2d(2)") from None
        parsed = _from_python(tree)
    if fallback:  # the code panel's "X has no median pooling; these are the windows of:"
        mode = fallback.group(1)
        if mode not in ("max", "avg", "sum", "min", "lp", "median", "stochastic"):
            raise ValueError(f"the comment names {mode} pooling, which Poolscope has not")
        parsed = replace(parsed, mode=mode,
                         count_include_pad=parsed.count_include_pad if mode == "avg" else None)
    return parsed
