"""Image decoding, conversion and export for Poolscope (NumPy + Pillow, no Streamlit).

Arrays handed to the pooling core are channels-first ``(C, H, W)``; arrays for
display are ``(H, W)`` or ``(H, W, C)`` uint8.  Every user-facing failure raises
:class:`ImageError`, whose message is a complete sentence meant to be shown as is.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps

MAX_UPLOAD_MB = 50  # must equal server.maxUploadSize in .streamlit/config.toml
MAX_PIXELS = 40_000_000  # decode limit (declared width × height)
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's decompression-bomb guard

FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")  # nothing else is even tried
# A progressive JPEG is decoded scan by scan, and every scan goes over the whole image
# again: an 8000×5000 file of 300 tiny scans (260 KB) takes seconds of the server's time.
# Encoders write 10 scans (libjpeg's default for colour, 6 for gray), a few more at most.
MAX_JPEG_SCANS = 32
ROUNDING_RULE = (
    "Float results are rounded half to even with numpy.rint and clipped to 0..255 "
    "(0..65535 for 16-bit sources); −inf/+inf (windows that read only padding) "
    "become 0 / 255 and NaN becomes 0. Float (32-bit) source images are first scaled "
    "linearly from their finite min..max to 0..255."
)
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
_SAMPLES = {
    "Scene (generated)": "scene.png",
    "Text": "text.png",
    "Checkerboard": "checkerboard.png",
    "Thin lines (max vs avg differ)": "thin_lines.png",
}


def keep_uploads_in_memory() -> int:
    """Make Streamlit's server keep uploaded files in memory, never in a temporary file.

    Streamlit's Starlette server parses an upload with Starlette's multipart parser,
    which spools any file over 1 MB to a temporary file on disk. Raising the parser's
    spool size above the upload limit keeps every upload in memory (Streamlit reads it
    into memory right after anyway). Called once by ``app.py``. Returns the spool size
    in bytes (0 when the server is not Starlette's).
    """
    try:
        from starlette.formparsers import MultiPartParser
    except ImportError:  # pragma: no cover - Streamlit always ships Starlette today
        return 0
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size,
                                         (MAX_UPLOAD_MB + 1) * 2**20)
    return MultiPartParser.spool_max_size


class ImageError(ValueError):
    """An image could not be used; ``str(err)`` is a user-facing sentence."""


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """A decoded image.

    Attributes
    ----------
    array : np.ndarray
        Shape ``(C, H, W)``; uint8 (8-bit sources), uint16 (16-bit) or float32.
    mode_in : str
        Pillow mode of the file as decoded (e.g. ``"P"``, ``"I;16"``).
    format : str
        Pillow format name (e.g. ``"PNG"``).
    note : str
        Sentence(s) describing conversions applied, or ``""``.
    """

    array: np.ndarray
    mode_in: str
    format: str
    note: str


def _pixels_text(n: int) -> str:
    return f"{n / 1e9:.3g} gigapixels" if n >= 1e9 else f"{n / 1e6:.3g} megapixels"


def _bomb_error(size: tuple[int, int] | None, label: str = "This image") -> ImageError:
    limit = _pixels_text(MAX_PIXELS)
    if size is None:
        return ImageError(f"{label} is larger than the {limit} limit. "
                          "Resize it and upload again.")
    w, h = size
    scale = math.sqrt(MAX_PIXELS / (w * h))
    sw, sh = (max(1, int(float(f"{v * scale:.2g}"))) for v in (w, h))  # 2 significant digits
    return ImageError(
        f"{label} declares {w}×{h} pixels = {_pixels_text(w * h)}; the limit is {limit}. "
        f"Resize it (e.g. to {sw}×{sh}) and upload again."
    )


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """Header-only size read that bypasses Pillow's bomb check (used for messages only)."""
    for fmt in FORMATS:
        factory, accept = Image.OPEN.get(fmt, (None, None))
        try:
            ok = factory is not None and (accept is None or accept(data[:16]))
            if ok and not isinstance(ok, str):
                return factory(io.BytesIO(data), "").size
        except Exception:
            continue
    return None


_FORMAT_NAMES = {"WEBP": "WebP"}  # Pillow's format names as people write them
_FORMATS_TEXT = ", ".join(_FORMAT_NAMES.get(f, f) for f in FORMATS)


def jpeg_scans(data: bytes) -> int:
    """How many scans (SOS markers) a JPEG file has, counted from its first scan; 0 if the
    file is not a JPEG.

    Reads the segment headers up to the first scan, as the decoder does (skipping their
    contents, where an EXIF thumbnail has a scan of its own), then counts every scan
    marker to the end of the file: inside a scan's data a 0xFF byte is always followed
    by 0x00 or a restart marker, so every scan the decoder would read is counted (never
    too few; a preview a phone stores after the image adds its own one). O(file size),
    in C (``bytes.count``).

    >>> buf = io.BytesIO()
    >>> Image.new("RGB", (16, 16)).save(buf, "JPEG", progressive=True)
    >>> jpeg_scans(buf.getvalue())
    10
    """
    if not data.startswith(b"\xff\xd8"):
        return 0
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return 0  # not a marker where one must be: Pillow will say what is wrong
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xDA:
            return data.count(b"\xff\xda", i)
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return 0


def _not_an_image(data: bytes, label: str) -> ImageError:
    """The refusal of a file Pillow cannot open, naming what it is when that is recognisable."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in head:
        return ImageError(f"{label} is an SVG vector drawing; pooling needs a pixel image. "
                          "Export it as PNG (e.g. in Inkscape: File → Export, or in the "
                          "program that made it) and upload the PNG.")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ImageError(f"{label} is a ZIP archive, not an image. Unzip it and upload one "
                          f"of the images inside ({_FORMATS_TEXT}).")
    if data.startswith(b"%PDF"):
        return ImageError(f"{label} is a PDF document, not an image. Export the page you "
                          "want as PNG or JPEG (or take a screenshot of it) and upload that.")
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis",
                                               b"mif1", b"msf1", b"avif", b"avis"):
        return ImageError(f"{label} is a HEIC/AVIF photo (a phone camera format) that we "
                          "cannot read. Save or export it as JPEG and upload that.")
    return ImageError(f"{label} is not an image we can read ({_FORMATS_TEXT}). Open it in "
                      "an image editor, save it as PNG or JPEG, and upload that file.")


def _to_array(img: Image.Image) -> tuple[np.ndarray, str]:
    """Pillow image -> ((C, H, W) array, conversion note)."""
    mode, note = img.mode, ""
    if mode.startswith("I;16"):
        arr = np.asarray(img.convert("I") if mode.endswith("S") else img)
        if arr.min(initial=0) < 0:
            return arr.astype(np.float32)[None], "Signed 16-bit image converted to float32."
        return arr.astype(np.uint16)[None], ""
    if mode == "I":
        arr = np.asarray(img)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            return arr.astype(np.float32)[None], "32-bit integer image converted to float32."
        return arr.astype(np.uint16)[None], "32-bit integer image stored as 16-bit."
    if mode == "F":
        return np.asarray(img, dtype=np.float32)[None], ""
    if mode == "1":
        img, note = img.convert("L"), "Bilevel image converted to 0/255 grayscale."
    elif mode in ("P", "PA"):
        alpha = mode == "PA" or img.has_transparency_data
        img = img.convert("RGBA" if alpha else "RGB")
        note = f"Palette image converted to {img.mode}."
    elif mode == "La":
        img = img.convert("LA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() or mode == "RGBa" else "RGB")
        note = f"{mode} converted to {img.mode}."
    arr = np.asarray(img, dtype=np.uint8)
    arr = arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
    return np.ascontiguousarray(arr), note


def load_image(data: bytes, name: str = "") -> LoadedImage:
    """Decode PNG/JPEG/WebP/BMP/TIFF/GIF bytes into a channels-first array.

    EXIF orientation is applied first.  RGB -> 3 channels, RGBA -> 4, LA -> 2,
    L/1 -> 1 (bilevel as 0/255), P -> RGB or RGBA, CMYK/YCbCr -> RGB,
    16-bit -> uint16 (exact), 32-bit int outside 0..65535 and float -> float32.
    Only the first frame of animated GIF/WebP/multi-page TIFF is used.

    Parameters
    ----------
    data : bytes
        The file contents (at most ``MAX_UPLOAD_MB`` MiB, ``MAX_PIXELS`` pixels).
    name : str
        File name, used only in error messages.

    Returns
    -------
    LoadedImage
        ``array`` has shape ``(C, H, W)``.

    Raises
    ------
    ImageError
        Empty, too large, not an image, truncated/corrupt, a decompression bomb, or a
        JPEG of more than ``MAX_JPEG_SCANS`` scans (refused before decoding).

    Examples
    --------
    >>> load_image((ASSETS_DIR / "scene.png").read_bytes()).array.shape
    (3, 192, 256)
    """
    label = f"'{name}'" if name else "This file"
    if not data:
        where = f" {label}" if name else ""
        raise ImageError(f"The file{where} is empty (0 bytes), so there is no image in it. "
                         f"Choose an image file with content ({_FORMATS_TEXT}).")
    if len(data) > MAX_UPLOAD_MB * 2**20:
        size = math.ceil(len(data) * 10 / 2**20) / 10  # up: 50 MB + 1 B is "50.1 MB"
        raise ImageError(
            f"{label} is {size:.1f} MB, over the {MAX_UPLOAD_MB:g} MB upload limit. "
            "Upload a smaller file: save it as JPEG, or resize it."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb_error(_declared_size(data), label) from None
    except Exception:
        raise _not_an_image(data, label) from None
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise _bomb_error((w, h), label)
    if img.format == "JPEG" and (scans := jpeg_scans(data)) > MAX_JPEG_SCANS:
        raise ImageError(
            f"{label} is a JPEG stored in {scans} scans (progressive); ordinary ones have "
            f"about 10, and this page takes at most {MAX_JPEG_SCANS}. Each scan makes the "
            f"decoder go over all {w}×{h} pixels again, so this file would keep the server "
            f"busy for seconds while everyone else using it waits. Open it in an image "
            f"editor, save it again as JPEG or PNG, and upload that file.")
    fmt, mode_in, notes = img.format or "", img.mode, []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if getattr(img, "is_animated", False):
                notes.append("Multi-frame image: only the first frame is used.")
            img.load()
            orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
            if orientation in range(2, 9):
                img = ImageOps.exif_transpose(img)
                notes.append(f"Rotated per EXIF orientation {orientation}.")
            arr, note = _to_array(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb_error(None, label) from None
    except Exception:
        raise ImageError(
            f"{label} is {f'a {_FORMAT_NAMES.get(fmt, fmt)}' if fmt else 'an image'} file "
            "that is truncated or corrupted, so its pixels could not be decoded. Download or "
            "export the image again and upload the new copy."
        ) from None
    if arr.shape[1] * arr.shape[2] == 0:
        raise ImageError(f"{label} has no pixels. Upload an image at least 1×1 in size.")
    return LoadedImage(arr, mode_in, fmt, " ".join(notes + ([note] if note else [])))


def _check_chw(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 3 or not 1 <= array.shape[0] <= 4:
        raise ImageError(f"Expected a (C, H, W) array with 1–4 channels, "
                         f"got shape {array.shape}.")
    return array


def to_grayscale(array: np.ndarray) -> np.ndarray:
    """``(C, H, W)`` -> ``(1, H, W)`` with ITU-R 601-2 luma (Pillow's "L").

    ``L = R*299/1000 + G*587/1000 + B*114/1000``; alpha is ignored; 1 or 2
    channels return the first channel.  The dtype is kept: uint8 and uint16 use
    Pillow's exact integer form ``(R*19595 + G*38470 + B*7471 + 2**15) >> 16``;
    other integers are rounded half to even and clipped to the dtype's range.

    Examples
    --------
    >>> to_grayscale(np.array([[[255]], [[0]], [[0]]], np.uint8)).tolist()
    [[[76]]]
    """
    array = _check_chw(array)
    if array.shape[0] < 3:
        return array[:1].copy()
    if array.dtype in (np.uint8, np.uint16):
        # Pillow's own integer form of the same weights (exact, and light on memory):
        # L = (R*19595 + G*38470 + B*7471 + 2**15) >> 16, which fits in uint32
        luma = array[0].astype(np.uint32) * 19595
        luma += array[1].astype(np.uint32) * 38470
        luma += array[2].astype(np.uint32) * 7471
        luma += 1 << 15
        luma >>= 16
        return luma.astype(array.dtype)[None]
    weights = np.array([0.299, 0.587, 0.114])
    luma = np.tensordot(weights, array[:3].astype(np.float64), axes=1)[None]
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(array.dtype)
        luma = np.clip(np.rint(luma), info.min, info.max)
    return luma.astype(array.dtype)


def to_display_uint8(array: np.ndarray,
                     dtype_hint: np.dtype | type | None = None) -> np.ndarray:
    """Pooled ``(C, H, W)`` result -> ``(H, W)`` (C=1) or ``(H, W, C)`` uint8.

    Rule (``ROUNDING_RULE``): values are rounded half to even (``numpy.rint``)
    and clipped to 0..255, or to 0..65535 for 16-bit sources (``dtype_hint`` or
    the array being uint16) and then shifted ``>> 8``; −inf/+inf become the
    minimum/maximum and NaN becomes 0.  Float sources (``dtype_hint`` float) are
    first scaled linearly from their finite min..max to 0..255.

    Examples
    --------
    >>> to_display_uint8(np.array([[[0.5, 1.5, -np.inf, np.nan, 300.0]]])).tolist()
    [[0, 2, 0, 0, 255]]
    """
    array = _check_chw(array)
    hint = np.dtype(dtype_hint if dtype_hint is not None else array.dtype)
    x = array.astype(np.float64)
    top = 65535.0 if hint == np.uint16 else 255.0
    if np.issubdtype(hint, np.floating) and dtype_hint is not None:
        finite = x[np.isfinite(x)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        x = (x - lo) * (255.0 / (hi - lo) if hi > lo else 0.0)
        top = 255.0
    x = np.clip(np.rint(np.nan_to_num(x, nan=0.0, posinf=top, neginf=0.0)), 0, top)
    out = (x.astype(np.uint16) >> 8).astype(np.uint8) if top > 255 else x.astype(np.uint8)
    return out[0] if out.shape[0] == 1 else np.ascontiguousarray(np.moveaxis(out, 0, -1))


def to_png_bytes(array: np.ndarray, source_dtype: np.dtype | type | None) -> bytes:
    """Exact pooled ``(C, H, W)`` image as PNG at its true pixel size (no resizing).

    C=1 -> "L" ("I;16" with exact values for a uint16 source), 2 -> "LA",
    3 -> "RGB", 4 -> "RGBA", pixels as :func:`to_display_uint8`.  Pillow cannot
    write 16-bit RGB(A) PNGs, so 16-bit colour results are reduced to 8 bits
    (rounded, then ``>> 8``); use :func:`to_npy_bytes` for exact values.

    Examples
    --------
    >>> len(to_png_bytes(np.zeros((3, 4, 5)), np.uint8)) > 0
    True
    """
    array = _check_chw(array)
    src = np.dtype(source_dtype if source_dtype is not None else array.dtype)
    if array.shape[0] == 1 and src == np.uint16:
        x = np.nan_to_num(array[0].astype(np.float64), nan=0.0, posinf=65535.0, neginf=0.0)
        img = Image.fromarray(np.clip(np.rint(x), 0, 65535).astype(np.uint16))
    else:
        img = Image.fromarray(to_display_uint8(array, source_dtype))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def png_is_exact(array: np.ndarray, source_dtype) -> bool:
    """True when :func:`to_png_bytes` stores ``array``'s values unchanged: whole numbers
    already in the source's 8-bit range, or single-channel 16-bit."""
    src = np.dtype(source_dtype)
    return array.dtype == src and (src == np.uint8 or (src == np.uint16 and array.shape[0] == 1))


def to_npy_bytes(array: np.ndarray) -> bytes:
    """Raw array (any shape/dtype, exact) as ``.npy`` bytes; read back with ``np.load``."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _resize_index(n_in: int, n_out: int) -> np.ndarray:
    """Repeat counts mapping ``n_in`` rows onto ``n_out`` (nearly equal blocks)."""
    return np.diff((np.arange(n_in + 1) * n_out) // n_in)


def upscale_nearest(array: np.ndarray, factor_or_target: int | tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour upscaling of ``(H, W)`` or ``(H, W, C)`` so blocks stay visible.

    ``factor_or_target`` is an integer factor, or a ``(height, width)`` target
    no smaller than the input (blocks then differ by at most one pixel).

    Examples
    --------
    >>> upscale_nearest(np.zeros((2, 3), np.uint8), 4).shape
    (8, 12)
    """
    array = np.asarray(array)
    h, w = array.shape[:2]
    if isinstance(factor_or_target, (int, np.integer)):
        if factor_or_target < 1:
            raise ImageError(f"Upscale factor must be at least 1, got {factor_or_target}.")
        return np.repeat(np.repeat(array, factor_or_target, axis=0), factor_or_target, axis=1)
    th, tw = (int(v) for v in factor_or_target)
    if th < h or tw < w:
        raise ImageError(f"Target {th}×{tw} is smaller than the image ({h}×{w}); "
                         "use preview() to shrink.")
    return np.repeat(np.repeat(array, _resize_index(h, th), axis=0), _resize_index(w, tw), axis=1)


def preview(array_hwc_uint8: np.ndarray, max_side: int = 800) -> np.ndarray:
    """Area-downscale ``(H, W[, C])`` uint8 so the longer side is <= ``max_side``.

    For the screen only: never use the result for pooling or downloads.
    Returns the input unchanged if it already fits.

    Examples
    --------
    >>> preview(np.zeros((1000, 500, 3), np.uint8)).shape
    (800, 400, 3)
    """
    array = np.asarray(array_hwc_uint8, dtype=np.uint8)
    h, w = array.shape[:2]
    if max(h, w) <= max_side:
        return array
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    chans = array[..., None] if array.ndim == 2 else array
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(chans[..., c]))
                      .resize(size, Image.Resampling.BOX)) for c in range(chans.shape[-1])]
    return out[0] if array.ndim == 2 else np.stack(out, axis=-1)


def _to_rgba(array: np.ndarray) -> np.ndarray:
    a = np.asarray(array, dtype=np.uint8)
    a = a[..., None] if a.ndim == 2 else a
    colour = np.repeat(a[..., :1], 3, axis=-1) if a.shape[-1] < 3 else a[..., :3]
    opaque = np.full(a.shape[:2] + (1,), 255, np.uint8)
    alpha = a[..., -1:] if a.shape[-1] in (2, 4) else opaque
    return np.concatenate([colour, alpha], axis=-1)


def side_by_side_png(left_hwc_uint8: np.ndarray, right_hwc_uint8: np.ndarray,
                     gap: int = 8) -> bytes:
    """Two uint8 images at the same height (smaller one nearest-upscaled), white gap, as PNG.

    Output is RGB, or RGBA if any pixel is not fully opaque.

    Examples
    --------
    >>> png = side_by_side_png(np.zeros((4, 4), np.uint8), np.zeros((2, 2), np.uint8))
    >>> Image.open(io.BytesIO(png)).size
    (16, 4)
    """
    left, right = _to_rgba(left_hwc_uint8), _to_rgba(right_hwc_uint8)
    th = max(left.shape[0], right.shape[0])
    left, right = (upscale_nearest(p, (th, max(p.shape[1], round(p.shape[1] * th / p.shape[0]))))
                   for p in (left, right))
    canvas = np.full((th, left.shape[1] + gap + right.shape[1], 4), 255, np.uint8)
    canvas[:, : left.shape[1]] = left
    canvas[:, left.shape[1] + gap :] = right
    has_alpha = (canvas[..., 3] < 255).any()
    buf = io.BytesIO()
    Image.fromarray(canvas if has_alpha else canvas[..., :3]).save(buf, format="PNG")
    return buf.getvalue()


def sample_images() -> dict[str, Path]:
    """Shipped sample images that exist on disk, as ``{friendly name: path}``.

    Examples
    --------
    >>> sorted(sample_images())[:1]
    ['Checkerboard']
    """
    return {label: ASSETS_DIR / f for label, f in _SAMPLES.items() if (ASSETS_DIR / f).is_file()}
