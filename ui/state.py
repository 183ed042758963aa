"""The shared sidebar: pooling settings in ``st.session_state``, mirrored in the URL.

Every widget is bound to a query parameter (``bind="query-params"``), so a copied
URL reopens the same view. Pages call :func:`current` for the settings and
:func:`guard` around core calls so a bad combination shows the core's message
next to the control at fault while the last valid result stays on screen.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import streamlit as st

from pooling_core import MODES, explain_axes, geometry_kwargs
from pooling_core.conventions import FRAMEWORKS, Settings, framework_args

MODE_LABELS = {
    "max": "Max", "avg": "Average", "sum": "Sum", "min": "Min", "lp": "Lp norm",
    "median": "Median", "stochastic": "Stochastic (Caffe)",
}
PAD_KINDS = {"number": "Number", "valid": "VALID", "same": "SAME", "same_lower": "SAME_LOWER"}

DEFAULTS = {
    "sq": True, "kh": 2, "kw": 2, "sk": True, "sh": 2, "sw": 2, "pad": "number",
    "ph": 0, "pw": 0, "dh": 1, "dw": 1, "mode": "max", "p": 2.0, "ceil": False,
    "cip": True, "fw": "pytorch", "glob": False, "seed": 0, "train": True,
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
    "cip": "Average only: divide by the whole window including padded cells (PyTorch's "
           "default), or only by the real cells.",
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
    count_include_pad: bool = True
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
                        ceil_mode=s.ceil_mode, count_include_pad=s.count_include_pad)

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


def require_navigation() -> None:
    """Make sure a page runs inside ``app.py``'s navigation.

    Streamlit starts in its legacy mode when a ``pages/`` folder exists, and stays
    there until the entry script has called ``st.navigation``. A first visit on a
    fresh server straight to a page's URL would then run the page alone, without
    the sidebar. Switch to the navigation and rerun through ``app.py`` instead.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def _bound(key: str) -> dict:
    """Keyword arguments that bind a widget to the URL with the project default.

    The widget's own default must be the project's default: ``bind`` leaves a
    parameter out of the URL when the value equals the widget's default.
    """
    return dict(key=key, bind="query-params")


def apply_preset() -> None:
    """Callback of the preset select: reset, then apply the preset's values."""
    name = st.session_state.get("preset")
    if not name:
        return
    for key, value in {**DEFAULTS, **PRESETS[name]}.items():
        st.session_state[key] = value
    if name == SEED_PRESET:
        st.session_state["input_request"] = "seed"  # the playground shows the seed matrix


def reset() -> None:
    """Callback of the Reset button: every setting back to its default."""
    for key, value in DEFAULTS.items():
        st.session_state[key] = value
    st.session_state["preset"] = None
    st.session_state["input_request"] = "reset"


def _mirror_axes() -> None:
    """When the square lock is turned on (or H moves while locked), W follows H."""
    if st.session_state.get("sq"):
        for h, w in (("kh", "kw"), ("sh", "sw"), ("ph", "pw"), ("dh", "dw")):
            st.session_state[w] = st.session_state.get(h, DEFAULTS[h])


def _pair(label, key_h, key_w, lo, hi, help_text, disabled=False):
    """One slider (locked) or an H/W pair of sliders."""
    if st.session_state.get("sq", DEFAULTS["sq"]):
        st.slider(label, lo, hi, DEFAULTS[key_h], help=help_text, disabled=disabled,
                  on_change=_mirror_axes, **_bound(key_h))
    else:
        col_h, col_w = st.columns(2)
        col_h.slider(f"{label} H", lo, hi, DEFAULTS[key_h], help=help_text, disabled=disabled,
                     **_bound(key_h))
        col_w.slider(f"{label} W", lo, hi, DEFAULTS[key_w], help=help_text, disabled=disabled,
                     **_bound(key_w))


def sidebar() -> dict:
    """Draw the shared controls; returns the error slots (``st.empty``) by name."""
    slots = {}
    ss = st.session_state
    with st.sidebar:
        st.selectbox("Preset", list(PRESETS), key="preset", index=None,
                     placeholder="Choose a preset…", on_change=apply_preset,
                     help="Classic settings from well-known networks and frameworks.")
        st.selectbox("Framework", list(FRAMEWORKS), help=HELP["fw"],
                     format_func=lambda k: FRAMEWORKS[k].name, **_bound("fw"))
        slots["fw"] = st.empty()
        st.toggle("Same value for both axes", DEFAULTS["sq"], help=HELP["sq"],
                  on_change=_mirror_axes, **_bound("sq"))
        glob = st.toggle("Global pooling (whole input)", DEFAULTS["glob"], help=HELP["glob"],
                         **_bound("glob"))
        _pair("Kernel size", "kh", "kw", 1, 8, HELP["kh"], disabled=glob)
        slots["kernel"] = st.empty()
        if not st.checkbox("Stride = kernel size", DEFAULTS["sk"], help=HELP["sk"],
                           disabled=glob, **_bound("sk")):
            _pair("Stride", "sh", "sw", 1, 8, HELP["sh"], disabled=glob)
        slots["stride"] = st.empty()
        pad = st.radio("Padding", list(PAD_KINDS), format_func=PAD_KINDS.get, horizontal=True,
                       help=HELP["pad"], disabled=glob, **_bound("pad"))
        if pad == "number":
            _pair("Padding", "ph", "pw", 0, 4, HELP["ph"], disabled=glob)
        slots["padding"] = st.empty()
        _pair("Dilation", "dh", "dw", 1, 4, HELP["dh"], disabled=glob)
        slots["dilation"] = st.empty()
        mode = st.selectbox("Mode", MODES, format_func=MODE_LABELS.get, help=HELP["mode"],
                            **_bound("mode"))
        fw = FRAMEWORKS[_value("fw")]
        if mode not in fw.calls:
            st.caption(f"{fw.name} has no {MODE_LABELS[mode].lower()} pooling: Poolscope "
                       f"computes it on {fw.name}'s windows.")
        if mode == "lp":
            st.number_input("p (Lp norm)", 0.5, 16.0, DEFAULTS["p"], step=0.5, help=HELP["p"],
                            **_bound("p"))
        if mode == "stochastic":
            st.number_input("Seed", 0, 10_000, DEFAULTS["seed"], help=HELP["seed"],
                            **_bound("seed"))
            st.toggle("Training (sample)", DEFAULTS["train"], help=HELP["train"],
                      **_bound("train"))
        slots["mode"] = st.empty()
        st.checkbox("ceil_mode", DEFAULTS["ceil"], help=HELP["ceil"], disabled=glob,
                    **_bound("ceil"))
        if mode == "avg" and _padding_matters():  # lp always divides by the whole window
            st.checkbox("count_include_pad", DEFAULTS["cip"], help=HELP["cip"],
                        **_bound("cip"))
        st.button("Reset", on_click=reset, help="All settings back to the defaults.",
                  width="stretch")
    ss["_slots"] = slots
    return slots


def _value(key: str):
    """A setting's current value; widgets not drawn this run hold their default."""
    return st.session_state.get(key, DEFAULTS[key])


def _padding_matters() -> bool:
    return bool(_value("ceil") or _value("pad") != "number" or _value("ph") or _value("pw"))


def current() -> PoolSettings:
    """The settings the sidebar holds now."""
    v = _value
    pair = lambda h, w: (int(v(h)), int(v(h) if v("sq") else v(w)))  # noqa: E731
    kernel = pair("kh", "kw")
    mode = v("mode")
    return PoolSettings(
        kernel=kernel, stride=kernel if v("sk") else pair("sh", "sw"),
        padding=pair("ph", "pw") if v("pad") == "number" else v("pad"),
        dilation=pair("dh", "dw"), mode=mode, p=float(v("p")), ceil_mode=bool(v("ceil")),
        count_include_pad=bool(v("cip")) if mode == "avg" else True,
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
        else:
            st.error(message, icon="⚠️")
        return store.get(name), message
    store[name] = result
    return result, None


def with_input(name: str, x, settings: PoolSettings, to_kwargs=None) -> tuple:
    """``(x, settings, kwargs)`` with ``kwargs = to_kwargs(settings, x.shape)`` (default:
    ``settings.pool_kwargs``). If that raises, the message, and the last input, settings
    and keyword arguments that went together, so everything drawn stays consistent.

    ``(None, None, None)`` when nothing has been valid yet.
    """
    to_kwargs = to_kwargs or (lambda s, shape: s.pool_kwargs(shape))
    last, _ = guard(name, lambda: (x, settings, to_kwargs(settings, x.shape)))
    return last if last is not None else (None, None, None)


def formula(shape, kwargs: dict, names=None):
    """The output-size formula once, then each axis with its numbers, from the core.

    Axes with the same arithmetic share one line (``H_out = W_out = ...``). Each
    axis's plain-text working and notes (the ceil-mode clip, cells never read,
    SAME) follow as captions. Returns the core's explanations.
    """
    explained = explain_axes(tuple(shape), **geometry_kwargs(kwargs))
    names = list(names or ("D", "H", "W")[-len(explained):])
    st.latex(explained[0].general_latex)
    if len(explained) > 1 and len({e.substituted_latex for e in explained}) == 1:
        groups = [(names, explained[0], shape[0])]
    else:
        groups = [([name], e, n) for name, e, n in zip(names, explained, shape)]
    for group, e, n in groups:
        lhs = " = ".join(rf"{name}_\text{{out}}" for name in group)
        st.latex(f"{lhs} = {e.substituted_latex}")
        label = " = ".join(group)
        st.caption(e.substituted_text)
        valid = e.valid_out if e.valid_out is not None else "none (window larger than input)"
        st.caption(f"{label}: n = {n}, padding {e.pad_before} before / {e.pad_after} after "
                   f"({e.padding_kind}), {e.rounding} rounding. TensorFlow/Keras would give "
                   f"SAME: {e.same_out}, VALID: {valid}.")
        for note in e.notes:
            (st.warning if "never read" in note else st.info)(f"{label}: {note}")
    return explained


def random_matrix(rows: int, cols: int, seed: int) -> np.ndarray:
    """The pages' random input: integers 0–9, the same for the same seed."""
    return np.random.default_rng(seed).integers(0, 10, size=(rows, cols))


def random_matrix_input(prefix: str, max_side: int = 12, rows: int = 6, cols: int = 6):
    """Rows, columns and seed controls (bound to the URL as ``<prefix>_rows`` …) and the
    random integer matrix they give."""
    c1, c2, c3 = st.columns(3)
    r = c1.slider("Rows", 2, max_side, rows, help=f"Input height (2–{max_side}).",
                  **_bound(f"{prefix}_rows"))
    c = c2.slider("Columns", 2, max_side, cols, help=f"Input width (2–{max_side}).",
                  **_bound(f"{prefix}_cols"))
    seed = c3.number_input("Seed", 0, 99_999, 0, help="Same seed, same matrix (as in the "
                           "matrix playground).", **_bound(f"{prefix}_seed"))
    return random_matrix(int(r), int(c), int(seed))


def settings_dict(settings: PoolSettings) -> dict:
    """Plain dict of the settings (for caching keys and captions)."""
    return asdict(settings)
