"""Quiz me on the pages, through app.py with AppTest: every kind of question answered right
and wrong (keyboard-friendly widgets: number inputs, text, select boxes), the feedback
and the worked explanation, the score, New question, and the page's own figures held back
until the answer (predict, then reveal)."""
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pooling_core import pool2d
from ui.links import LINK_PARAMS
from ui.quiz_questions import KINDS, cell_label

APP = str(ROOT / "app.py")


def open_quiz(page: str, query=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(f"pages/{page}.py")  # the link opens the page: its values reach every widget
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.toggle(key=f"quiz_on_{page}").set_value(True).run()
    assert not at.exception
    return at


def question(at, page):
    state = at.session_state[f"quiz_{page}"]
    return state["question"], f"quiz_{page}_{state['n']}", state["n"]


def ask(at, page, kind):
    at.selectbox(key=f"quiz_kind_{page}").set_value(kind).run()
    assert not at.exception
    q, _, _ = question(at, page)
    assert q.kind == kind or kind in ("value", "winner", "gradient")  # one-window inputs
    return q


def other_cell(q, avoid):
    h, w = np.asarray(q.case.x).shape[-2:]
    return next((r, c) for r in range(h) for c in range(w) if (r, c) not in avoid)


def fill(at, q, base, right: bool):
    """Type or choose an answer to ``q``: its own, or a wrong one."""
    if q.form == "axes":
        values = q.answer if right else (tuple(v + 1 for v in q.answer) if q.answer
                                         else (1,) * len(q.case.axes))
        if q.answer is None and right:
            at.checkbox(key=f"{base}_refused").check()
        else:
            for i, v in enumerate(values):
                at.number_input(key=f"{base}_ax{i}").set_value(v)
    elif q.form == "number":
        value = q.answer if right else q.answer + 1
        at.text_input(key=f"{base}_val").input(f"{value:.4f}")
    elif q.form == "cell":
        cell = q.answer if right else other_cell(q, {q.answer})
        at.selectbox(key=f"{base}_cell").set_value(cell_label(cell))
    else:
        cells = sorted(q.answer) if right else sorted(set(q.answer) | {other_cell(q, q.answer)})
        at.multiselect(key=f"{base}_cells").set_value([cell_label(c) for c in cells])


def answer(at, page, right: bool):
    q, base, n = question(at, page)
    fill(at, q, base, right)
    at.button(key=f"quiz_check_{page}_{n}").click().run()
    assert not at.exception
    return q


def texts(elements):
    return [e.value for e in elements]


@pytest.mark.parametrize("kind", list(KINDS))
def test_playground_every_kind_right_then_wrong(kind):
    at = open_quiz("playground")
    charts_quiz_only = len(at.get("plotly_chart"))
    q = ask(at, "playground", kind)
    assert any(q.prompt in m for m in texts(at.markdown))
    assert len(at.get("plotly_chart")) == charts_quiz_only  # the animation waits
    assert at.session_state["quiz_score"] == {"answered": 0, "right": 0, "streak": 0}

    q = answer(at, "playground", right=True)
    assert texts(at.success) == [f"Right: {q.answer_text}."]
    assert at.session_state["quiz_score"] == {"answered": 1, "right": 1, "streak": 1}
    assert len(at.get("plotly_chart")) > charts_quiz_only  # revealed: the page's figures
    assert any("right of 1" in m for m in texts(at.markdown))

    _, _, n = question(at, "playground")
    at.button(key="quiz_new_playground").click().run()
    q2, _, n2 = question(at, "playground")
    assert n2 == n + 1 and q2.key != q.key  # a new question, not the same one
    assert not at.success

    q2 = answer(at, "playground", right=False)
    assert f"Not quite: the answer is {q2.answer_text}." in texts(at.error)
    assert texts(at.code)[0] == "\n".join(q2.explanation)  # the worked explanation, open
    assert any(q2.rule in m for m in texts(at.markdown))
    assert at.session_state["quiz_score"] == {"answered": 2, "right": 1, "streak": 0}


def test_the_seed_example_value_question_matches_8_5_7_9():
    at = open_quiz("playground", {"src": "Preset"})  # the seed example (4×4)
    q = ask(at, "playground", "value")
    assert np.array_equal(q.case.x, [[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
    assert q.answer == pool2d(q.case.x, 2)[q.highlight] == [[8, 5], [7, 9]][q.highlight[0]][
        q.highlight[1]]
    answer(at, "playground", right=True)
    assert at.success


def test_a_settings_change_asks_about_the_new_settings():
    at = open_quiz("playground")
    ask(at, "playground", "value")
    at.slider(key="kh").set_value(3).run()
    q, _, _ = question(at, "playground")
    assert "kernel 3" in q.prompt
    assert at.session_state["quiz_score"]["answered"] == 0


def test_hints_instead_of_errors_for_missing_answers():
    at = open_quiz("playground")
    for kind, hint in (("size", "Type a number for every axis"),
                       ("value", "Type a number"),
                       ("winner", "Click a cell"), ("gradient", "Click at least one cell")):
        ask(at, "playground", kind)
        _, _, n = question(at, "playground")
        at.button(key=f"quiz_check_playground_{n}").click().run()
        assert not at.exception
        assert any(w.startswith(hint) for w in texts(at.warning)), texts(at.warning)
    q, base, n = question(at, "playground")
    assert at.session_state["quiz_score"]["answered"] == 0
    ask(at, "playground", "value")
    _, base, n = question(at, "playground")
    at.text_input(key=f"{base}_val").input("eight")
    at.button(key=f"quiz_check_playground_{n}").click().run()
    assert any("not a number" in w for w in texts(at.warning))


def test_the_question_and_its_answer_stay_while_the_quiz_is_off():
    at = open_quiz("playground")
    q = ask(at, "playground", "winner")
    answer(at, "playground", right=True)
    charts = len(at.get("plotly_chart"))
    at.toggle(key="quiz_on_playground").set_value(False).run()
    at.toggle(key="quiz_on_playground").set_value(True).run()
    assert question(at, "playground")[0] is q and at.session_state["quiz_playground"]["answered"]
    assert at.selectbox(key="quiz_kind_playground").value == "winner"
    assert len(at.get("plotly_chart")) == charts and at.success


def test_refused_settings_show_the_pages_message_and_no_quiz():
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/playground.py")
    at.query_params.update(kh="8", rows="3", cols="3")  # a window larger than the input
    at.run()
    assert at.error and not at.exception
    assert not [t for t in at.toggle if t.key == "quiz_on_playground"]


def test_quiz_off_leaves_the_page_as_it_was():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/playground.py").run()
    before = len(at.get("plotly_chart"))
    assert "quiz_playground" not in at.session_state
    at.toggle(key="quiz_on_playground").set_value(True).run()
    at.toggle(key="quiz_on_playground").set_value(False).run()
    assert len(at.get("plotly_chart")) == before and not at.exception


@pytest.mark.parametrize("kind", ["gradient", "winner", "value", "size"])
def test_backprop_page(kind):
    at = open_quiz("backprop")
    assert at.selectbox(key="quiz_kind_backprop").options[1:] == [KINDS[k] for k in
                                                                   ("size", "value", "winner",
                                                                    "gradient")]
    ask(at, "backprop", kind)
    assert not at.get("plotly_chart") or len(at.get("plotly_chart")) == 1
    q = answer(at, "backprop", right=kind != "gradient")
    assert (texts(at.success) if kind != "gradient" else
            [e for e in texts(at.error) if e.startswith("Not quite")]), q.prompt
    assert len(at.get("plotly_chart")) > 1  # forward, backward, check, unpooling shown


@pytest.mark.parametrize("kind", ["size", "value", "unread"])
def test_dims_page(kind):
    at = open_quiz("dims")
    q = ask(at, "dims", kind)
    answer(at, "dims", right=True)
    assert texts(at.success) == [f"Right: {q.answer_text}."]
    at.button(key="quiz_new_dims").click().run()
    answer(at, "dims", right=False)
    assert any(e.startswith("Not quite") for e in texts(at.error))
    assert at.session_state["quiz_score"] == {"answered": 2, "right": 1, "streak": 0}


def test_dims_asks_about_every_tab():
    at = open_quiz("dims")
    labels = set()
    for _ in range(40):  # random kinds and cases: all three within a few draws
        at.button(key="quiz_new_dims").click().run()
        q, _, _ = question(at, "dims")
        labels.add(q.case.ndim if q.case.output_size is None else "adaptive")
        if len(labels) == 3:
            break
    assert labels == {1, 3, "adaptive"}, labels


def test_the_score_is_shared_by_the_pages():
    at = open_quiz("playground")
    answer(at, "playground", right=True)
    at.switch_page("pages/backprop.py").run()
    at.toggle(key="quiz_on_backprop").set_value(True).run()
    answer(at, "backprop", right=True)
    assert at.session_state["quiz_score"] == {"answered": 2, "right": 2, "streak": 2}


@pytest.mark.parametrize("link", [
    {"glob": "true", "mode": "Average"},
    {"mode": "Lp norm"},
    {"mode": "Sum", "kh": "3", "ph": "1"},
    {"mode": "Stochastic (Caffe)"},
    {"mode": "Median", "kh": "3", "sk": "false", "sh": "1"},
    {"fw": "TensorFlow", "pad": "SAME", "kh": "3", "sk": "false", "sh": "2", "mode": "Average"},
    {"ceil": "true", "ph": "1", "rows": "5", "cols": "5"},
    {"kh": "2", "dh": "3", "rows": "5", "cols": "5", "sk": "false", "sh": "1"},
])
def test_every_kind_on_unusual_settings(link):
    at = open_quiz("playground", link)
    for key, value in link.items():  # the link's settings reached the widgets
        assert at.session_state[key] == LINK_PARAMS[key].parse(value), key
    for kind in KINDS:
        ask(at, "playground", kind)
        q = answer(at, "playground", right=True)
        assert texts(at.success) == [f"Right: {q.answer_text}."], (kind, q.prompt)
