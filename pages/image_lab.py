"""Image lab: pool a real image, see the window on it, compare modes, download the result.

The pure helpers (no Streamlit calls) come first and are unit-tested in
tests/test_image_lab.py; the cached wrappers and the page sections follow;
``main()`` runs at the bottom. Everything pooled or downloaded is the full image;
only what is drawn on screen is downscaled (``imageio.preview``).
"""
from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from pooling_core import explain_axes, geometry_kwargs, plan_axes, pool2d
from pooling_core.conventions import FRAMEWORKS
from ui import figures, imageio, state

SCREEN = 600          # on-screen size (longer side, px) of the side-by-side images
THUMB = 300           # on-screen size of the mode-comparison thumbnails
COMPARE_SIDE = 512    # the mode grid pools a copy no larger than this (longer side)
MAX_TIMES = 5         # pyramid depth
ZOOM_SIZES = (8, 12, 16)
COMPARE_MODES = ("max", "avg", "min", "lp", "median", "stochastic")
THREADED_MODES = ("max", "min", "lp", "median")
SOURCES = {"sample": "Sample image", "upload": "My upload"}


# ----------------------------------------------------------------------------- pure helpers

def digest(data: bytes) -> str:
    """Short content hash: the cache key of an image's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def pool_image(array: np.ndarray, kwargs: dict) -> np.ndarray:
    """``pool2d(array, **kwargs)`` for a ``(C, H, W)`` image, channels on parallel threads.

    Channels are independent, so pooling them separately gives exactly the same
    array (NumPy releases the GIL). Only the compute-bound modes gain (measured on
    2 cores: lp 0.30 → 0.18 s, median 0.24 → 0.18 s on 12 MP); avg/sum are
    memory-bound, and stochastic draws one random stream for the whole array, so
    those are pooled in a single call.
    """
    workers = min(array.shape[0], os.cpu_count() or 1)
    if array.ndim != 3 or workers < 2 or kwargs.get("mode") not in THREADED_MODES \
            or array[0].size < 250_000:
        return pool2d(array, **kwargs)
    with ThreadPoolExecutor(max_workers=workers) as ex:
        parts = list(ex.map(lambda c: pool2d(array[c:c + 1], **kwargs), range(array.shape[0])))
    return np.concatenate(parts, axis=0)


def valid_settings(settings, shape_hw):
    """``(settings, kwargs)`` if a window fits ``shape_hw``; the core's ValueError if not."""
    return settings, settings.pool_kwargs(tuple(shape_hw))


def kwargs_key(kwargs: dict) -> str:
    return repr(sorted(kwargs.items()))


def level_keys(base: str, used: list[dict]) -> list[str]:
    """Cache key of each pyramid level: the image key and every pass's kwargs so far."""
    return ["|".join([base] + [kwargs_key(k) for k in used[: i + 1]]) for i in range(len(used))]


def window_span(settings) -> tuple[int, int]:
    """Cells a window spans per axis (height, width): ``d·(k−1)+1``."""
    return tuple(d * (k - 1) + 1 for k, d in zip(settings.kernel, settings.dilation))


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


def pyramid(array: np.ndarray, first_kwargs: dict, kwargs_for, times: int, pool=pool_image):
    """Pool ``times`` times: level 1 with ``first_kwargs``, later ones with ``kwargs_for(shape)``.

    Returns ``(levels, kwargs_list, stop)``: the pooled arrays (level 1 first),
    the kwargs used for each, and a sentence if it stopped early because the image
    got smaller than the window (else ``""``).
    """
    levels, used, x, stop = [], [], array, ""
    for level in range(times):
        try:
            kwargs = first_kwargs if level == 0 else kwargs_for(tuple(x.shape[-2:]))
        except ValueError as exc:
            stop = (f"Stopped after {level} pass{'es' if level > 1 else ''}: the image is now "
                    f"{x.shape[-1]}×{x.shape[-2]} px, too small for another window ({exc}).")
            break
        x = pool(x, kwargs)
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
    float32 first and rounded after (the same picture, ~10× faster than converting
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
    return (f"{state.MODE_LABELS.get(mode, mode)}, {pair(k, lambda n: f'{n}×{n}')} window, "
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
    r = ph.taps[0][ph.inside[0]]
    c = pw.taps[0][pw.inside[0]]
    if not (r.size and c.size):
        return None
    return top + int(r.min()), left + int(c.min()), int(r.max() - r.min() + 1), \
        int(c.max() - c.min() + 1)


def mode_kwargs(settings, mode: str, shape_hw) -> tuple[dict, bool]:
    """``pool2d`` kwargs for ``mode`` with the sidebar's other settings.

    Returns ``(kwargs, fallback)``: ``fallback`` is True when the chosen framework
    has no such mode and the core pools it on the framework's max-pooling windows.
    """
    kwargs, note = replace(settings, mode=mode).resolve(tuple(shape_hw))
    return kwargs, bool(note)


def compare_copy(array: np.ndarray, side: int = COMPARE_SIDE) -> tuple[np.ndarray, bool]:
    """The image for the mode grid: itself if small, else an area-downscaled uint8 copy."""
    if max(array.shape[-2:]) <= side:
        return array, False
    hwc = display_hwc(array, array.dtype)
    if array.shape[0] == 2:  # display made it RGBA; keep gray + alpha
        hwc = hwc[..., [0, 3]]
    small = imageio.preview(hwc, max_side=side)
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
# pickle and copy 36–72 MB on every rerun (~0.2 s). Everything derived (screen PNGs,
# the mode grid) is small and uses st.cache_data. Keys are the image's content hash
# plus the settings; "_"-arguments are not hashed (callables are only called on a miss).

def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@st.cache_resource(max_entries=3, show_spinner="Decoding the image…")
def load_cached(key: str, name: str, _data: bytes) -> imageio.LoadedImage:
    loaded = imageio.load_image(_data, name)
    _frozen(loaded.array)
    return loaded


@st.cache_resource(max_entries=3, show_spinner=False)
def gray_cached(key: str, _array: np.ndarray) -> np.ndarray:
    return _frozen(imageio.to_grayscale(_array))


@st.cache_resource(max_entries=6, show_spinner="Pooling the full image…")
def pool_cached(key: str, kwargs: dict, _x: np.ndarray) -> np.ndarray:
    return _frozen(pool_image(_x, kwargs))


@st.cache_data(max_entries=24, show_spinner=False)
def view_cached(key: str, target: tuple, source_dtype: str, _get):
    """``(png bytes, screen array, share of clipped values)`` of the image ``_get()``."""
    chw = _get()
    screen = screen_view(chw, source_dtype, target)
    return png(screen), screen, clipped_share(chw, source_dtype)


@st.cache_data(max_entries=4, show_spinner=False)
def compare_copy_cached(key: str, _array: np.ndarray):
    return compare_copy(_array)


@st.cache_data(max_entries=8, show_spinner="Comparing modes…")
def compare_cached(key: str, settings_dict: dict, _array: np.ndarray):
    """Each mode on the (possibly downscaled) copy.

    Returns ``(copy_shape, shrunk, results, notes)``: ``results[mode]`` is the pooled
    array or the core's message; ``notes[mode]`` is True when the framework lacks the
    mode and the core pooled it with the framework's max windows.
    """
    small, shrunk = compare_copy_cached(key, _array)
    settings = state.PoolSettings(**settings_dict)
    results, notes = {}, {}
    for mode in COMPARE_MODES:
        try:
            kwargs, notes[mode] = mode_kwargs(settings, mode, small.shape[-2:])
            results[mode] = pool_image(small, kwargs)
        except ValueError as exc:
            results[mode] = str(exc)
    return small.shape, shrunk, results, notes


@st.cache_data(max_entries=8, show_spinner=False)
def thumbs_cached(key: str, settings_dict: dict, target: tuple, hint: str, _array):
    """The mode grid as screen PNGs: ``{mode: (png, shape, clipped share) | message}``."""
    _, _, results, _ = compare_cached(key, settings_dict, _array)
    return {m: r if isinstance(r, str) else
            (png(screen_view(r, hint, target)), r.shape, clipped_share(r, hint))
            for m, r in results.items()}


@st.cache_data(max_entries=16, show_spinner=False)
def difference_cached(key: str, settings_dict: dict, a: str, b: str, target: tuple, _array):
    _, _, results, _ = compare_cached(key, settings_dict, _array)
    img, stats = difference(results[a], results[b])
    return png(to_screen(img, target)), stats


@st.cache_resource(max_entries=16, show_spinner=False)
def zoom_cached(region: np.ndarray, kwargs: dict):
    """The playground's animation of the region (a Plotly figure; never mutated)."""
    return figures.animation_figure(region, kwargs, max_frames=64)


@st.cache_data(max_entries=16, show_spinner=False)
def region_png_cached(key: str, box: tuple, window, _screen: np.ndarray, shape_hw: tuple) -> bytes:
    return png(draw_region(_screen, shape_hw, box, window))


# ----------------------------------------------------------------------------- page sections

def on_upload() -> None:
    """A new upload switches the source to it; removing it goes back to the samples."""
    st.session_state["img_src"] = "upload" if st.session_state.get("img_file") else "sample"


def choose_image():
    """The upload / sample picker. Returns ``(bytes, name)`` or ``(None, None)``."""
    ss = st.session_state
    samples = imageio.sample_images()
    ss.setdefault("img_src", "sample")
    ss.setdefault("img_sample", next(iter(samples), None))
    c1, c2 = st.columns([3, 2])
    upload = c1.file_uploader(
        "Upload an image (PNG, JPEG, WebP, BMP, TIFF or GIF)",
        key="img_file", on_change=on_upload,  # no type= filter: the decoder explains refusals
        help=f"Up to {imageio.MAX_UPLOAD_MB} MB and "
             f"{imageio.MAX_PIXELS / 1e6:g} megapixels. GIF/TIFF: the first frame. "
             "The file stays in this browser session only.")
    c1.caption(f"Limits: {imageio.MAX_UPLOAD_MB} MB per file and "
               f"{imageio.MAX_PIXELS / 1e6:g} megapixels. Bigger? Resize it or save it as JPEG "
               f"first.")
    c2.radio("Image", list(SOURCES), format_func=SOURCES.get, key="img_src", horizontal=True,
             help="Use one of the generated sample images, or your upload.")
    if ss["img_src"] == "sample" or upload is None:
        if ss["img_src"] == "upload":
            c2.caption("No upload yet: showing a sample.")
        name = c2.selectbox("Sample", list(samples), key="img_sample",
                            help="Generated images shipped in assets/ (see assets/README.md).")
        if name is None:
            return None, None
        path = samples[name]
        return path.read_bytes(), path.name
    return upload.getvalue(), upload.name


def formula_block(shape_hw, kwargs: dict) -> None:
    """The core's output-size formula, per axis, with this image's numbers."""
    explained = explain_axes(tuple(shape_hw), **geometry_kwargs(kwargs))
    st.latex(explained[0].general_latex)
    for axis, n, e in zip(("Height (rows)", "Width (columns)"), shape_hw, explained):
        st.markdown(f"**{axis}**: n = {n}")
        st.latex(r"\text{out} = " + e.substituted_latex)
        for note in e.notes:
            st.caption(note)


def side_by_side_section(original, levels, kwargs_list, stop, src_dtype, key, times):
    """Original and pooled at the same on-screen size, sizes, formula and the pyramid."""
    target = screen_target(original.shape[-2:])
    keys = level_keys(key, kwargs_list)
    dt = str(src_dtype)
    views = [view_cached(k, target, dt, lambda lvl=lvl: lvl) for k, lvl in zip(keys, levels)]
    orig_png = view_cached(f"{key}|orig", target, dt, lambda: original)[0]
    last = levels[-1]
    left, right = st.columns(2)
    left.image(orig_png, caption=f"Original: {size_text(original.shape)}",
               output_format="PNG", width="stretch")
    right.image(views[-1][0], caption=f"Pooled ({settings_text(kwargs_list[0], len(levels))}): "
                                      f"{size_text(last.shape)}",
                output_format="PNG", width="stretch")
    st.caption(f"Both are drawn at the same size on screen. Each block on the right is one "
               f"pooled pixel, enlarged without smoothing (nearest neighbour); images larger "
               f"than the screen are downscaled for display only — the downloads have every "
               f"pixel. Original {size_text(original.shape)} → pooled {size_text(last.shape)}.")
    if stop:
        st.info(stop)
    share = views[-1][2]
    if share > 0:
        st.warning(f"{share:.0%} of the pooled values are outside 0–255 and are drawn clipped "
                   f"(Sum and Lp add up the window). The .npy download keeps the exact values.")
    with st.expander("Output size: the formula with this image's numbers", expanded=times == 1):
        formula_block(original.shape[-2:], kwargs_list[0])
    if len(levels) > 1:
        st.markdown("**Pyramid: the same pooling applied again and again**")
        cols = st.columns(len(levels) + 1)
        cols[0].image(orig_png, caption=f"Original {size_text(original.shape)}",
                      output_format="PNG")
        for i, (col, lvl, view) in enumerate(zip(cols[1:], levels, views), start=1):
            col.image(view[0], caption=f"×{i}: {size_text(lvl.shape)}", output_format="PNG")


def downloads_section(pooled, original, src_dtype, name, kwargs, times) -> None:
    """PNG at true size, raw .npy, and the side-by-side PNG (each built only when clicked)."""
    stem = file_stem(name, kwargs, times)
    h, w = pooled.shape[-2:]
    c1, c2, c3 = st.columns(3)
    c1.download_button(f"Pooled image (PNG, {w}×{h})",
                       lambda: imageio.to_png_bytes(pooled, src_dtype), f"{stem}.png",
                       "image/png", key="dl_png", on_click="ignore", icon=":material/image:",
                       help="The pooled image at its true pixel size (no resizing).")
    c2.download_button(f"Raw values (.npy, {pooled.dtype})",
                       lambda: imageio.to_npy_bytes(pooled), f"{stem}.npy",
                       "application/octet-stream", key="dl_npy", on_click="ignore",
                       icon=":material/data_array:",
                       help="The exact pooled array, shape (channels, height, width); "
                            "read it with numpy.load.")
    c3.download_button("Side by side (PNG)",
                       lambda: side_by_side_bytes(display_hwc(original, src_dtype),
                                                  display_hwc(pooled, src_dtype)),
                       f"{stem}_side_by_side.png", "image/png", key="dl_sbs",
                       on_click="ignore", icon=":material/compare:",
                       help="Original and pooled at the same height, pooled blocks enlarged "
                            "(originals over 2048 px are downscaled in this file).")
    exact = pooled.dtype == np.dtype(src_dtype) and (
        pooled.dtype == np.uint8 or (pooled.dtype == np.uint16 and pooled.shape[0] == 1))
    st.caption(("This result is whole numbers in the image's own range, so the PNG holds the "
                "exact values. " if exact else "The PNG rounds the pooled values: ")
               + imageio.ROUNDING_RULE)


def zoom_section(array, screen, settings, key, image_id) -> None:
    """A small region as a matrix with the window sliding over it (the playground's figure)."""
    ss = st.session_state
    h, w = array.shape[-2:]
    st.subheader("Zoom: the window on real pixel values")
    c1, c2 = st.columns([1, 1])
    size = c1.radio("Region size (px)", ZOOM_SIZES, index=0, horizontal=True, key="zoom_size")
    channel = c2.selectbox("Values of", channel_names(array.shape[0]), key="zoom_channel",
                           help="One channel, or the luminance (gray value) of a colour image.")
    sh, sw = settings.stride if not settings.global_pool else (1, 1)
    if ss.get("zoom_for") != image_id:  # a new image: start where it has the most detail
        ss["zoom_for"] = image_id
        ss["zoom_top"], ss["zoom_left"] = busiest_spot(screen, (h, w), size)
    sliders = []
    for label, skey, n, step in (("Region top row", "zoom_top", h, sh),
                                 ("Region left column", "zoom_left", w, sw)):
        hi = max(0, n - size)
        ss[skey] = snap(int(ss.get(skey, 0)), step, hi)
        hi = hi - hi % step
        if hi >= step:
            sliders.append((label, skey, hi, step))
    cols = st.columns(max(1, len(sliders)))
    for col, (label, skey, hi, step) in zip(cols, sliders):
        col.slider(label, 0, hi, step=step, key=skey,
                   help=f"Moves in steps of the stride ({step}) so the region's windows are "
                        f"the image's own windows.")
    top, left = int(ss["zoom_top"]), int(ss["zoom_left"])
    region = region_matrix(array, top, left, size, channel)
    try:
        kwargs = settings.pool_kwargs(region.shape)
    except ValueError as exc:
        st.warning(f"The window does not fit in a {region.shape[1]}×{region.shape[0]} region: "
                   f"{exc}. Choose a larger region size.")
        return
    fig, note = zoom_cached(np.ascontiguousarray(region), kwargs)
    box = (top, left, region.shape[0], region.shape[1])
    window = first_window(kwargs, region.shape, top, left)
    pic, anim = st.columns([1, 2])
    pic.image(region_png_cached(key, box, window, screen, (h, w)),
              caption=f"Red: the {region.shape[1]}×{region.shape[0]} region at row {top}, "
                      f"column {left}. Yellow: the window's first position.",
              output_format="PNG", width="stretch")
    with anim:
        st.caption("The region is pooled on its own, exactly like a matrix on the Matrix "
                   "playground; windows that reach past its edge see padding there instead "
                   "of the neighbouring pixels. Press ▶ Play to watch the window slide.")
        if note:
            st.caption(note)
        st.plotly_chart(fig, width="stretch", key="zoom_fig")


def compare_section(array, settings, key, src_dtype) -> None:
    """All modes side by side, and where two of them differ."""
    st.subheader("Compare modes at a glance")
    # the sidebar's mode does not change this grid, so it is not part of the cache key
    sd = state.settings_dict(replace(settings, mode="max"))
    shape, shrunk, results, notes = compare_cached(key, sd, array)
    st.caption(f"For speed this grid pools a copy downscaled to {size_text(shape)}; the result "
               f"above uses every pixel." if shrunk else
               "Same image, same settings, one mode each.")
    target = screen_target(shape[-2:], THUMB)
    hint = "uint8" if shrunk else str(src_dtype)
    thumbs = thumbs_cached(key, sd, target, hint, array)
    for row in (COMPARE_MODES[:3], COMPARE_MODES[3:]):
        cols = st.columns(3)
        for col, mode in zip(cols, row):
            label = state.MODE_LABELS.get(mode, mode)
            if isinstance(thumbs[mode], str):
                col.warning(f"{label}: {thumbs[mode]}")
                continue
            data, out_shape, share = thumbs[mode]
            star = " †" if notes.get(mode) else ""
            clip = f" — {share:.0%} above 255, drawn white" if share else ""
            col.image(data, output_format="PNG", width="stretch",
                      caption=f"{label}{star}: {size_text(out_shape)}{clip}")
    starred = [state.MODE_LABELS.get(m, m) for m in COMPARE_MODES if notes.get(m)]
    if starred:
        st.caption(f"† {FRAMEWORKS[settings.framework].name} has no {' / '.join(starred)} "
                   f"pooling; Poolscope's core pools {'it' if len(starred) == 1 else 'them'} "
                   f"with the same windows as its max pooling.")
    ok = [m for m in COMPARE_MODES if not isinstance(results[m], str)]
    if len(ok) < 2:
        return
    c1, c2, c3 = st.columns([1, 1, 2])
    a = c1.selectbox("Difference between", ok, index=0, key="cmp_a",
                     format_func=state.MODE_LABELS.get)
    b = c2.selectbox("and", ok, index=min(1, len(ok) - 1), key="cmp_b",
                     format_func=state.MODE_LABELS.get)
    data, stats = difference_cached(key, sd, a, b, target, array)
    c3.image(data, output_format="PNG", width="stretch",
             caption=f"|{a} − {b}| (white = largest difference)")
    c3.caption(f"Bright = the two modes disagree, usually at edges and in texture. Largest "
               f"difference {figures.fmt(stats['max'])}, mean {figures.fmt(stats['mean'])}; "
               f"{stats['share']:.0%} of the values differ."
               if stats["max"] > 0 else f"{a} and {b} give identical values here.")


def main() -> None:
    state.require_navigation()
    st.title("Image lab")
    st.caption("Pool a real image with the sidebar's settings: the same pooling_core call as "
               "the Matrix playground, on every pixel and every colour channel.")
    data, name = choose_image()
    if data is None:
        st.info("Upload an image or choose a sample to start.")
        return
    digest_key = digest(data)
    try:
        loaded = load_cached(digest_key, name, data)
    except imageio.ImageError as exc:
        st.error(str(exc), icon=":material/block:")
        st.caption("Choose another file above, or switch to a sample image.")
        return
    channels = {1: "gray", 2: "gray + alpha", 3: "RGB", 4: "RGBA"}[loaded.array.shape[0]]
    st.caption(f"**{name}** — {loaded.format} ({loaded.mode_in}), {size_text(loaded.array.shape)}"
               f", {channels}, {loaded.array.dtype}. {loaded.note}")
    t1, t2 = st.columns(2)
    gray = t1.toggle("Pool a grayscale version", key="img_gray",
                     help="Luminance 0.299 R + 0.587 G + 0.114 B, then one channel is pooled. "
                          "Off: every channel (and alpha) is pooled on its own.")
    times = t2.slider("Pool this many times (pyramid)", 1, MAX_TIMES, 1, key="img_times",
                      help="Apply the same pooling again to the result, to watch detail "
                           "disappear.")
    gray = gray and loaded.array.shape[0] > 1
    array = gray_cached(digest_key, loaded.array) if gray else loaded.array
    key = f"{digest_key}|{'gray' if gray else 'colour'}"
    src_dtype = array.dtype
    hw = array.shape[-2:]
    target = screen_target(hw)
    settings = state.current()
    good, error = state.guard(f"image_lab|{digest_key}", valid_settings, settings, hw)
    if error:
        advice = padding_advice(settings, hw)
        if advice:
            st.info(advice, icon=":material/lightbulb:")
    if good is None:
        st.image(view_cached(f"{key}|orig", target, str(src_dtype), lambda: array)[0],
                 caption=f"Original: {size_text(hw)} (not pooled)", output_format="PNG")
        return
    settings, first = good
    passed = []

    def cached_pool(x, kwargs):
        passed.append(kwargs)
        return pool_cached(level_keys(key, passed)[-1], kwargs, x)

    levels, used, stop = pyramid(array, first, settings.pool_kwargs, times, pool=cached_pool)
    side_by_side_section(array, levels, used, stop, src_dtype, key, times)
    downloads_section(levels[-1], array, src_dtype, name, used[0], len(levels))
    st.divider()
    screen = view_cached(f"{key}|orig", target, str(src_dtype), lambda: array)[1]
    zoom_section(array, screen, settings, key, digest_key)
    st.divider()
    compare_section(array, settings, key, src_dtype)


if __name__ == "__main__":
    main()
