"""Shareable links: every value a URL's query string may carry, and how it is checked.

Every widget of the sidebar and of the pages' inputs is bound to a query parameter
(:func:`bound`), so a copied URL reopens the same view. A link is untrusted input:
:func:`check_link` reads every value it carries (:data:`LINK_PARAMS`, one
:class:`LinkParam` each) before any widget does, and a bad one falls back to its
default with one warning (:func:`link_notice`). :func:`code` quotes a link's text in
Markdown so that it is shown, never rendered.
"""
from __future__ import annotations

import math
import re
from urllib.parse import quote, urlencode
from dataclasses import dataclass, field

import streamlit as st
from streamlit.errors import StreamlitAPIException

from pooling_core import MODES
from pooling_core import network as nw
from pooling_core.calls import variant_frameworks
from pooling_core.conventions import FRAMEWORKS
from ui import zoo
from ui.parsing import parse_matrix
from ui.pool_settings import CIP_CHOICES, DEFAULTS, MODE_LABELS, PAD_KINDS


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
    #: the widget's range or options depend on the data (an image's size, the output's
    #: shape): ``lo..hi`` and ``options`` bound them, the widget shows a part
    dynamic: bool = False

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
        if self.kind == "numbers":
            if len(text) > self.hi:
                raise ValueError(f"is {len(text):,} characters long; at most {int(self.hi):,} "
                                 f"are taken")
            if not _NUMBERS_TEXT.fullmatch(text):
                raise ValueError("holds more than numbers and separators")
            return text
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
        if self.kind == "numbers":
            return str(value)
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "int" or (isinstance(value, float) and value.is_integer()):
            return str(int(value))
        return repr(float(value))


#: what a typed list of numbers (a signal, a kernel) may hold in a link
_NUMBERS_TEXT = re.compile(r"[0-9eE+\-./,; \t\r\n]+")


def _link_matrix(text: str, most: int):
    """The matrix a link's ``m`` holds, at most ``most`` × ``most`` (the grid's limit)."""
    if len(text) > most * most * 32:
        raise ValueError(f"is too long for a matrix of at most {most}×{most} numbers")
    try:
        m = parse_matrix(text, "The matrix")
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
    params += [
        LinkParam("anim_speed", "Speed", "choice", "1×", options={v: v for v in SPEEDS}),
        LinkParam("pg_tab", "Tab", "choice", "Frameworks side by side",
                  options={n: n for n in ("Frameworks side by side", "Code", "Export")}),
        LinkParam("diff_fw", "Show where the values differ from PyTorch", "choice", None,
                  options={f.name: f.name for f in FRAMEWORKS.values()}, dynamic=True),
    ]
    # the pages that call random_matrix_input (backprop: bp, pooling vs conv: pc)
    for prefix, most in (("bp", 12), ("pc", 16)):
        params += [LinkParam(f"{prefix}_rows", "Rows", "int", 6, 2, most),
                   LinkParam(f"{prefix}_cols", "Columns", "int", 6, 2, most),
                   LinkParam(f"{prefix}_seed", "Seed", "int", 0, 0, 99_999)]
    return {p.key: p for p in params + _page_params() + _zoo_params() + _network_params()}


SPEEDS = ("0.25×", "0.5×", "1×", "2×", "4×")  # the playground's animation speeds
MAX_TYPED = 24_576  # the longest typed signal or kernel a link carries (parsing.text_limit(512))


def _page_params() -> list[LinkParam]:
    """The other pages' own controls (image lab, backprop, pooling vs conv, 1-D/3-D)."""
    seed = lambda key, label="Seed": LinkParam(key, label, "int", 0, 0, 99_999)  # noqa: E731
    mode_options = {m: MODE_LABELS[m] for m in ("max", "avg", "min", "lp", "median", "stochastic")}
    return [
        # image lab (pages/image_lab.py)
        LinkParam("img_src", "Image", "choice", "sample",
                  options={"sample": "Sample image", "upload": "My upload"}),
        LinkParam("img_sample", "Sample", "choice", "Scene (generated)",
                  options={n: n for n in ("Scene (generated)", "Text", "Checkerboard",
                                          "Thin lines (max vs avg differ)")}, dynamic=True),
        LinkParam("img_gray", "Pool a grayscale version", "bool", False),
        LinkParam("img_times", "Pool this many times (pyramid)", "int", 1, 1, 5),
        LinkParam("img_zoom", "Zoom", "bool", False),
        LinkParam("img_compare", "Compare modes", "bool", False),
        LinkParam("img_roi", "ROI pool & ROI align", "bool", False),
        LinkParam("img_variants", "Variants on this image", "bool", False),
        LinkParam("zoom_size", "Region size (px)", "choice", 8, options={n: str(n) for n in (8, 12, 16)}),
        LinkParam("zoom_channel", "Values of", "choice", "Luminance", dynamic=True,
                  options={n: n for n in ("Luminance", "Gray", "Alpha", "Red", "Green", "Blue")}),
        LinkParam("zoom_top", "Region top row", "int", 0, 0, 65_535, dynamic=True),
        LinkParam("zoom_left", "Region left column", "int", 0, 0, 65_535, dynamic=True),
        LinkParam("cmp_a", "Difference between", "choice", "max", options=mode_options,
                  dynamic=True),
        LinkParam("cmp_b", "and", "choice", "avg", options=mode_options, dynamic=True),
        # backprop (pages/backprop.py)
        LinkParam("bp_grad", "Upstream gradient", "choice", "ones",
                  options={"ones": "All ones", "random": "Random", "hot": "One hot cell"}),
        seed("bp_gseed", "Gradient seed"),
        LinkParam("bp_hot_r", "Output row", "int", 0, 0, 11, dynamic=True),
        LinkParam("bp_hot_c", "Output col", "int", 0, 0, 11, dynamic=True),
        LinkParam("bp_check_on", "Check on", "choice", "jitter",
                  options={"jitter": "x + a tiny jitter (breaks ties)", "raw": "x itself"}),
        # pooling vs strided convolution (pages/pool_vs_conv.py)
        LinkParam("pc_kernel", "Convolution kernel", "choice", "avg",
                  options={"avg": "Averaging", "edge": "Edge filter", "random": "Random",
                           "typed": "Type it in"}),
        seed("pc_kseed", "Kernel seed"),
        LinkParam("pc_text", "Kernel", "numbers", None, hi=MAX_TYPED, dynamic=True),
        LinkParam("pc_H", "H", "int", 112, 1, 4096),
        LinkParam("pc_W", "W", "int", 112, 1, 4096),
        LinkParam("pc_C", "Channels C", "int", 64, 1, 4096),
        LinkParam("pc_diff", "Difference", "choice", "conv-max",
                  options={"conv-max": "conv − max pool", "conv-avg": "conv − avg pool",
                           "max-avg": "max pool − avg pool"}),
        # 1-D, 3-D and adaptive (pages/dims.py)
        LinkParam("dims_tab", "Tab", "choice", "1-D signal",
                  options={n: n for n in ("1-D signal", "3-D volume", "Adaptive & global")}),
        LinkParam("d1_kind", "Signal", "choice", "sine",
                  options={"sine": "Sine + noise", "steps": "Steps", "paste": "Paste numbers"}),
        LinkParam("d1_text", "Numbers", "numbers", "1, 3, 2, 5, 4, 4, 0, 2, 7, 1, 3, 6",
                  hi=MAX_TYPED),
        LinkParam("d1_len", "Length", "int", 24, 4, 64),
        seed("d1_seed"),
        *(LinkParam(k, label, "int", 8, 2, 12)
          for k, label in (("d3_d", "Depth D"), ("d3_h", "Height H"), ("d3_w", "Width W"))),
        seed("d3_seed"),
        LinkParam("d3_view", "View", "choice", "slices",
                  options={"slices": "Slices side by side", "points": "3-D points"}),
        *(LinkParam(k, label, "int", 0, 0, 11, dynamic=True)
          for k, label in (("d3_vk", "Output slice"), ("d3_vi", "Output row"),
                           ("d3_vj", "Output col"))),
        LinkParam("ad_h", "Input H", "int", 7, 1, 16),
        LinkParam("ad_w", "Input W", "int", 7, 1, 16),
        LinkParam("ad_oh", "Output H", "int", 3, 1, 8),
        LinkParam("ad_ow", "Output W", "int", 3, 1, 8),
        LinkParam("ad_global", "Global pooling (1×1)", "bool", False),
        seed("ad_seed"),
    ]


def _zoo_params() -> list[LinkParam]:
    """The pooling zoo's own controls (pages/zoo.py); each picked cell's row and column
    (``zoo_<tab>_row``, ``_column``) runs up to the largest output, 16 × 16."""
    def int_(key, label, default, lo, hi, **kw):
        return LinkParam(key, label, "int", default, lo, hi, **kw)

    names = {"Poolscope", *(f.name for f in FRAMEWORKS.values()),
             *(name for names in variant_frameworks().values() for name in names)}
    return [
        LinkParam("zoo_tab", "Tab", "choice", zoo.TABS[0], options={n: n for n in zoo.TABS}),
        LinkParam("zoo_input", "Input", "choice", "random",
                  options={**zoo.INPUTS, "typed": "Type numbers"}),
        int_("zoo_rows", "Rows", 8, 4, 12), int_("zoo_cols", "Columns", 8, 4, 12),
        int_("zoo_seed", "Seed", 0, 0, 99_999),
        LinkParam("zoo_text", "Numbers", "numbers", zoo.TYPED_EXAMPLE, hi=MAX_TYPED),
        int_("zoo_kernel", "Kernel", 2, 1, 4), int_("zoo_stride", "Stride", 2, 1, 4),
        int_("zoo_filter", "Blur filter size", 3, 1, 7),
        LinkParam("zoo_levels", "Pyramid levels", "numbers", "1, 2, 4", hi=40),
        LinkParam("zoo_p_inf", "GeM p = ∞", "bool", False),
        LinkParam("zoo_p", "GeM p", "float", 3.0, 1.0, 16.0),
        LinkParam("zoo_alpha", "Mixed α", "float", 0.5, 0.0, 1.0),
        LinkParam("zoo_ratio", "Fractional output ratio", "float", 0.7, 0.3, 0.95),
        int_("zoo_frac_seed", "Fractional seed", 0, 0, 99_999),
        *(int_(f"zoo_{tab}_{axis}", f"{name}: output {axis}", 0, 0, 15, dynamic=True)
          for tab, name in (("frac", "Fractional max"), ("gem", "GeM"), ("mixed", "Mixed"),
                            ("soft", "SoftPool")) for axis in ("row", "column")),
        LinkParam("zoo_shift_input", "Pattern", "choice", "random", options=dict(zoo.INPUTS)),
        LinkParam("zoo_shift_dir", "Direction", "choice", "right",
                  options={d: d for d in zoo.DIRECTIONS}),
        int_("zoo_shift", "Shift (px)", 0, 0, max(zoo.SHIFTS)),
        int_("zoo_shift_filter", "Filter size", 3, 1, 7),
        int_("zoo_shift_row", "Output row shown per shift", 2, 0, zoo.SHIFT_VIEW[0] // 2 - 1),
        LinkParam("zoo_code_mode", "Mode", "choice", "max",
                  options={m: label for m, (label, _) in zoo.MODES.items()}),
        LinkParam("zoo_code_fw", "Framework", "choice", None, options={n: n for n in sorted(names)},
                  dynamic=True),
    ]


TEST_DIGITS = 359  # nw.digits().y_test's length (read at import, it would load the digits)


def _network_params() -> list[LinkParam]:
    """The network page's controls (pages/network.py): the run (its choice, seed and epochs)
    and the view inside it; the session's table of runs is not in the link."""
    return [
        LinkParam("nn_choice", "Downsampling layer", "choice", "max", options=nw.DOWNSAMPLING),
        LinkParam("nn_seed", "Seed", "int", 0, 0, 99_999),
        LinkParam("nn_epochs", "Epochs", "int", nw.EPOCHS, 1, 20),
        LinkParam("nn_more", "More seeds", "int", 3, 1, 5),
        LinkParam("nn_digit", "Test digit", "int", 0, 0, TEST_DIGITS - 1),
        LinkParam("nn_shift", "Shift it by one pixel", "choice", "none",
                  options={s: s for s in ("none", "up", "down", "left", "right")}),
        LinkParam("nn_channel", "Channel of conv 1 + ReLU", "int", 0, 0, 7),
    ]


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


def bound(key: str) -> dict:
    """Keyword arguments that bind a widget to the URL with the project default.

    The widget's own default must be the project's default: ``bind`` leaves a
    parameter out of the URL when the value equals the widget's default.
    """
    return dict(key=key, bind="query-params")


def share_url() -> str:
    """This view's link: the app's address in the browser and every value of the query
    string, as the page's widgets and the playground's matrix left it this run.

    Without a browser (AppTest), the address is the local server's.
    """
    base = st.context.url or "http://127.0.0.1:8501"
    pairs = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    return base + ("?" + urlencode(pairs, quote_via=quote) if pairs else "")


def linked(key: str, default):
    """The value the page's link gives ``key`` (checked by :func:`check_link`), else
    ``default``: for a page that sets a bound widget's state itself before drawing it
    (a clamp to the data's size), which would otherwise hide the link's value."""
    text = st.query_params.get(key)
    if text is None:
        return default
    try:
        return LINK_PARAMS[key].parse(text)
    except ValueError:
        return default


def clamp_state(key: str, hi: int, default: int) -> None:
    """Give a bound widget whose range follows the data (an output cell's row) the link's
    value or ``default`` once, and pull it back inside ``0..hi`` when the bound shrinks
    (e.g. the output gets smaller after a settings change)."""
    ss = st.session_state
    if key not in ss:
        ss[key] = min(linked(key, default), hi)
    elif ss[key] > hi:
        ss[key] = hi


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
            elif spec.default is None:
                used = "using the page's own default"
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
