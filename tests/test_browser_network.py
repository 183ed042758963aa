"""Real browser: the "Pooling inside a network" page trains a run, fills the table and shows
the network inside, without an error, and its link reopens that view in a new session
(screenshots in tests/_artifacts/)."""
from conftest import wait_for_app
from test_browser_learning import _check_clean, _screenshot


def test_network_page_trains_and_shows_the_inside(page, app_url):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app_url}/network")
    wait_for_app(page)
    page.get_by_role("heading", name="Pooling inside a network").wait_for()
    page.get_by_role("button", name="Train", exact=True).click()
    # the default run (max pooling, seed 0, 5 epochs) takes seconds; its row and the
    # server's count appear when it has finished
    page.get_by_text("This server has trained").wait_for(timeout=120_000)
    wait_for_app(page)
    _check_clean(page)
    # a data grid writes its cells' text a moment after it is drawn: wait for the row
    page.locator("[data-testid='stDataFrame']").filter(has_text="Max pool 2×2").first.wait_for(
        timeout=30_000)
    page.get_by_role("heading", name="Inside a trained network").wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stPlotlyChart'] .main-svg\").length >= 5",
        timeout=60_000)
    # the window animation plays: its caption (a text trace above the grids) moves on
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="▶ Play").first
    title = chart.locator(".scatterlayer .textpoint text").first
    before = title.text_content()
    chart.get_by_text("▶ Play").click()
    page.wait_for_timeout(1800)
    assert title.text_content() != before and "max(" in title.text_content()
    _check_clean(page)
    _screenshot(page, "network")
    # the view inside goes into the link: a shifted digit, reopened in a new session
    page.locator(".st-key-nn_shift").get_by_text("right", exact=True).click()
    page.wait_for_function("() => location.search.includes('nn_shift=right')", timeout=30_000)
    wait_for_app(page)
    page.goto(page.url)  # a new session: nothing but the link (the server keeps the run)
    wait_for_app(page)
    page.get_by_role("heading", name="Inside a trained network").wait_for()
    assert page.locator(".st-key-nn_shift input[type=radio]:checked").count() == 1
    checked = page.locator(".st-key-nn_shift label").filter(has=page.locator("input:checked"))
    assert checked.inner_text().strip() == "right"
    page.locator("[data-testid='stDataFrame']").filter(has_text="Max pool 2×2").first.wait_for(
        timeout=30_000)  # the run's row, in the new session's table
    _check_clean(page)
    assert not errors, errors
