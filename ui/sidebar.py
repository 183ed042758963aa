"""The shared sidebar: the pooling controls every page uses, their presets and Reset.

:func:`sidebar` (called by ``app.py`` on every run) first checks the link
(:func:`ui.links.check_link`), then draws the controls, each bound to the URL with the
project's default (:data:`ui.pool_settings.DEFAULTS`) and the range of
:data:`ui.links.LINK_PARAMS`, and returns the error slots :func:`ui.pool_settings.guard`
writes to.
"""
from __future__ import annotations

import streamlit as st

from pooling_core import MODES
from pooling_core.conventions import FRAMEWORKS
from ui.links import LINK_PARAMS, bound, check_link, link_notice, share_url
from ui.pool_settings import (CIP_CHOICES, DEFAULTS, HELP, MODE_LABELS, PAD_KINDS, PRESETS,
                              SEED_INPUT, SEED_PRESET, current, setting)


def apply_preset() -> None:
    """Callback of the preset select: reset, then apply the preset's values."""
    name = st.session_state.get("preset")
    if not name:
        return
    for key, value in {**DEFAULTS, **PRESETS[name]}.items():
        st.session_state[key] = value
    st.session_state["_custom"] = False
    if name == SEED_PRESET:
        st.session_state["input_request"] = "seed"  # the playground shows the seed matrix


def _preset_left() -> bool:
    """True when the settings are no longer a preset's (or the defaults): the Preset box
    then shows "Custom" instead of a name the settings no longer match."""
    ss = st.session_state
    now = current()
    name = ss.get("preset")
    if name:
        left = now != current({**DEFAULTS, **PRESETS[name]})
        if name == SEED_PRESET and "src" in ss and "input_request" not in ss:  # the playground's input left the seed matrix
            left |= ss.get("src") != "preset" or ss.get("in_preset") != SEED_INPUT
        if left:
            ss["preset"], ss["_custom"] = None, True
        return left
    return ss.get("_custom", False) or now != current(DEFAULTS)


def reset() -> None:
    """Callback of the Reset button: every setting back to its default."""
    for key, value in DEFAULTS.items():
        st.session_state[key] = value
    st.session_state["preset"], st.session_state["_custom"] = None, False
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
                  on_change=_mirror_axes, **bound(key_h))
    else:
        col_h, col_w = st.columns(2)
        col_h.slider(f"{label} H", lo, hi, DEFAULTS[key_h], help=help_text, disabled=disabled,
                     **bound(key_h))
        col_w.slider(f"{label} W", lo, hi, DEFAULTS[key_w], help=help_text, disabled=disabled,
                     **bound(key_w))


def sidebar() -> dict:
    """Draw the shared controls; returns the error slots (``st.empty``) by name.

    First the link is checked (:func:`check_link`); its warning, if any, goes above
    the page.
    """
    slots = {}
    ss = st.session_state
    ss.pop("_refused", None)  # set again by pool_settings.guard if this run refuses a setting
    notice = st.empty()
    check_link()
    custom = _preset_left()
    with st.sidebar:
        st.selectbox("Preset", list(PRESETS), key="preset", index=None,
                     placeholder="Custom" if custom else "Choose a preset…",
                     on_change=apply_preset,
                     help="Classic settings from well-known networks and frameworks.")
        st.selectbox("Framework", list(FRAMEWORKS), help=HELP["fw"],
                     format_func=lambda k: FRAMEWORKS[k].name, **bound("fw"))
        slots["fw"] = st.empty()
        st.toggle("Same value for both axes", DEFAULTS["sq"], help=HELP["sq"],
                  on_change=_mirror_axes, **bound("sq"))
        glob = st.toggle("Global pooling (whole input)", DEFAULTS["glob"], help=HELP["glob"],
                         **bound("glob"))
        _pair("Kernel size", "kh", "kw", HELP["kh"], disabled=glob)
        slots["kernel"] = st.empty()
        tied = st.checkbox("Stride = kernel size", DEFAULTS["sk"], help=HELP["sk"],
                           disabled=glob, **bound("sk"))
        if tied:  # the stride sliders show the stride in force, and start from it when unticked
            ss["sh"], ss["sw"] = current().kernel
        _pair("Stride", "sh", "sw", HELP["sh"], disabled=glob or tied)
        slots["stride"] = st.empty()
        pad = st.radio("Padding", list(PAD_KINDS), format_func=PAD_KINDS.get, horizontal=True,
                       help=HELP["pad"], disabled=glob, **bound("pad"))
        if pad == "number":
            _pair("Padding", "ph", "pw", HELP["ph"], disabled=glob)
        slots["padding"] = st.empty()
        _pair("Dilation", "dh", "dw", HELP["dh"], disabled=glob)
        slots["dilation"] = st.empty()
        mode = st.selectbox("Mode", MODES, format_func=MODE_LABELS.get, help=HELP["mode"],
                            **bound("mode"))
        fw = FRAMEWORKS[setting("fw")]
        if mode not in fw.calls:
            st.caption(f"{fw.name} has no {MODE_LABELS[mode].lower()} pooling: Poolscope "
                       f"computes it on {fw.name}'s windows.")
        if mode == "lp":
            st.number_input("p (Lp norm)", LINK_PARAMS["p"].lo, LINK_PARAMS["p"].hi, DEFAULTS["p"],
                            step=0.5, help=HELP["p"], **bound("p"))
        if mode == "stochastic":
            st.number_input("Seed", LINK_PARAMS["seed"].lo, LINK_PARAMS["seed"].hi,
                            DEFAULTS["seed"], help=HELP["seed"], **bound("seed"))
            st.toggle("Training (sample)", DEFAULTS["train"], help=HELP["train"],
                      **bound("train"))
        slots["mode"] = st.empty()
        st.checkbox("ceil_mode", DEFAULTS["ceil"], help=HELP["ceil"], disabled=glob,
                    **bound("ceil"))
        if mode == "avg" and _padding_matters():  # lp always divides by the whole window
            st.radio("count_include_pad", list(CIP_CHOICES), format_func=CIP_CHOICES.get,
                     horizontal=True, help=HELP["cip"], **bound("cip"))
        st.button("Reset", on_click=reset, help="All settings back to the defaults.",
                  width="stretch")
        ss["_share_slot"] = st.empty()  # filled by share_link() once the page has run
    ss["_slots"] = slots
    link_notice(notice)
    return slots


def share_link() -> None:
    """The sidebar's "Copy link" button: this view's link, every control on screen in it
    (call after the page has run, so that the page's own values are in the link).

    Streamlit has no clipboard call: the link is shown in a code box whose copy icon
    copies it (in a secure context: localhost or HTTPS), and it can be selected by hand.
    """
    slot = st.session_state.get("_share_slot")
    if slot is None:
        return
    with slot.container():
        with st.popover("Copy link", icon=":material/link:", width="stretch",
                        help="A link that reopens this page with every setting as it is now."):
            st.caption("This view's link. Copy it with the icon at the box's top right, or "
                       "select it and press Ctrl+C.")
            st.code(share_url(), language=None, wrap_lines=True)


def _padding_matters() -> bool:
    return bool(setting("ceil") or setting("pad") != "number" or setting("ph") or setting("pw"))
