"""Quiz questions made from the core's own functions: generated, checked and explained.

No Streamlit: :mod:`ui.quiz` draws them. A :class:`Case` is what a page shows (an input
and its pooling arguments, or an adaptive pooling); :func:`generate` turns it into a
:class:`Question` of one of the :data:`KINDS`, with a seeded ``numpy`` generator.
Every answer is computed by ``pooling_core`` (``plan_axes``, ``pool_nd``,
``pool_nd_backward``, ``explain_axes``, ``adaptive_pool_nd``), never written down, and
every explanation quotes the core's working (the formula with the numbers, the window's
values, the rule in one sentence).

The generator prefers the settings and cells where learners slip (:data:`TRAPS`): a
last row dropped by the floor rounding, ceil mode's clip rule, padding larger than
half the kernel (refused), TensorFlow's SAME putting its odd cell at the bottom/right,
dilation widening the window, windows that read padding, ties for the max.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pooling_core import (adaptive_bins, adaptive_pool_nd, explain_axes, geometry_kwargs,
                          plan_axes, pool_nd, pool_nd_backward)
from ui.figures import animation_steps, fmt

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
TRAP_WEIGHT = 3.0  # a candidate with t traps is drawn with weight 1 + 3t
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
    def adaptive(cls, x, output_size, mode="max", label="adaptive pooling") -> "Case":
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


def _axes_text(values) -> str:
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
        pad_text = f"padding {_axes_text(pad)}"
    else:
        pad_text = "padding " + ", ".join(f"{a}/{b}" for a, b in pad) + " (before/after)"
    parts = [f"{where}{shape} input", f"{kw.get('mode', 'max')} pooling", f"kernel {_axes_text(k)}",
             f"stride {_axes_text(s)}", pad_text]
    if any(v > 1 for v in d):
        parts.append(f"dilation {_axes_text(d)}")
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


def _valid(case: Case) -> bool:
    try:
        plan_axes(case.x.shape[-case.ndim:], **geometry_kwargs(case.kwargs))
    except ValueError:
        return False
    return True


def _plans(case: Case):
    return plan_axes(case.x.shape[-case.ndim:], **geometry_kwargs(case.kwargs))


def _weighted_pick(rng, weights) -> int:
    w = np.asarray(weights, dtype=float)
    return int(rng.choice(w.size, p=w / w.sum()))


def _with(case: Case, **changes) -> Case:
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


# ----------------------------------------------------------------------------- kinds


def _size_variants(case: Case):
    """The current settings and variants that change the answer in instructive ways."""
    kw, nd = case.kwargs, case.ndim
    k = kw["kernel_size"]
    k = (k,) * nd if isinstance(k, int) else tuple(k)
    d = kw.get("dilation", 1)
    d = (d,) * nd if isinstance(d, int) else tuple(d)
    yield "", case
    if not isinstance(kw.get("padding", 0), str):
        yield (f"with ceil_mode={not kw.get('ceil_mode', False)} instead",
               _with(case, ceil_mode=not kw.get("ceil_mode", False)))
        yield ("with padding one more than half the kernel",
               _with(case, padding=tuple(v // 2 + 1 for v in k), check_half_kernel=True))
    if kw.get("padding") != "same":
        yield ("with TensorFlow's padding='SAME' instead",
               _with(case, padding="same", check_half_kernel=False, ceil_mode=False))
    yield (f"with dilation {_axes_text(v + 1 for v in d)} instead",
           _with(case, dilation=tuple(v + 1 for v in d)))
    shape = case.x.shape[-nd:]
    for extra in (1, 2):
        bigger = np.zeros(case.x.shape[:-nd] + tuple(n + extra for n in shape))
        yield f"on a {'×'.join(str(n + extra) for n in shape)} input instead", \
            replace(case, x=bigger)


def _size_traps(case: Case, plans) -> tuple[str, ...]:
    if plans is None:
        return ("refused",)
    traps = []
    ex = explain_axes(case.x.shape[-case.ndim:], **geometry_kwargs(case.kwargs))
    if any(e.clipped for e in ex):
        traps.append("clip")
    if any(p.read_counts[-1] == 0 for p in plans):
        traps.append("dropped")
    if any(p.padding_kind == "same" and p.pad_after > p.pad_before for p in plans):
        traps.append("same_odd")
    if any(p.dilation > 1 for p in plans):
        traps.append("dilation")
    return tuple(traps)


def _size_question(case: Case, label: str, ask_unread: bool = False) -> Question:
    try:
        plans = _plans(case)
    except ValueError as exc:
        plans, error = None, str(exc)
    traps = _size_traps(case, plans)
    axes = case.axes
    what_if = f"What if — {label}? " if label else ""
    if ask_unread:
        prompt = (f"{what_if}{describe(case)}: how many input "
                  f"{' and '.join(_axis_word(a) for a in axes)} does no window ever read?")
    else:
        prompt = (f"{what_if}{describe(case)}: what is the output size "
                  f"{' × '.join(a + '_out' for a in axes)}? (Or does PyTorch refuse these "
                  f"settings?)")
    if plans is None:
        return Question("size", prompt, None, "refused (the core, like PyTorch, raises an error)",
                        (error,), "PyTorch requires padding ≤ kernel_size // 2 on each side, "
                        "so a half-window of padding at most.", case, traps=traps)
    ex = explain_axes(case.x.shape[-case.ndim:], **geometry_kwargs(case.kwargs))
    lines = [f"{a}: {e.substituted_text}" for a, e in zip(axes, ex)]
    lines += [f"{a}: {note}" for a, e in zip(axes, ex) for note in e.notes]
    if ask_unread:
        answer = tuple(int((p.read_counts == 0).sum()) for p in plans)
        text = ", ".join(f"{n} {_axis_word(a, n)}" for a, n in zip(axes, answer))
        if any(p.stride > p.span and (p.read_counts == 0).any() for p in plans):
            traps = traps + ("skipped",)
        rule = ("A cell is read when some window covers it: the floor rounding leaves out the "
                "last cells when n + padding − span is not a multiple of the stride, and a "
                "stride longer than the window skips the cells between windows.")
        if not any(answer):
            lines.append("Every input cell is read by at least one window.")
        return Question("unread", prompt, answer, text, tuple(lines), rule, case,
                        marked=_unread_cells(plans), traps=traps)
    answer = tuple(p.out for p in plans)
    rule = ex[0].general_text + ", on each axis"
    if any(p.padding_kind in ("same", "same_lower") for p in plans):
        rule = ("TensorFlow's SAME gives out = ceil(n / s) and pads just enough for that, the "
                "odd cell at the bottom/right.")
    elif case.kwargs.get("ceil_mode"):
        rule += "; in ceil mode the last window must still start inside the input or the left padding"
    return Question("size", prompt, answer, " × ".join(map(str, answer)), tuple(lines),
                    rule + ".", case, marked=_unread_cells(plans), traps=traps)


def _axis_word(axis: str, n: int = 2) -> str:
    word = {"H": "rows", "W": "columns", "D": "slices", "L": "samples"}[axis]
    return word[:-1] if n == 1 else word


def _unread_cells(plans) -> tuple:
    if len(plans) != 2:
        return ()
    ph, pw = plans
    r = np.flatnonzero(ph.read_counts == 0)
    c = np.flatnonzero(pw.read_counts == 0)
    cells = {(int(i), int(j)) for i in r for j in range(pw.n)}
    cells |= {(int(i), int(j)) for i in range(ph.n) for j in c}
    return tuple(sorted(cells))


def _cell_weights(case: Case, plans, x, out) -> np.ndarray:
    """Per output cell, 1 + TRAP_WEIGHT × its traps; 0 for a window of padding only."""
    pads = [(~p.inside).any(axis=1) for p in plans]
    last = [np.arange(p.out) == p.out - 1 for p in plans]
    edge = [lst & (p.extra_after > 0) for lst, p in zip(last, plans)]
    grids = np.meshgrid(*[np.arange(p.out) for p in plans], indexing="ij")
    traps = np.zeros(out.shape)
    for axis, g in enumerate(grids):
        traps += pads[axis][g] + edge[axis][g]
    empty = np.zeros(out.shape, dtype=bool)
    for axis, g in enumerate(grids):
        empty |= ~plans[axis].inside.any(axis=1)[g]
    return np.where(empty | ~np.isfinite(out), 0.0, 1.0 + TRAP_WEIGHT * traps)


def _window(case: Case, plans, cell):
    """The taps (padding included) and the real cells of output ``cell``'s window."""
    taps = [p.starts[i] + np.arange(p.kernel) * p.dilation for p, i in zip(plans, cell)]
    grid = np.stack(np.meshgrid(*taps, indexing="ij"), -1).reshape(-1, len(plans))
    real = [tuple(int(v) for v in t) for t in grid
            if all(0 <= v < p.n for v, p in zip(t, plans))]
    return tuple(tuple(int(v) for v in t) for t in grid), tuple(real)


def _out_name(cell) -> str:
    return "out[" + ", ".join(map(str, cell)) + "]"


def _pick_cell(case: Case, rng, weights, avoid_cells=()) -> tuple | None:
    w = np.array(weights, dtype=float)
    for cell in avoid_cells:
        if all(0 <= c < n for c, n in zip(cell, w.shape)):
            w[cell] = 0
    if w.sum() <= 0:
        w = np.array(weights, dtype=float)
    if w.sum() <= 0:
        return None
    flat = _weighted_pick(rng, w.ravel())
    return tuple(int(v) for v in np.unravel_index(flat, w.shape))


def _caption(case: Case, cell) -> str:
    x2, kw2 = as_2d(case)
    row = cell[0] if case.ndim == 2 else 0
    col = cell[-1]
    caption = animation_steps(x2, kw2, row=row)[col].caption
    return caption if case.ndim == 2 else caption.replace(f"out[0, {col}]", f"out[{col}]")


def _value_question(case: Case, rng, avoid_cells) -> Question | None:
    x = np.asarray(case.x, dtype=float)
    if case.output_size is not None:
        mode = case.kwargs["mode"]
        out = adaptive_pool_nd(x, 2, case.output_size, mode)
        cell = _pick_cell(case, rng, np.ones(out.shape), avoid_cells)
        (r0, r1), (c0, c1) = (adaptive_bins(n, o) for n, o in zip(x.shape, case.output_size))
        i, j = cell
        rows, cols = range(r0[i], r1[i]), range(c0[j], c1[j])
        window = tuple((r, c) for r in rows for c in cols)
        values = ", ".join(fmt(x[r, c]) for r, c in window)
        value = float(out[cell])
        lines = (f"Row bin {i}: rows {r0[i]}–{r1[i] - 1}; column bin {j}: columns "
                 f"{c0[j]}–{c1[j] - 1}.", f"{_out_name(cell)} = {mode}({values}) = {fmt(value)}")
        prompt = (f"{describe(case)}: what is {_out_name(cell)}? (Its bin is outlined.)")
        return Question("value", prompt, value, fmt(value), lines, RULES["adaptive"], case,
                        cell, window, window)
    plans = _plans(case)
    out = pool_nd(x, case.ndim, **case.kwargs)
    cell = _pick_cell(case, rng, _cell_weights(case, plans, x, out), avoid_cells)
    if cell is None:
        return None
    taps, real = _window(case, plans, cell)
    traps = tuple(t for t, on in (("padding", len(real) < len(taps)),
                                  ("dilation", any(p.dilation > 1 for p in plans))) if on)
    value = float(out[cell])
    mode = case.kwargs.get("mode", "max")
    prompt = f"{describe(case)}: what is {_out_name(cell)}? (Its window is outlined.)"
    return Question("value", prompt, value, fmt(value), (_caption(case, cell),),
                    RULES.get(mode, ""), case, cell, taps, real, traps)


def _picking(case: Case) -> tuple[Case, str]:
    """The case with a mode that picks one cell (max unless it already picks), and a
    note for the prompt when it was changed."""
    mode = case.kwargs.get("mode", "max")
    if mode in PICKING:
        return case, ""
    kw = {k: v for k, v in case.kwargs.items() if k not in ("p", "rng", "training")}
    return replace(case, kwargs={**kw, "mode": "max"}), " with max pooling instead of " + mode


def _winner_question(case: Case, rng, avoid_cells) -> Question | None:
    case, note = _picking(case)
    x = np.asarray(case.x, dtype=float)
    plans = _plans(case)
    out, idx = pool_nd(x, 2, return_indices=True, **case.kwargs)
    weights = _cell_weights(case, plans, x, out)
    ties = np.zeros(out.shape)
    for cell in zip(*np.nonzero(weights)):
        _, real = _window(case, plans, cell)
        ties[cell] = sum(x[r, c] == out[cell] for r, c in real) > 1
    cell = _pick_cell(case, rng, weights + TRAP_WEIGHT * ties * (weights > 0), avoid_cells)
    if cell is None:
        return None
    taps, real = _window(case, plans, cell)
    winner = tuple(int(v) for v in divmod(int(idx[cell]), x.shape[1]))
    mode = case.kwargs["mode"]
    traps = tuple(t for t, on in (("tie", bool(ties[cell])), ("padding", len(real) < len(taps)),
                                  ("dilation", plans[0].dilation > 1 or plans[1].dilation > 1))
                  if on)
    prompt = (f"{describe(case)}{note}: which input cell does the {mode} of {_out_name(cell)} "
              f"come from? (Its window is outlined; click the cell.)")
    lines = (_caption(case, cell), f"The {mode} sits at row {winner[0]}, column {winner[1]}.")
    return Question("winner", prompt, winner, cell_label(winner), lines, RULES[mode], case,
                    cell, taps, (winner,), traps)


def _gradient_question(case: Case, rng, avoid_cells) -> Question | None:
    if case.kwargs.get("mode") == "stochastic":
        case, note = _picking(case)
    else:
        note = ""
    x = np.asarray(case.x, dtype=float)
    plans = _plans(case)
    out = pool_nd(x, 2, **case.kwargs)
    cell = _pick_cell(case, rng, _cell_weights(case, plans, x, out), avoid_cells)
    if cell is None:
        return None
    g = np.zeros(out.shape)
    g[cell] = 1.0
    grad = pool_nd_backward(g, x, 2, **case.kwargs)
    cells = tuple((int(r), int(c)) for r, c in zip(*np.nonzero(grad)))
    taps, real = _window(case, plans, cell)
    mode = case.kwargs.get("mode", "max")
    shares = ", ".join(f"{cell_label(c)}: {fmt(grad[c])}" for c in cells[:12])
    lines = (f"With ∂L/∂{_out_name(cell)} = 1 and 0 elsewhere, pool2d_backward gives "
             f"{len(cells)} cell(s) a gradient: {shares or 'none'}{' …' if len(cells) > 12 else ''}.",
             _caption(case, cell))
    traps = tuple(t for t, on in (("padding", len(real) < len(taps)),
                                  ("dilation", any(p.dilation > 1 for p in plans))) if on)
    prompt = (f"{describe(case)}{note}: a gradient of 1 arrives at {_out_name(cell)} only. "
              f"Which input cells receive some of it? (Click them.)")
    return Question("gradient", prompt, frozenset(cells),
                    ", ".join(map(cell_label, cells)) or "none", lines,
                    GRADIENT_RULES.get(mode, ""), case, cell, taps, cells, traps,
                    show_window=False)


def _variant_question(case: Case, rng, avoid, unread: bool) -> Question:
    """A size or unread question on the current settings or a trap variant of them."""
    found, weights = [], []
    for label, variant in _size_variants(case):
        q = _size_question(variant, label, ask_unread=unread)
        if (unread and q.answer is None) or q.key == avoid:
            continue
        found.append(q)
        # traps first; the settings on screen a little more than any one variant
        weights.append(1.0 + TRAP_WEIGHT * len(q.traps) + (2.0 if not label else 0.0))
    return found[_weighted_pick(rng, weights)]


def generate(case: Case, kind: str, rng, last: Question | None = None) -> Question:
    """A question of ``kind`` about ``case``, drawn with ``rng`` (``numpy.random.Generator``
    or a seed); never the same question as ``last``.

    >>> seed = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
    >>> q = generate(Case(seed, dict(kernel_size=2)), "winner", 0)
    >>> q.answer == tuple(int(v) for v in np.argwhere(seed == seed.max())[0]) or q.answer
    True
    """
    if kind not in case.kinds:
        raise ValueError(f"kind={kind!r} is not one of {case.kinds} for this case")
    rng = np.random.default_rng(rng)
    avoid = last.key if last is not None else None
    avoid_cells = (last.highlight,) if last is not None and last.kind == kind and \
        last.highlight is not None else ()
    if kind in ("size", "unread"):
        return _variant_question(case, rng, avoid, kind == "unread")
    build = {"value": _value_question, "winner": _winner_question,
             "gradient": _gradient_question}[kind]
    q = build(case, rng, avoid_cells)
    if q is None or q.key == avoid:  # one window only (or none valid): ask for its size
        return _variant_question(case, rng, avoid, False)
    return q


def check(q: Question, response) -> Verdict:
    """Whether ``response`` answers ``q``, and the feedback's first sentence.

    ``response``: size: a tuple per axis or None (refused); value: a float or text;
    winner: a cell; gradient: cells; unread: a tuple per axis.
    """
    if q.kind == "value":
        r = parse_value(response) if isinstance(response, str) else float(response)
        a = float(q.answer)
        ok = (r == a) if not (np.isfinite(a) and np.isfinite(r)) else abs(r - a) <= VALUE_TOL
    elif q.kind == "gradient":
        ok = frozenset(tuple(int(v) for v in c) for c in response) == q.answer
    elif q.kind == "winner":
        ok = response is not None and tuple(int(v) for v in response) == q.answer
    elif response is None or q.answer is None:
        ok = response is None and q.answer is None
    else:
        ok = tuple(int(v) for v in response) == q.answer
    if ok:
        return Verdict(True, f"Right: {q.answer_text}.")
    return Verdict(False, f"Not quite: the answer is {q.answer_text}.")
