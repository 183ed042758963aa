"""Animated GIF of the sliding window, drawn with Pillow (no browser needed).

Each frame shows the same things as the Plotly animation: the padded input,
the window's cells outlined, the chosen cell, the output filling up, and the
step's caption.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pooling_core import geometry_kwargs, plan_axes

from .figures import Step, fmt, pad_value_text, pooled

CELL = 34
GAP = 40
MARGIN = 12
CAPTION_H = 34


def _font(size=12):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # older Pillow
        return ImageFont.load_default()


def _shade(v, lo, hi):
    t = 0.0 if hi <= lo or not np.isfinite(v) else (v - lo) / (hi - lo)
    t = float(np.clip(t, 0, 1))
    return (int(235 - 170 * t), int(242 - 120 * t), 255)


def animation_gif(x2d, kwargs: dict, steps: list[Step], *, frame_ms: int = 600) -> bytes:
    """GIF bytes with one frame per step (``len(steps)`` frames, at least one)."""
    x2d = np.asarray(x2d, dtype=float)
    ph, pw = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    out = np.asarray(pooled(x2d, kwargs)[0], dtype=float)
    r0, c0 = -ph.pad_before, -pw.pad_before
    nrows, ncols = len(ph.drawn), len(pw.drawn)
    in_w, in_h = ncols * CELL, nrows * CELL
    width = MARGIN * 2 + in_w + GAP + out.shape[1] * CELL
    height = MARGIN * 2 + CAPTION_H + max(in_h, out.shape[0] * CELL)
    finite = np.concatenate([x2d[np.isfinite(x2d)], out[np.isfinite(out)]])
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    font, cap_font = _font(12), _font(14)
    pad_txt = pad_value_text(kwargs)
    ox = MARGIN + in_w + GAP
    top = MARGIN + CAPTION_H

    def cell_box(r, c, x_off):
        x = x_off + c * CELL
        y = top + r * CELL
        return [x, y, x + CELL - 2, y + CELL - 2]

    base = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(base)
    for r in range(nrows):
        for c in range(ncols):
            ir, ic = r + r0, c + c0
            real = 0 <= ir < ph.n and 0 <= ic < pw.n
            in_frame = ir < ph.n + ph.pad_after and ic < pw.n + pw.pad_after
            fill = _shade(x2d[ir, ic], lo, hi) if real else ((200, 200, 200) if in_frame
                                                              else (240, 240, 240))
            box = cell_box(r, c, MARGIN)
            draw.rectangle(box, fill=fill)
            label = fmt(x2d[ir, ic]) if real else (pad_txt if in_frame else "")
            draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), label, fill="black",
                      font=font, anchor="mm")
    frames = []
    shown = np.zeros(out.shape, dtype=bool)
    for step in steps or [None]:
        frame = base.copy()
        d = ImageDraw.Draw(frame)
        if step is not None:
            shown[step.index] = True
            for (r, c) in step.taps:
                d.rectangle(cell_box(r - r0, c - c0, MARGIN), outline=(214, 39, 40), width=3)
            if step.chosen is not None:
                box = cell_box(step.chosen[0] - r0, step.chosen[1] - c0, MARGIN)
                d.rectangle([box[0] + 4, box[1] + 4, box[2] - 4, box[3] - 4],
                            outline=(255, 190, 0), width=3)
            d.text((MARGIN, MARGIN + 8), step.caption, fill="black", font=cap_font)
        for (i, j), v in np.ndenumerate(out):
            box = cell_box(i, j, ox)
            if shown[i, j]:
                t = float(np.clip((v - lo) / (hi - lo), 0, 1)) if hi > lo and np.isfinite(v) else 0
                d.rectangle(box, fill=(255, int(235 - 120 * t), int(210 - 170 * t)))
                d.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), fmt(v), fill="black",
                       font=font, anchor="mm")
            else:
                d.rectangle(box, outline=(200, 200, 200))
        if step is not None:
            d.rectangle(cell_box(*step.index, ox), outline=(214, 39, 40), width=3)
        frames.append(frame.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_ms, loop=0)
    return buf.getvalue()
