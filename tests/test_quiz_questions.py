"""The quiz's questions (ui.quiz_questions, no Streamlit): every answer is the core's,
checked here against the core's public functions called directly, wrong answers are
caught, a new question differs from the last, and the traps are really drawn."""
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import small_geometries
from pooling_core import (adaptive_pool2d, coverage, output_size, plan_axes, pool1d, pool2d,
                          pool2d_backward)
from ui import figures
from ui.quiz_questions import (KINDS, TRAPS, Case, as_2d, cell_label, check, describe,
                               generate, parse_value)

SEED = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])

geometries = small_geometries(
    mode=st.sampled_from(["max", "avg", "sum", "min", "lp", "median", "stochastic"]))


def make_case(geom, h, w, seed):
    kw = dict(geom)
    kw["padding"] = tuple(min(p, k // 2) for p, k in zip(kw["padding"], kw["kernel_size"]))
    if seed % 5 == 0:  # TensorFlow's SAME now and then
        kw.update(padding="same", check_half_kernel=False, ceil_mode=False)
    if kw["mode"] == "stochastic":
        kw["rng"] = seed
    if kw["mode"] == "lp":
        kw["p"] = 3.0
    x = np.random.default_rng(seed).integers(0, 6, size=(h, w))  # small values: ties happen
    try:
        plan_axes((h, w), **{k: v for k, v in kw.items()
                             if k not in ("mode", "count_include_pad", "rng", "p")})
    except ValueError:
        return None
    return Case(x, kw)


def wrong(q):
    """An answer that is not ``q``'s."""
    if q.kind == "value":
        return float(q.answer) + 1 if np.isfinite(q.answer) else 0.0
    if q.kind in ("size", "unread"):
        return (1,) * len(q.case.axes) if q.answer is None else tuple(v + 1 for v in q.answer)
    h, w = q.case.x.shape[-2:]
    cells = [(r, c) for r in range(h) for c in range(w)]
    if q.kind == "winner":
        return next(c for c in cells if c != q.answer and c not in q.also_right)
    return set(q.answer) ^ {cells[0]}


def expected(q):
    """The answer, from the core's public functions called here."""
    case, kw = q.case, q.case.kwargs
    x = np.asarray(case.x, dtype=float)
    if q.kind == "size":
        geometry = {k: v for k, v in kw.items() if k in ("kernel_size", "stride", "padding",
                                                         "dilation", "ceil_mode")}
        try:
            plans = plan_axes(x.shape[-case.ndim:], check_half_kernel=kw.get(
                "check_half_kernel", True), **geometry)
        except ValueError:
            return None
        per_axis = []
        for axis, n in enumerate(x.shape[-case.ndim:]):
            pick = lambda v: v if isinstance(v, (int, str)) or v is None else v[axis]  # noqa
            pad = pick(geometry.get("padding", 0))
            pad = (plans[axis].pad_before, plans[axis].pad_after) if isinstance(pad, str) else pad
            per_axis.append(output_size(n, pick(geometry["kernel_size"]),
                                        pick(geometry.get("stride")), pad,
                                        pick(geometry.get("dilation", 1)),
                                        geometry.get("ceil_mode", False)))
        return tuple(per_axis)
    if q.kind == "unread":
        geometry = {k: v for k, v in kw.items() if k in ("kernel_size", "stride", "padding",
                                                         "dilation", "ceil_mode")}
        cov = coverage(x.shape[-case.ndim:], **geometry)
        return tuple(int((np.moveaxis(cov, axis, 0).reshape(cov.shape[axis], -1).sum(1) == 0)
                         .sum()) for axis in range(case.ndim))
    if q.kind == "value":
        if case.output_size is not None:
            return float(adaptive_pool2d(x, case.output_size, kw["mode"])[q.highlight])
        fn = pool1d if case.ndim == 1 else pool2d
        return float(fn(x, **kw)[q.highlight])
    out = pool2d(x, **kw)
    if q.kind == "winner":  # the first cell of the window (row by row) holding the max
        best = out[q.highlight]
        first = next(c for c in sorted(q.window) if 0 <= c[0] < x.shape[0]
                     and 0 <= c[1] < x.shape[1] and x[c] == best)
        if kw["mode"] == "median":  # the core's own pick among equal values
            assert x[q.answer] == best and first in (q.answer, *q.also_right)
            return q.answer
        return first
    g = np.zeros(out.shape)
    g[q.highlight] = 1
    return frozenset(zip(*map(lambda a: a.tolist(), np.nonzero(pool2d_backward(g, x, **kw)))))


#: its "what if dilation 2×3" variant: every window's columns are padding (taps at -1 and 2
#: of a 2-wide input padded by 1), so no window reads any cell and both rows are unread too
PADDING_ONLY = dict(geom=dict(kernel_size=(1, 2), stride=(1, 1), padding=(0, 1),
                              dilation=(1, 2), ceil_mode=False, count_include_pad=False,
                              mode="max"), h=2, w=2, seed=1, kind="unread")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geom=geometries, h=st.integers(2, 7), w=st.integers(2, 7), seed=st.integers(0, 999),
       kind=st.sampled_from(list(KINDS)))
@example(**PADDING_ONLY)
def test_every_answer_is_the_cores_and_only_it_is_right(geom, h, w, seed, kind):
    case = make_case(geom, h, w, seed)
    if case is None:
        return
    q = generate(case, kind, seed)
    assert q.kind in KINDS and q.prompt and q.explanation and q.rule
    want = expected(q)
    if q.kind == "value":
        assert q.answer == pytest.approx(want) or (np.isinf(want) and q.answer == want)
    elif q.kind == "winner":
        assert q.answer == want, q.prompt
        assert q.answer in q.window
    else:
        assert q.answer == want, q.prompt
    assert check(q, q.answer).correct
    verdict = check(q, wrong(q))
    assert not verdict.correct and q.answer_text in verdict.message


def test_windows_of_padding_only_on_one_axis_leave_every_cell_unread():
    case = PADDING_ONLY
    q = generate(make_case(case["geom"], case["h"], case["w"], case["seed"]), "unread",
                 case["seed"])
    assert q.case.kwargs["dilation"] == (2, 3)  # the variant the quiz picked
    assert not coverage((2, 2), **{k: q.case.kwargs[k] for k in (
        "kernel_size", "stride", "padding", "dilation")}).any()
    assert q.answer == (2, 2) and q.answer_text == "2 rows, 2 columns"
    assert set(q.marked) == {(0, 0), (0, 1), (1, 0), (1, 1)}  # the figure marks them all
    assert any("padding only" in line for line in q.explanation)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geom=geometries, h=st.integers(2, 7), w=st.integers(2, 7), seed=st.integers(0, 999),
       kind=st.sampled_from(list(KINDS)))
def test_a_new_question_differs_from_the_last(geom, h, w, seed, kind):
    case = make_case(geom, h, w, seed)
    if case is None:
        return
    first = generate(case, kind, seed)
    second = generate(case, kind, seed + 1, last=first)
    assert second.key != first.key


@pytest.mark.parametrize("seed", range(4))
def test_the_seed_example_answers(seed):
    """The 4×4 seed example, 2×2 max stride 2: [[8 5] [7 9]]."""
    case = Case(SEED, dict(kernel_size=2))
    value = generate(case, "value", seed)
    assert value.answer == {(0, 0): 8, (0, 1): 5, (1, 0): 7, (1, 1): 9}[value.highlight]
    win = generate(case, "winner", seed)
    assert SEED[win.answer] == value.answer if win.highlight == value.highlight else True
    assert SEED[win.answer] == pool2d(SEED, 2)[win.highlight]
    grad = generate(case, "gradient", seed)
    assert len(grad.answer) == 1 and not grad.show_window  # the window is part of the question


def traps_seen(case, kind, n=80):
    seen = Counter()
    last = None
    for seed in range(n):
        last = generate(case, kind, seed, last)
        seen.update(last.traps)
    return seen


def test_size_questions_set_the_traps():
    """Settings where learners slip are drawn: the floor's dropped row, the padding refused,
    SAME's odd cell, dilation, and ceil mode's clip rule."""
    plain = Case(np.zeros((5, 5)), dict(kernel_size=2, stride=2))
    seen = traps_seen(plain, "size")
    assert {"dropped", "refused", "same_odd", "dilation"} <= set(seen), seen
    padded = Case(np.zeros((5, 5)), dict(kernel_size=2, stride=2, padding=1))
    assert "clip" in traps_seen(padded, "size")


def test_traps_are_preferred():
    """Most size questions carry a trap, though the current settings (5×5 input, 3×3 stride
    1) have none."""
    case = Case(np.zeros((5, 5)), dict(kernel_size=3, stride=1))
    qs = [generate(case, "size", seed) for seed in range(100)]
    with_trap = sum(bool(q.traps) for q in qs)
    assert with_trap > 60, with_trap
    assert any(not q.traps for q in qs)  # the settings on screen come up too


def test_cell_questions_prefer_windows_that_read_padding_and_ties():
    x = np.array([[5, 5, 1, 0, 2, 3]] * 6)
    case = Case(x, dict(kernel_size=3, stride=2, padding=1))
    seen = traps_seen(case, "winner")
    assert seen["tie"] and seen["padding"], seen
    value = traps_seen(Case(x, dict(kernel_size=3, stride=2, padding=1, mode="avg")), "value")
    assert value["padding"] > 40, value  # corner and edge windows: most of 80


def test_a_padding_only_window_is_never_asked():
    x = np.arange(9).reshape(3, 3)
    case = Case(x, dict(kernel_size=3, stride=1, padding=1, dilation=2))
    for seed in range(30):
        q = generate(case, "value", seed)
        assert q.kind != "value" or np.isfinite(q.answer)


def test_refused_settings_are_answered_by_ticking_refused():
    case = Case(np.zeros((6, 6)), dict(kernel_size=2, stride=2))
    q = next(q for q in (generate(case, "size", s) for s in range(50)) if q.answer is None)
    assert "refuse" in q.answer_text and "padding" in q.explanation[0]
    assert check(q, None).correct and not check(q, (3, 3)).correct


def test_one_dimensional_three_dimensional_and_adaptive_cases():
    signal = Case(np.round(np.sin(np.arange(11.)), 2),
                  dict(kernel_size=(3,), stride=(2,), padding=(1,), mode="avg"), 1, "signal")
    assert signal.kinds == ("size", "value", "unread") and signal.axes == ("L",)
    q = generate(signal, "value", 3)
    assert q.answer == pytest.approx(pool1d(signal.x, 3, 2, 1, mode="avg")[q.highlight])
    assert q.prompt.startswith("Signal: 11-sample input")
    assert "out[" in q.explanation[0] and ", " not in q.explanation[0].split("]")[0]
    volume = Case(np.zeros((4, 5, 6)), dict(kernel_size=(2, 2, 2)), 3)
    q = generate(volume, "size", 0)
    assert q.answer is None or len(q.answer) == 3
    with pytest.raises(ValueError, match="kind='value'"):
        generate(volume, "value", 0)
    ad = Case.adaptive(SEED[:3], (2, 2), "avg")
    q = generate(ad, "value", 1)
    assert q.answer == pytest.approx(adaptive_pool2d(SEED[:3], (2, 2), "avg")[q.highlight])
    assert set(q.window) == set(q.marked) and "bin" in q.explanation[0]


def test_as_2d_draws_a_signal_as_one_row():
    case = Case(np.arange(7.), dict(kernel_size=(3,), stride=(2,), padding=(1,)), 1)
    x2, kw = as_2d(case)
    assert x2.shape == (1, 7)
    assert np.array_equal(pool2d(x2, **kw)[0], pool1d(case.x, 3, 2, 1))


def test_describe_and_parse():
    text = describe(Case(np.zeros((7, 7)), dict(kernel_size=3, stride=2, padding=1,
                                                  dilation=2, ceil_mode=True)))
    assert text == ("7×7 input, max pooling, kernel 3, stride 2, padding 1, dilation 2, "
                    "ceil_mode=True")
    assert parse_value(" 4,5 ") == 4.5 and parse_value("−∞") == -np.inf
    with pytest.raises(ValueError, match="not a number"):
        parse_value("four")
    with pytest.raises(ValueError, match="Type a number"):
        parse_value("")
    assert cell_label((2, 3)) == "(2, 3)"
    assert set(TRAPS) >= {"dropped", "clip", "refused", "same_odd", "dilation"}


def test_quiz_figure_has_a_click_target_per_cell_and_reads_a_click():
    x = np.arange(12).reshape(3, 4)
    fig = figures.quiz_figure(x, dict(kernel_size=2, padding=1), window=[(-1, -1), (0, 0)],
                              marked=[(0, 0)], picked=[(1, 2)])
    targets = [t for t in fig.data if t.name == figures.QUIZ_TARGETS]
    assert len(targets) == 1 and len(targets[0].x) == 12
    assert len(fig.layout.shapes) == 3
    assert [t.name for t in fig.data if t.name == "your pick"]
    assert figures.picked_cell({"selection": {"points": [{"x": 3, "y": 1}]}}) == (1, 3)
    assert figures.picked_cell({"selection": {"points": []}}) is None
    refused = figures.quiz_figure(x, dict(kernel_size=2, padding=2), clickable=False)
    assert not [t for t in refused.data if t.name == figures.QUIZ_TARGETS]


def test_the_question_module_has_no_streamlit():
    """Questions are plain functions (pages → ui → pooling_core; Streamlit only in ui.quiz)."""
    from test_layers import imported, modules
    known = modules("ui")
    for name in ("ui.quiz_questions", "ui.figures.quiz"):
        deps = imported(name, known[name], known)
        assert not {m for m in deps if m.split(".")[0] == "streamlit"}, name
    assert "ui.quiz_questions" in imported("ui.quiz", known["ui.quiz"], known)


def test_a_size_question_draws_its_last_window_once_answered():
    case = Case(np.zeros((5, 5)), dict(kernel_size=2, stride=2))
    q = next(q for q in (generate(case, "size", s) for s in range(40))
             if q.answer is not None and not q.prompt.startswith("What if"))
    assert q.answer == (2, 2) and not q.show_window  # the window would give it away
    assert sorted(q.window) == [(2, 2), (2, 3), (3, 2), (3, 3)]  # out[1, 1]'s window
    assert {(4, c) for c in range(5)} <= set(q.marked)  # the dropped last row, marked


def test_a_refusal_names_the_rule_it_breaks():
    """Padding past half the kernel, or a window (widened by dilation) longer than the input."""
    small = Case(np.zeros((2, 2)), dict(kernel_size=2, stride=1, dilation=1))
    rules = {q.rule for q in (generate(small, "size", s) for s in range(60)) if q.answer is None}
    assert any("kernel_size // 2" in r for r in rules), rules
    assert any("must fit in the input" in r for r in rules), rules  # dilation 2: span 3 > 2
