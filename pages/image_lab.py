"""Image lab: pool a real image, see the window on it, compare modes, download the result.

The pure helpers live in ``ui/imagelab.py`` (unit-tested in tests/test_image_lab.py);
here are the cached wrappers and the page sections; ``main()`` runs at the bottom.
Everything pooled or downloaded is the full image; only what is drawn on screen is
downscaled (``imageio.preview``). The zoom and the mode comparison sit in expanders
that are computed only while open.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st


from pooling_core import pool2d
from pooling_core.conventions import FRAMEWORKS
from ui import budget, figures, imageio, links, pool_settings, startup, widgets
from ui import imagelab as lab
from ui import roi_view, variants_view


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
    return _frozen(pool2d(_x, **kwargs))


@st.cache_data(max_entries=24, show_spinner=False)
def view_cached(key: str, target: tuple, source_dtype: str, _get):
    """``(png bytes, screen array, share of clipped values)`` of the image ``_get()``."""
    chw = _get()
    screen = lab.screen_view(chw, source_dtype, target)
    return lab.png(screen), screen, lab.clipped_share(chw, source_dtype)


@st.cache_data(max_entries=4, show_spinner=False)
def compare_copy_cached(key: str, _array: np.ndarray):
    return lab.compare_copy(_array)


@st.cache_data(max_entries=8, show_spinner="Comparing modes…")
def compare_cached(key: str, settings_dict: dict, _array: np.ndarray):
    """Each mode on the (possibly downscaled) copy.

    Returns ``(copy_shape, shrunk, results, notes)``: ``results[mode]`` is the pooled
    array or the core's message; ``notes[mode]`` is True when the framework lacks the
    mode and the core pooled it with the framework's max windows.
    """
    small, shrunk = compare_copy_cached(key, _array)
    settings = pool_settings.PoolSettings(**settings_dict)
    results, notes = {}, {}
    for mode in lab.COMPARE_MODES:
        try:
            kwargs, notes[mode] = lab.mode_kwargs(settings, mode, small.shape[-2:])
            results[mode] = pool2d(small, **kwargs)
        except ValueError as exc:
            results[mode] = str(exc)
    return small.shape, shrunk, results, notes


@st.cache_data(max_entries=8, show_spinner=False)
def thumbs_cached(key: str, settings_dict: dict, target: tuple, hint: str, _array):
    """The mode grid as screen PNGs: ``{mode: (png, shape, clipped share) | message}``."""
    _, _, results, _ = compare_cached(key, settings_dict, _array)
    return {m: r if isinstance(r, str) else
            (lab.png(lab.screen_view(r, hint, target)), r.shape, lab.clipped_share(r, hint))
            for m, r in results.items()}


@st.cache_data(max_entries=16, show_spinner=False)
def difference_cached(key: str, settings_dict: dict, a: str, b: str, target: tuple, _array):
    _, _, results, _ = compare_cached(key, settings_dict, _array)
    img, stats = lab.difference(results[a], results[b])
    return lab.png(lab.to_screen(img, target)), stats


@st.cache_resource(max_entries=16, show_spinner=False)
def zoom_cached(region: np.ndarray, kwargs: dict):
    """The playground's animation of the region (a Plotly figure; never mutated)."""
    return figures.animation_figure(region, kwargs, max_frames=64)


@st.cache_data(max_entries=16, show_spinner=False)
def region_png_cached(key: str, box: tuple, window, _screen: np.ndarray, shape_hw: tuple) -> bytes:
    return lab.png(lab.draw_region(_screen, shape_hw, box, window))


# ----------------------------------------------------------------------------- page sections

def on_upload() -> None:
    """A new upload switches the source to it; removing it goes back to the samples."""
    st.session_state["img_src"] = "upload" if st.session_state.get("img_file") else "sample"


def choose_image():
    """The upload / sample picker. Returns ``(bytes, name)`` or ``(None, None)``."""
    samples = imageio.sample_images()
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
    src = c2.radio("Image", list(lab.SOURCES), format_func=lab.SOURCES.get, key="img_src",
                   horizontal=True, bind="query-params",
             help="Use one of the generated sample images, or your upload.")
    if src == "sample" or upload is None:
        if src == "upload":
            c2.caption("No upload yet: showing a sample.")
        name = c2.selectbox("Sample", list(samples), key="img_sample", bind="query-params",
                            help="Generated images shipped in assets/ (see assets/README.md).")
        if name is None:
            return None, None
        path = samples[name]
        return path.read_bytes(), path.name
    return upload.getvalue(), upload.name


def side_by_side_section(original, levels, kwargs_list, stop, src_dtype, key, times):
    """Original and pooled at the same on-screen size, sizes, formula and the pyramid."""
    target = lab.screen_target(original.shape[-2:])
    keys = lab.level_keys(key, kwargs_list)
    dt = str(src_dtype)
    views = [view_cached(k, target, dt, lambda lvl=lvl: lvl) for k, lvl in zip(keys, levels)]
    orig_png = view_cached(f"{key}|orig", target, dt, lambda: original)[0]
    last = levels[-1]
    left, right = st.columns(2)
    left.image(orig_png, caption=f"Original: {lab.size_text(original.shape)}",
               output_format="PNG", width="stretch")
    right.image(views[-1][0], caption=f"Pooled ({lab.settings_text(kwargs_list[0], len(levels))}): "
                                      f"{lab.size_text(last.shape)}",
                output_format="PNG", width="stretch")
    st.caption(f"Both are drawn at the same size on screen. Each block on the right is one "
               f"pooled pixel, enlarged without smoothing (nearest neighbour); images larger "
               f"than the screen are downscaled for display only — the downloads have every "
               f"pixel. Original {lab.size_text(original.shape)} → pooled {lab.size_text(last.shape)}.")
    thin = lab.thin_note(original.shape[-2:], target)
    if thin:
        st.info(thin)
    if stop:
        st.info(stop)
    share = views[-1][2]
    if share > 0:
        st.warning(f"{share:.0%} of the pooled values are outside 0–255 and are drawn clipped "
                   f"(Sum and Lp add up the window). The .npy download keeps the exact values.")
    with st.expander("Output size: the formula with this image's numbers", expanded=times == 1):
        widgets.formula(original.shape[-2:], kwargs_list[0])
    if len(levels) > 1:
        st.markdown("**Pyramid: the same pooling applied again and again**")
        cols = st.columns(len(levels) + 1)
        cols[0].image(orig_png, caption=f"Original {lab.size_text(original.shape)}",
                      output_format="PNG")
        for i, (col, lvl, view) in enumerate(zip(cols[1:], levels, views), start=1):
            col.image(view[0], caption=f"×{i}: {lab.size_text(lvl.shape)}", output_format="PNG")


def downloads_section(pooled, original, src_dtype, name, kwargs, times) -> None:
    """PNG at true size, raw .npy, and the side-by-side PNG (each built only when clicked)."""
    stem = lab.file_stem(name, kwargs, times)
    h, w = pooled.shape[-2:]
    c1, c2, c3 = st.columns(3)
    c1.download_button(f"Pooled image (PNG, {w}×{h})",
                       budget.deferred(lambda: imageio.to_png_bytes(pooled, src_dtype)),
                       f"{stem}.png",
                       "image/png", key="dl_png", on_click="ignore", icon=":material/image:",
                       help="The pooled image at its true pixel size (no resizing).")
    c2.download_button(f"Raw values (.npy, {pooled.dtype})",
                       budget.deferred(lambda: imageio.to_npy_bytes(pooled)), f"{stem}.npy",
                       "application/octet-stream", key="dl_npy", on_click="ignore",
                       icon=":material/data_array:",
                       help="The exact pooled array, shape (channels, height, width); "
                            "read it with numpy.load.")
    c3.download_button("Side by side (PNG)",
                       budget.deferred(lambda: lab.side_by_side_bytes(
                           lab.display_hwc(original, src_dtype), lab.display_hwc(pooled, src_dtype))),
                       f"{stem}_side_by_side.png", "image/png", key="dl_sbs",
                       on_click="ignore", icon=":material/compare:",
                       help="Original and pooled at the same height, pooled blocks enlarged "
                            "(originals over 2048 px are downscaled in this file).")
    st.caption(("This result is whole numbers in the image's own range, so the PNG holds the "
                "exact values. " if imageio.png_is_exact(pooled, src_dtype)
                else "The PNG rounds the pooled values: ")
               + imageio.ROUNDING_RULE)


def zoom_section(array, screen, settings, key, image_id) -> None:
    """A small region as a matrix with the window sliding over it (the playground's figure)."""
    ss = st.session_state
    h, w = array.shape[-2:]
    c1, c2 = st.columns([1, 1])
    size = c1.radio("Region size (px)", lab.ZOOM_SIZES, index=0, horizontal=True, key="zoom_size",
                    bind="query-params")
    channel = c2.selectbox("Values of", lab.channel_names(array.shape[0]), key="zoom_channel", bind="query-params",
                           help="One channel, or the luminance (gray value) of a colour image.")
    sh, sw = settings.stride if not settings.global_pool else (1, 1)
    if ss.get("zoom_for") != image_id:  # a new image: start where it has the most detail
        # (found for the smallest region, so that a link's missing value means this spot)
        spot = lab.busiest_spot(screen, (h, w), lab.ZOOM_SIZES[0])
        top, left = spot
        if "zoom_for" not in ss:  # the first image of the session: where the link says
            top, left = links.linked("zoom_top", top), links.linked("zoom_left", left)
        ss["zoom_for"], ss["zoom_spot"] = image_id, spot
        ss["zoom_top"], ss["zoom_left"] = top, left
    sliders = []
    for label, skey, n, step, start in (("Region top row", "zoom_top", h, sh, ss["zoom_spot"][0]),
                                        ("Region left column", "zoom_left", w, sw,
                                         ss["zoom_spot"][1])):
        hi = max(0, n - size)
        ss[skey] = lab.snap(int(ss.get(skey, 0)), step, hi)
        start = lab.snap(start, step, hi)
        hi = hi - hi % step
        if hi >= step:
            sliders.append((label, skey, hi, step, start))
    cols = st.columns(max(1, len(sliders)))
    for col, (label, skey, hi, step, start) in zip(cols, sliders):
        # the spot is the slider's default: the link leaves it out, and reopens on it
        col.slider(label, 0, hi, start, step=step, key=skey, bind="query-params",
                   help=f"Moves in steps of the stride ({step}) so the region's windows are "
                        f"the image's own windows.")
    top, left = int(ss["zoom_top"]), int(ss["zoom_left"])
    region = lab.region_matrix(array, top, left, size, channel)
    try:
        kwargs = settings.pool_kwargs(region.shape)
    except ValueError as exc:
        st.warning(f"The window does not fit in a {region.shape[1]}×{region.shape[0]} region: "
                   f"{exc}. Choose a larger region size.")
        return
    fig, note = zoom_cached(np.ascontiguousarray(region), kwargs)
    box = (top, left, region.shape[0], region.shape[1])
    window = lab.first_window(kwargs, region.shape, top, left)
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
        st.plotly_chart(widgets.shown(fig), width="stretch", key="zoom_fig")


def compare_section(array, settings, key, src_dtype) -> None:
    """All modes side by side, and where two of them differ."""
    # the sidebar's mode does not change this grid, so it is not part of the cache key
    sd = pool_settings.settings_dict(replace(settings, mode="max"))
    shape, shrunk, results, notes = compare_cached(key, sd, array)
    st.caption(f"For speed this grid pools a copy downscaled to {lab.size_text(shape)}; the result "
               f"above uses every pixel." if shrunk else
               "Same image, same settings, one mode each.")
    target = lab.screen_target(shape[-2:], lab.THUMB)
    hint = "uint8" if shrunk else str(src_dtype)
    thumbs = thumbs_cached(key, sd, target, hint, array)
    for row in (lab.COMPARE_MODES[:3], lab.COMPARE_MODES[3:]):
        cols = st.columns(3)
        for col, mode in zip(cols, row):
            label = pool_settings.MODE_LABELS.get(mode, mode)
            if isinstance(thumbs[mode], str):
                col.warning(f"{label}: {thumbs[mode]}")
                continue
            data, out_shape, share = thumbs[mode]
            star = " †" if notes.get(mode) else ""
            clip = f" — {share:.0%} above 255, drawn white" if share else ""
            col.image(data, output_format="PNG", width="stretch",
                      caption=f"{label}{star}: {lab.size_text(out_shape)}{clip}")
    starred = [pool_settings.MODE_LABELS.get(m, m) for m in lab.COMPARE_MODES if notes.get(m)]
    if starred:
        st.caption(f"† {FRAMEWORKS[settings.framework].name} has no {' / '.join(starred)} "
                   f"pooling; Poolscope's core pools {'it' if len(starred) == 1 else 'them'} "
                   f"with the same windows as its max pooling.")
    ok = [m for m in lab.COMPARE_MODES if not isinstance(results[m], str)]
    if len(ok) < 2:
        return
    c1, c2, c3 = st.columns([1, 1, 2])
    a = c1.selectbox("Difference between", ok, index=0, key="cmp_a", bind="query-params",
                     format_func=pool_settings.MODE_LABELS.get)
    b = c2.selectbox("and", ok, index=min(1, len(ok) - 1), key="cmp_b", bind="query-params",
                     format_func=pool_settings.MODE_LABELS.get)
    data, stats = difference_cached(key, sd, a, b, target, array)
    c3.image(data, output_format="PNG", width="stretch",
             caption=f"|{a} − {b}| (white = largest difference)")
    c3.caption(f"Bright = the two modes disagree, usually at edges and in texture. Largest "
               f"difference {figures.fmt(stats['max'])}, mean {figures.fmt(stats['mean'])}; "
               f"{stats['share']:.0%} of the values differ."
               if stats["max"] > 0 else f"{a} and {b} give identical values here.")


#: The expanders drawn only while open, ``key: (header, icon)``; each key's state is its
#: open/closed flag.
SECTIONS = {"img_zoom": ("Zoom: the window sliding over real pixel values", ":material/zoom_in:"),
            "img_compare": ("Compare modes: all six on this image, and where two differ",
                            ":material/grid_view:"),
            "img_variants": ("Modern modes: fractional max, BlurPool, GeM, mixed, SoftPool on "
                             "this image", ":material/pets:"),
            "img_roi": ("ROI pool & ROI align: pool a box of the image to a fixed grid",
                        ":material/crop_free:")}


def open_section(key: str):
    """The section's expander while it is open (draw its content in it), else None."""
    header, icon = SECTIONS[key]
    box = st.expander(header, key=key, on_change="rerun", icon=icon, bind="query-params")
    return box if box.open else None


def main() -> None:
    startup.require_navigation()
    for key in SECTIONS:  # a run that stops early (a refused file) must not close them
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    st.title("Image lab")
    st.caption("Pool a real image with the sidebar's settings: the same pooling_core call as "
               "the Matrix playground, on every pixel and every colour channel.")
    data, name = choose_image()
    if data is None:
        st.info("Upload an image or choose a sample to start.")
        return
    digest_key = lab.digest(data)
    try:
        loaded = load_cached(digest_key, name, data)
    except imageio.ImageError as exc:
        st.error(lab.md_escape(str(exc)), icon=":material/block:")  # the name is the user's
        st.caption("Choose another file above, or switch to a sample image.")
        return
    channels = {1: "gray", 2: "gray + alpha", 3: "RGB", 4: "RGBA"}[loaded.array.shape[0]]
    st.caption(f"**{lab.md_escape(name)}** — {loaded.format} ({loaded.mode_in}), {lab.size_text(loaded.array.shape)}"
               f", {channels}, {loaded.array.dtype}. {loaded.note}")
    t1, t2 = st.columns(2)
    gray = t1.toggle("Pool a grayscale version", key="img_gray", bind="query-params",
                     help="Luminance 0.299 R + 0.587 G + 0.114 B, then one channel is pooled. "
                          "Off: every channel (and alpha) is pooled on its own.")
    times = t2.slider("Pool this many times (pyramid)", 1, lab.MAX_TIMES, 1, key="img_times", bind="query-params",
                      help="Apply the same pooling again to the result, to watch detail "
                           "disappear.")
    gray = gray and loaded.array.shape[0] > 1
    array = gray_cached(digest_key, loaded.array) if gray else loaded.array
    key = f"{digest_key}|{'gray' if gray else 'colour'}"
    src_dtype = array.dtype
    hw = array.shape[-2:]
    target = lab.screen_target(hw)
    current = pool_settings.current()
    # keyed per image and colour: when the current settings are rejected, this image keeps
    # its last valid settings (then `settings is not current`) and the page offers advice
    _, settings, first = pool_settings.with_input(f"image_lab|{key}", array, current)
    if settings is not current:
        advice = lab.padding_advice(current, hw)
        if advice:
            st.info(advice, icon=":material/lightbulb:")
    if first is None:
        st.image(view_cached(f"{key}|orig", target, str(src_dtype), lambda: array)[0],
                 caption=f"Original: {lab.size_text(hw)} (not pooled)", output_format="PNG")
        return
    passed, change = [], budget.Change()  # what one change may cost a shared server

    def cached_pool(x, kwargs):
        change.charge(x.shape, kwargs, f"Pass {len(passed) + 1}" if passed else
                      "Pooling this image with these settings")
        passed.append(kwargs)
        return pool_cached(lab.level_keys(key, passed)[-1], kwargs, x)

    with budget.one_at_a_time():  # after this session's download that is being made
        levels, used, stop = lab.pyramid(array, first, settings.pool_kwargs, times,
                                         pool=cached_pool)
    if not levels:
        st.error(stop, icon=":material/speed:")
        st.image(view_cached(f"{key}|orig", target, str(src_dtype), lambda: array)[0],
                 caption=f"Original: {lab.size_text(hw)} (not pooled)", output_format="PNG")
        return
    side_by_side_section(array, levels, used, stop, src_dtype, key, times)
    downloads_section(levels[-1], array, src_dtype, name, used[0], len(levels))
    # The two deeper sections are drawn only while open: closed, they cost nothing, so a
    # class of students changing settings keeps one server responsive (bench/load.py)
    zoom = open_section("img_zoom")
    if zoom is not None:
        with zoom:
            screen = view_cached(f"{key}|orig", target, str(src_dtype), lambda: array)[1]
            zoom_section(array, screen, settings, key, digest_key)
    modes = open_section("img_compare")
    if modes is not None:
        with modes:
            compare_section(array, settings, key, src_dtype)
    variants = open_section("img_variants")
    if variants is not None:
        with variants:
            variants_view.variants_section(array, key, src_dtype)
    roi = open_section("img_roi")
    if roi is not None:
        with roi:
            screen = view_cached(f"{key}|orig", target, str(src_dtype), lambda: array)[1]
            roi_view.roi_section(array, screen, key, digest_key)


if __name__ == "__main__":
    main()
