"""Tests for ui/imageio.py: decoding every colour mode, bad input, exports, helpers.

All test images are built in memory with Pillow (or by hand, for the crafted
decompression-bomb PNG); the only files read are the shipped sample assets.
"""
import importlib.util
import io
import struct
import zipfile
import zlib
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import ExifTags, Image, ImageFile

from ui import imageio
from ui.imageio import (ImageError, LoadedImage, load_image, preview, sample_images,
                        side_by_side_png, to_display_uint8, to_grayscale, to_npy_bytes,
                        to_png_bytes, upscale_nearest)

RNG = np.random.default_rng(1234)


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def noise(h=12, w=17, c=3, dtype=np.uint8, hi=256):
    shape = (h, w) if c == 1 else (h, w, c)
    return RNG.integers(0, hi, size=shape).astype(dtype)


def chw(arr_hwc):
    return arr_hwc[None] if arr_hwc.ndim == 2 else np.moveaxis(arr_hwc, -1, 0)


def png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def crafted_png(width: int, height: int) -> bytes:
    """Tiny PNG whose IHDR declares width×height 8-bit grayscale (valid CRCs)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + png_chunk(b"IEND", b""))


# ---------------------------------------------------------------- colour modes

@pytest.mark.parametrize("mode,channels", [("RGB", 3), ("RGBA", 4), ("L", 1), ("LA", 2)])
def test_plain_modes_are_exact_channels_first(mode, channels):
    arr = noise(c=channels)
    out = load_image(encode(Image.fromarray(arr)), "x.png")
    assert isinstance(out, LoadedImage)
    assert out.mode_in == mode and out.format == "PNG" and out.note == ""
    assert out.array.dtype == np.uint8 and out.array.shape == (channels, 12, 17)
    np.testing.assert_array_equal(out.array, chw(arr))


def test_bilevel_becomes_0_255():
    bits = noise(c=1, hi=2).astype(bool)
    out = load_image(encode(Image.fromarray(bits).convert("1")))
    assert out.mode_in == "1" and out.array.shape == (1, 12, 17)
    np.testing.assert_array_equal(out.array[0], np.where(bits, 255, 0))
    assert "Bilevel" in out.note


def test_palette_without_transparency_becomes_rgb():
    img = Image.fromarray(noise(c=1, hi=16)).convert("P")
    img.putpalette(list(range(48)) * 16)
    out = load_image(encode(img))
    assert out.mode_in == "P" and out.array.shape == (3, 12, 17)
    np.testing.assert_array_equal(out.array, chw(np.asarray(img.convert("RGB"))))
    assert out.note == "Palette image converted to RGB."


def test_palette_with_transparency_becomes_rgba():
    idx = noise(c=1, hi=4)
    img = Image.frombytes("P", (17, 12), idx.tobytes())
    img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])
    out = load_image(encode(img, transparency=2))
    assert out.array.shape == (4, 12, 17)
    np.testing.assert_array_equal(out.array[3], np.where(idx == 2, 0, 255))
    np.testing.assert_array_equal(out.array[0][idx == 0], 255)
    assert out.note == "Palette image converted to RGBA."


def test_cmyk_becomes_rgb():
    img = Image.fromarray(noise(c=3)).convert("CMYK")
    out = load_image(encode(img, "TIFF"))
    assert out.mode_in == "CMYK" and out.array.shape == (3, 12, 17)
    np.testing.assert_array_equal(out.array, chw(np.asarray(img.convert("RGB"))))
    assert out.note == "CMYK converted to RGB."


def test_16bit_png_keeps_values_above_255_exactly():
    arr = noise(c=1, dtype=np.uint16, hi=65536)
    arr[0, 0], arr[0, 1] = 65535, 300
    out = load_image(encode(Image.fromarray(arr)), "deep.png")
    assert out.mode_in == "I;16" and out.array.dtype == np.uint16
    np.testing.assert_array_equal(out.array[0], arr)
    assert out.array.max() > 255


def test_16bit_tiff_exact():
    arr = noise(c=1, dtype=np.uint16, hi=65536)
    out = load_image(encode(Image.fromarray(arr), "TIFF"))
    assert out.format == "TIFF" and out.array.dtype == np.uint16
    np.testing.assert_array_equal(out.array[0], arr)


def test_float_tiff_is_float32_single_channel():
    arr = RNG.normal(size=(5, 6)).astype(np.float32) * 1000
    out = load_image(encode(Image.fromarray(arr), "TIFF"))
    assert out.mode_in == "F" and out.array.dtype == np.float32 and out.array.shape == (1, 5, 6)
    np.testing.assert_array_equal(out.array[0], arr)


@pytest.mark.parametrize("hi,dtype", [(65536, np.uint16), (10**6, np.float32)])
def test_32bit_int_tiff(hi, dtype):
    arr = RNG.integers(0, hi, size=(4, 5)).astype(np.int32)
    arr[0, 0] = hi - 1
    out = load_image(encode(Image.fromarray(arr), "TIFF"))
    assert out.mode_in == "I" and out.array.dtype == dtype
    np.testing.assert_array_equal(out.array[0], arr.astype(dtype))


@pytest.mark.parametrize("orientation,corner", [(6, (slice(0, 8), slice(12, 20))),
                                                (8, (slice(32, 40), slice(0, 8)))])
def test_exif_orientation_is_applied(orientation, corner):
    arr = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 high; red marker top-left
    arr[:8, :8] = (255, 0, 0)
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[ExifTags.Base.Orientation] = orientation
    out = load_image(encode(img, "JPEG", quality=95, exif=exif), "phone.jpg")
    assert out.array.shape == (3, 40, 20)  # H and W swapped
    assert out.array[0][corner].mean() > 200 and out.array[1][corner].mean() < 60
    assert out.array[0][:8, :8].mean() < 60  # marker no longer at the stored top-left
    assert out.note == f"Rotated per EXIF orientation {orientation}."


def test_animated_gif_first_frame_only():
    frames = [Image.new("RGB", (10, 6), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    out = load_image(data, "anim.gif")
    assert out.format == "GIF" and out.array.shape == (3, 6, 10)
    assert (out.array[:, 0, 0] == (255, 0, 0)).all() and (out.array[0] == 255).all()
    assert "first frame" in out.note


@pytest.mark.parametrize("fmt,kw", [("WEBP", {"lossless": True}), ("BMP", {}), ("TIFF", {}),
                                    ("PNG", {})])
def test_lossless_round_trips(fmt, kw):
    arr = noise(c=3)
    out = load_image(encode(Image.fromarray(arr), fmt, **kw))
    assert out.format == fmt
    np.testing.assert_array_equal(out.array, chw(arr))


def test_jpeg_decodes_approximately():
    arr = np.full((16, 24, 3), (200, 100, 50), np.uint8)
    out = load_image(encode(Image.fromarray(arr), "JPEG", quality=95))
    assert out.format == "JPEG" and out.array.shape == (3, 16, 24)
    assert np.abs(out.array.astype(int) - chw(arr)).max() <= 3


def test_loaded_image_is_frozen():
    out = load_image(encode(Image.new("L", (2, 2))))
    with pytest.raises(FrozenInstanceError):
        out.note = "x"


# ---------------------------------------------------------------- bad input

def assert_refused(data, *fragments, name="bad.png"):
    with pytest.raises(ImageError) as info:
        load_image(data, name)
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, msg
    assert msg.endswith(".") and "Traceback" not in msg
    return msg


def test_empty_file():
    assert_refused(b"", "is empty")
    with pytest.raises(ImageError, match=r"^The file is empty \(0 bytes\)"):
        load_image(b"")


def test_text_renamed_png():
    assert_refused(b"hello, this is just text\n" * 20, "'bad.png' is not an image we can read",
                   "PNG, JPEG, WebP, BMP, TIFF, GIF")


def test_zip_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "not an image")
    assert_refused(buf.getvalue(), "not an image", name="archive.zip")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(fmt):
    data = encode(Image.fromarray(noise(h=64, w=64)), fmt)
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    assert_refused(data[: len(data) // 2], "truncated or corrupted")


@pytest.mark.parametrize("w,h", [(50000, 50000), (9000, 5000)])  # Pillow error / warning range
def test_decompression_bomb_refused_before_decoding(w, h, monkeypatch):
    data = crafted_png(w, h)
    assert len(data) < 100
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(1))
    msg = assert_refused(data, f"declares {w}×{h}", "the limit is 40 megapixels", "Resize it")
    assert loads == []  # never decoded
    if w == 50000:
        assert "2.5 gigapixels" in msg and "6300×6300" in msg


def test_over_upload_limit(monkeypatch):
    data = encode(Image.fromarray(noise(h=64, w=64)))
    assert len(data) > 4096
    monkeypatch.setattr(imageio, "MAX_UPLOAD_MB", 4096 / 2**20)
    assert_refused(data, "over the", "MB upload limit")
    monkeypatch.setattr(imageio, "MAX_UPLOAD_MB", 1)
    assert load_image(data).array.shape == (3, 64, 64)


def test_limits_constants():
    assert imageio.MAX_UPLOAD_MB == 50 and imageio.MAX_PIXELS == 40_000_000
    assert Image.MAX_IMAGE_PIXELS == imageio.MAX_PIXELS
    assert "import streamlit" not in Path(imageio.__file__).read_text()


_VALID = encode(Image.fromarray(noise(h=8, w=8)))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_image_error(data):
    try:
        out = load_image(data)
    except ImageError as exc:
        assert str(exc)
    else:
        assert out.array.ndim == 3


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)),
                min_size=1, max_size=4),
       st.integers(8, len(_VALID)))
def test_corrupted_png_only_raises_image_error(edits, cut):
    data = bytearray(_VALID[:cut])
    for pos, val in edits:
        if pos < len(data):
            data[pos] = val
    try:
        out = load_image(bytes(data))
    except ImageError as exc:
        assert str(exc)
    else:
        assert out.array.shape[0] == 3


# ---------------------------------------------------------------- conversions and exports

def test_grayscale_weights_known_pixel():
    px = np.array([200, 100, 50], np.uint8).reshape(3, 1, 1)
    assert to_grayscale(px).tolist() == [[[124]]]  # 59.8 + 58.7 + 5.7 = 124.2
    pure = np.eye(3, dtype=np.uint8).reshape(3, 3, 1) * 255
    assert to_grayscale(pure)[0, :, 0].tolist() == [76, 150, 29]
    f = to_grayscale(px.astype(np.float32))
    assert f.dtype == np.float32 and f[0, 0, 0] == pytest.approx(124.2, abs=1e-4)


def test_grayscale_ignores_alpha_and_matches_pillow():
    rgb = noise(h=20, w=20)
    rgba = np.concatenate([rgb, noise(h=20, w=20, c=1)[..., None]], axis=-1)
    g = to_grayscale(chw(rgba))
    assert g.shape == (1, 20, 20) and g.dtype == np.uint8
    np.testing.assert_array_equal(g, to_grayscale(chw(rgb)))
    pil = np.asarray(Image.fromarray(rgb).convert("L"))
    np.testing.assert_array_equal(g[0], pil)  # Pillow's own integer formula, exactly
    g16 = to_grayscale(np.full((3, 2, 2), 60000, np.uint16))
    assert g16.dtype == np.uint16 and (g16 == 60000).all()
    la = chw(noise(c=2))
    np.testing.assert_array_equal(to_grayscale(la), la[:1])


def test_display_rounding_rule():
    x = np.array([[[0.5, 1.5, 2.5, -np.inf, np.inf, np.nan, 300.0, -5.0, 254.5]]])
    assert to_display_uint8(x).tolist() == [[0, 2, 2, 0, 255, 0, 255, 0, 254]]
    assert "numpy.rint" in imageio.ROUNDING_RULE and "NaN becomes 0" in imageio.ROUNDING_RULE
    deep = np.array([[[65535.0, 256.0, 255.0, np.inf, 70000.0]]])
    assert to_display_uint8(deep, np.uint16).tolist() == [[255, 1, 0, 255, 255]]
    fl = np.array([[[-1.0, 0.0, 1.0, np.nan]]])
    assert to_display_uint8(fl, np.float32).tolist() == [[0, 128, 255, 0]]


@pytest.mark.parametrize("c,shape", [(1, (5, 7)), (2, (5, 7, 2)), (3, (5, 7, 3)), (4, (5, 7, 4))])
def test_display_shapes(c, shape):
    out = to_display_uint8(RNG.uniform(-10, 270, size=(c, 5, 7)))
    assert out.shape == shape and out.dtype == np.uint8


@pytest.mark.parametrize("c,mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_png_bytes_equal_display_exactly(c, mode):
    pooled = RNG.uniform(-20, 280, size=(c, 9, 13))
    pooled[0, 0, 0], pooled[-1, 1, 1] = np.inf, np.nan
    img = Image.open(io.BytesIO(to_png_bytes(pooled, np.uint8)))
    assert img.mode == mode and img.size == (13, 9)
    np.testing.assert_array_equal(np.asarray(img), to_display_uint8(pooled, np.uint8))


def test_png_16bit_single_channel_exact():
    src = noise(c=1, dtype=np.uint16, hi=65536)[None].astype(np.float64)
    src[0, 0, :3] = (65535.0, 300.5, 301.5)  # half to even: 300, 302
    img = Image.open(io.BytesIO(to_png_bytes(src, np.uint16)))
    assert img.mode == "I;16" and img.size == (17, 12)
    back = np.asarray(img).astype(np.uint16)
    np.testing.assert_array_equal(back, np.rint(src[0]).astype(np.uint16))
    assert back[0, :3].tolist() == [65535, 300, 302]
    np.testing.assert_array_equal(load_image(to_png_bytes(src, np.uint16)).array[0], back)


def test_png_16bit_colour_is_reduced_to_8bit():
    src = np.full((3, 2, 2), 65535.0)
    src[1] = 512.0
    img = Image.open(io.BytesIO(to_png_bytes(src, np.uint16)))
    assert img.mode == "RGB" and np.asarray(img)[0, 0].tolist() == [255, 2, 255]


def test_npy_round_trip_exact():
    arr = RNG.normal(size=(3, 4, 5))
    arr[0, 0, 0], arr[1, 1, 1] = np.nan, -np.inf
    back = np.load(io.BytesIO(to_npy_bytes(arr)))
    assert back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_bad_array_shape_raises_image_error():
    with pytest.raises(ImageError, match="C, H, W"):
        to_display_uint8(np.zeros((5, 5)))
    with pytest.raises(ImageError, match="1–4 channels"):
        to_png_bytes(np.zeros((6, 2, 2)), np.uint8)


# ---------------------------------------------------------------- screen helpers

def test_upscale_nearest_factor_and_target():
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    up = upscale_nearest(a, 4)
    assert up.shape == (8, 12)
    np.testing.assert_array_equal(up, np.kron(a, np.ones((4, 4), np.uint8)))
    assert upscale_nearest(noise(h=2, w=3, c=3), 3).shape == (6, 9, 3)
    t = upscale_nearest(a, (5, 7))
    assert t.shape == (5, 7)
    assert t[:, 0].tolist() == [0, 0, 3, 3, 3] and t[0].tolist() == [0, 0, 1, 1, 2, 2, 2]
    with pytest.raises(ImageError):
        upscale_nearest(a, (1, 3))


def test_preview_shapes_and_values():
    big = np.full((1000, 500, 3), 77, np.uint8)
    p = preview(big)
    assert p.shape == (800, 400, 3) and (p == 77).all()
    small = noise(h=30, w=20)
    assert preview(small) is small or np.array_equal(preview(small), small)
    assert preview(np.zeros((2000, 10), np.uint8), 100).shape == (100, 1)
    assert preview(np.zeros((300, 600, 2), np.uint8), 60).shape == (30, 60, 2)
    stripes = np.tile(np.array([0, 255], np.uint8), (100, 50))  # 100×100 alternating columns
    assert np.abs(preview(stripes, 50).astype(int) - 128).max() <= 1  # area average


def test_side_by_side_same_height_and_white_gap():
    left = noise(h=40, w=60)
    right = noise(h=20, w=30, c=1)
    img = Image.open(io.BytesIO(side_by_side_png(left, right, gap=8)))
    assert img.mode == "RGB" and img.size == (60 + 8 + 60, 40)
    arr = np.asarray(img)
    np.testing.assert_array_equal(arr[:, :60], left)
    assert (arr[:, 60:68] == 255).all()
    np.testing.assert_array_equal(arr[:, 68:, 0], upscale_nearest(right, 2))
    with_alpha = side_by_side_png(noise(h=4, w=4, c=4), noise(h=4, w=4))
    assert Image.open(io.BytesIO(with_alpha)).mode == "RGBA"


# ---------------------------------------------------------------- shipped assets

def test_sample_images_exist_small_and_loadable():
    samples = sample_images()
    assert list(samples) == ["Scene (generated)", "Text", "Checkerboard",
                             "Thin lines (max vs avg differ)"]
    for path in samples.values():
        assert path.is_file() and path.stat().st_size <= 60_000
        out = load_image(path.read_bytes(), path.name)
        assert out.array.shape[1] <= 256 and out.array.shape[2] <= 256
    assert load_image(samples["Scene (generated)"].read_bytes()).array.shape[0] == 3
    assert load_image(samples["Checkerboard"].read_bytes()).array.shape[0] == 1


def test_assets_are_reproducible_and_thin_lines_separate_max_from_avg():
    script = imageio.ASSETS_DIR / "make_assets.py"
    spec = importlib.util.spec_from_file_location("make_assets", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for func in (mod.scene, mod.text, mod.checkerboard, mod.thin_lines):
        shipped = load_image((imageio.ASSETS_DIR / f"{func.__name__}.png").read_bytes()).array
        np.testing.assert_array_equal(shipped, chw(func()))
    lines = load_image((imageio.ASSETS_DIR / "thin_lines.png").read_bytes()).array[0].astype(float)
    for region in (lines[:64, :64], lines[:64, 64:], lines[64:]):
        blocks = region.reshape(region.shape[0] // 2, 2, region.shape[1] // 2, 2)
        assert blocks.max(axis=(1, 3)).max() == 255 and blocks.mean(axis=(1, 3)).max() <= 128
        assert (blocks.max(axis=(1, 3)) == 255).mean() >= 0.5


def test_png_is_exact_says_when_the_png_keeps_the_values():
    from ui.imageio import png_is_exact
    u8 = np.zeros((3, 2, 2), np.uint8)
    assert png_is_exact(u8, np.uint8) and not png_is_exact(u8.astype(float), np.uint8)
    assert png_is_exact(np.zeros((1, 2, 2), np.uint16), np.uint16)
    assert not png_is_exact(np.zeros((3, 2, 2), np.uint16), np.uint16)  # reduced to 8 bits
