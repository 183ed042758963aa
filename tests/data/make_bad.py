"""Generate the bad-upload corpus in ``tests/data/bad/`` deterministically.

Usage (from the repository root)::

    python tests/data/make_bad.py                  # writes every committed file
    python tests/data/make_bad.py --with-oversize  # also the 51 MB file (git-ignored)

The files are what students upload from their desktops: broken, disguised,
enormous or merely unusual images. PNG and GIF files are written byte by byte
here (PNG data compressed with the standard library's ``zlib``, GIF with a
fixed-width LZW stream), so they do not depend on Pillow's encoders; the three
JPEGs come from Pillow's libjpeg at fixed settings, the ZIP from ``zipfile``
with a fixed timestamp. Every run writes the same bytes (tests/test_bad_uploads.py
checks the committed files against this script). Every committed file is a few kB;
the file over the 50 MB upload limit is made on the fly by :func:`oversize` and is
never committed.

``CASES`` is the table of what the user sees for each file: for a refused file,
the exact error message the Image lab shows (``ui.imageio.load_image`` raises it
as ``ImageError``); for an unusual but valid file, what it decodes to and what
the page shows. The tests check every entry, at the unit level and through the
real page.
"""

from __future__ import annotations

import functools
import io
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ExifTags, Image

OUT = Path(__file__).resolve().parent / "bad"
OVERSIZE_NAME = "oversize.png"  # written only with --with-oversize; listed in .gitignore
OVERSIZE_BYTES = 51 * 2**20  # over ui/imageio.py MAX_UPLOAD_MB (50 MB)
FORMATS_TEXT = "PNG, JPEG, WebP, BMP, TIFF, GIF"


# ----------------------------------------------------------------------------- encoders

def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png(width: int, height: int, bit_depth: int, color_type: int, rows: list[bytes],
        extra: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    """A PNG with the given IHDR fields and raw scanlines (filter type 0 on every row).

    ``extra`` chunks (e.g. ``PLTE``, ``tRNS``) go between IHDR and IDAT. ``rows`` may
    be shorter than ``height`` (the file then declares more pixels than it holds).
    """
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\0" + row for row in rows), 9)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + b"".join(_chunk(tag, data) for tag, data in extra)
            + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))


def _lzw_uncompressed(pixels: bytes, min_code_size: int = 2) -> bytes:
    """GIF LZW data that never grows the code table: a clear code before every two pixels.

    Every code is then ``min_code_size + 1`` bits wide, so any decoder reads it the
    same way; packed little-endian into 255-byte sub-blocks.
    """
    clear, end, width = 1 << min_code_size, (1 << min_code_size) + 1, min_code_size + 1
    codes = []
    for i in range(0, len(pixels), 2):
        codes += [clear, *pixels[i:i + 2]]
    codes.append(end)
    acc = nbits = 0
    out = bytearray()
    for code in codes:
        acc |= code << nbits
        nbits += width
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc)
    blocks = b"".join(bytes([len(out[i:i + 255])]) + out[i:i + 255]
                      for i in range(0, len(out), 255))
    return bytes([min_code_size]) + blocks + b"\0"


def gif(width: int, height: int, palette: list[tuple[int, int, int]], frames: list[bytes],
        delay_cs: int = 20) -> bytes:
    """An animated GIF89a (loops forever): one full-size frame of palette indices per entry."""
    table = b"".join(bytes(c) for c in palette) + b"\0" * 3 * (4 - len(palette))  # 4 colours
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF1, 0, 0) + table)
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for pixels in frames:
        out += b"\x21\xf9\x04\x04" + struct.pack("<H", delay_cs) + b"\x00\x00"  # keep frame
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
        out += _lzw_uncompressed(pixels)
    return bytes(out + b"\x3b")


def jpeg(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90, **kw)
    return buf.getvalue()


# ----------------------------------------------------------------------------- images

def good_png(width: int = 48, height: int = 32) -> bytes:
    """A valid RGB PNG (diagonal colour bands); the "next good upload" of the tests."""
    rows = [bytes(v for x in range(width)
                  for v in ((x * 5) % 256, (y * 8) % 256, ((x + y) * 3) % 256))
            for y in range(height)]
    return png(width, height, 8, 2, rows)


def _rgb_pattern(width: int, height: int) -> Image.Image:
    data = bytes(v for y in range(height) for x in range(width)
                 for v in ((x * 7 + y * 3) % 256, (x * y) % 256, (255 - x * 4) % 256))
    return Image.frombytes("RGB", (width, height), data)


def truncated_png() -> bytes:
    """A 64×48 RGB PNG cut in the middle of its pixel data."""
    rows = [bytes(v for x in range(64) for v in ((x * x + y) % 256, (x * y) % 256, (y * 5) % 256))
            for y in range(48)]
    data = png(64, 48, 8, 2, rows)
    return data[: len(data) // 2]


def truncated_jpeg() -> bytes:
    """A 64×48 JPEG cut in the middle of its entropy-coded data."""
    data = jpeg(_rgb_pattern(64, 48))
    return data[: len(data) // 2]


def text_as_png() -> bytes:
    return b"Shopping list: milk, eggs, flour.\nThis is a text file renamed to .png.\n" * 8


def zip_as_png() -> bytes:
    """A ZIP archive (holding a PNG) renamed to .png; fixed timestamp, stored, deterministic."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo("photo.png", date_time=(2024, 1, 1, 0, 0, 0)), good_png())
    return buf.getvalue()


def svg() -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" viewBox="0 0 64 48">\n'
            b'  <rect width="64" height="48" fill="#3a7bd5"/>\n'
            b'  <circle cx="32" cy="24" r="14" fill="#ffd75a"/>\n'
            b'</svg>\n')


def pdf() -> bytes:
    """A one-page PDF (a scan, as students have them), minimal but well-formed."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 64 48] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def heic() -> bytes:
    """The start of an iPhone HEIC photo: the ISO-BMFF ``ftyp`` box, then a stub ``meta`` box."""
    ftyp = b"ftypheic" + struct.pack(">I", 0) + b"mif1heic"
    meta = b"meta" + b"\0" * 12
    return struct.pack(">I", 8 + len(ftyp) - 4) + ftyp + struct.pack(">I", 4 + len(meta)) + meta


def bomb() -> bytes:
    """A 100-byte PNG whose header declares 50000×50000 8-bit gray pixels (2.5 gigapixels)."""
    return png(50000, 50000, 8, 0, [b"\0" * 16])


def one_pixel() -> bytes:
    return png(1, 1, 8, 2, [bytes((200, 60, 30))])


def strip() -> bytes:
    """20000×20 grayscale: a ramp repeating every 256 columns, shifted per row."""
    return png(20000, 20, 8, 0, [bytes((x + 9 * y) % 256 for x in range(20000))
                                 for y in range(20)])


def animated_gif() -> bytes:
    """Three 16×12 frames: red, blue, green (palette indices 0, 1, 2)."""
    frames = [bytes([i]) * (16 * 12) for i in range(3)]
    return gif(16, 12, [(255, 0, 0), (0, 0, 255), (0, 255, 0)], frames)


def gray16() -> bytes:
    """32×24 16-bit grayscale: value 64·x + 2048·y + 7 (7 … 49,095, most above 255)."""
    rows = [b"".join(struct.pack(">H", 64 * x + 2048 * y + 7) for x in range(32))
            for y in range(24)]
    return png(32, 24, 16, 0, rows)


def cmyk_jpeg() -> bytes:
    return jpeg(_rgb_pattern(32, 24).convert("CMYK"))


def palette_alpha() -> bytes:
    """24×16 palette PNG, 4 colours, index 3 fully transparent (tRNS), a 2×2 checker of 4 px."""
    palette = bytes((230, 30, 30, 30, 160, 60, 40, 60, 220, 0, 0, 0))
    rows = [bytes(((x // 4) + (y // 4)) % 4 for x in range(24)) for y in range(16)]
    return png(24, 16, 8, 3, rows, ((b"PLTE", palette), (b"tRNS", bytes((255, 255, 255, 0)))))


def exif_rotated() -> bytes:
    """40×20 JPEG, red square top-left as stored, EXIF orientation 6 (turn 90° clockwise)."""
    img = Image.new("RGB", (40, 20), (20, 20, 20))
    img.paste((255, 0, 0), (0, 0, 8, 8))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return jpeg(img, exif=exif.tobytes())


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """``(marker, start, end)`` of each segment of a JPEG; a scan (SOS) includes its data."""
    out, i = [], 2
    while i < len(data):
        marker = data[i + 1]
        if marker == 0xD9:
            out.append((marker, i, i + 2))
            break
        j = i + 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
        while marker == 0xDA:  # the scan's data runs to the next marker (not FF00, RSTn)
            j = data.index(b"\xff", j)
            if data[j + 1] != 0 and not 0xD0 <= data[j + 1] <= 0xD7:
                break
            j += 2
        out.append((marker, i, j))
        i = j
    return out


@functools.lru_cache(maxsize=1)
def many_scans(width: int = 8000, height: int = 5000, scans: int = 300) -> bytes:
    """A progressive JPEG of ``width``×``height`` with ``scans`` scans, about 260 KB.

    Pillow's progressive JPEG of a flat colour (10 scans), with its last scan (an AC
    refinement of a few dozen bytes, and the Huffman table before it) repeated until
    there are ``scans``: libjpeg decodes every repeat over the whole image.
    """
    img = Image.new("RGB", (width, height), (120, 130, 140))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, progressive=True)
    data = buf.getvalue()
    segs = jpeg_segments(data)
    last = max(k for k, (m, _, _) in enumerate(segs) if m == 0xDA)
    repeat = data[segs[last - 1][1]:segs[last][2]]  # DHT + SOS with its data
    have = sum(m == 0xDA for m, _, _ in segs)
    eoi = segs[-1][1]
    return data[:eoi] + repeat * (scans - have) + data[eoi:]


def oversize(size: int = OVERSIZE_BYTES) -> bytes:
    """A valid PNG padded with zero bytes after IEND to ``size`` bytes (never committed)."""
    data = good_png()
    return data + b"\0" * (size - len(data))


# ----------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class Case:
    """One corpus file and what the user sees.

    Attributes
    ----------
    make : callable
        Returns the file's bytes.
    mime : str
        The type a browser would send.
    message : str
        For a refused file: the exact message shown (``st.error``). ``""`` if it loads.
    loads : dict
        For a valid file: ``shape`` (C, H, W), ``dtype``, ``mode_in``, ``format`` and
        ``note`` of ``load_image``'s result.
    page : dict
        For a valid file: what the Image lab shows with the default settings (max,
        kernel 2, stride 2): ``image``, the caption of the pooled image (or of the
        unpooled original when no window fits); ``info``/``caption``, an exact message
        shown with it; ``error_contains``, a phrase of the settings' error. Every valid
        file also shows ``loads["note"]`` in the caption under the uploader.
    committed : bool
        False for the file made on the fly (over the upload limit).
    """

    make: object
    mime: str
    message: str = ""
    loads: dict = field(default_factory=dict)
    page: dict = field(default_factory=dict)
    committed: bool = True


_NOT_AN_IMAGE = ("'{name}' is not an image we can read ({formats}). Open it in an image "
                 "editor, save it as PNG or JPEG, and upload that file.")
_TRUNCATED = ("'{name}' is a {kind} file that is truncated or corrupted, so its pixels could "
              "not be decoded. Download or export the image again and upload the new copy.")
_POOLED = "Pooled (Max, 2×2 window, stride 2): {w}×{h} px"  # the pooled image's caption

CASES: dict[str, Case] = {
    # ------------------------------------------------------------ refused, with a message
    "empty.png": Case(
        lambda: b"", "image/png",
        message=f"The file 'empty.png' is empty (0 bytes), so there is no image in it. "
                f"Choose an image file with content ({FORMATS_TEXT})."),
    "truncated.png": Case(
        truncated_png, "image/png",
        message=_TRUNCATED.format(name="truncated.png", kind="PNG")),
    "truncated.jpg": Case(
        truncated_jpeg, "image/jpeg",
        message=_TRUNCATED.format(name="truncated.jpg", kind="JPEG")),
    "notes.png": Case(
        text_as_png, "image/png",
        message=_NOT_AN_IMAGE.format(name="notes.png", formats=FORMATS_TEXT)),
    "archive.png": Case(
        zip_as_png, "image/png",
        message=f"'archive.png' is a ZIP archive, not an image. Unzip it and upload one of "
                f"the images inside ({FORMATS_TEXT})."),
    "drawing.svg": Case(
        svg, "image/svg+xml",
        message="'drawing.svg' is an SVG vector drawing; pooling needs a pixel image. "
                "Export it as PNG (e.g. in Inkscape: File → Export, or in the program "
                "that made it) and upload the PNG."),
    "scan.pdf": Case(
        pdf, "application/pdf",
        message="'scan.pdf' is a PDF document, not an image. Export the page you want as "
                "PNG or JPEG (or take a screenshot of it) and upload that."),
    "photo.heic": Case(
        heic, "image/heic",
        message="'photo.heic' is a HEIC/AVIF photo (a phone camera format) that we cannot "
                "read. Save or export it as JPEG and upload that."),
    "bomb.png": Case(
        bomb, "image/png",
        message="'bomb.png' declares 50000×50000 pixels = 2.5 gigapixels; the limit is "
                "40 megapixels. Resize it (e.g. to 6300×6300) and upload again."),
    "many_scans.jpg": Case(
        many_scans, "image/jpeg", committed=False,
        message="'many_scans.jpg' is a JPEG stored in 300 scans (progressive); ordinary ones "
                "have about 10, and this page takes at most 32. Each scan makes the decoder "
                "go over all 8000×5000 pixels again, so this file would keep the server busy "
                "for seconds while everyone else using it waits. Open it in an image editor, "
                "save it again as JPEG or PNG, and upload that file."),
    # In a real browser Streamlit's uploader refuses it first ("File must be 50.0MB or
    # smaller", tests/test_browser_image_lab.py); this message is the decoder's own check,
    # for anything that reaches it (AppTest, or server.maxUploadSize set higher).
    OVERSIZE_NAME: Case(
        oversize, "image/png", committed=False,
        message="'oversize.png' is 51.0 MB, over the 50 MB upload limit. Upload a smaller "
                "file: save it as JPEG, or resize it."),
    # ------------------------------------------------------------ valid but unusual
    "one_pixel.png": Case(
        one_pixel, "image/png",
        loads=dict(shape=(3, 1, 1), dtype="uint8", mode_in="RGB", format="PNG", note=""),
        page=dict(
            # plus the sidebar settings' own error (st.error, also by the Kernel control):
            # "framework=PyTorch: kernel_size=(2, 2) with dilation=(1, 1) spans 2 cells on
            # axis 0, more than the input (1) plus padding (0+0): the output would be empty;
            # use a smaller kernel, more padding, or padding='same' (…)"
            error_contains="the output would be empty",
            info="This image is 1×1 px (width × height) but the window spans 2×2 px, so not "
                 "even one window fits. To pool it anyway, in the sidebar set **Padding → "
                 "Number** to **1** (half the kernel), or choose **Framework → TensorFlow** "
                 "and **Padding → SAME**, or lower the **Kernel size** (or the **Dilation**). "
                 "Or upload a larger image.",
            image="Original: 1×1 px (not pooled)")),
    "strip.png": Case(
        strip, "image/png",
        loads=dict(shape=(1, 20, 20000), dtype="uint8", mode_in="L", format="PNG", note=""),
        page=dict(
            image=_POOLED.format(w=10000, h=10),
            info="This image is 20000×20 px, 1000 times wider than high, so on screen it is "
                 "a line only 1 px thick. The pooling and the downloads use every pixel; the "
                 "zoom below shows the pixel values.",
            caption="For speed this grid pools a copy downscaled to 16000×16 px; the result "
                    "above uses every pixel.")),
    "animated.gif": Case(
        animated_gif, "image/gif",
        loads=dict(shape=(3, 12, 16), dtype="uint8", mode_in="P", format="GIF",
                   note="Multi-frame image: only the first frame is used. "
                        "Palette image converted to RGB."),
        page=dict(image=_POOLED.format(w=8, h=6))),
    "gray16.png": Case(
        gray16, "image/png",
        loads=dict(shape=(1, 24, 32), dtype="uint16", mode_in="I;16", format="PNG", note=""),
        page=dict(image=_POOLED.format(w=16, h=12))),
    "cmyk.jpg": Case(
        cmyk_jpeg, "image/jpeg",
        loads=dict(shape=(3, 24, 32), dtype="uint8", mode_in="CMYK", format="JPEG",
                   note="CMYK converted to RGB."),
        page=dict(image=_POOLED.format(w=16, h=12))),
    "palette_alpha.png": Case(
        palette_alpha, "image/png",
        loads=dict(shape=(4, 16, 24), dtype="uint8", mode_in="P", format="PNG",
                   note="Palette image converted to RGBA."),
        page=dict(image=_POOLED.format(w=12, h=8))),
    "exif_rotated.jpg": Case(
        exif_rotated, "image/jpeg",
        loads=dict(shape=(3, 40, 20), dtype="uint8", mode_in="RGB", format="JPEG",
                   note="Rotated per EXIF orientation 6."),
        page=dict(image=_POOLED.format(w=10, h=20))),
}


def generate() -> dict[str, bytes]:
    """``{file name: bytes}`` of every committed corpus file."""
    return {name: case.make() for name, case in CASES.items() if case.committed}


def write(out: Path = OUT, with_oversize: bool = False) -> list[Path]:
    """Write the corpus into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    files = generate()
    if with_oversize:
        files[OVERSIZE_NAME] = oversize()
    paths = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for path in write(with_oversize="--with-oversize" in sys.argv[1:]):
        print(f"{path.stat().st_size:>12,} B  {path}")
