"""Load settings from code: paste a framework's pooling call, the sidebar takes its settings.

:func:`code_loader` draws an expander at the foot of the sidebar (``app.py`` calls it on
every page). Its text box reads one call (:func:`pooling_core.codeparse.parse_pool_code`,
never run); Load writes the settings it stands for into ``st.session_state`` under the
sidebar's keys (:func:`sidebar_values`), so every page and the link follow. A call the
sidebar cannot hold (an unknown argument, a value past a slider's range, adaptive pooling)
gets a message naming it, and nothing changes.
"""
from __future__ import annotations

import streamlit as st

from pooling_core.codeparse import ParsedPool, parse_pool_code
from pooling_core.conventions import FRAMEWORKS
from ui.links import LINK_PARAMS
from ui.pool_settings import DEFAULTS, MODE_LABELS, PAD_KINDS

EXAMPLE = "nn.MaxPool2d(3, 2, 1, ceil_mode=True)"
HELP = ("One pooling call: PyTorch (nn.MaxPool2d, F.avg_pool2d, nn.AdaptiveAvgPool2d, …), "
        "TensorFlow (tf.nn.max_pool2d, tf.nn.pool), Keras (layers.MaxPooling2D, …), ONNX "
        "(onnx.helper.make_node(\"MaxPool\", …)), scikit-image block_reduce, a Caffe "
        "pooling_param { … } or a MATLAB maxPooling2dLayer(…). The code is read, never run; "
        "the Code tab of the playground writes calls this box reads back.")
#: the adaptive section of the 1-D, 3-D & adaptive page (pages/dims.py): its output size
ADAPTIVE_KEYS = ("ad_oh", "ad_ow")
ADAPTIVE_MAX = 8


def _in_range(key: str, value, what: str) -> None:
    spec = LINK_PARAMS[key]
    if not spec.lo <= value <= spec.hi:
        raise ValueError(f"{what}={value} is outside the sidebar's range "
                         f"({spec.text(spec.lo)}–{spec.text(spec.hi)}); nothing was loaded")


def sidebar_values(parsed: ParsedPool, current_fw: str = DEFAULTS["fw"]) -> dict:
    """The sidebar's session-state values for ``parsed`` (keys of :data:`DEFAULTS`).

    Raises ``ValueError`` naming a value past a slider's range. The ONNX code is
    the same for ONNX and ONNX Runtime: the current choice of the two is kept.

    >>> v = sidebar_values(parse_pool_code("nn.MaxPool2d(3, 2, 1, ceil_mode=True)"))
    >>> v["kh"], v["sk"], v["sh"], v["pad"], v["ph"], v["ceil"], v["sq"]
    (3, False, 2, 'number', 1, True, True)
    """
    fw = parsed.framework
    if fw == "onnx" and current_fw == "onnxruntime":
        fw = "onnxruntime"
    values = {k: v for k, v in DEFAULTS.items() if k not in ("seed", "train")}  # not in code
    values.update(fw=fw, mode=parsed.mode, glob=parsed.global_pool)
    if parsed.p is not None:
        _in_range("p", parsed.p, "p")
        values["p"] = parsed.p
    if parsed.count_include_pad is not None:
        values["cip"] = "true" if parsed.count_include_pad else "false"
    if parsed.global_pool:
        return values
    (kh, kw), (sh, sw), (dh, dw) = parsed.kernel, parsed.stride, parsed.dilation
    for key, value, what in (("kh", kh, "kernel H"), ("kw", kw, "kernel W"),
                             ("sh", sh, "stride H"), ("sw", sw, "stride W"),
                             ("dh", dh, "dilation H"), ("dw", dw, "dilation W")):
        _in_range(key, value, what)
    values.update(kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw, sk=parsed.stride == parsed.kernel,
                  ceil=parsed.ceil_mode)
    pairs = [(kh, kw), (sh, sw), (dh, dw)]
    if isinstance(parsed.padding, str):
        values["pad"] = parsed.padding
    else:
        ph, pw = parsed.padding
        _in_range("ph", ph, "padding H")
        _in_range("pw", pw, "padding W")
        values.update(pad="number", ph=ph, pw=pw)
        pairs.append((ph, pw))
    values["sq"] = all(a == b for a, b in pairs)
    return values


def describe(parsed: ParsedPool) -> str:
    """One line saying what was loaded: ``PyTorch max, kernel 3×3, stride 2×2, …``."""
    head = f"{FRAMEWORKS[parsed.framework].name} {MODE_LABELS[parsed.mode].lower()}"
    if parsed.output_size is not None and not parsed.global_pool:
        return f"{head}, adaptive to {parsed.output_size[0]}×{parsed.output_size[1]}"
    if parsed.global_pool:
        return f"{head}, global (one window over the whole input)"
    pair = lambda v: f"{v[0]}×{v[1]}"  # noqa: E731
    pad = PAD_KINDS[parsed.padding] if isinstance(parsed.padding, str) else pair(parsed.padding)
    text = f"{head}, kernel {pair(parsed.kernel)}, stride {pair(parsed.stride)}, padding {pad}"
    if parsed.dilation != (1, 1):
        text += f", dilation {pair(parsed.dilation)}"
    if parsed.ceil_mode:
        text += ", ceil_mode"
    if parsed.count_include_pad is not None:
        text += f", count_include_pad={parsed.count_include_pad}"
    return text


def load(text: str) -> tuple[str, str]:
    """Parse ``text`` and write its settings to the session: ``(kind, message)`` with kind
    ``"success"``, ``"adaptive"`` (written to the adaptive section) or ``"error"``."""
    ss = st.session_state
    try:
        parsed = parse_pool_code(text)
        if parsed.output_size is not None and not parsed.global_pool:
            size = parsed.output_size
            if None in size or max(size) > ADAPTIVE_MAX:
                raise ValueError(f"output_size={size}: the adaptive section takes 1–"
                                 f"{ADAPTIVE_MAX} per axis (None, keep the axis, is not "
                                 f"one of its settings)")
            ss.update(dict(zip(ADAPTIVE_KEYS, size)), ad_global=False)
            ss["mode"] = parsed.mode
            return "adaptive", (f"Loaded {describe(parsed)} into the adaptive section of the "
                                f"1-D, 3-D & adaptive page (the sidebar has no adaptive "
                                f"pooling).")
        values = sidebar_values(parsed, ss.get("fw", DEFAULTS["fw"]))
    except ValueError as exc:
        return "error", f"Could not load this code: {exc}."
    ss.update(values)
    ss["preset"] = None
    notes = "".join(f"  \n{note[0].upper()}{note[1:]}." for note in parsed.notes)
    return "success", f"Loaded {describe(parsed)}.{notes}"


def _on_load() -> None:
    ss = st.session_state
    ss["_code_message"] = load(ss.get("code_in", ""))


def code_loader() -> None:
    """The "Load settings from code" expander of the sidebar."""
    ss = st.session_state
    message = ss.get("_code_message")
    with st.sidebar.expander("Load settings from code", expanded=message is not None,
                             icon=":material/code:"):
        st.text_area("A framework's pooling call", key="code_in", height=90,
                     placeholder=EXAMPLE, help=HELP)
        st.button("Load", key="code_load", on_click=_on_load, width="stretch",
                  help="Set the sidebar to this call's settings.")
        if message is None:
            return
        kind, text = message
        if kind == "error":
            st.error(text, icon="⚠️")
        else:
            st.success(text, icon="✅")
            if kind == "adaptive":
                st.page_link("pages/dims.py", label="Open the adaptive section",
                             icon=":material/view_in_ar:")
