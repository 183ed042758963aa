"""The pooling settings: what the sidebar holds, as one model, and what a bad one shows.

The sidebar's values live in ``st.session_state`` under short keys (:data:`DEFAULTS`,
the same keys as the link's, see :mod:`ui.links`); :data:`PRESETS` and :data:`HELP`
are the sidebar's presets and tooltips. :func:`current` reads them as a
:class:`PoolSettings`, which :meth:`~PoolSettings.resolve` turns into ``pool2d``
keyword arguments for the chosen framework. Pages call :func:`guard` (or
:func:`with_input`) around core calls, so a bad combination shows the core's message
next to the control at fault (:func:`error_slot`) while the last valid result stays on
screen.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import streamlit as st

from pooling_core.conventions import FRAMEWORKS, Settings, framework_args


MODE_LABELS = {
    "max": "Max", "avg": "Average", "sum": "Sum", "min": "Min", "lp": "Lp norm",
    "median": "Median", "stochastic": "Stochastic (Caffe)",
}
PAD_KINDS = {"number": "Number", "valid": "VALID", "same": "SAME", "same_lower": "SAME_LOWER"}
#: count_include_pad: the core's default (None), or an explicit True / False
CIP_CHOICES = {"default": "Default", "true": "True", "false": "False"}

DEFAULTS = {
    "sq": True, "kh": 2, "kw": 2, "sk": True, "sh": 2, "sw": 2, "pad": "number",
    "ph": 0, "pw": 0, "dh": 1, "dw": 1, "mode": "max", "p": 2.0, "ceil": False,
    "cip": "default", "fw": "pytorch", "glob": False, "seed": 0, "train": True,
}

PRESETS = {
    "Classic 2×2 stride 2 (VGG)": {},
    "Overlapping 3×3 stride 2 (AlexNet)": {"kh": 3, "kw": 3, "sk": False, "sh": 2, "sw": 2},
    "TensorFlow SAME 3×3 stride 2": {"kh": 3, "kw": 3, "sk": False, "sh": 2, "sw": 2,
                                     "pad": "same", "fw": "tensorflow"},
    "Dilated 2×2 d=2": {"sk": False, "sh": 1, "sw": 1, "dh": 2, "dw": 2},
    "Global average": {"glob": True, "mode": "avg"},
    "Seed example: 4×4 → [[8 5] [7 9]]": {},
}
SEED_PRESET = "Seed example: 4×4 → [[8 5] [7 9]]"
#: the playground's input pattern that the seed preset selects
SEED_INPUT = "Seed example (4×4)"

HELP = {
    "sq": "Use one value for both axes (height and width) of every setting.",
    "kh": "Window size: how many cells (rows × columns) each output reads.",
    "sk": "PyTorch's default: stride = kernel size, so windows tile without overlap.",
    "sh": "How far the window moves between outputs. Smaller than the kernel: windows overlap.",
    "pad": "Number: symmetric padding on each side (PyTorch). VALID: none. SAME: TensorFlow "
           "pads so that out = ceil(n / stride), the odd cell at the bottom/right. "
           "SAME_LOWER: the same amount, the odd cell at the top/left (ONNX).",
    "ph": "Cells added on each side. PyTorch requires padding ≤ kernel // 2.",
    "dh": "Gap between the cells a window reads (1 = adjacent). Dilation d spreads a k-cell "
          "window over d·(k−1)+1 cells.",
    "mode": "How the window's values become one number.",
    "p": "Lp pooling computes (Σ xᵖ)^(1/p): p=1 is a sum, large p approaches max.",
    "ceil": "Round the output size up instead of down; the last window must still start "
            "inside the input or the left padding.",
    "cip": "Average only: True divides by the whole window, padded cells included (PyTorch); "
           "False by the real cells only (TensorFlow, Keras, ONNX). Default: True for "
           "numeric padding, False for SAME, SAME_LOWER and VALID.",
    "fw": "Whose rules to follow: rounding, where padding goes, what it is worth, and the "
          "average's divisor.",
    "glob": "Global pooling: one window covering the whole input (kernel = input size).",
    "seed": "Random seed for stochastic pooling's sampling.",
    "train": "Training samples one cell per window; test time uses Caffe's "
             "probability-weighted average Σw·x / Σw with w = max(x, 0) (Σx²/Σx when x ≥ 0).",
}

# which sidebar slot shows an error that names this parameter
_ERROR_SLOTS = {"framework": "fw", "kernel_size": "kernel", "stride": "stride", "padding": "padding",
                "dilation": "dilation", "mode": "mode", "p": "mode",
                "divisor_override": "mode", "return_indices": "mode", "x": "kernel"}


@dataclass(frozen=True)
class PoolSettings:
    """The user's choices, as the sidebar holds them."""

    kernel: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)
    padding: tuple[int, int] | str = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    mode: str = "max"
    p: float = 2.0
    ceil_mode: bool = False
    count_include_pad: bool | None = None  # None: the core's default for the padding
    framework: str = "pytorch"
    global_pool: bool = False
    seed: int = 0
    training: bool = True

    def for_shape(self, shape) -> "PoolSettings":
        """Global pooling: the kernel and stride become the input's own size."""
        if not self.global_pool:
            return self
        hw = (int(shape[-2]), int(shape[-1]))
        return replace(self, kernel=hw, stride=hw, padding=(0, 0), dilation=(1, 1))

    def conventions_settings(self, shape) -> Settings:
        """These settings as :mod:`pooling_core.conventions` takes them."""
        s = self.for_shape(shape)
        return Settings(shape=tuple(int(n) for n in shape[-2:]), kernel=s.kernel,
                        stride=s.stride, padding=s.padding, dilation=s.dilation, mode=s.mode,
                        ceil_mode=s.ceil_mode, count_include_pad=s.count_include_pad, p=s.p)

    def resolve(self, shape) -> tuple[dict, str]:
        """``pool2d`` keyword arguments reproducing the chosen framework on ``shape``, and a note.

        A framework without the chosen mode (PyTorch has no median pooling) still
        places the windows (see ``framework_args(fallback=True)``); the note says
        so. Raises ``ValueError`` naming the setting when the framework cannot
        express the settings, or when the core rejects them.
        """
        s = self.for_shape(shape)
        fw = FRAMEWORKS[s.framework]
        settings = s.conventions_settings(shape)
        call = framework_args(settings, s.framework, fallback=True)
        if not call.ok:
            able = [f.name for key, f in FRAMEWORKS.items()
                    if framework_args(settings, key, fallback=True).ok]
            hint = (f" These settings work in: {', '.join(able)}." if able else
                    " No framework expresses these settings; change them.")
            raise ValueError(
                f"framework={fw.name}: {call.reason} (here kernel "
                f"{s.kernel}, stride {s.stride}, padding {s.padding}, dilation {s.dilation}, "
                f"mode {s.mode}).{hint}")
        kwargs = dict(call.kwargs)
        if s.mode == "lp":
            kwargs["p"] = s.p
        if s.mode == "stochastic":
            kwargs["rng"] = s.seed
            kwargs["training"] = s.training
        note = call.notes[0] if s.mode not in fw.calls else ""
        return kwargs, note

    def pool_kwargs(self, shape) -> dict:
        """The ``pool2d`` keyword arguments of :meth:`resolve`."""
        return self.resolve(shape)[0]


def setting(key: str):
    """A setting's current value; widgets not drawn this run hold their default."""
    return st.session_state.get(key, DEFAULTS[key])


def current(values: dict | None = None) -> PoolSettings:
    """The settings the sidebar holds now (or that ``values``, sidebar keys, would give;
    keys left out take their default)."""
    v = setting if values is None else (lambda key: values.get(key, DEFAULTS[key]))
    pair = lambda h, w: (int(v(h)), int(v(h) if v("sq") else v(w)))  # noqa: E731
    kernel = pair("kh", "kw")
    mode = v("mode")
    return PoolSettings(
        kernel=kernel, stride=kernel if v("sk") else pair("sh", "sw"),
        padding=pair("ph", "pw") if v("pad") == "number" else v("pad"),
        dilation=pair("dh", "dw"), mode=mode, p=float(v("p")), ceil_mode=bool(v("ceil")),
        count_include_pad={"true": True, "false": False}.get(v("cip")) if mode == "avg" else None,
        framework=v("fw"), global_pool=bool(v("glob")), seed=int(v("seed")),
        training=bool(v("train")),
    )


def error_slot(message: str) -> str | None:
    """The sidebar slot for an error message, or None when no sidebar control is at fault.

    The core's messages start with the parameter at fault (``padding=3 is ...``).
    A framework's refusal names the setting it cannot take (``... has no dilation``);
    otherwise it belongs by the framework selector.
    """
    head, _, rest = message.partition("=")
    if head.strip() != "framework":
        return _ERROR_SLOTS.get(head.strip())
    reason = rest.split(" (here ", 1)[0]
    for word, slot in (("dilation", "dilation"), ("padding", "padding"), ("pad", "padding"),
                       ("stride", "stride"), ("pooling", "mode")):
        if word in reason:
            return slot
    return "fw"


def guard(name: str, fn, *args, **kwargs):
    """Run ``fn``; on ``ValueError`` show its message and return the last good result.

    The message also appears by the sidebar control at fault, when one is.
    Returns ``(result, error)``: ``error`` is the message or ``None``. The last
    successful result for ``name`` is kept in ``st.session_state``.
    """
    store = st.session_state.setdefault("_last_ok", {})
    try:
        result = fn(*args, **kwargs)
    except ValueError as exc:
        message = str(exc)
        slot = st.session_state.get("_slots", {}).get(error_slot(message))
        if slot is not None:
            slot.error(message, icon="⚠️")
        if name in store:
            st.error(f"{message}  \nShowing the last valid result.", icon="⚠️")
            st.session_state.setdefault("_refused", {"reason": refused_reason(message),
                                                     "shown": "", "told": False})
        else:
            st.error(message, icon="⚠️")
        return store.get(name), message
    store[name] = result
    return result, None


def refused_reason(message: str) -> str:
    """The refused setting and why, shortly, from a core or framework message.

    >>> refused_reason("framework=PyTorch: nn.AvgPool2d in PyTorch has no dilation (here "
    ...                "kernel (2, 2), ...). These settings work in: ONNX.")
    'PyTorch: nn.AvgPool2d in PyTorch has no dilation'
    >>> refused_reason("padding=3 is more than half the kernel (2). Lower it.")
    'padding=3 is more than half the kernel (2)'
    """
    head, sep, rest = message.partition("=")
    text = rest if sep and head.strip() == "framework" else message
    text = text.split(" (here ", 1)[0].split(". ", 1)[0].rstrip(".")
    return text if len(text) <= 120 else text[:119] + "…"


_SHOWN_LABELS = {"kernel": "kernel", "stride": "stride", "padding": "padding",
                 "dilation": "dilation", "mode": "mode", "p": "p", "ceil_mode": "ceil_mode",
                 "count_include_pad": "count_include_pad", "framework": "framework",
                 "global_pool": "global pooling", "seed": "seed", "training": "training"}


def _shown_text(key: str, value) -> str:
    if key == "mode":
        return MODE_LABELS.get(value, value)
    if key == "framework":
        return FRAMEWORKS[value].name
    if isinstance(value, tuple) and len(set(value)) == 1:
        return str(value[0])
    return str(value)


def settings_difference(shown: PoolSettings, wanted: PoolSettings) -> str:
    """The settings ``shown`` has where it differs from ``wanted``, as ``mode Max, dilation 1``.

    >>> settings_difference(PoolSettings(), PoolSettings(mode="avg", dilation=(2, 2)))
    'dilation 1, mode Max'
    """
    a, b = asdict(shown), asdict(wanted)
    return ", ".join(f"{_SHOWN_LABELS[k]} {_shown_text(k, a[k])}" for k in a if a[k] != b[k])


def refused() -> dict | None:
    """On this run, the refused setting when the page shows an earlier result, or None.

    ``{"reason": ..., "shown": ..., "told": ...}``: why (:func:`refused_reason`), the
    settings the result shown was computed with where they differ from the controls,
    and whether the one-line notice has been drawn (:func:`ui.widgets.stale`). The
    sidebar clears it at the start of every run.
    """
    return st.session_state.get("_refused")


def with_input(name: str, x, settings: PoolSettings, to_kwargs=None) -> tuple:
    """``(x, settings, kwargs)`` with ``kwargs = to_kwargs(settings, x.shape)`` (default:
    ``settings.pool_kwargs``). If that raises, the message, and the last input, settings
    and keyword arguments that went together, so everything drawn stays consistent.

    ``(None, None, None)`` when nothing has been valid yet.
    """
    to_kwargs = to_kwargs or (lambda s, shape: s.pool_kwargs(shape))
    last, error = guard(name, lambda: (x, settings, to_kwargs(settings, x.shape)))
    if error and last is not None and refused() is not None and isinstance(last[1], PoolSettings):
        refused()["shown"] = settings_difference(last[1], settings)
    return last if last is not None else (None, None, None)


def settings_dict(settings: PoolSettings) -> dict:
    """Plain dict of the settings (for caching keys and captions)."""
    return asdict(settings)
