"""Lesson: pooling in 10 steps. Each step: a few sentences, a prediction question, then the
live figure. The step is in the link (``?step=5``), so a teacher can send one."""
from __future__ import annotations

import streamlit as st

from ui import export, links, presenter, quiz, startup
from ui.quiz_lesson import STEPS, step_figures
from ui.quiz_model import describe

LAST = len(STEPS)


def current_step() -> int:
    """The step of the link (1 to 10); a bad value gives a message and step 1."""
    raw = st.query_params.get("step")
    if raw is None:
        return 1
    try:
        step = int(raw)
        if not 1 <= step <= LAST:
            raise ValueError
    except ValueError:
        st.warning(f"The link asks for step {links.code(raw, 20)}, but the lesson has steps "
                   f"1 to {LAST}: showing step 1. Use ?step=1 … ?step={LAST}.", icon="⚠️")
        st.query_params["step"] = "1"
        return 1
    return step


def go(step: int) -> None:
    """Callback of Back, Next and the step picker."""
    st.query_params["step"] = str(min(max(step, 1), LAST))


def pick(key: str) -> None:
    go(int(st.session_state[key]))


def navigation(step: int, where: str) -> None:
    back, middle, nxt = st.columns([1, 3, 1], vertical_alignment="bottom")
    back.button("← Back", key=f"lesson_back_{where}", on_click=go, args=(step - 1,),
                disabled=step == 1, width="stretch", help="The previous step.")
    nxt.button("Next →", key=f"lesson_next_{where}", on_click=go, args=(step + 1,),
               disabled=step == LAST, type="primary", width="stretch", help="The next step.")
    if where == "top":
        key = f"lesson_pick_{step}"
        middle.selectbox("Step", range(1, LAST + 1), index=step - 1, key=key,
                         format_func=lambda n: f"{n}. {STEPS[n - 1].title}",
                         on_change=pick, args=(key,), help="Jump to any step; the link "
                                                          "follows (…/lesson?step=N).")


def main() -> None:
    startup.require_navigation()
    st.title("Lesson: pooling in 10 steps")
    st.caption("From the 4×4 seed example to backprop through max. Each step sets its own "
               "settings (the sidebar does not change them): read, predict, then see. Send "
               "a step as a link: it ends in ?step=N.")
    step = current_step()
    lesson = STEPS[step - 1]
    navigation(step, "top")
    st.progress(step / LAST, text=f"Step {step} of {LAST}")
    st.subheader(f"{step}. {lesson.title}")
    st.markdown(lesson.text)
    st.caption(f"This step: {describe(lesson.case)}.")
    pending = quiz.panel(f"lesson{step}", [lesson.case], kinds=(lesson.kind,),
                         choose_kind=False)
    reveal_key = f"lesson_reveal_{step}"
    if pending and not st.session_state.get(reveal_key):
        st.button("Show the figure without answering", key=f"lesson_skip_{step}",
                  on_click=lambda: st.session_state.update({reveal_key: True}),
                  help="The figure gives the answer away: predict first if you can.")
    else:
        figs = step_figures(lesson)
        for i, fig in enumerate(figs):
            st.plotly_chart(presenter.figure(fig), width="stretch", key=f"lesson_fig_{step}_{i}")
        export.lesson_downloads(lesson, step, figs)  # the step as a slide, the figure as HTML
    navigation(step, "bottom")


main()
