"""Lesson: pooling in 10 steps. AppTest through app.py (switch_page and links with ?step=N),
every step's question and figure, Back/Next and the step picker, bad step values; and
every number the steps' texts quote, recomputed by the core."""
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pooling_core import adaptive_bins, explain_axes, output_size, plan_axes, pool2d
from ui.quiz_lesson import SEED_MATRIX, STEPS, step_figures
from ui.quiz_questions import generate

from test_quiz_app import fill

APP = str(ROOT / "app.py")


def open_lesson(step=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/lesson.py")
    if step is not None:
        at.query_params["step"] = str(step)
    at.run()
    assert not at.exception
    return at


def heading(at) -> str:
    return at.subheader[0].value


def test_the_lesson_is_in_the_navigation_and_starts_at_step_1():
    at = open_lesson()
    assert at.title[0].value == "Lesson: pooling in 10 steps"
    assert heading(at) == f"1. {STEPS[0].title}"
    assert any(STEPS[0].text in m.value for m in at.markdown)
    assert not at.get("plotly_chart") or len(at.get("plotly_chart")) == 1  # only the quiz's
    assert (ROOT / "app.py").read_text().count('"pages/lesson.py"') == 1


def test_next_back_and_the_picker_move_and_keep_the_step_in_the_link():
    at = open_lesson()
    at.button(key="lesson_next_top").click().run()
    assert heading(at) == f"2. {STEPS[1].title}" and at.query_params["step"] == "2"
    at.button(key="lesson_next_bottom").click().run()
    assert heading(at).startswith("3. ")
    at.button(key="lesson_back_top").click().run()
    assert heading(at).startswith("2. ")
    at.selectbox(key="lesson_pick_2").set_value(9).run()
    assert heading(at) == f"9. {STEPS[8].title}"
    assert at.query_params["step"] == "9"
    at.query_params["step"] = "10"
    at.run()
    assert at.button(key="lesson_next_top").disabled and not at.button(key="lesson_back_top").disabled


@pytest.mark.parametrize("raw", ["0", "11", "-3", "abc", "2.5", "", "<b>5</b>", "9" * 40])
def test_a_bad_step_in_the_link_gives_a_message_and_step_1(raw):
    at = open_lesson(raw)
    assert heading(at).startswith("1. ")
    warning = " ".join(w.value for w in at.warning)
    assert "the lesson has steps 1 to 10" in warning
    assert "<b>" not in warning.replace("`<b>5</b>`", "")  # quoted as code, never rendered


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_each_step_from_its_link_asks_then_shows_the_figure(number):
    """``?step=N`` opens step N; its question (of the step's kind) holds back the figure,
    which appears once answered; a wrong answer gets the worked explanation."""
    step = STEPS[number - 1]
    at = open_lesson(number)
    assert heading(at) == f"{number}. {step.title}"
    state = at.session_state[f"quiz_lesson{number}"]
    q = state["question"]
    assert q.kind == step.kind
    quiz_charts = len(at.get("plotly_chart"))
    assert quiz_charts == (1 if q.case.ndim == 2 else 0)
    fill(at, q, f"quiz_lesson{number}_{state['n']}", right=number % 2 == 1)
    at.button(key=f"quiz_check_lesson{number}_{state['n']}").click().run()
    assert not at.exception
    if number % 2:
        assert [s.value for s in at.success] == [f"Right: {q.answer_text}."]
    else:
        assert any(e.value.startswith("Not quite") for e in at.error)
        assert at.code[0].value == "\n".join(q.explanation)
    assert len(at.get("plotly_chart")) == quiz_charts + len(step_figures(step))


def test_the_figure_can_be_shown_without_answering():
    at = open_lesson(4)
    before = len(at.get("plotly_chart"))
    at.button(key="lesson_skip_4").click().run()
    assert len(at.get("plotly_chart")) == before + 1
    assert at.session_state["quiz_score"]["answered"] == 0


def test_the_score_runs_through_the_lesson():
    at = open_lesson(1)
    for number in (1, 2):
        state = at.session_state[f"quiz_lesson{number}"]
        fill(at, state["question"], f"quiz_lesson{number}_{state['n']}", right=True)
        at.button(key=f"quiz_check_lesson{number}_{state['n']}").click().run()
        at.button(key="lesson_next_bottom").click().run()
    assert at.session_state["quiz_score"] == {"answered": 2, "right": 2, "streak": 2}


# ------------------------------------------------------------------ the texts' numbers


def test_the_texts_quote_the_cores_numbers():
    s = STEPS
    assert pool2d(SEED_MATRIX, 2).tolist() == [[8, 5], [7, 9]]              # 1
    assert "[[8 5] [7 9]]" in s[0].text
    assert pool2d(s[1].x, **s[1].kwargs).shape == (3, 3)                      # 2: 7×7 → 3×3
    assert s[1].x.shape == (7, 7)
    assert (plan_axes((7, 7), 3, 2)[0].read_counts > 1).any()               # overlap
    with pytest.raises(ValueError, match="half"):                             # 3: p ≤ k // 2
        plan_axes((6, 6), 3, 2, padding=2)
    e = explain_axes((7, 7), 3, 2, 1)[0]                                      # 4
    assert e.out == 4 and "floor(6 / 2) + 1" in e.substituted_text
    assert output_size(5, 2, 2) == 2 and plan_axes((5,), 2)[0].read_counts[-1] == 0  # 5
    assert output_size(5, 2, 2, ceil_mode=True) == 3
    assert pool2d(s[5].x, **s[5].kwargs).shape == (4, 4)                      # 6: 6×6 → 4×4
    assert plan_axes((6,), 2, 1, dilation=2)[0].span == 3
    x = s[6].x.astype(float)                                                  # 7: 9 vs 4
    with_pad = pool2d(x, 3, 2, 1, mode="avg", count_include_pad=True)[0, 0]
    without = pool2d(x, 3, 2, 1, mode="avg", count_include_pad=False)[0, 0]
    assert with_pad == pytest.approx(x[:2, :2].sum() / 9)
    assert without == pytest.approx(x[:2, :2].sum() / 4)
    same = plan_axes((6, 6), 3, 2, padding="same")[0]                          # 8
    assert (same.out, same.pad_before, same.pad_after) == (3, 0, 1)
    starts, ends = adaptive_bins(7, 3)                                         # 9
    assert [(a, b - 1) for a, b in zip(starts, ends)] == [(0, 2), (2, 4), (4, 6)]
    assert "rows 0–2, 2–4 and 4–6" in s[8].text
    assert len(STEPS) == 10


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_each_step_has_a_question_of_its_kind_and_its_figures(number):
    step = STEPS[number - 1]
    for seed in range(5):
        assert generate(step.case, step.kind, seed).kind == step.kind
    shown = step_figures(step)
    assert shown and all(f.data for f in shown)
    if number == 1:
        q = generate(step.case, "value", 0)
        assert q.answer in (8, 5, 7, 9)
    assert np.asarray(step.x).ndim == 2
