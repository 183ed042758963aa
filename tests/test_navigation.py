"""Every page runs inside app.py's navigation, even when first visits race on a fresh server."""
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture
def legacy_flag():
    """Restore Streamlit's server-wide pages flag, which require_navigation switches."""
    saved = PagesManager.uses_pages_directory
    yield
    PagesManager.uses_pages_directory = saved


@pytest.mark.parametrize("page", [p for p in PAGES if p != "home.py"])  # home is "/": app.py
def test_a_page_run_without_app_py_asks_for_a_rerun_even_after_another_session_switched(
        page, legacy_flag):
    """The later of two racing first visits: the server-wide flag is already switched,
    but this run started in the legacy mode (the page alone, no sidebar). The page must
    still ask for a rerun through app.py, and a page run directly must not loop.

    (Here the script *is* the page, so every rerun runs it alone again; on a server the
    rerun runs app.py.)"""
    PagesManager.uses_pages_directory = False  # another session switched it already
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60).run()
    assert not at.exception
    assert at.session_state["_nav_reruns"] == 3  # asked to rerun, and stopped asking


@pytest.mark.parametrize("page", PAGES)
def test_a_page_reached_through_app_py_has_the_sidebar(page, legacy_flag):
    """AppTest starts in Streamlit's legacy mode too: its first switch_page runs the page
    alone, which asks once for the rerun through app.py; then the sidebar is there."""
    PagesManager.uses_pages_directory = True  # a fresh server
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page(f"pages/{page}").run()
    assert not at.exception
    assert "_nav_reruns" not in at.session_state  # the rerun went through app.py
    assert [s.label for s in at.sidebar.selectbox][:2] == ["Preset", "Framework"]


def test_the_sidebar_stays_through_many_changes(legacy_flag):
    """AppTest starts every run of a switched page in legacy mode; each run must get back
    to app.py (the rerun cap counts runs in a row, not runs in a session)."""
    PagesManager.uses_pages_directory = True
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/playground.py").run()
    for mode in ("avg", "sum", "min", "max", "avg"):
        at.selectbox(key="mode").set_value(mode).run()
        assert not at.exception
        assert {"kh", "ph", "dh"} <= {s.key for s in at.slider}, mode
