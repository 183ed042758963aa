"""The Pooling zoo's pure helpers: its inputs, every mode run on one input, each
framework's call, and the BlurPool shift lab's sweep (no Streamlit; tests/test_zoo.py).

Every number comes from ``pooling_core``: :func:`run_mode` is a table from a mode's key
to its core function, :func:`mode_calls` asks :mod:`pooling_core.calls` (the new
variants) or :mod:`pooling_core.conventions` (the classic modes) for the code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pooling_core import (blur_pool2d, fractional_max_pool2d, fractional_windows, gem_pool2d,
                          max_blur_pool2d, mixed_pool2d, pool2d, shift_consistency,
                          softpool2d, spatial_pyramid_pool2d, variant_calls)
from pooling_core.conventions import FRAMEWORKS, Settings, framework_args

#: Every mode of the zoo, ``key: (label, what it is)``; classic modes first.
MODES = {
    "max": ("Max", "the largest value of each window"),
    "avg": ("Average", "the mean of each window"),
    "min": ("Min", "the smallest value of each window"),
    "lp": ("Lp (p = 2)", "PyTorch's LPPool2d: (Σ x^p)^(1/p), a sum, no 1/N"),
    "median": ("Median", "the middle value of each window"),
    "fractional_max": ("Fractional max", "max over windows at pseudo-random steps of "
                       "⌊α⌋ or ⌈α⌉ cells (Graham 2014)"),
    "blur": ("BlurPool", "binomial blur, then every stride-th value (Zhang 2019)"),
    "max_blur": ("MaxBlurPool", "dense max (stride 1), then BlurPool (Zhang 2019)"),
    "gem": ("GeM", "(mean of x^p)^(1/p): p = 1 average, p → ∞ max (Radenović 2018)"),
    "mixed": ("Mixed", "α·max + (1 − α)·avg"),
    "softpool": ("SoftPool", "Σ softmax(x)·x over the window (Stergiou 2021)"),
    "spatial_pyramid": ("Spatial pyramid", "adaptive max at 1×1, 2×2, 4×4 bins, "
                        "concatenated: a fixed length for any input (He 2014)"),
}
CLASSIC = ("max", "avg", "min", "lp", "median")
INPUTS = {"random": "Random 0–9", "stripes": "Stripes (period 4)",
          "checker": "Checkerboard", "edge": "A diagonal edge"}
#: The zoo page's tabs, in order (the link's ``zoo_tab``).
TABS = ("Fractional max", "GeM vs LPPool", "Mixed", "SoftPool", "Spatial pyramid",
        "BlurPool shift lab", "Code")
#: The zoo's typed input until the user types another (the key of that input kind: "typed").
TYPED_EXAMPLE = "1 3 2 1 0; 4 8 5 0 2; 7 1 9 2 6; 0 3 4 6 1; 5 2 8 1 3"
#: The frameworks' names in pooling_core.calls for the sidebar's framework keys.
SIDEBAR_NAMES = {key: fw.name for key, fw in FRAMEWORKS.items()}


@dataclass(frozen=True)
class ZooParams:
    """The zoo's settings: the windows every mode shares and each variant's own."""

    kernel: int = 2
    stride: int = 2
    p: float = 3.0            # GeM's power (np.inf: the max)
    alpha: float = 0.5        # mixed pooling's share of the max
    ratio: float = 0.7        # fractional max pooling's output_ratio
    seed: int = 0             # fractional max pooling's samples
    filter_size: int = 3      # BlurPool's binomial filter
    levels: tuple = field(default=(1, 2, 4))  # spatial pyramid


def make_input(kind: str, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """The zoo's input: ``rows × cols`` floats of the pattern ``kind`` (:data:`INPUTS`).

    >>> make_input("stripes", 2, 8).tolist()
    [[0.0, 0.0, 9.0, 9.0, 0.0, 0.0, 9.0, 9.0], [0.0, 0.0, 9.0, 9.0, 0.0, 0.0, 9.0, 9.0]]
    """
    if kind not in INPUTS:
        raise ValueError(f"kind={kind!r} must be one of {', '.join(INPUTS)}")
    r, c = np.arange(rows)[:, None], np.arange(cols)[None, :]
    if kind == "random":
        return np.random.default_rng(seed).integers(0, 10, size=(rows, cols)).astype(float)
    if kind == "stripes":
        return np.broadcast_to(np.where(c % 4 >= 2, 9.0, 0.0), (rows, cols)).copy()
    if kind == "checker":
        return np.where((r + c) % 2 == 1, 9.0, 0.0)
    return np.where(c > r, 9.0, 1.0)


def run_mode(x: np.ndarray, mode: str, params: ZooParams) -> np.ndarray:
    """``mode`` (:data:`MODES`) on ``x`` with ``params``, from the core; ``ValueError``
    (the core's message) when the settings do not fit the input."""
    k, s = params.kernel, params.stride
    if mode in CLASSIC:
        return pool2d(x, k, s, mode=mode, p=2.0)
    if mode == "fractional_max":
        return fractional_max_pool2d(x[None], k, output_ratio=params.ratio,
                                     rng=params.seed)[0]
    if mode == "blur":
        return blur_pool2d(x, params.filter_size, s)
    if mode == "max_blur":
        return max_blur_pool2d(x, params.filter_size, s, k)
    if mode == "gem":
        return gem_pool2d(x, k, s, p=params.p)
    if mode == "mixed":
        return mixed_pool2d(x, k, s, alpha=params.alpha)
    if mode == "softpool":
        return softpool2d(x, k, s)
    if mode == "spatial_pyramid":
        return spatial_pyramid_pool2d(x, params.levels)[None, :]
    raise ValueError(f"mode={mode!r} is not in the zoo; choose one of {', '.join(MODES)}")


def run_all(x: np.ndarray, params: ZooParams) -> dict:
    """Every mode on ``x``: ``{mode: output array, or the core's message}``."""
    out = {}
    for mode in MODES:
        try:
            out[mode] = run_mode(x, mode, params)
        except ValueError as exc:
            out[mode] = str(exc)
    return out


def fractional_samples(seed: int) -> np.ndarray:
    """The ``(1, 2)`` samples (PyTorch's ``_random_samples`` of one plane) a seed draws,
    exactly as :func:`run_mode` draws them (``rng=seed``)."""
    return np.random.default_rng(seed).random((1, 2))


def fractional_regions(shape, params: ZooParams):
    """``(windows, row steps, column steps)`` of fractional max pooling on an input of
    ``shape``; the steps between window starts are each ``⌊α⌋`` or ``⌈α⌉``.

    >>> w, rows, cols = fractional_regions((7, 7), ZooParams(ratio=0.6, seed=1))
    >>> w.rows.shape[-1], sorted(set(rows.tolist()) | set(cols.tolist()))
    (4, [1, 2])
    """
    windows = fractional_windows((1,) + tuple(shape), params.kernel,
                                 output_ratio=params.ratio, samples=fractional_samples(params.seed))
    return windows, np.diff(windows.rows[0]), np.diff(windows.cols[0])


def alpha_text(n: int, k: int, out: int) -> str:
    """How far fractional max pooling's windows advance on average, in words."""
    if out < 2:
        return f"one window (output {out}): it starts at {n - k}"
    a = (n - k) / (out - 1)
    lo, hi = int(np.floor(a)), int(np.ceil(a))
    return (f"α = (n − k) / (out − 1) = ({n} − {k}) / ({out} − 1) = {a:.3g}: each step is "
            f"{lo}" + (f" or {hi}" if hi != lo else "") + " cells")


def gem_vs_lp(window: np.ndarray, p: float, eps: float = 1e-6) -> dict:
    """GeM and PyTorch's LPPool2d on one window (both from the core), and why they differ.

    >>> r = gem_vs_lp(np.array([[1., 2.], [3., 4.]]), 1.0)
    >>> r["gem"], r["lp"], r["n"]
    (2.5, 10.0, 4)
    """
    w = np.asarray(window, dtype=float)
    kh, kw = w.shape
    gem = float(gem_pool2d(w, (kh, kw), p=p, eps=eps)[0, 0])
    lp = float(pool2d(w, (kh, kw), mode="lp", p=p)[0, 0]) if np.isfinite(p) else \
        float(pool2d(w, (kh, kw))[0, 0])
    return {"gem": gem, "lp": lp, "n": kh * kw, "mean": float(w.mean()), "max": float(w.max()),
            "factor": float((kh * kw) ** (1 / p)) if np.isfinite(p) else 1.0}


def soft_continuum(window: np.ndarray, betas) -> np.ndarray:
    """SoftPool of ``β · window`` divided by ``β`` for each ``β``: β → 0 gives the average,
    large β the max, β = 1 SoftPool itself (the core's ``softpool2d``).

    >>> soft_continuum(np.array([[0., 4.]]), [1e-9, 1.0, 50.0]).round(3).tolist()
    [2.0, 3.928, 4.0]
    """
    w = np.asarray(window, dtype=float)
    stack = np.stack([b * w for b in betas])
    return softpool2d(stack, w.shape)[:, 0, 0] / np.asarray(betas, dtype=float)


# ----------------------------------------------------------------------------- code panel


def mode_params(mode: str, params: ZooParams) -> dict:
    """``mode``'s parameters as :func:`pooling_core.variant_calls` names them."""
    k, s = params.kernel, params.stride
    return {"fractional_max": dict(kernel_size=k, output_ratio=params.ratio),
            "blur": dict(kernel_size=params.filter_size, stride=s),
            "max_blur": dict(kernel_size=params.filter_size, stride=s, max_pool_size=k),
            "gem": dict(kernel_size=k, stride=s, p=params.p),
            "mixed": dict(kernel_size=k, stride=s, alpha=params.alpha),
            "softpool": dict(kernel_size=k, stride=s),
            "spatial_pyramid": dict(levels=tuple(params.levels))}.get(mode, {})


def mode_calls(mode: str, params: ZooParams, shape) -> list[tuple[str, str, bool, str]]:
    """Every framework's call for ``mode``: ``(framework, code, same numbers, note)``.

    The new variants come from :func:`pooling_core.variant_calls`; the classic modes from
    :func:`pooling_core.conventions.framework_args` (frameworks without the mode left out).

    >>> [c[0] for c in mode_calls("fractional_max", ZooParams(), (8, 8))]
    ['Poolscope', 'PyTorch', 'PyTorch', 'TensorFlow']
    >>> mode_calls("median", ZooParams(), (8, 8))[0][1]
    "pooling_core.pool2d(x, 2, 2, mode='median')"
    """
    if mode not in CLASSIC:
        return [(c.framework, c.call, c.same, c.note)
                for c in variant_calls(mode, **mode_params(mode, params))]
    k, s = params.kernel, params.stride
    extra = ", p=2.0" if mode == "lp" else ""
    calls = [("Poolscope", f"pooling_core.pool2d(x, {k}, {s}, mode={mode!r}{extra})", True, "")]
    settings = Settings(shape=tuple(int(n) for n in shape[-2:]), kernel=k, stride=s, mode=mode,
                        p=2.0)
    for key, fw in FRAMEWORKS.items():
        call = framework_args(settings, key)
        if call.ok:
            calls.append((fw.name, call.code, True, " ".join(call.notes)))
    return calls


def frameworks_of(mode: str, params: ZooParams, shape) -> list[str]:
    """The frameworks that have ``mode`` (for the selector), Poolscope first."""
    return list(dict.fromkeys(c[0] for c in mode_calls(mode, params, shape)))


def default_framework(options: list[str], sidebar_key: str | None) -> str:
    """The sidebar's framework when ``options`` has it, else the first other than
    Poolscope (the call a user would write), else Poolscope."""
    name = SIDEBAR_NAMES.get(sidebar_key or "")
    if name in options:
        return name
    return next((o for o in options if o != "Poolscope"), options[0])


# ----------------------------------------------------------------------------- shift lab

SHIFTS = tuple(range(9))  # 0-8 px, as the issue asks
SHIFT_VIEW = (16, 24)  # the shift lab's view: rows, columns


#: The way the input moves, as ``(rows, columns)`` per pixel of shift.
DIRECTIONS = {"right": (0, 1), "down": (1, 0), "diagonal": (1, 1)}


def shift_base(kind: str, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """The large input the shift lab crops: ``max(SHIFTS)`` extra rows and columns."""
    return make_input(kind, rows + max(SHIFTS), cols + max(SHIFTS), seed)


def shift_offset(shift: int, direction: str = "right") -> tuple[int, int]:
    """``(dy, dx)`` of a shift of ``shift`` pixels in ``direction`` (:data:`DIRECTIONS`)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction={direction!r} must be one of {', '.join(DIRECTIONS)}")
    uy, ux = DIRECTIONS[direction]
    return shift * uy, shift * ux


def shifted_crop(base: np.ndarray, shift: int, rows: int, cols: int,
                 direction: str = "right") -> np.ndarray:
    """The input moved by ``shift`` pixels: the ``rows × cols`` crop that far along.

    >>> shifted_crop(np.arange(20).reshape(4, 5), 1, 2, 3, "diagonal").tolist()
    [[6, 7, 8], [11, 12, 13]]
    """
    dy, dx = shift_offset(shift, direction)
    return base[dy:dy + rows, dx:dx + cols]


@dataclass(frozen=True)
class ShiftSweep:
    """The shift lab's numbers: outputs and consistency of each method at every shift.

    outputs : ``{method: [output at shift 0, 1, ...]}``.
    consistency : ``{method: [ShiftConsistency against shift 0, ...]}``.
    """

    outputs: dict
    consistency: dict


SHIFT_METHODS = {"max": "Max pooling", "max_blur": "MaxBlurPool"}


def shift_sweep(base: np.ndarray, rows: int, cols: int, filter_size: int,
                direction: str = "right", stride: int = 2, kernel: int = 2,
                atol: float = 0.05) -> ShiftSweep:
    """Max pooling and MaxBlurPool of every shifted crop, each compared with shift 0 by
    :func:`pooling_core.shift_consistency`. ``atol`` is a share of the input's range;
    ``rows`` and ``cols`` must leave output cells to compare after the largest shift (16
    or more at stride 2 along the way the input moves).

    >>> base = shift_base("stripes", 4, 16)
    >>> sweep = shift_sweep(base, 4, 16, 3)
    >>> [round(c.mean_change, 2) for c in sweep.consistency["max"][:3]]
    [0.0, 4.5, 0.0]
    """
    span = float(np.ptp(base)) or 1.0
    outputs = {"max": [], "max_blur": []}
    for s in SHIFTS:
        crop = shifted_crop(base, s, rows, cols, direction)
        outputs["max"].append(pool2d(crop, kernel, stride))
        outputs["max_blur"].append(max_blur_pool2d(crop, filter_size, stride, kernel,
                                                   padding_mode="reflect"))
    consistency = {m: [shift_consistency(outs[0], o, shift_offset(s, direction), stride,
                                         atol=atol * span)
                       for s, o in zip(SHIFTS, outs)] for m, outs in outputs.items()}
    return ShiftSweep(outputs, consistency)
