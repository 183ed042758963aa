"""The output-size formula, written out with the user's own numbers."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_length, known_options
from .geometry import PLAN_OPTIONS, AxisPlan, _axis_out, plan_axes

__all__ = ["OutputSizeExplanation", "explain_output_size", "explain_axes"]


@dataclass(frozen=True)
class OutputSizeExplanation:
    """One axis's output size, and why.

    Attributes
    ----------
    out : the output length.
    general_latex, general_text : the formula with letters.
    substituted_latex, substituted_text : the same with the numbers, step by step.
    rounding : ``'floor'`` or ``'ceil'``.
    clipped : the ceil-mode rule removed a last window that would start in the
        right padding or beyond.
    unread : input positions (0-based) that no window reads.
    pad_before, pad_after : padding on each side as applied.
    padding_kind : ``'symmetric'``, ``'explicit'``, ``'same'``, ``'same_lower'`` or ``'valid'``.
    same_out, valid_out : what TensorFlow's 'SAME' and 'VALID' would give.
    notes : plain sentences for the UI (the clip rule, dropped cells, ...).
    """

    out: int
    general_latex: str
    general_text: str
    substituted_latex: str
    substituted_text: str
    rounding: str
    clipped: bool
    unread: tuple[int, ...]
    pad_before: int
    pad_after: int
    padding_kind: str
    same_out: int
    valid_out: int | None
    notes: tuple[str, ...]


def explain_output_size(n: int, kernel_size: int, stride=None, padding=0, dilation: int = 1,
                        ceil_mode: bool = False, *, ceil_clip: bool = True,
                        check_half_kernel: bool = True) -> OutputSizeExplanation:
    r"""Explain the output length of one axis.

    Parameters
    ----------
    n : input length.
    kernel_size, stride, dilation : ints (``stride=None`` means ``kernel_size``).
    padding : int, ``(before, after)``, ``'same'``, ``'same_lower'`` or ``'valid'``.
    ceil_mode, ceil_clip, check_half_kernel : as :func:`~pooling_core.pool2d`.

    Returns
    -------
    OutputSizeExplanation

    Examples
    --------
    >>> e = explain_output_size(4, 2)
    >>> e.out, e.substituted_text
    (2, 'floor((4 + 2·0 - 1·(2 - 1) - 1) / 2) + 1 = floor(2 / 2) + 1 = 1 + 1 = 2')
    >>> explain_output_size(5, 2).unread
    (4,)
    >>> explain_output_size(32, 1, 2, ceil_mode=True).clipped
    True
    """
    check_length(n)
    if isinstance(padding, (tuple, list)) and len(padding) == 2:  # (before, after)
        padding = (tuple(padding),)
    plan = plan_axes((n,), kernel_size, stride, padding, dilation, ceil_mode,
                     ceil_clip=ceil_clip, check_half_kernel=check_half_kernel)[0]
    return _explain_plan(plan, ceil_mode, ceil_clip)


def explain_axes(spatial_shape, kernel_size, stride=None, padding=0, dilation=1,
                 ceil_mode=False, **plan_kwargs) -> tuple[OutputSizeExplanation, ...]:
    """:func:`explain_output_size` for every axis at once, from ``pool2d``-style arguments.

    >>> [e.out for e in explain_axes((4, 5), 2)]
    [2, 2]
    """
    plans = plan_axes(spatial_shape, kernel_size, stride, padding, dilation, ceil_mode,
                      **known_options(plan_kwargs, "explain_axes", PLAN_OPTIONS))
    return tuple(_explain_plan(p, ceil_mode, plan_kwargs.get("ceil_clip", True))
                 for p in plans)


def _explain_plan(plan, ceil_mode, ceil_clip) -> OutputSizeExplanation:
    n, kind = plan.n, plan.padding_kind
    k, s, d, pb, pa = plan.kernel, plan.stride, plan.dilation, plan.pad_before, plan.pad_after
    rounding = "ceil" if ceil_mode else "floor"
    numer = n + pb + pa - plan.span
    raw = (numer + (s - 1 if ceil_mode else 0)) // s
    unclipped, _ = _axis_out(n, k, s, d, pb, pa, ceil_mode, False)
    clipped = unclipped != plan.out

    pad_sym = "2p" if kind == "symmetric" else "p_{before} + p_{after}"
    pad_txt = "2p" if kind == "symmetric" else "p_before + p_after"
    general_latex = (rf"\text{{out}} = \left\lfloor \frac{{n + {pad_sym} - d\,(k-1) - 1}}{{s}} "
                     rf"\right\rfloor + 1")
    general_text = f"out = floor((n + {pad_txt} - d·(k - 1) - 1) / s) + 1"
    if ceil_mode:
        general_latex = general_latex.replace(r"\lfloor", r"\lceil").replace(r"\rfloor", r"\rceil")
        general_text = general_text.replace("floor", "ceil")
    lo, hi = (r"\lceil", r"\rceil") if ceil_mode else (r"\lfloor", r"\rfloor")
    pads_num = f"2·{pb}" if kind == "symmetric" else f"{pb} + {pa}"
    pads_tex = rf"2\cdot{pb}" if kind == "symmetric" else f"{pb} + {pa}"
    substituted_text = (f"{rounding}(({n} + {pads_num} - {d}·({k} - 1) - 1) / {s}) + 1 = "
                        f"{rounding}({numer} / {s}) + 1 = {raw} + 1 = {raw + 1}")
    last = rf"{raw} + 1 = {raw + 1}" + (rf" \;\to\; {plan.out}" if clipped else "")
    substituted_latex = (  # two rows, so it fits a narrow column
        rf"\begin{{aligned}}&\left{lo} \frac{{{n} + {pads_tex} - {d}\cdot({k}-1) - 1}}{{{s}}} "
        rf"\right{hi} + 1 \\ &= \left{lo} \frac{{{numer}}}{{{s}}} \right{hi} + 1 = {last}"
        rf"\end{{aligned}}")
    notes = []
    if clipped:
        substituted_text += f" → {plan.out} (clip rule)"
        notes.append(
            f"ceil_mode: window {raw} would start at {(raw) * s - pb}, past the input and left "
            f"padding (n + p_before = {n + pb}), so it is dropped: out = {plan.out}."
        )
    unread = tuple(int(i) for i in np.flatnonzero(plan.read_counts == 0))
    if unread:
        notes.append(
            f"{len(unread)} input position(s) {list(unread)[:8]}{'…' if len(unread) > 8 else ''} "
            f"are never read by any window: their values cannot affect the output."
        )
    if kind in ("same", "same_lower"):
        notes.append(
            f"{kind.upper()}: out = ceil(n / s) = ceil({n} / {s}) = {plan.out}; total padding "
            f"max((out - 1)·s + (k - 1)·d + 1 - n, 0) = {pb + pa}, {pb} before and {pa} after"
            f" (the odd cell {'after' if kind == 'same' else 'before'})."
        )
    same_out = AxisPlan.same_out(n, s)
    valid_out, _ = _axis_out(n, k, s, d, 0, 0, False, True)
    return OutputSizeExplanation(
        out=plan.out, general_latex=general_latex, general_text=general_text,
        substituted_latex=substituted_latex, substituted_text=substituted_text,
        rounding=rounding, clipped=clipped, unread=unread, pad_before=pb, pad_after=pa,
        padding_kind=kind, same_out=same_out, valid_out=valid_out if valid_out > 0 else None,
        notes=tuple(notes),
    )
