"""What a quiz question is: the kinds, traps and rules, :class:`Case` (what a page shows)
and :class:`Question`, and how settings and answers are written and read. No Streamlit.

:mod:`ui.quiz_questions` makes the questions from the core; :mod:`ui.quiz` draws them.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pooling_core import geometry_kwargs, plan_axes

KINDS = {
    "size": "Output size",
    "value": "Value of an output cell",
    "winner": "Which cell wins the max",
    "gradient": "Which cells get gradient",
    "unread": "Rows/columns no window reads",
}
#: how the learner answers each kind: a number per axis, one number, one cell, cells
FORMS = {"size": "axes", "value": "number", "winner": "cell", "gradient": "cells",
         "unread": "axes"}
TRAPS = {
    "dropped": "the floor rounding drops the last row/column",
    "clip": "ceil mode's clip rule removes the last window",
    "refused": "padding larger than half the kernel is refused",
    "same_odd": "SAME puts its odd padding cell at the bottom/right",
    "dilation": "dilation widens the window",
    "padding": "the window reads padding",
    "tie": "two cells tie for the max: the first wins",
    "skipped": "a stride longer than the window skips cells",
}
TRAP_WEIGHT = 4.0  # a candidate with t traps is drawn with weight 1 + 4t
VALUE_TOL = 0.01   # a typed value within this of the answer is right (answers show 3 digits)
PICKING = ("max", "min", "median")
RULES = {
    "max": "Max pooling keeps the largest value of each window; padding counts as −∞, so it "
           "never wins, and at a tie the first cell (row by row) wins.",
    "min": "Min pooling keeps the smallest value of each window; padding counts as +∞.",
    "median": "Median pooling keeps the middle value of the window's real cells.",
    "avg": "Average pooling divides the window's sum by its divisor: with count_include_pad "
           "the padded cells count (as 0), without it only the real cells do.",
    "sum": "Sum pooling adds the window's real cells (padding counts as 0).",
    "lp": "Lp pooling takes (Σ xᵖ)^(1/p) over the window.",
    "stochastic": "Stochastic pooling samples one cell of the window (training) or "
                  "weights the cells by their size (test time).",
    "adaptive": "Adaptive pooling gives bin i of n cells into out the cells "
                "floor(i·n/out) to ceil((i+1)·n/out) − 1.",
}
GRADIENT_RULES = {
    "max": "The backward pass of max sends the whole gradient to the one cell that won "
           "the window (the first at a tie); every other cell gets 0.",
    "min": "The backward pass of min sends the whole gradient to the one cell that won.",
    "median": "The backward pass of median sends the whole gradient to the median cell.",
    "avg": "The backward pass of average gives every real cell of the window g / divisor; "
           "padded cells take their share too, and it is thrown away.",
    "sum": "The backward pass of sum copies g to every real cell of the window.",
    "lp": "The backward pass of Lp gives cell x g·(x/out)^(p−1): a 0 cell gets nothing.",
}


@dataclass(frozen=True, eq=False)
class Case:
    """What a page shows: ``x`` pooled on its last ``ndim`` axes with ``kwargs``
    (``pool_nd`` keyword arguments), or adaptive pooling to ``output_size``."""

    x: np.ndarray
    kwargs: dict = field(default_factory=dict)
    ndim: int = 2
    label: str = ""
    output_size: tuple | None = None  # adaptive pooling when set (kwargs: {"mode": ...})

    @classmethod
    def adaptive(cls, x, output_size, mode="max", label="") -> "Case":
        return cls(np.asarray(x), {"mode": mode}, 2, label, tuple(int(n) for n in output_size))

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of question this case can ask."""
        if self.output_size is not None:
            return ("value",)
        return {1: ("size", "value", "unread"), 2: tuple(KINDS)}.get(self.ndim,
                                                                   ("size", "unread"))

    @property
    def axes(self) -> tuple[str, ...]:
        return ("L",) if self.ndim == 1 else ("D", "H", "W")[-self.ndim:]

    @property
    def signature(self) -> tuple:
        """Equal for equal cases (what a page keeps its question for)."""
        return (self.ndim, self.x.shape, np.asarray(self.x, float).tobytes(),
                repr(sorted(self.kwargs.items())), self.output_size)


@dataclass(frozen=True, eq=False)
class Question:
    """One question and everything needed to check and explain it.

    ``answer``: size: a tuple per axis, or None when the core refuses the settings;
    value: a float; winner: an input cell ``(row, col)``; gradient: a frozenset of
    cells; unread: a tuple per axis. ``highlight``: the output cell asked about;
    ``window``: the input cells (padding included) its window reads, drawn on the
    figure; ``marked``: the cells that answer it (shown once answered).
    """

    kind: str
    prompt: str
    answer: object
    answer_text: str
    explanation: tuple[str, ...]
    rule: str
    case: Case
    highlight: tuple | None = None
    window: tuple = ()
    marked: tuple = ()
    traps: tuple[str, ...] = ()
    show_window: bool = True
    also_right: tuple = ()  # other answers taken as right (a median's tied cells)

    @property
    def form(self) -> str:
        return FORMS[self.kind]

    @property
    def key(self) -> tuple:
        """Two questions with the same key ask the same thing."""
        return (self.kind, self.prompt)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    message: str


# ----------------------------------------------------------------------------- describing


def axes_text(values) -> str:
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def describe(case: Case) -> str:
    """The settings in words: ``7×7 input, kernel 3, stride 2, padding 1, floor mode``."""
    shape = "×".join(map(str, case.x.shape[-case.ndim:]))
    shape = f"{shape}-sample" if case.ndim == 1 else shape
    where = f"{case.label[0].upper()}{case.label[1:]}: " if case.label else ""
    if case.output_size is not None:
        return (f"{where}{shape} input, adaptive {case.kwargs['mode']} pooling to "
                f"{'×'.join(map(str, case.output_size))}")
    kw = case.kwargs
    k = kw["kernel_size"]
    k = (k,) * case.ndim if isinstance(k, int) else k
    s = kw.get("stride") or k
    s = (s,) * case.ndim if isinstance(s, int) else s
    d = kw.get("dilation", 1)
    d = (d,) * case.ndim if isinstance(d, int) else d
    pad = kw.get("padding", 0)
    if isinstance(pad, str):
        pad_text = f"padding '{pad.upper()}'"
    elif isinstance(pad, int):
        pad_text = f"padding {pad}"
    elif all(isinstance(p, int) for p in pad):
        pad_text = f"padding {axes_text(pad)}"
    else:
        pad_text = "padding " + ", ".join(f"{a}/{b}" for a, b in pad) + " (before/after)"
    parts = [f"{where}{shape} input", f"{kw.get('mode', 'max')} pooling", f"kernel {axes_text(k)}",
             f"stride {axes_text(s)}", pad_text]
    if any(v > 1 for v in d):
        parts.append(f"dilation {axes_text(d)}")
    parts.append("ceil_mode=True" if kw.get("ceil_mode") else "floor rounding")
    return ", ".join(parts)


def cell_label(cell) -> str:
    """An input cell as the answer widgets write it: ``(2, 3)``."""
    return "(" + ", ".join(str(int(v)) for v in cell) + ")"


def parse_value(text: str) -> float:
    """A typed value: ``4.5``, ``4,5``, ``-inf``, ``−∞``; ValueError says what to type."""
    t = (text or "").strip().replace("−", "-").replace("∞", "inf").replace(",", ".")
    if not t:
        raise ValueError("Type a number, e.g. 4.5 (or -inf for a window of padding only)")
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"'{text[:20]}' is not a number; type e.g. 4.5 or -inf") from None


# ----------------------------------------------------------------------------- core helpers


def plans_of(case: Case):
    """The core's window plans of a (non-adaptive) case; ValueError when it refuses them."""
    return plan_axes(case.x.shape[-case.ndim:], **geometry_kwargs(case.kwargs))


def weighted_pick(rng, weights) -> int:
    """An index drawn with probability proportional to ``weights``."""
    w = np.asarray(weights, dtype=float)
    return int(rng.choice(w.size, p=w / w.sum()))


def with_kwargs(case: Case, **changes) -> Case:
    """The case with some pooling arguments changed."""
    return replace(case, kwargs={**case.kwargs, **changes})


def as_2d(case: Case) -> tuple[np.ndarray, dict]:
    """A 1-D case as a one-row 2-D one (what the figures and captions draw)."""
    if case.ndim == 2:
        return np.asarray(case.x), case.kwargs
    kw = dict(case.kwargs)
    for key, one in (("kernel_size", 1), ("stride", 1), ("dilation", 1)):
        if kw.get(key) is not None:
            v = kw[key]
            kw[key] = (one, v if isinstance(v, int) else v[0])
    pad = kw.get("padding", 0)
    if not isinstance(pad, str):
        pad = pad if isinstance(pad, int) else pad[0]
        kw["padding"] = ((0, 0), tuple(pad)) if isinstance(pad, tuple) else (0, int(pad))
    return np.asarray(case.x)[None, :], kw
