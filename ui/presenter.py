"""Presenter mode: Poolscope on a projector, driven from the keyboard.

Turned on by the sidebar's toggle or the link flag ``?present=1`` (:func:`requested`,
read by ``app.py`` before ``st.set_page_config`` so the sidebar starts collapsed). Then
:func:`setup` enlarges the text, :func:`figure` the figures' fonts and cells, and
:func:`frame` draws the step bar above the playground's animation: ◀ Step, ▶ Play /
❚❚ Pause and Step ▶, which move the animation on the server (Play advances one step per
frame until the last). The keys click those buttons: ← and → step (on the lesson page:
Back and Next), space plays or pauses, N asks the next question of the quiz panel.

:func:`bind_keys` installs the key handler (:data:`KEYS_JS`, a dozen lines in a zero-size
``st.iframe``). The maintained ``streamlit-shortcuts`` 1.2.2 was tried first and does not
fit: its listener lives in its iframe, so once Streamlit replaces that iframe (another
page, another lesson step) the keys stop for good (a flag keeps it from binding again),
and it takes the keys even while one types in a text box (``n`` in "nn.MaxPool2d").
The handler here lives in the app's window, not in its iframe, so it outlives every
iframe; each load tells it the page's targets. It leaves keys typed into inputs alone and
clicks the first of its targets on screen; with presenter mode off it has none.
"""
from __future__ import annotations

import json

import streamlit as st

from ui.figures import AnimatedFigure, scale_controls
from ui.quiz_lesson import STEPS

KEY = "present"
FLAG_VALUES = ("1", "true", "on", "yes")
KEYS = {"prev": "ArrowLeft", "next": "ArrowRight", "play": " ", "question": "n"}
KEY_NAMES = {"prev": "←", "next": "→", "play": "space", "question": "N"}
#: the elements each key clicks, per page (``url_path``); pages not listed use the
#: playground's step bar for ← → space and their quiz panel's New question for N
PAGE_TARGETS = {"lesson": {"prev": "lesson_back_top", "next": "lesson_next_top"}}
QUIZ_PAGES = ("playground", "backprop", "dims", "lesson")
HELP = ("For a projector: large text and cells, the sidebar folded away, and the keyboard: "
        "← / → step the animation (the lesson: Back / Next), space plays or pauses, N asks "
        "the next question. The link flag ?present=1 opens a page this way.")
FONT_SIZE, TITLE_SIZE, SCALE = 20, 24, 1.5

CSS = """<style>
[data-testid="stMain"] .block-container {max-width: 100%; padding: 1.5rem 2.5rem;}
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li,
[data-testid="stMain"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] [data-testid="stWidgetLabel"] p,
[data-testid="stMain"] button p {font-size: 1.5rem; line-height: 1.45;}
[data-testid="stMain"] h1 {font-size: 3.2rem;}
[data-testid="stMain"] h2, [data-testid="stMain"] h3 {font-size: 2.3rem;}
[data-testid="stMain"] code {font-size: 1.25rem;}
</style>"""


def requested() -> bool:
    """Whether presenter mode is on; the first run of a session reads the link's flag."""
    ss = st.session_state
    if KEY not in ss:
        ss[KEY] = st.query_params.get(KEY, "").lower() in FLAG_VALUES
    return bool(ss[KEY])


def sidebar_state() -> str:
    """``st.set_page_config``'s ``initial_sidebar_state``: folded in presenter mode."""
    return "collapsed" if requested() else "auto"


def _sync_link() -> None:
    """The toggle writes the flag into the link (a shared link opens the same way)."""
    if st.session_state.get(KEY):
        st.query_params[KEY] = "1"
    elif KEY in st.query_params:
        del st.query_params[KEY]


def _leave() -> None:
    st.session_state[KEY] = False
    _sync_link()


def setup(page: str) -> bool:
    """Each run, before the page: the toggle, and in presenter mode the large-text style
    and the keys for ``page`` (its ``url_path``). Returns whether presenter mode is on."""
    on = requested()
    if on and st.query_params.get(KEY) != "1":
        st.query_params[KEY] = "1"
    st.sidebar.toggle("Presenter mode", key=KEY, on_change=_sync_link, help=HELP)
    st.session_state["_present_page"] = page
    if on:
        st.markdown(CSS, unsafe_allow_html=True)
    bind_keys(page, on)
    return on


def targets(page: str, on: bool = True, step: int | None = None) -> dict[str, list[str]]:
    """``{key: [element keys]}``: the buttons each key clicks on ``page`` (the first on
    screen and enabled), none when presenter mode is off. ``step``: the lesson's step,
    whose quiz panel N asks the next question of."""
    if not on:
        return {}
    clicks = {action: [f"present_{action}"] for action in ("prev", "next", "play")}
    for action, element in PAGE_TARGETS.get(page, {}).items():
        clicks[action] = [element]
    if page in QUIZ_PAGES:
        clicks["question"] = [_quiz_key(page, step)]
    return {KEYS[action]: elements for action, elements in clicks.items()}


def _quiz_key(page: str, step: int | None = None) -> str:
    """The key of the quiz panel's New question button (ui/quiz.py) on ``page``."""
    return f"quiz_new_lesson{step or 1}" if page == "lesson" else f"quiz_new_{page}"


def lesson_step() -> int | None:
    """The lesson's step in the link (pages/lesson.py), if it is a number."""
    raw = st.query_params.get("step", "1")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= len(STEPS) else None


#: the key handler, made and bound by a function of the app's own window (``app.Function``):
#: a listener this iframe binds stops with it once Streamlit removes the iframe (the
#: browser skips a listener whose binder has gone), before the next one has run. Bound
#: once; each load only writes what the keys click now (``%s``: the targets' JSON; none
#: once presenter mode is off). A key typed into a text box, a select or a slider stays
#: there.
KEYS_JS = """<script>
const app = window.parent;
app.__poolscopeTargets = %s;  // what the keys click now (read by the browser tests too)
if (!app.__poolscopeKeys) new app.Function(`
  window.__poolscopeKeys = (e) => {
    const t = e.target, targets = window.__poolscopeTargets || {};
    if (e.ctrlKey || e.altKey || e.metaKey || e.repeat) return;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    for (const key of targets[e.key.length === 1 ? e.key.toLowerCase() : e.key] || []) {
      const el = document.querySelector(".st-key-" + key + " button");
      if (el && !el.disabled) {
        e.preventDefault();  // no scrolling, no click of a focused button as well
        if (document.activeElement) document.activeElement.blur();
        el.click();
        return;
      }
    }
  };
  document.addEventListener("keydown", window.__poolscopeKeys);`)();
</script>"""


def bind_keys(page: str, on: bool) -> None:
    """Give the keys the targets of ``page`` (in presenter mode), or none once it is left."""
    ss = st.session_state
    if not (on or ss.get("_present_bound")):
        return
    ss["_present_bound"] = on
    found = targets(page, on, lesson_step() if page == "lesson" else None)
    st.iframe(KEYS_JS % json.dumps(found), width=1, height=1)


def on() -> bool:
    """Whether presenter mode is on (after :func:`requested` ran this session)."""
    return bool(st.session_state.get(KEY))


def figure(fig):
    """``fig`` for a projector: larger fonts and cells (a copy; ``fig`` itself, possibly a
    cached figure other sessions share, is left as it was). Unchanged when the mode is off."""
    if not on():
        return fig
    big = AnimatedFigure(fig) if isinstance(fig, AnimatedFigure) else type(fig)(fig)
    height = big.layout.height or 450
    big.update_layout(font_size=FONT_SIZE, title_font_size=TITLE_SIZE,
                      height=round(height * SCALE))
    big.update_annotations(font_size=TITLE_SIZE - 2)
    big.update_traces(textfont_size=TITLE_SIZE - 2, selector=dict(name="caption"))  # its caption
    return scale_controls(big, SCALE)  # Play, Pause and the slider below the larger labels


# ----------------------------------------------------------------------------- step bar


def _step(delta: int) -> None:
    ss = st.session_state
    n = ss.get("_present_n", 1)
    ss["present_frame"] = min(max(ss.get("present_frame", 0) + delta, 0), n - 1)
    ss["present_playing"] = False


def _play() -> None:
    ss = st.session_state
    playing = not ss.get("present_playing", False)
    if playing and ss.get("present_frame", 0) >= ss.get("_present_n", 1) - 1:
        ss["present_frame"] = 0  # from the start again, as the figure's own Play
    ss["present_playing"] = playing


def _tick() -> None:
    """While playing: one step on, then the whole page redraws on that step."""
    ss = st.session_state
    if ss.pop("_present_page_run", False) or not ss.get("present_playing"):
        return  # the page's own run draws this step; the timer's runs move on
    t = ss.get("present_frame", 0) + 1
    n = ss.get("_present_n", 1)
    ss["present_frame"] = min(t, n - 1)
    if t >= n - 1:
        ss["present_playing"] = False
    st.rerun(scope="app")


def frame(start: int, n: int, frame_ms: int) -> int:
    """The animation's step to show: ``start`` (a clicked cell's), or in presenter mode the
    step bar's, which it draws. ``n``: the animation's number of steps."""
    ss = st.session_state
    if not on() or n <= 0:
        return start
    if ss.get("_present_start") != (start, n):  # a click or a new animation moves it
        ss["_present_start"] = (start, n)
        ss["present_frame"] = start
    t = min(max(int(ss.get("present_frame", start)), 0), n - 1)
    ss.update(present_frame=t, _present_n=n)
    playing = ss.get("present_playing", False)
    cols = st.columns([1, 1, 1, 4, 1], vertical_alignment="center")
    cols[0].button("◀ Step", key="present_prev", on_click=_step, args=(-1,),
                   disabled=t == 0, help="One step back (key ←).", width="stretch")
    cols[1].button("❚❚ Pause" if playing else "▶ Play", key="present_play", on_click=_play,
                   help="Play or pause the steps (key space).", width="stretch")
    cols[2].button("Step ▶", key="present_next", on_click=_step, args=(1,),
                   disabled=t == n - 1, help="One step on (key →).", width="stretch")
    cols[3].markdown(f"**Step {t + 1} of {n}** · keys ← → space")
    cols[4].button("Exit", key="present_exit", on_click=_leave, width="stretch",
                   help="Leave presenter mode (also the sidebar's toggle).")
    if playing:
        ss["_present_page_run"] = True
        st.fragment(_tick, run_every=frame_ms / 1000)()
    return t
