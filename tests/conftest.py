"""Make the project importable from the tests, whatever the working directory."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import functools
import os

import pytest
from streamlit.components.v2 import manifest_scanner

from bench.load import Server, free_port

# Every new AppTest scans the metadata of every installed distribution for Streamlit
# components (v2 manifests): about 0.4 s of each AppTest run here, where the test
# dependencies put ~430 distributions on the path (a running server scans once, at start).
# The installed packages do not change while the tests run, so one scan per test process
# serves them all; what is found is registered per AppTest as before.
_scan_once = functools.cache(manifest_scanner.scan_component_manifests)
manifest_scanner.scan_component_manifests = lambda: list(_scan_once())

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """A real ``streamlit run app.py`` on 127.0.0.1, for the browser tests.

    Started and stopped by the load test's :class:`bench.load.Server` (its own
    process group, output to a log file shown if it fails to start).
    """
    server = Server(free_port(), tmp_path_factory.mktemp("streamlit") / "server.log")
    try:
        server.start(timeout=60)
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (``playwright install`` cannot download here)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh browser page; screenshots of each test go to tests/_artifacts/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def wait_for_app(pg, selector="[data-testid='stMain'] h1"):
    """Wait until the page shows ``selector`` (default: its title) and the script has finished."""
    pg.wait_for_selector(selector, timeout=60_000)
    try:
        pg.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    except Exception as exc:  # say what the status widget said (running? connecting?)
        status = pg.evaluate("() => document.querySelector('[data-testid=\"stStatusWidget\"]')"
                             "?.innerText")
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "wait_for_app_timeout.png"))
        raise AssertionError(f"the app stayed busy for 60 s; its status widget says {status!r} "
                             f"(screenshot: tests/_artifacts/wait_for_app_timeout.png)") from exc
    pg.wait_for_timeout(500)


ARTIFACTS = ROOT / "tests" / "_artifacts"
