"""The image lab's pure helpers: pooling a (C, H, W) image, the pyramid, screen views,
the zoom region, mode comparison and download names. No Streamlit calls; the page
``pages/image_lab.py`` draws them. Everything pooled or downloaded is the full image;
only what is drawn on screen is downscaled.
"""
from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pooling_core import AxisPlan, geometry_kwargs, plan_axes, pool2d
from ui import budget, figures, imageio
from ui.pool_settings import MODE_LABELS

SCREEN = 600          # on-screen size (longer side, px) of the side-by-side images
THUMB = 300           # on-screen size of the mode-comparison thumbnails
COMPARE_SIDE = 512    # the mode grid pools a copy no larger than this (longer side)
COMPARE_MIN_SIDE = 16  # ... but a thin strip's copy keeps at least this many px across
MAX_TIMES = 5         # pyramid depth
ZOOM_SIZES = (8, 12, 16)
COMPARE_MODES = ("max", "avg", "min", "lp", "median", "stochastic")
SOURCES = {"sample": "Sample image", "upload": "My upload"}


# ----------------------------------------------------------------------------- pure helpers

def digest(data: bytes) -> str:
    """Short content hash: the cache key of an image's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def kwargs_key(kwargs: dict) -> str:
    return repr(sorted(kwargs.items()))


def level_keys(base: str, used: list[dict]) -> list[str]:
    """Cache key of each pyramid level: the image key and every pass's kwargs so far."""
    return ["|".join([base] + [kwargs_key(k) for k in used[: i + 1]]) for i in range(len(used))]


def window_span(settings) -> tuple[int, int]:
    """Cells a window spans per axis (height, width): ``d·(k−1)+1``."""
    return tuple(AxisPlan.window_span(k, d) for k, d in zip(settings.kernel, settings.dilation))


def padding_advice(settings, shape_hw) -> str | None:
    """When the image is smaller than the window: the exact sidebar change that fixes it.

    Tries symmetric padding ``kernel // 2`` and SAME (with the current framework,
    else with TensorFlow) and returns a sentence naming those that work, or
    ``None`` if the image is not smaller than the window.
    """
    h, w = (int(v) for v in shape_hw)
    sh, sw = window_span(settings)
    if settings.global_pool or (h >= sh and w >= sw):
        return None
    half = (settings.kernel[0] // 2, settings.kernel[1] // 2)
    number = (f"set **Padding → Number** to **{half[0]}**"
              + (f" (height) and **{half[1]}** (width)" if half[0] != half[1] else "")
              + " (half the kernel)")
    candidates = [(replace(settings, padding=half), number),
                  (replace(settings, padding="same"), "choose **Padding → SAME**"),
                  (replace(settings, padding="same", framework="tensorflow"),
                   "choose **Framework → TensorFlow** and **Padding → SAME**")]
    fixes = []
    for candidate, text in candidates:
        if "SAME" in text and any("SAME" in f for f in fixes):
            continue
        try:
            candidate.pool_kwargs((h, w))
            fixes.append(text)
        except ValueError:
            continue
    fixes.append("lower the **Kernel size** (or the **Dilation**)")
    return (f"This image is {w}×{h} px (width × height) but the window spans {sw}×{sh} px, "
            f"so not even one window fits. To pool it anyway, in the sidebar "
            f"{', or '.join(fixes)}. Or upload a larger image.")


def pyramid(array: np.ndarray, first_kwargs: dict, kwargs_for, times: int, pool=None):
    """Pool ``times`` times: level 1 with ``first_kwargs``, later ones with ``kwargs_for(shape)``.

    ``pool(x, kwargs)`` pools one level (default ``pool2d(x, **kwargs)``; the page
    passes its cached version). Returns ``(levels, kwargs_list, stop)``: the pooled
    arrays (level 1 first), the kwargs used for each, and a sentence if it stopped
    early because the image got smaller than the window, or because ``pool`` raised
    ``budget.OverBudget`` (then ``levels`` may be empty), else ``""``.
    """
    levels, used, x, stop = [], [], array, ""
    for level in range(times):
        try:
            kwargs = first_kwargs if level == 0 else kwargs_for(tuple(x.shape[-2:]))
        except ValueError as exc:
            stop = (f"Stopped after {level} pass{'es' if level > 1 else ''}: the image is now "
                    f"{x.shape[-1]}×{x.shape[-2]} px, too small for another window ({exc}).")
            break
        try:
            x = pool2d(x, **kwargs) if pool is None else pool(x, kwargs)
        except budget.OverBudget as exc:  # a pool that charges a budget.Change first
            stop = (f"Stopped after {level} pass{'es' if level > 1 else ''}: {exc}" if level
                    else str(exc))
            break
        levels.append(x)
        used.append(kwargs)
    return levels, used, stop


def display_hwc(chw: np.ndarray, source_dtype) -> np.ndarray:
    """``(C, H, W)`` -> uint8 ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` for the screen.

    Values follow ``imageio.ROUNDING_RULE`` (uint8 arrays pass unchanged); two
    channels (gray + alpha) become RGBA.
    """
    if chw.dtype == np.uint8 and np.dtype(source_dtype) == np.uint8:
        out = chw[0] if chw.shape[0] == 1 else np.moveaxis(chw, 0, -1)
    else:
        out = imageio.to_display_uint8(chw, source_dtype)
    if out.ndim == 3 and out.shape[-1] == 2:
        out = np.concatenate([np.repeat(out[..., :1], 3, axis=-1), out[..., 1:]], axis=-1)
    return np.ascontiguousarray(out)


def screen_target(shape_hw, side: int = SCREEN) -> tuple[int, int]:
    """Screen size (height, width) with the longer side ``side`` and the image's aspect."""
    h, w = shape_hw
    scale = side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def to_screen(img: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Exactly ``target`` (height, width): nearest-neighbour upscaling so pooled blocks
    stay sharp, or an area downscale (``imageio.preview``) when the image is larger."""
    th, tw = target
    h, w = img.shape[:2]
    if h <= th and w <= tw:
        return imageio.upscale_nearest(img, target)
    small = imageio.preview(img, max_side=max(th, tw))
    if small.shape[:2] != (th, tw):
        small = np.asarray(Image.fromarray(small).resize((tw, th), Image.Resampling.NEAREST))
    return small


def screen_view(chw: np.ndarray, source_dtype, target: tuple[int, int]) -> np.ndarray:
    """What the screen shows of a ``(C, H, W)`` image: :func:`display_hwc` then
    :func:`to_screen`. Float results larger than the screen are area-averaged as
    float32 first and rounded after (the same picture, far cheaper than converting
    every pixel); the downloads never go through here."""
    h, w = chw.shape[-2:]
    th, tw = target
    if chw.dtype == np.uint8 or h <= th or w <= tw:
        return to_screen(display_hwc(chw, source_dtype), target)
    small = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(c, np.float32), "F")
                                 .resize((tw, th), Image.Resampling.BOX)) for c in chw])
    return display_hwc(small, source_dtype)


def png(img: np.ndarray) -> bytes:
    """Fast PNG for the screen (lossless, so pooled blocks stay crisp)."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def settings_text(kwargs: dict, passes: int = 1) -> str:
    """``Max, 3×3 window, stride 2`` (+ ``, 2 passes``) for captions."""
    def pair(v, square):
        h, w = v if isinstance(v, (tuple, list)) else (v, v)
        return square(h) if h == w else f"{h}×{w}"
    k = kwargs.get("kernel_size", 2)
    mode = kwargs.get("mode", "max")
    return (f"{MODE_LABELS.get(mode, mode)}, {pair(k, lambda n: f'{n}×{n}')} window, "
            f"stride {pair(kwargs.get('stride') or k, str)}"
            + (f", {passes} passes" if passes > 1 else ""))


def size_text(shape_hw) -> str:
    return f"{shape_hw[-1]}×{shape_hw[-2]} px"


def clipped_share(levels_out: np.ndarray, source_dtype) -> float:
    """Fraction of pooled values outside the displayable range (they print as 0 or 255)."""
    if np.issubdtype(np.dtype(source_dtype), np.floating):
        return 0.0
    top = 65535 if np.dtype(source_dtype) == np.uint16 else 255
    x = np.asarray(levels_out)
    if x.dtype == np.dtype(source_dtype):
        return 0.0
    return float(np.mean((x > top + 0.5) | (x < -0.5)))


CHANNELS = {1: ("Gray",), 2: ("Gray", "Alpha"), 3: ("Red", "Green", "Blue"),
            4: ("Red", "Green", "Blue", "Alpha")}


def channel_names(channels: int) -> list[str]:
    """What the zoom can show: one channel, or the luminance of a colour image."""
    return (["Luminance"] if channels >= 3 else []) + list(CHANNELS[channels])


def region_matrix(array: np.ndarray, top: int, left: int, size: int, channel: str) -> np.ndarray:
    """The ``size×size`` region at (top, left) (clipped to the image) as a 2-D matrix."""
    crop = array[:, top:top + size, left:left + size]
    if channel == "Luminance":
        return imageio.to_grayscale(crop)[0]
    return crop[CHANNELS[array.shape[0]].index(channel)]


def busiest_spot(screen: np.ndarray, shape_hw, size: int) -> tuple[int, int]:
    """Image (top, left) of a ``size``-px region where the picture has the most detail.

    Looks at the screen preview (cheap): the gradient energy summed over boxes the
    region's size on screen; the zoom starts there instead of on a flat patch.
    """
    g = np.asarray(screen, np.float64)
    g = g[..., :3].mean(axis=-1) if g.ndim == 3 else g
    h, w = shape_hw
    if g.shape[0] < 2 or g.shape[1] < 2:
        return 0, 0
    energy = np.abs(np.diff(g, axis=0))[:, :-1] + np.abs(np.diff(g, axis=1))[:-1, :]
    by, bx = (max(1, min(round(size * g.shape[0] / h), energy.shape[0])),
              max(1, min(round(size * g.shape[1] / w), energy.shape[1])))
    c = np.pad(energy, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    boxes = c[by:, bx:] - c[:-by, bx:] - c[by:, :-bx] + c[:-by, :-bx]
    r, q = np.unravel_index(int(np.argmax(boxes)), boxes.shape)
    return int(r * h / g.shape[0]), int(q * w / g.shape[1])


def snap(value: int, step: int, hi: int) -> int:
    """``value`` moved down onto the grid ``0, step, 2·step, …`` and into ``0..hi``."""
    hi = max(0, hi - hi % step)
    return int(min(max(0, value - value % step), hi))


def draw_region(screen: np.ndarray, shape_hw, box, window=None) -> np.ndarray:
    """The screen image (RGB) with the zoom region outlined in red and, inside it, the
    first window in yellow. ``box``/``window`` are (top, left, height, width) in image pixels;
    tiny boxes are drawn at least a few screen pixels wide so they stay visible."""
    img = Image.fromarray(screen)
    if img.mode in ("RGBA", "LA"):
        back = Image.new("RGBA", img.size, "white")
        img = Image.alpha_composite(back, img.convert("RGBA"))
    img = img.convert("RGB")
    sy, sx = screen.shape[0] / shape_hw[0], screen.shape[1] / shape_hw[1]
    draw = ImageDraw.Draw(img)

    def rect(b, colour, minimum, width):
        t, l, h, w = b
        x0, y0, x1, y1 = l * sx, t * sy, (l + w) * sx, (t + h) * sy
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half_w, half_h = max(x1 - x0, minimum) / 2, max(y1 - y0, minimum) / 2
        draw.rectangle([cx - half_w - width, cy - half_h - width, cx + half_w + width - 1,
                        cy + half_h + width - 1], outline="white", width=1)
        draw.rectangle([cx - half_w, cy - half_h, cx + half_w - 1, cy + half_h - 1],
                       outline=colour, width=width)

    rect(box, figures.WINDOW_COLOR, 14, 3)
    if window is not None:
        rect(window, figures.CHOSEN_COLOR, 5, 2)
    return np.asarray(img)


def first_window(region_kwargs: dict, region_shape, top: int, left: int):
    """(top, left, height, width) in image pixels of the region's first window (real cells)."""
    ph, pw = plan_axes(tuple(region_shape), **geometry_kwargs(region_kwargs))
    (r0, r1), (c0, c1) = ((int(b[0]) for b in p.real_bounds) for p in (ph, pw))
    if r0 < 0 or c0 < 0:
        return None
    return top + r0, left + c0, r1 - r0 + 1, c1 - c0 + 1


def mode_kwargs(settings, mode: str, shape_hw) -> tuple[dict, bool]:
    """``pool2d`` kwargs for ``mode`` with the sidebar's other settings.

    Returns ``(kwargs, fallback)``: ``fallback`` is True when the chosen framework
    has no such mode and the core pools it on the framework's max-pooling windows.
    """
    kwargs, note = replace(settings, mode=mode).resolve(tuple(shape_hw))
    return kwargs, bool(note)


def compare_copy(array: np.ndarray, side: int = COMPARE_SIDE,
                 min_side: int = COMPARE_MIN_SIDE) -> tuple[np.ndarray, bool]:
    """The image for the mode grid: itself if small, else an area-downscaled uint8 copy.

    The copy's longer side is ``side``, except that a thin strip keeps its shorter side
    at least ``min_side`` px (or all of it) so the sidebar's window still fits the copy,
    as long as the copy stays within ``side²`` pixels (a 20000×20 strip: 16000×16).
    """
    h, w = array.shape[-2:]
    short, long = min(h, w), max(h, w)
    scale = max(side / long, min(min(min_side, short) / short, side / math.sqrt(h * w)))
    if scale >= 1:
        return array, False
    hwc = display_hwc(array, array.dtype)
    if array.shape[0] == 2:  # display made it RGBA; keep gray + alpha
        hwc = hwc[..., [0, 3]]
    small = imageio.preview(hwc, max_side=round(long * scale))
    small = small[None] if small.ndim == 2 else np.moveaxis(small, -1, 0)
    return np.ascontiguousarray(small), True


def difference(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, dict]:
    """|a − b| averaged over channels as a uint8 image (white = the largest difference),
    and its statistics."""
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    d = np.nan_to_num(d, nan=0.0, posinf=0.0, neginf=0.0)
    per_pixel = d.mean(axis=0)
    top = float(per_pixel.max())
    img = np.zeros(per_pixel.shape, np.uint8) if top == 0 else \
        np.rint(per_pixel * (255.0 / top)).astype(np.uint8)
    stats = {"max": float(d.max()), "mean": float(d.mean()), "share": float((d > 0).mean())}
    return img, stats


_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def md_escape(text: str) -> str:
    r"""``text`` as Markdown that renders exactly as written.

    Every ASCII punctuation character is backslash-escaped (CommonMark) and control
    characters become spaces, so an uploaded file's name shown in a message cannot
    add links, emphasis, math, colours or line breaks to the page.

    Examples
    --------
    >>> print(md_escape("[a](b) *x*.png"))
    \[a\]\(b\) \*x\*\.png
    """
    return _MD_PUNCT.sub(r"\\\1", re.sub(r"[\x00-\x1f\x7f]", " ", text))


def thin_note(shape_hw, target) -> str:
    """A sentence when the image is so thin that the screen draws it as a line, else ``""``."""
    h, w = (int(v) for v in shape_hw)
    if min(target) >= 8:
        return ""
    return (f"This image is {w}×{h} px, {max(h, w) / min(h, w):.0f} times "
            f"{'wider than high' if w > h else 'higher than wide'}, so on screen it is a line "
            f"only {min(target)} px thick. The pooling and the downloads use every pixel; the "
            f"zoom below shows the pixel values.")


def file_stem(name: str, kwargs: dict, times: int) -> str:
    """``photo_max_k3x3_s2x2`` (+ ``_x2`` for two passes): download file names."""
    k, s = kwargs.get("kernel_size"), kwargs.get("stride") or kwargs.get("kernel_size")
    pair = lambda v: "x".join(str(i) for i in (v if isinstance(v, tuple) else (v, v)))  # noqa: E731
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in Path(name).stem)[:40]
    return (f"{stem or 'image'}_{kwargs.get('mode', 'max')}_k{pair(k)}_s{pair(s)}"
            + (f"_x{times}" if times > 1 else ""))


def side_by_side_bytes(original_hwc: np.ndarray, pooled_hwc: np.ndarray,
                       max_side: int = 2048) -> bytes:
    """Original and pooled next to each other at the same height (pooled blocks
    nearest-upscaled), as PNG. Originals larger than ``max_side`` are area-downscaled first."""
    left = imageio.preview(original_hwc, max_side=max_side)
    right = pooled_hwc
    if right.shape[0] > left.shape[0]:
        right = imageio.preview(right, max_side=max(left.shape[:2]))
    return imageio.side_by_side_png(left, right)


# ----------------------------------------------------------------------------- cached work
# Full-size arrays live in st.cache_resource as read-only arrays: st.cache_data would
# pickle and copy 36–72 MB on every rerun. Everything derived (screen PNGs,
# the mode grid) is small and uses st.cache_data. Keys are the image's content hash
# plus the settings; "_"-arguments are not hashed (callables are only called on a miss).
