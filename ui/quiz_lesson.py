"""The steps of "Lesson: pooling in 10 steps": text, settings, question kind and figure.

No Streamlit (``pages/lesson.py`` draws a step). Each :class:`LessonStep` holds its
input and ``pool2d`` arguments (or an adaptive output size); :meth:`LessonStep.case`
is what the quiz asks about and :func:`step_figures` draws it with the figure builders
of :mod:`ui.figures`. The numbers the texts quote are checked against the core by
``tests/test_lesson.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pooling_core import pool2d
from ui import figures
from ui.quiz_model import Case

SEED_MATRIX = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])


def _matrix(n: int, seed: int) -> np.ndarray:
    """A seeded n×n matrix of integers 0–9 (as the pages' random input)."""
    return np.random.default_rng(seed).integers(0, 10, size=(n, n))


@dataclass(frozen=True, eq=False)
class LessonStep:
    title: str
    text: str
    kind: str                       # the quiz's kind of question for this step
    x: np.ndarray
    kwargs: dict = field(default_factory=dict)
    output_size: tuple | None = None  # adaptive pooling
    figure: str = "animation"       # "animation", "backward", "adaptive"
    compare_divisors: bool = False  # also the averages with and without padding counted

    @property
    def case(self) -> Case:
        if self.output_size is not None:
            return Case.adaptive(self.x, self.output_size, self.kwargs.get("mode", "max"))
        return Case(self.x, self.kwargs)


STEPS = (
    LessonStep(
        "A window slides and keeps one number",
        "A pooling layer slides a small window over its input and keeps one number per "
        "window. Here a 2×2 window moves 2 cells at a time over the 4×4 seed example, and "
        "max pooling keeps each window's largest value: the output is [[8 5] [7 9]].",
        "value", SEED_MATRIX, dict(kernel_size=2, stride=2)),
    LessonStep(
        "Stride and overlap",
        "The stride is how far the window moves. With a 3×3 window and stride 2 (AlexNet's "
        "choice) neighbouring windows share a row or a column: they overlap, and a 7×7 "
        "input gives a 3×3 output.",
        "size", _matrix(7, 1), dict(kernel_size=3, stride=2)),
    LessonStep(
        "Padding",
        "Padding adds a ring of cells around the input so that windows can sit on the "
        "border. For max pooling a padded cell counts as −∞, so it never wins. PyTorch "
        "allows at most half the kernel: padding ≤ kernel_size // 2.",
        "value", _matrix(6, 2), dict(kernel_size=3, stride=2, padding=1)),
    LessonStep(
        "The output-size formula",
        "Every axis follows one formula: out = floor((n + 2p − d·(k − 1) − 1) / s) + 1. "
        "With n = 7, k = 3, s = 2, p = 1 and d = 1 that is floor(6 / 2) + 1 = 4.",
        "size", _matrix(7, 3), dict(kernel_size=3, stride=2, padding=1)),
    LessonStep(
        "Floor or ceil",
        "With 5 rows, a 2×2 window and stride 2, floor((5 − 2) / 2) + 1 = 2 windows fit and "
        "the last row is never read. ceil_mode=True rounds up and adds a window that hangs "
        "over the edge, but only if it starts inside the input or the left padding (the "
        "clip rule).",
        "unread", _matrix(5, 4), dict(kernel_size=2, stride=2)),
    LessonStep(
        "Dilation",
        "Dilation spreads a window's cells apart: a 2×2 window with dilation 2 reads cells "
        "two apart and spans d·(k − 1) + 1 = 3 cells per axis, so fewer windows fit: with "
        "stride 1 a 6×6 input gives 4×4.",
        "winner", _matrix(6, 5), dict(kernel_size=2, stride=1, dilation=2)),
    LessonStep(
        "Average pooling and the padding in its divisor",
        "Average pooling divides each window's sum by a divisor. PyTorch counts the padded "
        "cells (count_include_pad=True: a corner window of a 3×3 kernel divides by 9); "
        "TensorFlow and Keras count only the real cells (the same corner divides by 4).",
        "value", _matrix(6, 6), dict(kernel_size=3, stride=2, padding=1, mode="avg",
                                     count_include_pad=True), compare_divisors=True),
    LessonStep(
        "TensorFlow's SAME and PyTorch's padding",
        "TensorFlow's padding='SAME' pads just enough for out = ceil(n / s): here ceil(6 / 2) "
        "= 3. That takes one cell of padding, and SAME puts it at the bottom/right; PyTorch "
        "has no SAME for pooling, and its padding=1 pads both sides.",
        "value", _matrix(6, 7), dict(kernel_size=3, stride=2, padding="same",
                                     check_half_kernel=False)),
    LessonStep(
        "Global and adaptive pooling",
        "Adaptive pooling fixes the output size and works out the windows: 7 rows into 3 "
        "bins gives rows 0–2, 2–4 and 4–6, which overlap. Global pooling is the 1×1 case, "
        "one window over the whole input, as in the head of a ResNet.",
        "value", _matrix(7, 8), dict(mode="max"), output_size=(3, 3), figure="adaptive"),
    LessonStep(
        "Backprop through max",
        "While a network trains, the gradient flows back through the layer. Max pooling "
        "sends each output's whole gradient to the one cell that won its window (the first "
        "at a tie); every other cell gets 0, and overlapping windows add their shares.",
        "gradient", _matrix(6, 9), dict(kernel_size=2, stride=2), figure="backward"),
)


def step_figures(step: LessonStep) -> list:
    """The step's live figures (Plotly), from the same builders as the other pages."""
    if step.figure == "adaptive":
        return [figures.adaptive_figure(step.x, step.output_size,
                                        step.kwargs.get("mode", "max"))]
    if step.figure == "backward":
        out = pool2d(step.x, **step.kwargs)
        return [figures.backward_figure(step.x, step.kwargs, np.ones(out.shape))]
    shown = [figures.animation_figure(step.x, step.kwargs)[0]]
    if step.compare_divisors:
        both = [dict(values=pool2d(step.x, **{**step.kwargs, "count_include_pad": cip}),
                     title=f"count_include_pad={cip}") for cip in (True, False)]
        shown.append(figures.panels_figure(both))
    return shown
