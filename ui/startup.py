"""How a run of the app starts: once per server process, and on every run.

``app.py`` calls :func:`freeze_startup_objects` (acts once per process) and
:func:`mark_app_run` (every run, before the page); each page calls
:func:`require_navigation` first, which sends a run that did not come through
``app.py`` back to its navigation.
"""
from __future__ import annotations

import gc

import streamlit as st


_STARTUP_FROZEN = False


def freeze_startup_objects() -> None:
    """Take what exists once the app is imported out of the garbage collector's scans.

    Streamlit, Plotly, pandas and NumPy leave a great many objects that live as long
    as the server. Without this, each of Python's full (generation 2) collections scans
    them all again, several times a minute while a user works, and the control change
    it falls in takes that much longer (docs/performance.md has the measurements).
    Called by ``app.py`` on every run; acts once per server process: collects first,
    then ``gc.freeze()``. Objects freed by their reference counts are freed as before;
    only reference cycles that exist at this moment (and become garbage later) are kept.
    """
    global _STARTUP_FROZEN
    if not _STARTUP_FROZEN:
        _STARTUP_FROZEN = True
        gc.collect()
        gc.freeze()


_THROUGH_APP = "_through_app"  # set by mark_app_run() in every run of app.py
_NAV_RERUNS = "_nav_reruns"


def mark_app_run() -> None:
    """Leave the mark that this run goes through ``app.py`` (:func:`require_navigation`
    pops it). ``app.py`` calls it on every run, after ``st.navigation``."""
    st.session_state[_THROUGH_APP] = True


def require_navigation() -> None:
    """Make sure a page runs inside ``app.py``'s navigation.

    Streamlit starts in its legacy mode when a ``pages/`` folder exists, and stays
    there until the entry script has called ``st.navigation``. A first visit on a
    fresh server straight to a page's URL would then run the page alone, without
    the sidebar. Switch to the navigation and rerun through ``app.py`` instead.

    Whether this run went through ``app.py`` is read per run (:func:`mark_app_run` leaves
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
