"""A hostile link in a real browser: Debian's Chromium against ``streamlit run``.

The link carries script and HTML payloads, a Markdown link to ``javascript:`` and a huge
number next to one good value. The page must warn, run none of it, show no traceback,
keep the good value and draw its result.
"""
from urllib.parse import urlencode

from conftest import ARTIFACTS, wait_for_app

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
MD_LINK = "[x](javascript:alert(1))"
HUGE = str(10 ** 30)


def test_hostile_link_warns_runs_nothing_and_keeps_the_good_value(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    query = urlencode({"kh": "3", "mode": SCRIPT, "fw": IMG, "rows": HUGE,
                       "src": "Edit the grid", "m": MD_LINK})
    page.goto(f"{app_url}/playground?{query}")
    wait_for_app(page)

    warning = page.locator("[data-testid='stAlert']",
                           has_text="This link has settings Poolscope cannot use")
    assert warning.count() == 1
    text = warning.inner_text()
    for line in (f"Mode: mode={SCRIPT} is not one of Max, Average",
                 f"Framework: fw={IMG} is not one of PyTorch",
                 f"Rows: rows={HUGE} is out of range (2–32); using the default 6.",
                 f"Matrix: m={MD_LINK} cannot be read"):
        assert line in text, text
    # the values are shown as code, not rendered: no link, no image, no script
    codes = warning.locator("code").all_inner_texts()
    assert f"mode={SCRIPT}" in codes and f"fw={IMG}" in codes and f"m={MD_LINK}" in codes
    assert warning.locator("a").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert not page.evaluate("() => [...document.scripts].some(s => s.text.includes('alert(1)'))")

    # no traceback; the good value stays, in the widget and the link, and the page works
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".st-key-kh input[type=range]").get_attribute("value") == "3"
    assert "kh=3" in page.url and "mode=" not in page.url and "rows=" not in page.url
    formula = page.locator("[data-testid='stCaptionContainer']", has_text="floor((6 + 2·0")
    assert "(3 - 1)" in formula.first.inner_text()
    # the animation is drawn (Plotly draws it after the script has finished: wait for it)
    page.locator(".st-key-animation .main-svg").first.wait_for(state="visible", timeout=30_000)

    page.wait_for_timeout(1000)  # time for any injected handler to fire
    assert dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "query_hostile.png"), full_page=True)
