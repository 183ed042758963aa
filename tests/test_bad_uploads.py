"""The bad-upload corpus: every file a student might upload, and what the Image lab does.

The corpus lives in tests/data/bad/ and is made by tests/data/make_bad.py, whose
``CASES`` table says, for each file, the exact message the user sees or what the
page shows for an unusual but valid image. For every file this module checks:

* the committed bytes are exactly what the script makes;
* ``load_image``: the exact ``ImageError`` message, or the decoded array;
* the real page (AppTest through app.py): no exception, the message or result,
  and the next good upload works at once.

Then: uploads never touch the disk and the uploaded file's name is never opened,
and a file name cannot inject Markdown into the page.
"""
import asyncio
import builtins
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import captions, image_captions, open_page, open_sections, upload
from ui import imageio
from ui import imagelab as lab
from ui.imageio import ImageError, load_image
from ui.pool_settings import PoolSettings

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
import make_bad  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = make_bad.CASES
GOOD = make_bad.good_png()  # 48×32 RGB
GOOD_POOLED = "Pooled (Max, 2×2 window, stride 2): 24×16 px"
MAX_COMMITTED_BYTES = 8 * 1024


def corpus(name: str) -> bytes:
    """The file as a student would upload it: the committed copy, or made on the fly."""
    case = CASES[name]
    return (make_bad.OUT / name).read_bytes() if case.committed else case.make()


def shown(markdown: str) -> str:
    """Markdown source -> the text the user reads (CommonMark backslash escapes removed)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


# ------------------------------------------------------------------- the corpus itself

def test_committed_corpus_is_exactly_what_the_script_makes(tmp_path):
    made = make_bad.generate()
    committed = {p.name for p in make_bad.OUT.iterdir()} - {make_bad.OVERSIZE_NAME}
    assert committed == set(made) == {n for n, c in CASES.items() if c.committed}
    for name, data in made.items():
        assert (make_bad.OUT / name).read_bytes() == data, \
            f"{name} differs from make_bad.py's output: run python tests/data/make_bad.py"
        assert len(data) <= MAX_COMMITTED_BYTES, name
    assert make_bad.generate() == made  # deterministic
    written = make_bad.write(tmp_path)
    assert {p.name: p.read_bytes() for p in written} == made


def test_corpus_covers_the_issue_list():
    assert set(CASES) >= {"empty.png", "truncated.png", "truncated.jpg", "notes.png",
                          "archive.png", "drawing.svg", "bomb.png", "one_pixel.png",
                          "strip.png", "animated.gif", "gray16.png", "cmyk.jpg",
                          "palette_alpha.png", "exif_rotated.jpg", "oversize.png"}
    assert corpus("empty.png") == b""
    bomb = corpus("bomb.png")
    assert len(bomb) < 100 and bomb[16:24] == (50000).to_bytes(4, "big") * 2  # IHDR w, h
    assert corpus("notes.png").isascii() and corpus("archive.png")[:4] == b"PK\x03\x04"
    assert b"<svg" in corpus("drawing.svg")
    big = CASES["oversize.png"]
    assert not big.committed and len(big.make()) > imageio.MAX_UPLOAD_MB * 2**20


def test_the_oversize_file_is_never_committed():
    ignored = subprocess.run(["git", "check-ignore", "-q", "tests/data/bad/oversize.png"],
                             cwd=ROOT, capture_output=True)
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.returncode == 0, "tests/data/bad/oversize.png must be in .gitignore"


# ------------------------------------------------------------------- unit level

@pytest.mark.parametrize("name", list(CASES))
def test_load_image_gives_the_exact_message_or_the_image(name):
    case = CASES[name]
    if case.message:
        with pytest.raises(ImageError) as info:
            load_image(corpus(name), name)
        assert str(info.value) == case.message
        assert "Traceback" not in case.message and "Pillow" not in case.message
    else:
        out = load_image(corpus(name), name)
        assert (out.array.shape, str(out.array.dtype), out.mode_in, out.format, out.note) \
            == tuple(case.loads[k] for k in ("shape", "dtype", "mode_in", "format", "note"))


def test_valid_unusual_files_decode_to_the_right_pixels():
    def arr(name):
        return load_image(corpus(name), name).array

    assert arr("one_pixel.png")[:, 0, 0].tolist() == [200, 60, 30]
    y, x = np.mgrid[0:20, 0:20000]
    np.testing.assert_array_equal(arr("strip.png")[0], (x + 9 * y) % 256)
    gif = arr("animated.gif")  # the first frame: red
    assert (gif[0] == 255).all() and (gif[1:] == 0).all()
    y, x = np.mgrid[0:24, 0:32]
    deep = arr("gray16.png")[0]
    np.testing.assert_array_equal(deep, 64 * x + 2048 * y + 7)  # exact, far above 255
    rgb = np.moveaxis(np.asarray(make_bad._rgb_pattern(32, 24)), -1, 0).astype(int)
    err = np.abs(arr("cmyk.jpg").astype(int) - rgb)  # back to the colours it was made from
    assert err.mean() < 3 and err.max() < 30
    pal = arr("palette_alpha.png")
    index = ((np.mgrid[0:16, 0:24] // 4).sum(axis=0)) % 4
    np.testing.assert_array_equal(pal[3], np.where(index == 3, 0, 255))
    assert pal[:3, 0, 0].tolist() == [230, 30, 30] and pal[:3, 0, 4].tolist() == [30, 160, 60]
    rot = arr("exif_rotated.jpg")  # 40×20 turned 90° clockwise: 20 wide, 40 high
    assert rot[0, :8, 12:].mean() > 200 and rot[1, :8, 12:].mean() < 60  # marker now top-right
    assert rot[0, :8, :8].mean() < 60


def test_messages_say_what_is_wrong_and_what_to_do():
    for name, case in CASES.items():
        if case.message:
            assert f"'{name}'" in case.message  # which file
            assert re.search(r"\b(Upload|upload|Choose|Export|Resize|Unzip|Save|Download)\b",
                             case.message.split(". ", 1)[-1]), name  # what to do
    svg = CASES["drawing.svg"].message
    assert "vector" in svg and "Export it as PNG" in svg


def test_a_message_without_a_name_starts_with_this_file():
    with pytest.raises(ImageError, match=r"^This file is not an image we can read \(PNG, JPEG, "
                                         r"WebP, BMP, TIFF, GIF\)\. "):
        load_image(corpus("notes.png"))


def test_a_thin_strip_keeps_a_mode_grid_the_window_fits():
    strip = load_image(corpus("strip.png")).array
    small, shrunk = lab.compare_copy(strip)
    assert shrunk and small.shape == (1, 16, 16000)
    assert small.shape[1] * small.shape[2] <= lab.COMPARE_SIDE ** 2
    np.testing.assert_array_equal(lab.compare_copy(strip[:, :8, :600])[0], strip[:, :8, :600])
    assert lab.thin_note((20, 20000), lab.screen_target((20, 20000))).startswith(
        "This image is 20000×20 px, 1000 times wider than high")
    assert lab.thin_note((192, 256), lab.screen_target((192, 256))) == ""


def test_md_escape_renders_the_name_as_written():
    name = "[x](https:evil.example) **b** $x$ :red[c] <b>i</b> a@b.co_\n.png"
    escaped = lab.md_escape(name)
    assert shown(escaped) == name.replace("\n", " ")
    assert not re.search(r"(?<!\\)[\[\]()*$:<>_@]", escaped)  # every one escaped


# ------------------------------------------------------------------- the page (AppTest)

@pytest.fixture(scope="module")
def lab_page():
    at = open_page()
    open_sections(at)  # every file also goes through the zoom and the mode grid
    return at


def expect_good_upload_works(at):
    upload(at, "good.png", GOOD)
    assert not at.error, [e.value for e in at.error]
    assert GOOD_POOLED in image_captions(at)
    assert "**good.png** — PNG (RGB), 48×32 px, RGB, uint8." in captions(at)
    assert len(at.get("download_button")) == 3
    # the zoom and the mode grid stay open through refused files (nothing lost)
    assert at.session_state["img_zoom"] and at.session_state["img_compare"]
    assert len(at.get("plotly_chart")) == 1 and any("Median †" in c for c in image_captions(at))


@pytest.mark.parametrize("name", list(CASES))
def test_page_shows_the_message_then_the_next_upload_works(lab_page, name):
    at, case = lab_page, CASES[name]
    upload(at, name, corpus(name), case.mime)  # asserts no exception
    if case.message:
        assert [shown(e.value) for e in at.error] == [case.message]
        assert "Choose another file above, or switch to a sample image." in captions(at)
        assert not at.get("download_button") and not image_captions(at)
    else:
        page, loads = case.page, case.loads
        _, h, w = loads["shape"]
        assert f"**{name}** — {loads['format']} ({loads['mode_in']}), {w}×{h} px, " \
            in captions(at)
        assert loads["note"] in captions(at)
        assert page["image"] in image_captions(at)
        if "info" in page:
            assert page["info"] in [i.value for i in at.info]
        if "caption" in page:
            assert page["caption"] in captions(at)
        if "error_contains" in page:
            with pytest.raises(ValueError) as core:
                PoolSettings().pool_kwargs((h, w))
            errors = [e.value for e in at.error]
            assert errors and set(errors) == {str(core.value)}  # the settings' own message
            assert page["error_contains"] in errors[0]
            assert not at.get("download_button")
        else:
            assert not at.error, [e.value for e in at.error]
            assert len(at.get("download_button")) == 3
    assert not at.exception
    expect_good_upload_works(at)


def test_a_file_name_cannot_inject_markdown(lab_page):
    name = "[click](https:evil.example) **bold** $x^2$ :red[c] <b>i</b>.png"
    upload(lab_page, name, GOOD)
    caption = next(c.value for c in lab_page.caption if "PNG (RGB)" in c.value)
    assert caption.startswith(f"**{lab.md_escape(name)}** — PNG (RGB)")
    upload(lab_page, name, b"not an image")
    assert shown(lab_page.error[0].value).startswith(f"'{name}' is not an image we can read")
    expect_good_upload_works(lab_page)


# ------------------------------------------------------------------- nothing touches the disk

class DiskSpy:
    """Records every file-system call that could read or write a file."""

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def __init__(self, monkeypatch):
        self.calls, self.image_opens = [], []
        real_open, real_os_open, real_image_open = builtins.open, os.open, Image.open

        def spy_open(file, mode="r", *args, **kwargs):
            self.calls.append(("open", file, mode))
            return real_open(file, mode, *args, **kwargs)

        def spy_os_open(path, flags, *args, **kwargs):
            self.calls.append(("os.open", path, "w" if flags & self.WRITE_FLAGS else "r"))
            return real_os_open(path, flags, *args, **kwargs)

        def spy_image_open(fp, *args, **kwargs):
            self.image_opens.append(fp if isinstance(fp, (str, bytes, os.PathLike)) else type(fp))
            return real_image_open(fp, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", spy_open)
        monkeypatch.setattr(io, "open", spy_open)  # pathlib's read_bytes/write_bytes
        monkeypatch.setattr(os, "open", spy_os_open)
        monkeypatch.setattr(Image, "open", spy_image_open)
        for fn in ("mkstemp", "mkdtemp", "TemporaryFile", "NamedTemporaryFile",
                   "SpooledTemporaryFile", "TemporaryDirectory"):
            real = getattr(tempfile, fn)
            monkeypatch.setattr(tempfile, fn, lambda *a, _fn=fn, _real=real, **k: (
                self.calls.append(("tempfile." + _fn, "", "w")), _real(*a, **k))[1])

    def writes(self):
        return [c for c in self.calls if c[0].startswith("tempfile.")
                or any(m in str(c[2]) for m in "wax+")]

    def paths(self):
        return [str(c[1]) for c in self.calls if not c[0].startswith("tempfile.")]


def test_uploads_are_never_written_and_the_uploaded_name_is_never_opened(tmp_path, monkeypatch):
    at = open_page()  # Streamlit reads its own files while starting; spy on the uploads only
    work, tmp = tmp_path / "cwd", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    canary = work / "canary.png"  # a good image at the path the upload's name points to:
    canary.write_bytes(GOOD)  # had the page opened the name, it would pool this image
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    bad = corpus("notes.png")
    uploads = [(str(canary), bad), ("canary.png", bad), ("../cwd/canary.png", bad),
               ("canary.png", corpus("gray16.png")), ("good.png", GOOD)]
    spy = DiskSpy(monkeypatch)
    seen = []
    for name, data in uploads:
        upload(at, name, data)
        seen.append(([shown(e.value) for e in at.error], image_captions(at)))
    control = ROOT / "app.py"  # the spy's own check: a read it must see
    control.read_bytes()
    os.close(os.open(control, os.O_RDONLY))
    monkeypatch.undo()
    assert spy.calls[-2:] == [("open", control, "rb"), ("os.open", control, "r")]
    del spy.calls[-2:]

    for (name, data), (errors, images) in zip(uploads[:3], seen):
        assert errors == [f"'{name}' is not an image we can read (PNG, JPEG, WebP, BMP, TIFF, "
                          f"GIF). Open it in an image editor, save it as PNG or JPEG, and "
                          f"upload that file."]  # the uploaded bytes, not the file at that path
    assert "Original: 32×24 px" in seen[3][1] and "Original: 48×32 px" in seen[4][1]
    assert not [p for p in spy.paths() if "canary" in p], "a path from the upload was opened"
    assert spy.writes() == [], "something was written during the uploads"
    assert set(spy.image_opens) == {io.BytesIO}, spy.image_opens  # bytes, never a path
    assert len(spy.image_opens) >= len(uploads)
    assert sorted(p.name for p in work.iterdir()) == ["canary.png"]
    assert canary.read_bytes() == GOOD and list(tmp.iterdir()) == []


def _multipart(payload: bytes) -> tuple[bytes, bytes]:
    boundary = b"poolscopeboundary"
    body = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; "
            b"filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n" + payload
            + b"\r\n--" + boundary + b"--\r\n")
    return body, b"multipart/form-data; boundary=" + boundary


def _parse_upload(body: bytes, content_type: bytes) -> bytes:
    """What Streamlit's server does with an upload request: Starlette's ``request.form()``."""
    from starlette.requests import Request

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def parse():
        scope = {"type": "http", "method": "PUT", "path": "/", "headers": [
            (b"content-type", content_type), (b"content-length", str(len(body)).encode())]}
        form = await Request(scope, receive).form()
        data = await form["file"].read()
        await form.close()
        return data

    return asyncio.run(parse())


def test_the_server_keeps_uploads_in_memory(monkeypatch):
    """Streamlit's Starlette server would spool uploads over 1 MB to a temporary file;
    app.py raises the spool size above the upload limit (imageio.keep_uploads_in_memory)."""
    parser = pytest.importorskip("starlette.formparsers").MultiPartParser
    monkeypatch.setattr(parser, "spool_max_size", 1024 * 1024)  # Starlette's default
    temp_files = []
    real = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile",
                        lambda *a, **k: temp_files.append(1) or real(*a, **k))
    payload = bytes(range(256)) * (3 * 4096)  # 3 MB
    body, ctype = _multipart(payload)
    assert _parse_upload(body, ctype) == payload and temp_files == [1]  # default: on disk
    temp_files.clear()
    assert imageio.keep_uploads_in_memory() > imageio.MAX_UPLOAD_MB * 2**20
    assert _parse_upload(body, ctype) == payload and temp_files == []  # now: in memory
    assert "imageio.keep_uploads_in_memory()" in (ROOT / "app.py").read_text()
