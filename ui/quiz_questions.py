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

from dataclasses import replace

import numpy as np

from pooling_core import (adaptive_bins, adaptive_pool_nd, coverage, explain_axes,
                          geometry_kwargs, plan_axes, pool_nd, pool_nd_backward, window_cells)
from ui.figures import animation_steps, fmt
from ui.quiz_model import (FORMS, GRADIENT_RULES, KINDS, PICKING, RULES, TRAP_WEIGHT, TRAPS,
                           VALUE_TOL, Case, Question, Verdict, as_2d, axes_text, cell_label,
                           describe, parse_value, plans_of, weighted_pick, with_kwargs)

__all__ = ["FORMS", "KINDS", "TRAPS", "Case", "Question", "Verdict", "as_2d", "cell_label",
           "check", "describe", "generate", "parse_value"]

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
               with_kwargs(case, ceil_mode=not kw.get("ceil_mode", False)))
        yield ("with padding one more than half the kernel",
               with_kwargs(case, padding=tuple(v // 2 + 1 for v in k), check_half_kernel=True))
    if kw.get("padding") != "same":
        yield ("with TensorFlow's padding='SAME' instead",
               with_kwargs(case, padding="same", check_half_kernel=False, ceil_mode=False))
    yield (f"with dilation {axes_text(v + 1 for v in d)} instead",
           with_kwargs(case, dilation=tuple(v + 1 for v in d)))
    shape = case.x.shape[-nd:]
    for extra in (1, 2):
        bigger = np.zeros(case.x.shape[:-nd] + tuple(n + extra for n in shape))
        size = "×".join(str(n + extra) for n in shape) + ("-sample" if nd == 1 else "")
        yield f"on a {size} input instead", replace(case, x=bigger)


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
        plans = plans_of(case)
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
        rule = ("PyTorch requires padding ≤ kernel_size // 2 on each side, so a half-window "
                "of padding at most." if "half of kernel_size" in error else
                "A window spans d·(k − 1) + 1 cells, and it must fit in the input plus its "
                "padding, or the output would be empty.")
        return Question("size", prompt, None, "refused (the core, like PyTorch, raises an error)",
                        (error,), rule, case, traps=traps)
    shape, geometry = case.x.shape[-case.ndim:], geometry_kwargs(case.kwargs)
    ex, cov = explain_axes(shape, **geometry), coverage(shape, **geometry)
    lines = [f"{a}: {e.substituted_text}" for a, e in zip(axes, ex)]
    lines += [f"{a}: {note}" for a, e in zip(axes, ex) for note in e.notes]
    if ask_unread:
        answer = _unread_lines(cov)
        text = ", ".join(f"{n} {_axis_word(a, n)}" for a, n in zip(axes, answer))
        for a, p in zip(axes, plans):
            if not p.read_counts.any():
                lines.append(f"{a}: every window reads padding only, so no window reads any "
                             f"input cell, on any axis.")
        if any(p.stride > p.span and (p.read_counts == 0).any() for p in plans):
            traps = traps + ("skipped",)
        rule = ("A cell is read when some window covers it: the floor rounding leaves out the "
                "last cells when n + padding − span is not a multiple of the stride, and a "
                "stride longer than the window skips the cells between windows.")
        if not any(answer):
            lines.append("Every input cell is read by at least one window.")
        return Question("unread", prompt, answer, text, tuple(lines), rule, case,
                        window=_last_window(case, plans), marked=_unread_cells(cov),
                        traps=traps, show_window=False)
    answer = tuple(p.out for p in plans)
    rule = ex[0].general_text + ", on each axis"
    if any(p.padding_kind in ("same", "same_lower") for p in plans):
        rule = ("TensorFlow's SAME gives out = ceil(n / s) and pads just enough for that, the "
                "odd cell at the bottom/right.")
    elif case.kwargs.get("ceil_mode"):
        rule += "; in ceil mode the last window must still start inside the input or the left padding"
    return Question("size", prompt, answer, " × ".join(map(str, answer)), tuple(lines),
                    rule + ".", case, window=_last_window(case, plans),
                    marked=_unread_cells(cov), traps=traps, show_window=False)


def _last_window(case: Case, plans) -> tuple:
    """The taps of the last window (bottom-right), drawn once the size is answered."""
    if case.ndim > 2:
        return ()
    return _window(case, plans, tuple(p.out - 1 for p in plans))[0]


def _axis_word(axis: str, n: int = 2) -> str:
    word = {"H": "rows", "W": "columns", "D": "slices", "L": "samples"}[axis]
    return word[:-1] if n == 1 else word


def _unread_lines(cov: np.ndarray) -> tuple[int, ...]:
    """Per axis, how many input lines (rows, columns, ...) no window reads, from the
    core's :func:`~pooling_core.coverage`: a line is unread when none of its cells is read
    (where one axis's windows read padding only, that is every line of every axis)."""
    return tuple(int(np.count_nonzero(~cov.any(axis=tuple(b for b in range(cov.ndim) if b != a))))
                 for a in range(cov.ndim))


def _unread_cells(cov: np.ndarray) -> tuple:
    """The 2-D input's cells no window reads, row by row (none marked in 1-D or 3-D)."""
    if cov.ndim != 2:
        return ()
    return tuple(map(tuple, np.argwhere(cov == 0).tolist()))


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
        if len(cell) == w.ndim and all(0 <= c < n for c, n in zip(cell, w.shape)):
            w[cell] = 0
    if w.sum() <= 0:
        w = np.array(weights, dtype=float)
    if w.sum() <= 0:
        return None
    flat = weighted_pick(rng, w.ravel())
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
        mode = case.kwargs.get("mode", "max")
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
    plans = plans_of(case)
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
    plans = plans_of(case)
    out, idx = pool_nd(x, 2, return_indices=True, **case.kwargs)
    weights = _cell_weights(case, plans, x, out)
    wc = window_cells(x.shape, **geometry_kwargs(case.kwargs))
    rows = np.clip(wc.coords[..., 0], 0, x.shape[0] - 1)
    cols = np.clip(wc.coords[..., 1], 0, x.shape[1] - 1)
    hits = wc.inside & (x[rows, cols] == out[..., None, None])
    ties = (hits.sum(axis=(-2, -1)) > 1).astype(float)
    cell = _pick_cell(case, rng, weights + TRAP_WEIGHT * ties * (weights > 0), avoid_cells)
    if cell is None:
        return None
    taps, real = _window(case, plans, cell)
    winner = tuple(int(v) for v in divmod(int(idx[cell]), x.shape[1]))
    mode = case.kwargs.get("mode", "max")
    traps = tuple(t for t, on in (("tie", bool(ties[cell])), ("padding", len(real) < len(taps)),
                                  ("dilation", plans[0].dilation > 1 or plans[1].dilation > 1))
                  if on)
    tied = tuple(c for c in real if c != winner and x[c] == x[winner]) if mode == "median" \
        else ()  # which of equal values is "the" median is a convention: any is right
    prompt = (f"{describe(case)}{note}: which input cell does the {mode} of {_out_name(cell)} "
              f"come from? (Its window is outlined; click the cell.)")
    lines = (_caption(case, cell), f"The {mode} sits at row {winner[0]}, column {winner[1]}.")
    return Question("winner", prompt, winner, cell_label(winner), lines, RULES[mode], case,
                    cell, taps, (winner,), traps, also_right=tied)


def _gradient_question(case: Case, rng, avoid_cells) -> Question | None:
    if case.kwargs.get("mode") == "stochastic":
        case, note = _picking(case)
    else:
        note = ""
    x = np.asarray(case.x, dtype=float)
    plans = plans_of(case)
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
        # traps first, then the settings on screen, then variants without a trap
        weights.append(1.0 + TRAP_WEIGHT * len(q.traps) if q.traps else 2.0 if not label
                       else 0.5)
    return found[weighted_pick(rng, weights)]


def generate(case: Case, kind: str, rng, last: Question | None = None) -> Question:
    """A question of ``kind`` about ``case``, drawn with ``rng`` (``numpy.random.Generator``
    or a seed); never the same question as ``last``.

    >>> seed = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
    >>> q = generate(Case(seed, dict(kernel_size=2)), "winner", 0)
    >>> bool(seed[q.answer] == pool_nd(seed, 2, 2)[q.highlight])  # the window's max
    True
    >>> generate(Case(seed, dict(kernel_size=2)), "size", 1, last=q).kind
    'size'
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
        ok = response is not None and (tuple(int(v) for v in response) == q.answer
                                       or tuple(int(v) for v in response) in q.also_right)
    elif response is None or q.answer is None:
        ok = response is None and q.answer is None
    else:
        ok = tuple(int(v) for v in response) == q.answer
    if ok:
        return Verdict(True, f"Right: {q.answer_text}.")
    return Verdict(False, f"Not quite: the answer is {q.answer_text}.")
