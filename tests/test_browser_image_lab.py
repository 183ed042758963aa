"""The Image lab in a real browser: upload through the file input, see the pooled
preview, download the PNG, survive every bad file, and leave a screenshot.

Uses the session's real ``streamlit run app.py`` (``app_url``) and Debian's
Chromium (``page``), both from conftest.py. The bad files are from the corpus in
tests/data/bad/ (made by tests/data/make_bad.py, whose table gives each exact
message). The screenshot goes to tests/_artifacts/image_lab.png.
"""
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ARTIFACTS, wait_for_app
from pooling_core import output_size, pool2d

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
import make_bad  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

W, H = 300, 200
TIMEOUT = 45_000


def photo() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    img = np.stack([(x * 255) // W, (y * 255) // H, ((x // 20 + y // 20) % 2) * 200], -1)
    return img.astype(np.uint8)


def png_bytes(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


GOOD = png_bytes(photo())
BAD = [  # corpus files through the real file input; the refusals' messages must match exactly
    "empty.png", "truncated.jpg", "notes.png", "archive.png", "drawing.svg", "bomb.png",
    "one_pixel.png"]
HOSTILE_NAME = "[click](https:evil.example) **bold** $x^2$ :red[c] <b>i.png"  # no '/'
POOLED_CAPTION = (f"Pooled (Max, 2×2 window, stride 2): "
                  f"{output_size(W, 2)}×{output_size(H, 2)} px")


def upload(pg, name, data, mime="image/png"):
    field = pg.locator("[data-testid='stFileUploader'] input[type=file]")
    field.set_input_files({"name": name, "mimeType": mime, "buffer": data})


def close_stray_dialog(pg):
    """A first load can race the page registry and show 'Page not found'; dismiss it."""
    dialog = pg.get_by_role("dialog")
    if dialog.count() and dialog.get_by_text("Page not found").count():
        pg.keyboard.press("Escape")


def expect_good_result(pg):
    expect(pg.get_by_text(POOLED_CAPTION, exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(pg.locator("[data-testid='stAlertContentError']")).to_have_count(0, timeout=TIMEOUT)
    wait_for_app(pg)


def test_image_lab_in_the_browser(page, app_url, tmp_path):
    pg = page
    pg.goto(app_url + "/image_lab")
    wait_for_app(pg)
    close_stray_dialog(pg)
    expect(pg.get_by_text("Original: 256×192 px")).to_be_visible(timeout=TIMEOUT)  # the sample

    # the zoom and the mode grid are drawn only once their expanders are opened
    expect(pg.locator("[data-testid='stPlotlyChart']")).to_have_count(0)
    for header, shown in (("Zoom: the window sliding over real pixel values",
                           pg.locator("[data-testid='stPlotlyChart']")),
                          ("Compare modes: all six on this image",
                           pg.get_by_text("Median †", exact=False))):
        pg.get_by_text(header).click()
        expect(shown.first).to_be_visible(timeout=TIMEOUT)
        wait_for_app(pg)

    # the screenshot a student would see with both open: the sample scene, top to bottom
    ARTIFACTS.mkdir(exist_ok=True)
    pg.set_viewport_size({"width": 1400, "height": 3900})
    wait_for_app(pg)
    pg.wait_for_timeout(1500)  # let Plotly finish drawing the zoom
    pg.screenshot(path=str(ARTIFACTS / "image_lab.png"))
    pg.set_viewport_size({"width": 1400, "height": 1000})

    upload(pg, "gradient.png", GOOD)
    expect_good_result(pg)
    expect(pg.get_by_text("gradient.png", exact=False).first).to_be_visible()
    pooled_img = pg.locator("[data-testid='stImage']").filter(has_text=POOLED_CAPTION)
    expect(pooled_img.locator("img")).to_be_visible()
    assert pooled_img.locator("img").evaluate("i => i.naturalWidth") > 0

    button = pg.get_by_role("button", name=f"Pooled image (PNG, {output_size(W, 2)}×"
                                           f"{output_size(H, 2)})")
    with pg.expect_download(timeout=TIMEOUT) as info:
        button.click()
    path = info.value.path()
    png = Image.open(path)
    assert png.size == (output_size(W, 2), output_size(H, 2))
    expected = pool2d(np.moveaxis(photo(), -1, 0), 2)
    np.testing.assert_array_equal(np.moveaxis(np.asarray(png), -1, 0), expected)
    with pg.expect_download(timeout=TIMEOUT) as info:
        pg.get_by_role("button", name="Raw values (.npy, uint8)").click()
    np.testing.assert_array_equal(np.load(info.value.path()), expected)
    assert info.value.suggested_filename == "gradient_max_k2x2_s2x2.npy"

    for name in BAD:
        case = make_bad.CASES[name]
        upload(pg, name, (make_bad.OUT / name).read_bytes(), case.mime)
        message = case.message or "not even one window fits"  # 1×1: the padding advice
        alert = pg.locator("[data-testid='stAlert']").filter(has_text=message).first
        expect(alert).to_be_visible(timeout=TIMEOUT)
        wait_for_app(pg)
        if case.message:  # exactly the table's message, rendered as plain text
            text = alert.locator("[data-testid='stMarkdownContainer']").inner_text()
            assert text.strip() == case.message, name
        assert pg.locator("[data-testid='stException']").count() == 0, name
        assert "Traceback" not in pg.locator("[data-testid='stMain']").inner_text(), name
        pg.screenshot(path=str(ARTIFACTS / f"image_lab_bad_{name.replace('.', '_')}.png"))
        upload(pg, "gradient.png", GOOD)  # the page works again at once
        expect_good_result(pg)
        assert pg.locator("[data-testid='stException']").count() == 0, name

    # over the 50 MB upload limit: Streamlit's uploader refuses it, the limits stay in view
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\0" * (51 * 2**20))
    pg.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(huge))
    expect(pg.get_by_text("File must be 50.0MB or smaller")).to_be_visible(timeout=TIMEOUT)
    expect(pg.get_by_text("Limits: 50 MB per file and 40 megapixels")).to_be_visible()
    upload(pg, "gradient.png", GOOD)
    expect_good_result(pg)
    pg.screenshot(path=str(ARTIFACTS / "image_lab_after_bad_files.png"))

    # a file name is shown as written: no link, bold, math or colour from it
    upload(pg, HOSTILE_NAME, GOOD)
    expect_good_result(pg)
    caption = pg.locator("[data-testid='stCaptionContainer']").filter(
        has_text="— PNG (RGB), 300×200 px")
    expect(caption).to_have_count(1)
    assert caption.locator("strong").inner_text() == HOSTILE_NAME  # every character as typed
    assert caption.locator("a, .katex, strong strong").count() == 0
    assert pg.locator("a[href*='evil']").count() == 0
