"""Tests for the Image lab (pages/image_lab.py).

Unit tests import the page's pure helpers (``main()`` runs only under Streamlit);
the AppTest part drives the real page through app.py with a sample image,
good uploads and every kind of bad upload. Test images are built in memory.
"""
import io
import struct
import zipfile
import zlib
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from PIL import Image

from pooling_core import MODES, output_size, pool2d
from ui import imageio
from ui.pool_settings import PoolSettings

RNG = np.random.default_rng(7)


from ui import imagelab as lab  # noqa: E402
from helpers import captions, image_captions, open_page, open_sections, upload  # noqa: E402


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def crafted_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width×height pixels (a decompression bomb)."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + chunk(b"IEND", b""))


def photo(h=40, w=52, c=3) -> np.ndarray:
    """Smooth gradient + noise, uint8 (H, W[, C])."""
    y, x = np.mgrid[0:h, 0:w]
    base = (y * 255 // max(h - 1, 1) + x * 3) % 256
    img = np.stack([base, 255 - base, (base * 7) % 256][:c], axis=-1) if c > 1 else base
    return np.clip(img + RNG.integers(0, 20, img.shape), 0, 255).astype(np.uint8)


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "hello")
    return buf.getvalue()


GOOD_PNG = encode(Image.fromarray(photo()))
BAD_FILES = {
    "empty.png": (b"", "is empty"),
    "truncated.png": (GOOD_PNG[: len(GOOD_PNG) // 2], "truncated or corrupted"),
    "notes.png": (b"this is a text file, not a picture\n" * 20, "not an image"),
    "archive.zip": (zip_bytes(), "not an image"),
    "bomb.png": (crafted_png(50000, 50000), "50000×50000"),
}


# ------------------------------------------------------------------- pooling helpers

@pytest.mark.parametrize("mode", MODES)
def test_pyramid_levels_are_the_core_output_of_each_pass(mode):
    x = RNG.integers(0, 256, size=(3, 520, 500), dtype=np.uint8)
    kw = dict(kernel_size=3, stride=2, mode=mode, rng=5)
    levels, used, _ = lab.pyramid(x, kw, lambda shape: kw, 2)
    want = pool2d(pool2d(x, **kw), **kw)
    assert used == [kw, kw] and levels[1].dtype == want.dtype
    np.testing.assert_array_equal(levels[1], want)


def test_pyramid_keeps_uint8_for_picking_modes():
    x = RNG.integers(0, 256, size=(4, 30, 30), dtype=np.uint8)
    for mode in ("max", "min", "median"):
        kw = dict(kernel_size=2, mode=mode)
        assert lab.pyramid(x, kw, lambda shape: kw, 1)[0][0].dtype == np.uint8


def test_pyramid_sizes_follow_output_size_and_stop_when_too_small():
    s = PoolSettings(kernel=(2, 2), stride=(2, 2))
    x = RNG.integers(0, 256, size=(3, 20, 12), dtype=np.uint8)
    first = s.pool_kwargs(x.shape[-2:])
    levels, used, stop = lab.pyramid(x, first, s.pool_kwargs, 5)
    assert [lv.shape[-2:] for lv in levels] == [(10, 6), (5, 3), (2, 1)]
    assert len(used) == 3 and "Stopped after 3 passes" in stop and "1×2 px" in stop
    one, _, stop1 = lab.pyramid(x, first, s.pool_kwargs, 1)
    assert len(one) == 1 and stop1 == ""
    np.testing.assert_array_equal(levels[1], pool2d(pool2d(x, **first), **used[1]))


def test_pool_kwargs_raises_the_core_message_for_an_image_smaller_than_the_window():
    s = PoolSettings(kernel=(3, 3), stride=(2, 2))
    with pytest.raises(ValueError, match="output would be empty"):
        s.pool_kwargs((1, 1))
    assert s.pool_kwargs((3, 3))["kernel_size"] == (3, 3)


def test_padding_advice_names_the_exact_fix_that_works():
    s = PoolSettings(kernel=(3, 3), stride=(2, 2))
    advice = lab.padding_advice(s, (1, 1))
    assert "1×1 px" in advice and "3×3 px" in advice
    assert "Padding → Number" in advice and "**1**" in advice
    fixed = replace(s, padding=(1, 1))
    assert fixed.pool_kwargs((1, 1))  # the advised change really works
    assert lab.padding_advice(s, (5, 5)) is None
    assert lab.padding_advice(replace(s, global_pool=True), (1, 1)) is None


def test_mode_kwargs_falls_back_to_the_core_when_the_framework_lacks_the_mode():
    s = PoolSettings(kernel=(2, 2), stride=(2, 2))  # PyTorch has no min pooling
    kw, fallback = lab.mode_kwargs(s, "min", (8, 8))
    assert fallback and kw["mode"] == "min"
    assert pool2d(np.arange(16.0).reshape(4, 4), **kw).tolist() == [[0, 2], [8, 10]]
    kw_max, fallback_max = lab.mode_kwargs(s, "max", (8, 8))
    assert not fallback_max and kw_max["mode"] == "max"


# ------------------------------------------------------------------- display helpers

def test_display_hwc_shapes_and_rounding():
    assert lab.display_hwc(np.zeros((1, 3, 4), np.uint8), np.uint8).shape == (3, 4)
    la = lab.display_hwc(np.full((2, 3, 4), 7, np.uint8), np.uint8)
    assert la.shape == (3, 4, 4) and (la[..., :3] == 7).all()
    x = np.array([[[0.5, 1.5, 300.0, -2.0]]])
    assert lab.display_hwc(x, np.uint8).tolist() == [[0, 2, 255, 0]]


@hsettings(max_examples=40, deadline=None)
@given(h=st.integers(1, 90), w=st.integers(1, 90), side=st.integers(8, 64))
def test_to_screen_always_gives_the_target(h, w, side):
    img = RNG.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    target = lab.screen_target((h, w), side)
    assert max(target) == side
    assert lab.to_screen(img, target).shape == target + (3,)


def test_to_screen_upscales_with_visible_blocks():
    small = np.array([[0, 255], [128, 64]], np.uint8)
    big = lab.to_screen(small, (8, 8))
    assert (big[:4, :4] == 0).all() and (big[:4, 4:] == 255).all() and (big[4:, :4] == 128).all()


def test_screen_view_of_float_results_matches_the_exact_conversion():
    out = pool2d(RNG.integers(0, 256, size=(3, 300, 400), dtype=np.uint8), 2, mode="avg")
    target = lab.screen_target(out.shape[-2:], 60)
    fast = lab.screen_view(out, np.uint8, target).astype(int)
    exact = lab.to_screen(lab.display_hwc(out, np.uint8), target).astype(int)
    assert fast.shape == exact.shape and np.abs(fast - exact).max() <= 1


def test_clipped_share():
    assert lab.clipped_share(np.array([[[10.0, 300.0]]]), np.uint8) == 0.5
    assert lab.clipped_share(np.array([[[255]]], np.uint8), np.uint8) == 0.0


# ------------------------------------------------------------------- downloads

@pytest.mark.parametrize("mode", ["max", "avg", "lp", "median", "stochastic"])
def test_png_download_decodes_to_the_core_output(mode):
    x = np.moveaxis(photo(37, 45), -1, 0)
    kw = dict(kernel_size=3, stride=2, mode=mode, rng=1)
    out = pool2d(x, **kw)
    decoded = np.asarray(Image.open(io.BytesIO(imageio.to_png_bytes(out, x.dtype))))
    assert decoded.shape[:2] == (output_size(37, 3, 2), output_size(45, 3, 2))
    expected = np.moveaxis(np.clip(np.rint(out), 0, 255).astype(np.uint8), 0, -1)
    np.testing.assert_array_equal(decoded, expected)
    if out.dtype == np.uint8:
        np.testing.assert_array_equal(np.moveaxis(decoded, -1, 0), out)  # exact, no rounding


def test_png_download_of_grayscale_rgba_and_16bit():
    rgba = np.moveaxis(photo(20, 20, 3), -1, 0)
    rgba = np.concatenate([rgba, np.full((1, 20, 20), 200, np.uint8)])
    out = pool2d(rgba, kernel_size=2, mode="max")
    img = Image.open(io.BytesIO(imageio.to_png_bytes(out, np.uint8)))
    assert img.mode == "RGBA" and img.size == (10, 10)
    np.testing.assert_array_equal(np.moveaxis(np.asarray(img), -1, 0), out)
    gray = imageio.to_grayscale(rgba)
    g = Image.open(io.BytesIO(imageio.to_png_bytes(pool2d(gray, 2), np.uint8)))
    assert g.mode == "L" and g.size == (10, 10)
    deep = RNG.integers(0, 65536, size=(1, 8, 8)).astype(np.uint16)
    d = Image.open(io.BytesIO(imageio.to_png_bytes(pool2d(deep, 2), np.uint16)))
    np.testing.assert_array_equal(np.asarray(d), pool2d(deep, 2)[0])


def test_npy_and_side_by_side_downloads():
    x = np.moveaxis(photo(30, 40), -1, 0)
    out = pool2d(x, 2, mode="avg")
    np.testing.assert_array_equal(np.load(io.BytesIO(imageio.to_npy_bytes(out))), out)
    sbs = Image.open(io.BytesIO(lab.side_by_side_bytes(lab.display_hwc(x, np.uint8),
                                                       lab.display_hwc(out, np.uint8))))
    assert sbs.size == (40 + 8 + 40, 30)  # pooled half-size, upscaled to the same height


def test_settings_text():
    kw = dict(kernel_size=(3, 3), stride=(2, 1), mode="avg")
    assert lab.settings_text(kw) == "Average, 3×3 window, stride 2×1"
    text = lab.settings_text(dict(kernel_size=2, mode="max"), 2)
    assert text == "Max, 2×2 window, stride 2, 2 passes"


def test_file_stem():
    kw = dict(kernel_size=(3, 3), stride=(2, 2), mode="avg")
    assert lab.file_stem("My photo.jpg", kw, 1) == "My_photo_avg_k3x3_s2x2"
    assert lab.file_stem("", kw, 2).endswith("_x2")


# ------------------------------------------------------------------- zoom and compare

def test_region_matrix_channels_and_clipping():
    x = np.moveaxis(photo(10, 10), -1, 0)
    for i, name in enumerate(("Red", "Green", "Blue")):
        assert lab.region_matrix(x, 2, 3, 4, name).tolist() == x[i, 2:6, 3:7].tolist()
    la = x[:2]
    assert lab.region_matrix(la, 0, 0, 3, "Alpha").tolist() == la[1, :3, :3].tolist()
    assert lab.region_matrix(x, 8, 8, 4, "Luminance").shape == (2, 2)
    assert lab.channel_names(1) == ["Gray"] and "Alpha" in lab.channel_names(4)


def test_snap_busiest_spot_first_window_and_drawing():
    assert lab.snap(7, 2, 100) == 6 and lab.snap(99, 3, 50) == 48 and lab.snap(-3, 2, 9) == 0
    img = np.zeros((60, 80), np.uint8)
    img[:, 50:] = 255  # one vertical edge at column 50
    top, left = lab.busiest_spot(img, (60, 80), 8)
    assert 42 <= left <= 50
    kw = PoolSettings(kernel=(3, 3), stride=(2, 2)).pool_kwargs((8, 8))
    assert lab.first_window(kw, (8, 8), 10, 20) == (10, 20, 3, 3)
    drawn = lab.draw_region(np.zeros((60, 80, 3), np.uint8), (600, 800), (100, 200, 8, 8),
                            (100, 200, 3, 3))
    assert drawn.shape == (60, 80, 3)
    red = (drawn[..., 0] > 150) & (drawn[..., 1] < 100)
    assert red.any()


def test_compare_copy_and_difference():
    big = np.moveaxis(photo(600, 300), -1, 0)
    small, shrunk = lab.compare_copy(big, 128)
    assert shrunk and small.shape == (3, 128, 64) and small.dtype == np.uint8
    same, shrunk2 = lab.compare_copy(big[:, :100, :100], 128)
    assert not shrunk2 and same.shape == (3, 100, 100)
    a = np.zeros((3, 4, 4))
    b = a.copy()
    b[:, 0, 0] = 10
    img, stats = lab.difference(a, b)
    assert img[0, 0] == 255 and img.sum() == 255
    assert stats == {"max": 10.0, "mean": 10 * 3 / 48, "share": 3 / 48}


# ------------------------------------------------------------------- the page (AppTest)

@pytest.fixture(scope="module")
def at():
    return open_page()


def test_sample_image_is_pooled_and_explained(at):
    assert at.title[0].value.endswith("Image lab")
    caps = image_captions(at)
    assert "Original: 256×192 px" in caps
    assert "Pooled (Max, 2×2 window, stride 2): 128×96 px" in caps
    assert any("= 96" in x.value for x in at.latex) and any("= 128" in x.value for x in at.latex)
    # the zoom, the mode grid and the ROI section are closed at first, and nothing of them
    # is computed (the sidebar has expanders of its own)
    sections = ["Zoom: the window sliding over real pixel values",
                "Compare modes: all six on this image, and where two differ",
                "Modern modes: fractional max, BlurPool, GeM, mixed, SoftPool on this image",
                "ROI pool & ROI align: pool a box of the image to a fixed grid"]
    assert [e.label for e in at.expander if e.label in sections] == sections
    assert not at.get("plotly_chart") and not any("Median" in c for c in caps)
    assert "zoom_size" not in at.session_state and "cmp_a" not in at.session_state
    open_sections(at)
    caps = image_captions(at)
    assert any("Max: 128×96 px" in c for c in caps) and any("Median †" in c for c in caps)
    assert len(at.get("plotly_chart")) == 1  # the zoom's sliding-window figure
    assert at.radio(key="zoom_size").value == lab.ZOOM_SIZES[0]
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Pooled image (PNG, 128×96)", "Raw values (.npy, uint8)",
                      "Side by side (PNG)"]
    assert "rounded half to even" in captions(at)
    assert not at.error


@pytest.mark.parametrize("sample", list(imageio.sample_images()))
def test_every_sample_image_works(at, sample):
    at.radio(key="img_src").set_value("sample")
    at.selectbox(key="img_sample").set_value(sample)
    at.run()
    assert not at.exception and not at.error
    assert imageio.sample_images()[sample].name in captions(at)


def test_page_controls_work_together(at):
    at.selectbox(key="img_sample").set_value("Scene (generated)")
    at.toggle(key="img_gray").set_value(True)
    at.slider(key="img_times").set_value(3)
    at.run()
    open_sections(at)
    assert not at.exception and not at.error
    caps = image_captions(at)
    assert "×3: 32×24 px" in caps
    assert "Pooled (Max, 2×2 window, stride 2, 3 passes): 32×24 px" in caps
    assert at.selectbox(key="zoom_channel").options == ["Gray"]
    at.slider(key="zoom_left").set_value(0)
    at.radio(key="zoom_size").set_value(16)
    at.selectbox(key="cmp_b").set_value("min")
    at.run()
    assert not at.exception and not at.error
    assert "row" in " ".join(image_captions(at)) and "|max − min|" in " ".join(image_captions(at))
    at.toggle(key="img_gray").set_value(False)
    at.slider(key="img_times").set_value(1)
    at.run()
    assert not at.exception


def test_uploads_good_then_bad_then_good():
    at = open_page()
    upload(at, "gradient.png", GOOD_PNG)
    assert "gradient.png" in captions(at) and not at.error
    assert "Original: 52×40 px" in image_captions(at)
    for name, (data, fragment) in BAD_FILES.items():
        upload(at, name, data, "application/zip" if name.endswith("zip") else "image/png")
        assert any(fragment in e.value for e in at.error), (name, [e.value for e in at.error])
        assert not at.get("download_button")
        upload(at, "again.png", GOOD_PNG)  # the page works again at once
        assert not at.error and "again.png" in captions(at)
        assert len(at.get("download_button")) == 3


def test_bomb_message_says_the_limit_and_how_to_get_under_it():
    at = open_page()
    upload(at, "bomb.png", crafted_png(50000, 50000))
    msg = at.error[0].value
    assert "40 megapixels" in msg and "Resize it" in msg


@pytest.mark.parametrize("size", [(1, 1), (1, 5)])
def test_image_smaller_than_the_window_offers_padding(size):
    at = open_page()
    at.slider(key="kh").set_value(3)
    at.run()
    tiny = encode(Image.fromarray(np.full(size, 90, np.uint8)))
    upload(at, "tiny.png", tiny)
    assert any("output would be empty" in e.value for e in at.error)
    advice = " ".join(i.value for i in at.info)
    assert "Padding → Number" in advice and "SAME" in advice
    assert f"Original: {size[1]}×{size[0]} px (not pooled)" in image_captions(at)
    # follow the advice: padding 1 (the sidebar's Padding slider)
    at.slider(key="ph").set_value(1)
    at.run()
    assert not at.exception and not at.error
    assert (f"Pooled (Max, 3×3 window, stride 3): {output_size(size[1], 3, 3, 1)}×1 px"
            in image_captions(at))


def test_settings_too_big_for_the_image_keep_the_last_result():
    at = open_page()
    upload(at, "small.png", encode(Image.fromarray(photo(6, 6))))
    assert "Pooled (Max, 2×2 window, stride 2): 3×3 px" in image_captions(at)
    at.slider(key="kh").set_value(8)
    at.run()
    assert not at.exception
    assert any("Showing the last valid result" in e.value for e in at.error)
    assert "Pooled (Max, 2×2 window, stride 2): 3×3 px" in image_captions(at)
    assert any("Padding" in i.value for i in at.info)


@pytest.mark.parametrize("name,img,fmt,channels", [
    ("rgba.png", Image.fromarray(photo(24, 30, 3)).convert("RGBA"), "PNG", "RGBA"),
    ("palette.gif", Image.fromarray(photo(24, 30, 3)).convert("P"), "GIF", "RGB"),
    ("deep.png", Image.fromarray((photo(24, 30, 1).astype(np.uint16) * 257)), "PNG", "gray"),
    ("cmyk.jpg", Image.fromarray(photo(24, 30, 3)).convert("CMYK"), "JPEG", "RGB"),
    ("gray.webp", Image.fromarray(photo(24, 30, 1)), "WEBP", "RGB"),  # WebP has no gray mode
    ("photo.bmp", Image.fromarray(photo(24, 30, 3)), "BMP", "RGB"),
    ("photo.tiff", Image.fromarray(photo(24, 30, 3)), "TIFF", "RGB"),
])
def test_colour_modes_and_formats_upload(name, img, fmt, channels):
    at = open_page()
    upload(at, name, encode(img, fmt))
    assert not at.error
    assert f", {channels}, " in captions(at)
    assert "Pooled (Max, 2×2 window, stride 2): 15×12 px" in image_captions(at)
