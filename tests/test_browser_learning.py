"""Real browser: each learning page renders its figures without an error (screenshots in
tests/_artifacts/)."""
import pytest
from conftest import ARTIFACTS, wait_for_app

PAGES = [
    ("backprop", "Backprop & unpooling", 4),  # forward, backward, check, unpooling
    ("pool_vs_conv", "Pooling vs strided convolution", 3),  # kernel, outputs, difference
    ("dims", "1-D, 3-D & adaptive pooling", 1),
]


def _plotly_count(pg) -> int:
    return pg.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").count()


def _check_clean(pg):
    assert pg.locator("[data-testid='stException']").count() == 0, \
        pg.locator("[data-testid='stException']").first.inner_text()
    assert pg.locator("[data-testid='stAlertContentError']").count() == 0, \
        pg.locator("[data-testid='stAlertContentError']").first.inner_text()


def _open(pg, url):
    """Open a page of the app (a deep link) and wait for its run to finish, sidebar included."""
    pg.goto(url)
    wait_for_app(pg)
    pg.locator("[data-testid='stSidebar']").get_by_text("Kernel size").first.wait_for()
    wait_for_app(pg)


def _screenshot(pg, name):
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = pg.evaluate("() => document.querySelector(\"[data-testid='stMain']\")"
                         ".scrollHeight")
    pg.set_viewport_size({"width": 1400, "height": min(max(int(height), 1000), 6000)})
    pg.wait_for_timeout(1200)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    pg.set_viewport_size({"width": 1400, "height": 1000})


def _wait_for_plots(pg, at_least):
    pg.wait_for_function(
        f"() => document.querySelectorAll(\"[data-testid='stPlotlyChart'] .main-svg\").length"
        f" >= {at_least}", timeout=60_000)
    pg.wait_for_timeout(800)


@pytest.mark.parametrize("path,title,min_plots", PAGES)
def test_page_renders(page, app_url, path, title, min_plots):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _open(page, f"{app_url}/{path}")
    page.get_by_role("heading", name=title).wait_for()
    _wait_for_plots(page, min_plots)
    _check_clean(page)
    assert _plotly_count(page) >= min_plots
    _screenshot(page, path)
    assert not errors, errors


def test_dims_tabs_render(page, app_url):
    _open(page, f"{app_url}/dims")
    for name, shot in (("3-D volume", "dims-3d"), ("Adaptive & global", "dims-adaptive")):
        page.get_by_role("tab", name=name).click()
        page.wait_for_timeout(500)
        panel = page.locator("[role='tabpanel']:visible")
        panel.locator(".js-plotly-plot .main-svg").first.wait_for()
        _check_clean(page)
        _screenshot(page, shot)


def test_backprop_play_runs_the_backward_animation(page, app_url):
    """Pressing ▶ Play on the backward figure steps through its frames (the title changes)."""
    _open(page, f"{app_url}/backprop")
    _wait_for_plots(page, 2)
    chart = page.locator("[data-testid='stPlotlyChart']").nth(1)
    title = chart.locator(".gtitle").first
    before = title.text_content()
    chart.get_by_text("▶ Play").click()
    page.wait_for_timeout(1800)
    assert title.text_content() != before
    assert "∂L/∂out" in title.text_content()
    _check_clean(page)
