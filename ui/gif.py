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

from .figures import (CHOSEN_COLOR, PAD_COLOR, WINDOW_COLOR, Step, fmt, pad_value_text,
                      pooled)

CELL = 34
SMALL_CELL = 24  # grids with more than 16 drawn rows or columns
GAP = 40
MARGIN = 12
CAPTION_H = 34
# GIF frames kept in memory at once by Pillow; the playground's export takes at most this
# many steps (from the frame the animation is opened on)
MAX_GIF_FRAMES = 256
# the figures' colours (ui/figures/common.py: colour-blind safe)
RED, YELLOW, EMPTY = (tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
                      for c in (WINDOW_COLOR, CHOSEN_COLOR, PAD_COLOR))
# characters Pillow's default font has no glyph for, written as it can draw them
PLAIN = str.maketrans({"−": "-", "–": "-", "∞": "inf", "Σ": "sum ", "ᵖ": "^p", "×": "x"})


def _font(size=12):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # older Pillow
        return ImageFont.load_default()


def _shade(v, lo, hi):
    t = 0.0 if hi <= lo or not np.isfinite(v) else (v - lo) / (hi - lo)
    t = float(np.clip(t, 0, 1))
    return (int(235 - 170 * t), int(242 - 120 * t), 255)


def _out_shade(v, lo, hi):
    t = float(np.clip((v - lo) / (hi - lo), 0, 1)) if hi > lo and np.isfinite(v) else 0
    return (255, int(235 - 120 * t), int(210 - 170 * t))


def animation_gif(x2d, kwargs: dict, steps: list[Step], *, frame_ms: int = 600,
                  filled: list[Step] = ()) -> bytes:
    """GIF bytes with one frame per step (``len(steps)`` frames, at least one).

    The picture is drawn once; each frame adds the step's output cell to what
    the previous frames filled in and draws the window, the chosen cell and the
    caption on a copy. All frames share one palette, made once, so a frame costs one
    copy and a few drawings; the GIF stores only what changed from the previous frame
    (Pillow's ``optimize``: unchanged pixels are transparent). ``filled``: steps whose
    output cells are already filled in when the first frame starts (no frames of their
    own: a picture of one late step, :func:`ui.export.step_png`).
    """
    x2d = np.asarray(x2d, dtype=float)
    ph, pw = plan_axes(x2d.shape, **geometry_kwargs(kwargs))
    out = np.asarray(pooled(x2d, kwargs)[0], dtype=float)
    r0, c0 = -ph.pad_before, -pw.pad_before
    nrows, ncols = len(ph.drawn), len(pw.drawn)
    cell = CELL if max(nrows, ncols) <= 16 else SMALL_CELL
    in_w, in_h = ncols * cell, nrows * cell
    width = MARGIN * 2 + in_w + GAP + out.shape[1] * cell
    height = MARGIN * 2 + CAPTION_H + max(in_h, out.shape[0] * cell)
    finite = np.concatenate([x2d[np.isfinite(x2d)], out[np.isfinite(out)]])
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    font, cap_font = _font(12 if cell == CELL else 10), _font(14)
    pad_txt = pad_value_text(kwargs)
    ox = MARGIN + in_w + GAP
    top = MARGIN + CAPTION_H

    def cell_box(r, c, x_off):
        x = x_off + c * cell
        y = top + r * cell
        return [x, y, x + cell - 2, y + cell - 2]

    def label(d, box, text):
        d.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text.translate(PLAIN),
               fill="black", font=font, anchor="mm")

    base = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(base)
    real_r, real_c = ph.drawn_real.tolist(), pw.drawn_real.tolist()
    frame_r, frame_c = ph.drawn_in_frame.tolist(), pw.drawn_in_frame.tolist()
    for r in range(nrows):
        for c in range(ncols):
            ir, ic = r + r0, c + c0
            real = real_r[r] and real_c[c]
            in_frame = frame_r[r] and frame_c[c]
            fill = _shade(x2d[ir, ic], lo, hi) if real else (EMPTY if in_frame
                                                              else (240, 240, 240))
            box = cell_box(r, c, MARGIN)
            draw.rectangle(box, fill=fill)
            label(draw, box, fmt(x2d[ir, ic]) if real else (pad_txt if in_frame else ""))
    every = base.copy()  # every output cell filled in: frames copy theirs from here
    done = ImageDraw.Draw(every)
    for (i, j), v in np.ndenumerate(out):
        draw.rectangle(cell_box(i, j, ox), outline=EMPTY)
        box = cell_box(i, j, ox)
        done.rectangle(box, fill=_out_shade(v, lo, hi))
        label(done, box, fmt(v))
    # one palette for all frames: the picture's own colours (Pillow's median cut of the
    # picture with every output cell filled in) and, exactly, the colours drawn on top
    sample = Image.new("RGB", (width, 2 * height), "white")
    sample.paste(base, (0, 0))
    sample.paste(every, (0, height))
    colors = sample.quantize(colors=250, dither=Image.Dither.NONE).getpalette()[:250 * 3]
    palette = Image.new("P", (1, 1))
    palette.putpalette(colors + [*RED, *YELLOW, 0, 0, 0, 255, 255, 255])

    canvas = base.copy()

    def fill(step):  # the step's output cell, from the picture with every cell filled
        box = cell_box(*step.index, ox)
        canvas.paste(every.crop((box[0], box[1], box[2] + 1, box[3] + 1)), (box[0], box[1]))
    for step in filled:
        fill(step)
    frames = []
    for step in steps or [None]:
        if step is not None:
            fill(step)
        frame = canvas.copy()
        d = ImageDraw.Draw(frame)
        if step is not None:
            for (r, c) in step.taps:
                d.rectangle(cell_box(r - r0, c - c0, MARGIN), outline=RED, width=3)
            if step.chosen is not None:
                box = cell_box(step.chosen[0] - r0, step.chosen[1] - c0, MARGIN)
                d.rectangle([box[0] + 4, box[1] + 4, box[2] - 4, box[3] - 4],
                            outline=YELLOW, width=3)
            d.text((MARGIN, MARGIN + 8), step.caption.translate(PLAIN), fill="black",
                   font=cap_font)
            d.rectangle(cell_box(*step.index, ox), outline=RED, width=3)
        frames.append(frame.quantize(palette=palette, dither=Image.Dither.NONE))
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_ms, loop=0, optimize=True)
    return buf.getvalue()
