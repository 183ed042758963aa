"""The Pooling zoo in a real browser: every mode's panel drawn, the tabs open, the re-roll
button draws new boundaries, the shift lab's slider moves the numbers; screenshots go to
tests/_artifacts/zoo*.png.

Uses the session's real ``streamlit run app.py`` (``app_url``) and Debian's Chromium
(``page``), both from conftest.py.
"""
import pytest

from conftest import ARTIFACTS, wait_for_app
from ui import zoo

pytest.importorskip("playwright.sync_api")


def _check_clean(pg):
    assert pg.locator("[data-testid='stException']").count() == 0, \
        pg.locator("[data-testid='stException']").first.inner_text()
    assert pg.locator("[data-testid='stAlertContentError']").count() == 0


def _screenshot(pg, name):
    ARTIFACTS.mkdir(exist_ok=True)
    height = pg.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    pg.set_viewport_size({"width": 1400, "height": min(max(int(height), 1000), 6000)})
    pg.wait_for_timeout(1200)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    pg.set_viewport_size({"width": 1400, "height": 1000})


def _close_stray_dialog(pg):
    """A first load can race the page registry and show 'Page not found'; dismiss it."""
    dialog = pg.get_by_role("dialog")
    if dialog.count() and dialog.get_by_text("Page not found").count():
        pg.keyboard.press("Escape")


SELECTED = """(name) => [...document.querySelectorAll("[role='tab']")].some(
    t => t.getAttribute('aria-selected') === 'true' && t.innerText.trim() === name)"""


def _tab(pg, name):
    """Open the tab ``name``: the tabs are lazy, so the click reruns the script, which only
    then draws the tab's body; wait for that run to finish."""
    pg.get_by_role("tab", name=name).click()
    pg.wait_for_function(SELECTED, arg=name, timeout=30_000)
    wait_for_app(pg)
    return pg.locator("[data-testid='stTabPanel']:visible, [role='tabpanel']:visible").first


def test_the_zoo_shows_every_mode_and_its_views(page, app_url):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app_url}/zoo")
    wait_for_app(page)
    _close_stray_dialog(page)
    page.get_by_role("heading", name="Pooling zoo").wait_for()
    grid = page.locator("[data-testid='stPlotlyChart']").first
    grid.locator(".main-svg").first.wait_for()
    titles = grid.locator(".gtitle, .annotation-text").all_text_contents()
    for label, _ in zoo.MODES.values():  # every mode has its panel, titled with its size
        assert any(t.startswith(label) for t in titles), (label, titles)
    _check_clean(page)
    _screenshot(page, "zoo")

    _tab(page, "Fractional max")
    page.get_by_role("button", name="Re-roll").click()
    wait_for_app(page)
    _tab(page, "Fractional max")
    page.get_by_text("Seed 1").wait_for()  # the default 8×8 input, ratio 0.7, now seed 1
    windows, _, _ = zoo.fractional_regions((8, 8), zoo.ZooParams(seed=1))
    shown = page.get_by_text("Window rows start at").inner_text()
    assert f"start at {windows.rows[0].tolist()}, columns at {windows.cols[0].tolist()}" in shown

    _tab(page, "GeM vs LPPool")
    page.get_by_text("LPPool2d = N^(1/p) · GeM").wait_for()

    _tab(page, "BlurPool shift lab")
    shift = page.get_by_role("slider", name="Shift (px)")
    shift.focus()
    page.keyboard.press("ArrowRight")  # the keyboard moves the slider: shift 1
    wait_for_app(page)
    _tab(page, "BlurPool shift lab")
    page.get_by_text("Input at shift 1").wait_for()
    assert "zoo_tab=BlurPool" in page.url and "zoo_shift=1" in page.url  # both in the link
    assert "zoo_frac_seed=1" in page.url
    _check_clean(page)
    _screenshot(page, "zoo_shift_lab")
    page.goto(page.url)  # the link reopens the same tab at the same shift, the same seed
    wait_for_app(page)
    page.get_by_text("Input at shift 1").wait_for()
    page.wait_for_function(SELECTED, arg="BlurPool shift lab")
    assert page.get_by_role("spinbutton", name="Fractional seed").input_value() == "1"
    assert not errors, errors


def test_image_lab_roi_box_dragged_on_the_image(page, app_url):
    """Open the ROI section, drag a box on the image: the typed corners follow, the bins
    and both outputs are drawn; then a box typed backwards gets its message."""
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app_url}/image_lab")
    wait_for_app(page)
    _close_stray_dialog(page)
    page.get_by_text("ROI pool & ROI align").click()
    wait_for_app(page)
    page.get_by_text("Drag a box on the image").wait_for()
    x1 = page.get_by_role("spinbutton", name="x1 (left)")
    before = x1.input_value()
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="Drag a box").first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    area = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(area["x"] + area["width"] * 0.1, area["y"] + area["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.3, area["y"] + area["height"] * 0.5, steps=8)
    page.mouse.move(area["x"] + area["width"] * 0.4, area["y"] + area["height"] * 0.6, steps=8)
    page.mouse.up()
    page.wait_for_function(
        f"() => document.querySelector('input[aria-label=\"x1 (left)\"]').value !== '{before}'",
        timeout=30_000)
    wait_for_app(page)
    left, right = float(x1.input_value()), float(page.get_by_role("spinbutton", name="x2 (right)").input_value())
    assert left < right  # the dragged box, left to right
    page.get_by_text("ROI pool rounds it").wait_for()
    assert page.locator("[data-testid='stPlotlyChart']").filter(has_text="ROI align").count() >= 1
    _check_clean(page)
    _screenshot(page, "image_lab_roi")
    x2 = page.get_by_role("spinbutton", name="x2 (right)")
    x2.fill(str(left - 1))
    x2.press("Enter")
    page.get_by_text("must be larger than x1").wait_for()
    _check_clean(page)
    # the modern modes on the whole image: the default (fractional max) and a second one
    page.get_by_text("Modern modes: fractional max").click()
    wait_for_app(page)
    page.get_by_text("Computed in").wait_for()
    assert page.get_by_text("Fractional max: ").count() >= 1
    _check_clean(page)
    assert not errors, errors
