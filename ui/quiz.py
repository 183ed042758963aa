"""Predict, then reveal: the "Quiz me" panel the pages call with one line.

A page passes what it shows as :class:`~ui.quiz_questions.Case` objects to :func:`hook`
(the toggle and, when on, :func:`panel`); the lesson calls :func:`panel` itself. The
questions come from :mod:`ui.quiz_questions` (the core's own functions), the picture
from :func:`ui.figures.quiz_figure`: a click on an input cell answers a "which cell"
question, and a select box beside it does the same from the keyboard. The score
(answered, right, streak) lives in ``st.session_state`` only.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from ui import figures
from ui.quiz_questions import (KINDS, TRAPS, Case, Question, as_2d, cell_label, check,
                               generate, parse_value)

__all__ = ["Case", "hook", "panel", "score"]

SCORE = "quiz_score"
HELP = ("Predict, then reveal: the page asks about what it shows (and about the settings "
        "where people slip) before showing the answer. Your score stays in this browser "
        "session only.")


def score() -> dict:
    """The session's score: ``answered``, ``right``, ``streak``."""
    return st.session_state.setdefault(SCORE, {"answered": 0, "right": 0, "streak": 0})


def hook(page: str, *cases: Case | None, kinds=None) -> bool:
    """The "Quiz me" toggle and, when it is on, the question about ``cases``.

    Returns True while a question waits for its answer: the page then stops before
    drawing its own figures and numbers (they would give the answer away).
    """
    cases = [c for c in cases if c is not None]
    if not cases or not st.toggle("Quiz me", key=f"quiz_on_{page}", help=HELP):
        return False
    pending = panel(page, cases, kinds)
    if pending:
        st.caption("The rest of the page (figures, formula, values) appears once you "
                   "answer, or when you turn *Quiz me* off.")
    return pending


def _state(page: str) -> dict:
    return st.session_state.setdefault(f"quiz_{page}", {"n": 0, "clicks": 0})


def _kinds(cases, kinds) -> list[str]:
    found = [k for k in KINDS if any(k in c.kinds for c in cases)]
    return [k for k in found if kinds is None or k in kinds]


def _new_question(page: str, cases, kind: str, available) -> None:
    """Draw the next question (callback of New question, and on a change of settings)."""
    state = _state(page)
    state.setdefault("seed", int(np.random.SeedSequence().entropy % 2**32))
    last: Question | None = state.get("question")
    n = state["n"] + 1
    rng = np.random.default_rng([state["seed"], n])
    if kind == "any":
        options = [k for k in available if last is None or k != last.kind] or list(available)
        kind = options[int(rng.integers(len(options)))]
    fitting = [c for c in cases if kind in c.kinds]
    if last is not None and len(fitting) > 1:  # another tab's case, when there is one
        fitting = [c for c in fitting if c.signature != last.case.signature] or fitting
    case = fitting[int(rng.integers(len(fitting)))]
    state.update(question=generate(case, kind, rng, last), n=n, answered=False, verdict=None,
                 hint=None, clicks=0)


def _base(page: str, state: dict) -> str:
    return f"quiz_{page}_{state['n']}"


def _labels(q: Question) -> list[str]:
    shape = np.asarray(q.case.x).shape[-2:]
    return [cell_label((r, c)) for r in range(shape[0]) for c in range(shape[1])]


def _cells(labels) -> list[tuple]:
    return [tuple(int(v) for v in s.strip("()").split(",")) for s in labels or ()]


def _check(page: str) -> None:
    """Callback of Check: read the answer widgets, judge, update the score."""
    ss, state = st.session_state, _state(page)
    q: Question = state["question"]
    base = _base(page, state)
    state["hint"] = None
    if q.form == "axes":
        values = [ss.get(f"{base}_ax{i}") for i in range(len(q.case.axes))]
        if q.kind == "size" and ss.get(f"{base}_refused"):
            response = None
        elif any(v is None for v in values):
            state["hint"] = "Type a number for every axis" + (
                " (or tick *PyTorch refuses these settings*)." if q.kind == "size" else ".")
            return
        else:
            response = tuple(int(v) for v in values)
    elif q.form == "number":
        try:
            response = parse_value(ss.get(f"{base}_val", ""))
        except ValueError as exc:
            state["hint"] = str(exc) + "."
            return
    elif q.form == "cell":
        picked = _cells([ss[f"{base}_cell"]] if ss.get(f"{base}_cell") else [])
        if not picked:
            state["hint"] = "Click a cell of the input, or choose it in the list."
            return
        response = picked[0]
    else:
        response = _cells(ss.get(f"{base}_cells"))
        if not response:
            state["hint"] = "Click at least one cell of the input, or choose cells in the list."
            return
    verdict = check(q, response)
    s = score()
    s["answered"] += 1
    s["right"] += verdict.correct
    s["streak"] = s["streak"] + 1 if verdict.correct else 0
    state.update(answered=True, verdict=verdict)


def _take_click(page: str, state: dict, q: Question) -> None:
    """A click on the figure (the chart's selection) fills the answer widget; the chart
    then gets a new key, so the next click is a new selection."""
    ss = st.session_state
    base = _base(page, state)
    cell = figures.picked_cell(ss.get(f"{base}_fig{state['clicks']}"))
    if cell is None:
        return
    label = cell_label(cell)
    if q.form == "cell":
        ss[f"{base}_cell"] = label
    else:
        chosen = list(ss.get(f"{base}_cells") or [])
        ss[f"{base}_cells"] = [v for v in chosen if v != label] if label in chosen \
            else chosen + [label]
    state["clicks"] += 1


def _figure(page: str, state: dict, q: Question) -> None:
    case = q.case
    if case.ndim > 2:
        return
    answered = state["answered"]
    x = np.asarray(case.x)
    if case.ndim == 1:
        x, kw = as_2d(case)  # a signal drawn as one row
        lift = lambda cells: tuple((0, c[0]) for c in cells)  # noqa: E731
    else:
        kw = case.kwargs if case.output_size is None else {"kernel_size": 1}
        lift = tuple
    clickable = q.form in ("cell", "cells") and not answered
    base = _base(page, state)
    picks = _cells([st.session_state.get(f"{base}_cell")] if q.form == "cell" and
                   st.session_state.get(f"{base}_cell") else
                   st.session_state.get(f"{base}_cells") if q.form == "cells" else [])
    token = (state["n"], answered, tuple(picks))
    if state.get("fig", (None,))[0] != token:  # built once per question, answer and pick
        state["fig"] = (token, figures.quiz_figure(
            x, kw, window=lift(q.window) if (q.show_window or answered) else (),
            marked=lift(q.marked) if answered else (), picked=picks, clickable=clickable,
            show_values=q.kind not in ("size", "unread"),
            title="Input (grey: padding)" + (" — click the cells" if clickable else "")))
    fig = state["fig"][1]
    options = dict(on_select="rerun", selection_mode="points") if clickable else {}
    st.plotly_chart(fig, width="stretch", key=f"{base}_fig{state['clicks']}", **options)


def _answer_widgets(page: str, state: dict, q: Question) -> None:
    base = _base(page, state)
    off = state["answered"]
    if q.form == "axes":
        word = "_out" if q.kind == "size" else ": never read"
        cols = st.columns(len(q.case.axes) + (1 if q.kind == "size" else 0))
        for i, axis in enumerate(q.case.axes):
            cols[i].number_input(f"{axis}{word}", min_value=0, max_value=100_000, value=None,
                                 step=1, key=f"{base}_ax{i}", disabled=off,
                                 help="Type a whole number.")
        if q.kind == "size":
            cols[-1].checkbox("PyTorch refuses these settings", key=f"{base}_refused",
                              disabled=off, help="Tick if the core (like PyTorch) raises an "
                                                 "error for these settings.")
    elif q.form == "number":
        st.text_input("Your answer", key=f"{base}_val", disabled=off,
                      placeholder="e.g. 4.5, or -inf", help="Two decimals are enough.")
    elif q.form == "cell":
        st.session_state.setdefault(f"{base}_cell", None)
        st.selectbox("The cell (row, col)", _labels(q), key=f"{base}_cell", disabled=off,
                     placeholder="Click it in the figure, or choose it here",
                     help="A click on the figure fills this in; typing filters the list.")
    else:
        st.session_state.setdefault(f"{base}_cells", [])
        st.multiselect("The cells (row, col)", _labels(q), key=f"{base}_cells", disabled=off,
                       placeholder="Click them in the figure (again to remove), or choose here",
                       help="Clicks on the figure add or remove cells here.")


def _feedback(state: dict, q: Question) -> None:
    verdict = state["verdict"]
    (st.success if verdict.correct else st.error)(
        verdict.message, icon=":material/check_circle:" if verdict.correct else
        ":material/cancel:")
    with st.expander("How it works" if verdict.correct else "The worked explanation",
                     expanded=not verdict.correct):
        st.code("\n".join(q.explanation), language=None, wrap_lines=True)
        st.markdown(f"**The rule:** {q.rule}")
        if q.traps:
            st.caption("Where people slip here: " + "; ".join(TRAPS[t] for t in q.traps) + ".")
        if q.window and q.case.ndim <= 2:
            what = {"size": "the last window; yellow: cells no window reads",
                    "unread": "the last window; yellow: cells no window reads"}.get(
                q.kind, "the window; yellow: the cells that answer the question")
            st.caption(f"Red: {what}"
                       + ("; purple rings: your picks." if q.form in ("cell", "cells") else "."))


def panel(page: str, cases, kinds=None, *, choose_kind: bool = True) -> bool:
    """One question about ``cases`` with its answer widgets, feedback and score.

    The question stays until New question is pressed or the cases change (the settings
    on screen). Returns True while it waits for an answer.
    """
    cases = [c for c in cases if c is not None]
    available = _kinds(cases, kinds)
    state = _state(page)
    with st.container(border=True, key=f"quiz_box_{page}"):
        show_kinds = choose_kind and len(available) > 1
        top = st.columns([3, 2, 3] if show_kinds else [2, 3], vertical_alignment="bottom")
        kind = "any"
        if show_kinds:
            options = ["any", *available]
            kept = state.get("kind", "any")  # the widget's own state goes while the quiz is off
            kind = top[0].selectbox("Question type", options, key=f"quiz_kind_{page}",
                                    index=options.index(kept) if kept in options else 0,
                                    format_func=lambda k: "Any" if k == "any" else KINDS[k],
                                    help="Any: a different type each time.")
            state["kind"] = kind
        signature = (tuple(c.signature for c in cases), kind)
        if state.get("signature") != signature:
            _new_question(page, cases, kind if kind in available else "any", available)
            state["signature"] = signature
        top[-2].button("New question", key=f"quiz_new_{page}", on_click=_new_question,
                      args=(page, cases, kind, available), icon=":material/refresh:",
                      help="Another question; never the same one twice in a row.")
        s = score()
        top[-1].markdown(f"**Score:** {s['right']} right of {s['answered']} · streak "
                        f"{s['streak']}")
        q: Question = state["question"]
        if q.form in ("cell", "cells") and not state["answered"]:
            _take_click(page, state, q)
        st.container(key=f"quiz_prompt_{page}").markdown(
            f"**Question {state['n']}.** {q.prompt}")
        _figure(page, state, q)
        _answer_widgets(page, state, q)
        st.button("Check", key=f"quiz_check_{page}_{state['n']}", on_click=_check,
                  args=(page,), type="primary", disabled=state["answered"],
                  help="Compare your answer with the core's.")
        if state.get("hint"):
            st.warning(state["hint"], icon="✏️")
        if state["answered"]:
            _feedback(state, q)
    return not state["answered"]
