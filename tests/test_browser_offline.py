"""Poolscope works offline in a real browser (issue 22): the page icon is shipped in assets/,
nothing is fetched from another host (a font server) and no error reaches the console,
on every page and after an interaction; the toolbar has no Deploy button."""
from urllib.parse import urlsplit

from conftest import wait_for_app

PAGES = ("", "playground", "image_lab", "backprop", "pool_vs_conv", "dims", "network")


def test_no_request_leaves_the_server_and_no_console_error(page, app_url):
    local = urlsplit(app_url).netloc
    foreign, errors, failed = [], [], []
    page.on("request", lambda r: foreign.append(r.url)
            if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(r.url).netloc != local else None)
    page.on("response", lambda r: failed.append(urlsplit(r.url).path) if r.status >= 400 else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    for name in PAGES:
        page.goto(f"{app_url}/{name}")
        wait_for_app(page)
        # an interaction: the kernel slider one step up (every page has the sidebar)
        page.locator(".st-key-kh input[type=range]").focus()
        page.keyboard.press("ArrowRight")
        wait_for_app(page)
        page.wait_for_timeout(500)
        icon = page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')]"
                             ".map(l => l.href)")
        assert icon and all(urlsplit(h).netloc in (local, "") or h.startswith("data:")
                            for h in icon), icon
        assert page.get_by_role("button", name="Deploy").count() == 0
    assert foreign == []
    # Streamlit's own start-up, opened on a page's address (/playground), first asks for
    # /playground/_stcore/health and host-config (404) before the app's root: the browser
    # logs each 404. Nothing else fails and nothing else is logged.
    probes = [p for p in failed if p.endswith(("/_stcore/health", "/_stcore/host-config"))]
    assert failed == probes, failed
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    assert len(errors) <= len(probes)
