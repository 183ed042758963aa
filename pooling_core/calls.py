"""Which frameworks have which pooling variant, and the call that gives its numbers.

For the code panel: :func:`variant_calls` turns one variant and its parameters into
every framework's real call (PyTorch, TensorFlow, kornia, antialiased_cnns,
torchvision, ONNX, ...), each marked with whether pooling_core gives exactly its
numbers (checked in ``tests/test_variants*.py``) and, where it does not, why.
Pure data and string formatting: no framework is imported.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_real_array, check_flag, check_real
from .blur import PADDING_MODES
from .gem import _check_gem
from .geometry import normalize_tuple
from .pyramid import SPP_MODES, _check_levels
from .roi import ALIGN_MODES

__all__ = ["VARIANTS", "VariantCall", "variant_calls", "variant_frameworks"]

#: The variants, in the order a zoo lists them, with the pooling_core function of each.
VARIANTS = {
    "fractional_max": "fractional_max_pool2d",
    "blur": "blur_pool2d",
    "max_blur": "max_blur_pool2d",
    "gem": "gem_pool2d",
    "mixed": "mixed_pool2d",
    "softpool": "softpool2d",
    "spatial_pyramid": "spatial_pyramid_pool2d",
    "roi_pool": "roi_pool",
    "roi_align": "roi_align",
}


@dataclass(frozen=True)
class VariantCall:
    """One framework's way to compute a variant.

    framework : its name as users know it (``'PyTorch'``, ``'ONNX'``, ...).
    call : the code, with the given parameters filled in.
    same : pooling_core gives exactly these numbers (``False``: see ``note``).
    note : what the call needs, or how its numbers differ.
    key : the framework's key in :data:`~pooling_core.conventions.FRAMEWORKS` where it
        has one (``'pytorch'``, ``'tensorflow'``, ``'onnx'``), else its name in lower case
        (``'torchvision'``, ``'kornia'``, ...), so a framework selector can pick calls.
    """

    framework: str
    call: str
    same: bool
    note: str = ""

    @property
    def key(self) -> str:
        return self.framework.lower()


def _pair(value, name, minimum=1):
    a, b = normalize_tuple(value, 2, name, minimum=minimum)
    return a if a == b else (a, b)


def _ratio(value):
    """``output_ratio``: a number or a pair, each in (0, 1)."""
    try:
        r = np.broadcast_to(as_real_array(value, "output_ratio").astype(float), (2,))
    except ValueError:
        raise ValueError(f"output_ratio={value!r} must be a number or a pair of numbers in "
                         f"(0, 1)") from None
    if isinstance(value, (bool, np.bool_)) or not np.all((r > 0) & (r < 1)):
        raise ValueError(f"output_ratio={value!r} must lie in (0, 1)")
    return float(r[0]) if r[0] == r[1] else (float(r[0]), float(r[1]))


def _real(value, name, low, high=np.inf, *, low_open=False):
    """A real number in ``[low, high]`` (``(low, high]`` with ``low_open``), as a float."""
    value = float(check_real(value, name))
    if np.isnan(value) or value > high or value < low or (low_open and value == low):
        raise ValueError(f"{name}={value!r} must lie in {'(' if low_open else '['}{low}, "
                         f"{high}]")
    return value


def _choice(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name}={value!r} must be one of {', '.join(options)}")
    return value


def _fractional(kernel_size=2, output_size=None, output_ratio=0.5, return_indices=False):
    k = _pair(kernel_size, "kernel_size")
    return_indices = check_flag(return_indices, "return_indices")
    if output_size is None:
        _ratio(output_ratio)
    size = f"output_size={_pair(output_size, 'output_size')!r}" if output_size is not None \
        else f"output_ratio={_ratio(output_ratio)!r}"
    # F.fractional_max_pool2d takes len() of output_ratio: a pair, never one float
    pair = size if output_size is not None else \
        f"output_ratio={tuple(np.broadcast_to(np.asarray(output_ratio, dtype=float), (2,)).tolist())!r}"
    ri = f", return_indices={bool(return_indices)}" if return_indices else ""
    ours = f"pooling_core.fractional_max_pool2d(x, {k!r}, {size}{ri}, samples=samples)"
    torch_fn = f"F.fractional_max_pool2d(x, {k!r}, {pair}{ri}, _random_samples=samples)"
    rh, rw = (1.0, 1.0) if output_size is not None else \
        np.broadcast_to(np.asarray(_ratio(output_ratio), dtype=float), (2,))
    return [
        VariantCall("Poolscope", ours, True, "samples: (N, C, 2) in [0, 1), [..., 0] for the "
                    "columns; leave it out (rng=seed) to draw them"),
        VariantCall("PyTorch", torch_fn, True, "_random_samples fixes the windows; without it "
                    "torch.rand draws new ones every call"),
        VariantCall("PyTorch", f"torch.nn.FractionalMaxPool2d({k!r}, {size}{ri}, "
                    f"_random_samples=samples)", True),
        VariantCall("TensorFlow", f"tf.nn.fractional_max_pool(x_nhwc, pooling_ratio=[1.0, "
                    f"{1 / rh:.4g}, {1 / rw:.4g}, 1.0], pseudo_random=True, overlapping=True, "
                    f"seed=0)", False, "TensorFlow draws its own region boundaries (and its "
                    "regions share one border cell instead of being kernel_size wide): the "
                    "same idea, other numbers"),
    ]


def _blur(kernel_size=3, stride=2, padding_mode="zeros", max_pool_size=None):
    k, s = _pair(kernel_size, "kernel_size"), _pair(stride, "stride")
    _choice(padding_mode, "padding_mode", PADDING_MODES)
    pad_type = {"zeros": "zero", "reflect": "reflect", "replicate": "repl"}[padding_mode]
    square = isinstance(k, int)
    if max_pool_size is None:
        ours = f"pooling_core.blur_pool2d(x, {k!r}, {s!r}, padding_mode={padding_mode!r})"
        kornia = f"kornia.filters.BlurPool2D(kernel_size={k!r}, stride={s!r})"
        aa = f"antialiased_cnns.BlurPool(C, pad_type={pad_type!r}, filt_size={k!r}, stride={s!r})"
    else:
        m = _pair(max_pool_size, "max_pool_size")
        ours = (f"pooling_core.max_blur_pool2d(x, {k!r}, {s!r}, max_pool_size={m!r}, "
                f"padding_mode={padding_mode!r})")
        kornia = f"kornia.filters.MaxBlurPool2D(kernel_size={k!r}, stride={s!r}, max_pool_size={m!r})"
        aa = (f"nn.Sequential(nn.MaxPool2d(kernel_size={m!r}, stride=1), antialiased_cnns."
              f"BlurPool(C, pad_type={pad_type!r}, filt_size={k!r}, stride={s!r}))")
    # kornia pads with zeros; a filter of one tap reads no padding at all
    kornia_same = square and (padding_mode == "zeros" or k == 1)
    aa_same = square and isinstance(s, int) and isinstance(k, int) and 1 <= k <= 7
    return [
        VariantCall("Poolscope", ours, True),
        VariantCall("kornia", kornia, kornia_same,
                    "" if kornia_same else "kornia pads with zeros and takes square filters "
                    "only"),
        VariantCall("antialiased_cnns", aa, aa_same,
                    "pad_type 'reflect' is its default" if aa_same else
                    "antialiased_cnns takes one filt_size from 1 to 7 and one stride"),
    ]


def _gem(kernel_size=None, stride=None, p=3.0, eps=1e-6):
    p, eps = _check_gem(p, eps)
    window = "(x.size(-2), x.size(-1))" if kernel_size is None else repr(_pair(kernel_size,
                                                                             "kernel_size"))
    st = "" if stride is None else f", stride={_pair(stride, 'stride')!r}"
    ours_k = "" if kernel_size is None else f"{_pair(kernel_size, 'kernel_size')!r}{st}, "
    power = "float('inf')" if p == np.inf else repr(p)
    calls = [VariantCall("Poolscope", f"pooling_core.gem_pool2d(x, {ours_k}p={power}, "
                         f"eps={eps!r})", True)]
    if p == np.inf:
        calls.append(VariantCall("PyTorch", f"F.max_pool2d(x.clamp(min={eps!r}), {window}{st})",
                                 True, "p = inf is the max"))
        return calls
    calls.append(VariantCall("PyTorch", f"F.avg_pool2d(x.clamp(min={eps!r}).pow({p!r}), "
                             f"{window}{st}).pow(1.0 / {p!r})", True,
                             "the GeM layer of cirtorch (Radenović et al.)"))
    if kernel_size is None:
        calls.append(VariantCall("cirtorch", f"cirtorch.layers.pooling.GeM(p={p!r}, eps={eps!r})",
                                 True, "p is a learned parameter there"))
    calls.append(VariantCall("PyTorch", f"nn.LPPool2d(norm_type={p!r}, kernel_size={window}{st})",
                             False, "LPPool2d is (sum x**p) ** (1/p): a sum, no 1/N, so N**(1/p) "
                             "times GeM (and no clamp)"))
    return calls


def _mixed(kernel_size=2, stride=None, padding=0, alpha=0.5):
    alpha = _real(alpha, "alpha", 0.0, 1.0)
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None else _pair(stride, "stride")
    p = _pair(padding, "padding", minimum=0)
    args = f"{k!r}, {s!r}" + (f", {p!r}" if p != 0 else "")
    calls = [
        VariantCall("Poolscope", f"pooling_core.mixed_pool2d(x, {args}, alpha={alpha!r})", True),
        VariantCall("PyTorch", f"{alpha!r} * F.max_pool2d(x, {args}) + {1 - alpha!r} * "
                    f"F.avg_pool2d(x, {args})", True, "no built-in layer: the formula"),
    ]
    tf_k, tf_s = normalize_tuple(k, 2, "k"), normalize_tuple(s, 2, "s")
    same = p == 0
    calls.append(VariantCall(
        "TensorFlow", f"{alpha!r} * tf.nn.max_pool2d(x_nhwc, {list(tf_k)}, {list(tf_s)}, "
        f"'VALID') + {1 - alpha!r} * tf.nn.avg_pool2d(x_nhwc, {list(tf_k)}, {list(tf_s)}, "
        f"'VALID')", same, "" if same else "TensorFlow has no symmetric numeric padding; "
        "'SAME' places and counts padding differently"))
    return calls


def _softpool(kernel_size=2, stride=None):
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None else _pair(stride, "stride")
    return [
        VariantCall("Poolscope", f"pooling_core.softpool2d(x, {k!r}, {s!r})", True),
        VariantCall("SoftPool", f"SoftPool.soft_pool2d(x, kernel_size={k!r}, stride={s!r})", True,
                    "the paper's package (CUDA kernel; avg_pool2d(x * exp(x)) / "
                    "avg_pool2d(exp(x)) on the CPU, finite while exp(x) is)"),
        VariantCall("PyTorch", f"F.avg_pool2d(x * x.exp(), {k!r}, {s!r}) / "
                    f"F.avg_pool2d(x.exp(), {k!r}, {s!r})", True,
                    "no built-in layer: the formula (finite while exp(x) is)"),
    ]


def _spp(levels=(1, 2, 4), mode="max"):
    levels = tuple(v[0] if v[0] == v[1] else v for v in _check_levels(levels))
    _choice(mode, "mode", SPP_MODES)
    fn = "adaptive_max_pool2d" if mode == "max" else "adaptive_avg_pool2d"
    return [
        VariantCall("Poolscope", f"pooling_core.spatial_pyramid_pool2d(x, levels={levels!r}, "
                    f"mode={mode!r})", True),
        VariantCall("PyTorch", f"torch.cat([F.{fn}(x, b).flatten(1) for b in {levels!r}], dim=1)",
                    True, "no built-in layer: one adaptive pooling per level"),
    ]


def _roi(kind, output_size=7, spatial_scale=1.0, sampling_ratio=-1, aligned=False, mode="avg"):
    size = _pair(output_size, "output_size")
    spatial_scale = _real(spatial_scale, "spatial_scale", 0.0, low_open=True)
    if isinstance(sampling_ratio, (bool, np.bool_)) or not isinstance(
            sampling_ratio, (int, np.integer)) or not -1 <= sampling_ratio <= 1024:
        raise ValueError(f"sampling_ratio={sampling_ratio!r} must be an int from -1 to 1024")
    sampling_ratio = int(sampling_ratio)
    aligned = check_flag(aligned, "aligned")
    mode = _choice(mode, "mode", ALIGN_MODES)
    h, w = normalize_tuple(output_size, 2, "output_size")
    if kind == "roi_pool":
        return [
            VariantCall("Poolscope", f"pooling_core.roi_pool(x, boxes, {size!r}, "
                        f"spatial_scale={spatial_scale!r})", True),
            VariantCall("torchvision", f"torchvision.ops.roi_pool(x, boxes, output_size={size!r}, "
                        f"spatial_scale={spatial_scale!r})", True),
            VariantCall("ONNX", f"MaxRoiPool(pooled_shape=[{h}, {w}], spatial_scale="
                        f"{spatial_scale!r})  # inputs X, rois=boxes", True,
                        "float32 only; with NaN onnxruntime differs (a NaN last in a bin "
                        "wins there, never in torchvision)"),
        ]
    ours = (f"pooling_core.roi_align(x, boxes, {size!r}, spatial_scale={spatial_scale!r}, "
            f"sampling_ratio={sampling_ratio!r}, aligned={aligned!r}"
            + (f", mode={mode!r})" if mode != "avg" else ")"))
    onnx_mode = "half_pixel" if aligned else "output_half_pixel"
    calls = [VariantCall("Poolscope", ours, True)]
    if mode == "avg":
        calls.append(VariantCall(
            "torchvision", f"torchvision.ops.roi_align(x, boxes, output_size={size!r}, "
            f"spatial_scale={spatial_scale!r}, sampling_ratio={sampling_ratio!r}, "
            f"aligned={aligned!r})", True))
    calls.append(VariantCall(
        "ONNX", f"RoiAlign(output_height={h}, output_width={w}, spatial_scale={spatial_scale!r}, "
        f"sampling_ratio={max(sampling_ratio, 0)}, mode={mode!r}, coordinate_transformation_mode="
        f"{onnx_mode!r})  # inputs X, rois=boxes[:, 1:], batch_indices=boxes[:, 0]", True,
        "opset 16; sampling_ratio 0 is torchvision's -1"
        + ("; 'max' takes the largest weighted corner value of each sample (ONNX's "
           "definition), not the largest interpolated value" if mode == "max" else "")))
    if mode == "avg":
        calls.append(VariantCall(
            "TensorFlow", f"tf.image.crop_and_resize(x_nhwc, boxes_normalized, box_indices, "
            f"crop_size=[{h * 2}, {w * 2}]) then tf.nn.avg_pool2d(..., 2, 2, 'VALID')", False,
            "the usual TensorFlow emulation: one bilinear sample per crop cell at "
            "corner-aligned positions, not torchvision's sample grid"))
    return calls


_BUILDERS = {
    "fractional_max": _fractional,
    "blur": _blur,
    "max_blur": lambda max_pool_size=2, **kw: _blur(max_pool_size=max_pool_size, **kw),
    "gem": _gem,
    "mixed": _mixed,
    "softpool": _softpool,
    "spatial_pyramid": _spp,
    "roi_pool": lambda **kw: _roi("roi_pool", **kw),
    "roi_align": lambda **kw: _roi("roi_align", **kw),
}


def variant_calls(variant: str, **params) -> list[VariantCall]:
    """Every framework's call for ``variant`` with ``params`` (pooling_core's names).

    Parameters
    ----------
    variant : one of :data:`VARIANTS`.
    **params : the variant's parameters as its pooling_core function names them
        (e.g. ``kernel_size``, ``output_ratio``; ``boxes`` and ``x`` stay symbolic).
        Missing ones take that function's defaults.

    Returns
    -------
    list of VariantCall, pooling_core's own first.

    Raises
    ------
    ValueError
        An unknown variant or parameter.

    Examples
    --------
    >>> for c in variant_calls("roi_align", output_size=7, aligned=True)[1:3]:
    ...     print(c.framework, "|", c.call)
    torchvision | torchvision.ops.roi_align(x, boxes, output_size=7, spatial_scale=1.0, sampling_ratio=-1, aligned=True)
    ONNX | RoiAlign(output_height=7, output_width=7, spatial_scale=1.0, sampling_ratio=0, mode='avg', coordinate_transformation_mode='half_pixel')  # inputs X, rois=boxes[:, 1:], batch_indices=boxes[:, 0]
    >>> [c.framework for c in variant_calls("fractional_max", output_ratio=0.7)]
    ['Poolscope', 'PyTorch', 'PyTorch', 'TensorFlow']
    """
    if not isinstance(variant, str) or variant not in _BUILDERS:
        raise ValueError(f"variant={variant!r} is unknown; choose one of {', '.join(VARIANTS)}")
    try:
        return _BUILDERS[variant](**params)
    except TypeError as err:  # an unexpected keyword
        raise ValueError(f"variant_calls({variant!r}, ...): {err}") from None


def variant_frameworks() -> dict[str, list[str]]:
    """Which frameworks offer each variant (pooling_core's defaults), for a selector.

    >>> variant_frameworks()["roi_align"]
    ['Poolscope', 'torchvision', 'ONNX', 'TensorFlow']
    """
    return {v: list(dict.fromkeys(c.framework for c in variant_calls(v))) for v in VARIANTS}
