"""The shared sidebar: pooling settings in ``st.session_state``, mirrored in the URL.

Every widget is bound to a query parameter (``bind="query-params"``), so a copied
URL reopens the same view. A link is untrusted input: :func:`check_link` reads every
value it carries (:data:`LINK_PARAMS`) before any widget does, and a bad one falls back
to its default with one warning. Pages call :func:`current` for the settings and
:func:`guard` around core calls so a bad combination shows the core's message
next to the control at fault while the last valid result stays on screen.
"""
from __future__ import annotations

import gc
import math
import re
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from pooling_core import MODES, explain_axes, geometry_kwargs
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


# ----------------------------------------------------------------------------- links


@dataclass(frozen=True)
class LinkParam:
    """A value a shared link (the URL's query string) may carry, and the rule it follows.

    ``kind`` is ``"int"`` or ``"float"`` (a number in ``lo..hi``), ``"bool"`` (``true`` or
    ``false``), ``"choice"`` (one of ``options``, written as the label the widget shows)
    or ``"matrix"`` (rows of numbers, at most ``hi`` rows and columns). A link is typed
    or edited by people: every value is untrusted until :meth:`parse` accepts it.
    """

    key: str
    label: str
    kind: str
    default: object = None
    lo: float | None = None
    hi: float | None = None
    options: dict = field(default_factory=dict)  # value -> label

    def parse(self, text: str):
        """The value ``text`` stands for; ``ValueError`` says what is wrong with it.

        Choices also accept the value's name or any letter case (``mode=avg`` is
        Average); :meth:`text` gives the spelling the widget itself writes.

        >>> spec = LINK_PARAMS["kh"]
        >>> spec.parse("3"), spec.parse("3.0")
        (3, 3)
        >>> spec.parse("99999")
        Traceback (most recent call last):
        ValueError: is out of range (1–8)
        >>> LINK_PARAMS["mode"].parse("avg")
        'avg'
        """
        if not text.strip():
            raise ValueError("is empty")
        if self.kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError("is neither true nor false")
            return text.lower() == "true"
        if self.kind == "choice":
            names = {str(label).lower(): v for v, label in self.options.items()}
            names.update({str(v).lower(): v for v in self.options})
            if text.lower() not in names:
                raise ValueError("is not one of " + ", ".join(map(str, self.options.values())))
            return names[text.lower()]
        if self.kind == "matrix":
            return _link_matrix(text, int(self.hi))
        try:
            number = float(text)  # too many digits for an int still parse (as inf)
        except ValueError:
            raise ValueError("is not a number") from None
        if math.isnan(number):
            raise ValueError("is not a number")
        if not self.lo <= number <= self.hi:
            raise ValueError(f"is out of range ({self.text(self.lo)}–{self.text(self.hi)})")
        if self.kind == "int":
            if not number.is_integer():
                raise ValueError("is not a whole number")
            return int(number)
        return number

    def text(self, value) -> str:
        """``value`` as the widget writes it in the link (``Average``, ``true``, ``2.5``)."""
        if self.kind == "choice":
            return str(self.options[value])
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "int" or (isinstance(value, float) and value.is_integer()):
            return str(int(value))
        return repr(float(value))


_STARTUP_FROZEN = False


def freeze_startup_objects() -> None:
    """Take what exists once the app is imported out of the garbage collector's scans.

    Streamlit, Plotly, pandas and NumPy leave about 140,000 objects that live as long
    as the server. Without this, each of Python's full (generation 2) collections scans
    them all again: 40-100 ms on the project machine, several times a minute while a
    user works, and the control change it falls in takes that much longer. Called by
    ``app.py`` on every run; acts once per server process: collects first, then
    ``gc.freeze()``. Objects freed by their reference counts are freed as before; only
    reference cycles that exist at this moment (and become garbage later) are kept.
    """
    global _STARTUP_FROZEN
    if not _STARTUP_FROZEN:
        _STARTUP_FROZEN = True
        gc.collect()
        gc.freeze()


def _link_matrix(text: str, most: int):
    """The matrix a link's ``m`` holds, at most ``most`` × ``most`` (the grid's limit)."""
    from ui import lessons  # lessons imports this module

    if len(text) > most * most * 32:
        raise ValueError(f"is too long for a matrix of at most {most}×{most} numbers")
    try:
        m = lessons.parse_matrix(text, "The matrix")
    except ValueError as exc:  # the message quotes the link's text: shown as code
        raise ValueError(f"cannot be read: {code(str(exc), 80)}") from None
    if m.shape[0] > most or m.shape[1] > most:
        raise ValueError(f"is {m.shape[0]}×{m.shape[1]}; the grid holds at most {most}×{most}")
    return m


def _link_params() -> dict[str, LinkParam]:
    """Every value a link may carry: the sidebar's, and the pages' own (one key, one page).

    The pages' widgets must use the same ranges, options and defaults;
    tests/test_query_params.py checks every bound widget of every page against this table.
    """
    params = [
        LinkParam("fw", "Framework", "choice", DEFAULTS["fw"],
                  options={k: f.name for k, f in FRAMEWORKS.items()}),
        LinkParam("sq", "Same value for both axes", "bool", DEFAULTS["sq"]),
        LinkParam("glob", "Global pooling", "bool", DEFAULTS["glob"]),
        LinkParam("sk", "Stride = kernel size", "bool", DEFAULTS["sk"]),
        LinkParam("pad", "Padding", "choice", DEFAULTS["pad"], options=PAD_KINDS),
        LinkParam("mode", "Mode", "choice", DEFAULTS["mode"],
                  options={m: MODE_LABELS[m] for m in MODES}),
        LinkParam("p", "p (Lp norm)", "float", DEFAULTS["p"], 0.5, 16.0),
        LinkParam("seed", "Seed (stochastic)", "int", DEFAULTS["seed"], 0, 10_000),
        LinkParam("train", "Training (sample)", "bool", DEFAULTS["train"]),
        LinkParam("ceil", "ceil_mode", "bool", DEFAULTS["ceil"]),
        LinkParam("cip", "count_include_pad", "choice", DEFAULTS["cip"], options=CIP_CHOICES),
    ]
    for name, (h, w), lo, hi in (("Kernel size", ("kh", "kw"), 1, 8), ("Stride", ("sh", "sw"), 1, 8),
                                 ("Padding", ("ph", "pw"), 0, 4), ("Dilation", ("dh", "dw"), 1, 4)):
        params += [LinkParam(h, f"{name} H", "int", DEFAULTS[h], lo, hi),
                   LinkParam(w, f"{name} W", "int", DEFAULTS[w], lo, hi)]
    # the matrix playground (pages/playground.py)
    params += [
        LinkParam("src", "Input", "choice", "random",
                  options={"random": "Random", "preset": "Preset", "edit": "Edit the grid"}),
        LinkParam("in_preset", "Pattern", "choice", "Seed example (4×4)",
                  options={p: p for p in ("Seed example (4×4)", "Ramp", "Checkerboard",
                                          "One hot spot")}),
        LinkParam("rows", "Rows", "int", 6, 2, 32),
        LinkParam("cols", "Columns", "int", 6, 2, 32),
        LinkParam("rseed", "Seed", "int", 0, 0, 99_999),
        LinkParam("m", "Matrix", "matrix", None, hi=32),
    ]
    # the pages that call random_matrix_input (backprop: bp, pooling vs conv: pc)
    for prefix, most in (("bp", 12), ("pc", 16)):
        params += [LinkParam(f"{prefix}_rows", "Rows", "int", 6, 2, most),
                   LinkParam(f"{prefix}_cols", "Columns", "int", 6, 2, most),
                   LinkParam(f"{prefix}_seed", "Seed", "int", 0, 0, 99_999)]
    return {p.key: p for p in params}


LINK_PARAMS = _link_params()
SIDEBAR_KEYS = tuple(DEFAULTS)
LINK_NOTICE = ("**This link has settings Poolscope cannot use.** Each is listed with the value "
               "used instead; the link's other settings apply.")


def code(text: str, limit: int = 40, prefix: str = "") -> str:
    """``text`` as Markdown inline code, shown literally whatever it holds.

    Links, HTML, emphasis, ``$math$`` and ``:color[...]`` inside a code span are plain
    text. Control characters (a blank line would end the span) are escaped, the
    fence is longer than any run of backticks inside, and long text is cut (its
    length follows). ``prefix`` (our own text, e.g. ``"kh="``) goes inside the span.

    >>> code("<b>x</b>")
    '`<b>x</b>`'
    >>> code("a`b"), code("a\\n\\nb")
    ('``a`b``', '`a\\\\n\\\\nb`')
    >>> code("x" * 50, limit=4, prefix="kh=")
    '`kh=xxxx…` (50 characters)'
    """
    short = text if len(text) <= limit else text[:limit] + "…"
    if not short.isprintable():
        short = repr(short)[1:-1]
    fence = "`" * (max(map(len, re.findall("`+", short)), default=0) + 1)
    pad = " " if (prefix + short).startswith("`") or short.endswith("`") else ""
    more = f" ({len(text):,} characters)" if len(text) > limit else ""
    return f"{fence}{pad}{prefix}{short}{pad}{fence}{more}"


def _set_param(key: str, text: str | None) -> bool:
    """Replace (``text``) or drop (``None``) a value in the URL; False when Streamlit
    refuses because a widget is already bound to it (the widget then ignores the URL)."""
    try:
        if text is None:
            del st.query_params[key]
        else:
            st.query_params[key] = text
    except StreamlitAPIException:
        return False
    return True


def check_link() -> None:
    """Check every value the link carries before any widget reads it.

    Streamlit drops a bound widget's URL value it cannot use without a word, and
    takes some it should not (``rseed=3.5`` as 3, the last of repeated keys). Here a
    bad value is removed from the URL and listed in one warning (see
    :func:`link_notice`) naming the setting, its value (as inline code, never
    rendered) and the default used instead; other values of the link still apply.
    A good value spelled unusually (``mode=avg``, ``kh=3.0``) is rewritten the way
    the widget writes it. Then the script reruns once, so that the widgets read the
    cleaned URL.
    """
    ss = st.session_state
    problems, rerun = [], False
    for key, spec in LINK_PARAMS.items():
        values = st.query_params.get_all(key)
        if not values:
            continue
        try:
            if len(values) > 1:
                shown = ", ".join(code(v, 20) for v in values[:3]) + (", …" if values[3:] else "")
                raise ValueError(f"is given {len(values)} times ({shown}); a link holds one "
                                 f"value per setting")
            value = spec.parse(values[0])
        except ValueError as exc:
            what = code(key) if len(values) > 1 else code(values[0], prefix=f"{key}=")
            if spec.kind == "matrix":
                used = "the link's matrix is not used"
            elif key in ss:
                used = f"keeping {spec.text(ss[key])}"
            else:
                used = f"using the default {spec.text(spec.default)}"
            problems.append(f"- {spec.label}: {what} {exc}; {used}.")
            fixed = _set_param(key, None)
        else:
            if spec.kind == "matrix" or spec.text(value) == values[0]:
                continue
            fixed = _set_param(key, spec.text(value))
        rerun |= fixed and spec.kind != "matrix"
    if problems:
        ss["_link_notice"] = {"problems": problems, "values": None}
    if rerun:
        st.rerun()


def link_notice(slot) -> None:
    """Show the warning of :func:`check_link` in ``slot`` until a sidebar setting changes."""
    ss = st.session_state
    notice = ss.get("_link_notice")
    if not notice:
        return
    values = {key: ss.get(key) for key in SIDEBAR_KEYS}
    if notice["values"] is None:
        notice["values"] = values
    elif notice["values"] != values:
        del ss["_link_notice"]
        return
    slot.warning("\n".join([LINK_NOTICE, "", *notice["problems"]]), icon="⚠️")


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


_THROUGH_APP = "_through_app"  # set by sidebar() in every run of app.py
_NAV_RERUNS = "_nav_reruns"


def require_navigation() -> None:
    """Make sure a page runs inside ``app.py``'s navigation.

    Streamlit starts in its legacy mode when a ``pages/`` folder exists, and stays
    there until the entry script has called ``st.navigation``. A first visit on a
    fresh server straight to a page's URL would then run the page alone, without
    the sidebar. Switch to the navigation and rerun through ``app.py`` instead.

    Whether this run went through ``app.py`` is read per run (:func:`sidebar` leaves
    a mark that this pops), not from Streamlit's server-wide flag: when several first
    visits race on a fresh server, the flag is already switched for the later ones
    while their run still started in the legacy mode.
    """
    from streamlit.runtime.pages_manager import PagesManager

    ss = st.session_state
    if ss.pop(_THROUGH_APP, False):
        ss.pop(_NAV_RERUNS, None)
        return
    PagesManager.uses_pages_directory = False
    reruns = ss.get(_NAV_RERUNS, 0)
    if reruns < 3:  # never loop: after 3 runs in a row without app.py the page renders
        ss[_NAV_RERUNS] = reruns + 1
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


def _pair(label, key_h, key_w, help_text, disabled=False):
    """One slider (locked) or an H/W pair of sliders, in the range of :data:`LINK_PARAMS`."""
    lo, hi = LINK_PARAMS[key_h].lo, LINK_PARAMS[key_h].hi
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
    """Draw the shared controls; returns the error slots (``st.empty``) by name.

    First the link is checked (:func:`check_link`); its warning, if any, goes above
    the page.
    """
    slots = {}
    ss = st.session_state
    ss[_THROUGH_APP] = True  # this run goes through app.py (read by require_navigation)
    notice = st.empty()
    check_link()
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
        _pair("Kernel size", "kh", "kw", HELP["kh"], disabled=glob)
        slots["kernel"] = st.empty()
        if not st.checkbox("Stride = kernel size", DEFAULTS["sk"], help=HELP["sk"],
                           disabled=glob, **_bound("sk")):
            _pair("Stride", "sh", "sw", HELP["sh"], disabled=glob)
        slots["stride"] = st.empty()
        pad = st.radio("Padding", list(PAD_KINDS), format_func=PAD_KINDS.get, horizontal=True,
                       help=HELP["pad"], disabled=glob, **_bound("pad"))
        if pad == "number":
            _pair("Padding", "ph", "pw", HELP["ph"], disabled=glob)
        slots["padding"] = st.empty()
        _pair("Dilation", "dh", "dw", HELP["dh"], disabled=glob)
        slots["dilation"] = st.empty()
        mode = st.selectbox("Mode", MODES, format_func=MODE_LABELS.get, help=HELP["mode"],
                            **_bound("mode"))
        fw = FRAMEWORKS[_value("fw")]
        if mode not in fw.calls:
            st.caption(f"{fw.name} has no {MODE_LABELS[mode].lower()} pooling: Poolscope "
                       f"computes it on {fw.name}'s windows.")
        if mode == "lp":
            st.number_input("p (Lp norm)", LINK_PARAMS["p"].lo, LINK_PARAMS["p"].hi, DEFAULTS["p"],
                            step=0.5, help=HELP["p"], **_bound("p"))
        if mode == "stochastic":
            st.number_input("Seed", LINK_PARAMS["seed"].lo, LINK_PARAMS["seed"].hi,
                            DEFAULTS["seed"], help=HELP["seed"], **_bound("seed"))
            st.toggle("Training (sample)", DEFAULTS["train"], help=HELP["train"],
                      **_bound("train"))
        slots["mode"] = st.empty()
        st.checkbox("ceil_mode", DEFAULTS["ceil"], help=HELP["ceil"], disabled=glob,
                    **_bound("ceil"))
        if mode == "avg" and _padding_matters():  # lp always divides by the whole window
            st.radio("count_include_pad", list(CIP_CHOICES), format_func=CIP_CHOICES.get,
                     horizontal=True, help=HELP["cip"], **_bound("cip"))
        st.button("Reset", on_click=reset, help="All settings back to the defaults.",
                  width="stretch")
    ss["_slots"] = slots
    link_notice(notice)
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
