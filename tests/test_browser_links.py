"""A copied link reopens the same view, in a real browser (issue 22): Debian's Chromium
against ``streamlit run``.

Each page is opened with a link that sets every one of its controls; the link the sidebar's
"Copy link" box gives is opened in a fresh browser context (no cookies, no session), which
must show the same page: the same text, the same widget values, the same link. The stride
untick and the refused-setting notice are checked here too, as a user meets them.
"""
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from conftest import ARTIFACTS, wait_for_app
from test_link_roundtrip import CASES, LINKS
from ui import widgets
from ui.links import LINK_PARAMS


def copied_link(pg) -> str:
    """The link in the sidebar's Copy link box, copied with its copy icon."""
    pg.get_by_role("button", name="Copy link").click()
    box = pg.locator("[data-testid='stPopoverBody'] [data-testid='stCode']")
    box.hover()
    box.locator("button[aria-label='Copy to clipboard']").click()
    pg.wait_for_timeout(200)
    text = pg.evaluate("navigator.clipboard.readText()")
    assert text == box.locator("code").inner_text().strip()
    pg.keyboard.press("Escape")
    return text


QUIET = """() => new Promise(resolve => {
    let timer = setTimeout(done, 700);
    const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, 700); });
    function done() { observer.disconnect(); resolve(true); }
    observer.observe(document.body, {subtree: true, childList: true, attributes: true,
                                      characterData: true});
})"""


def settle(pg) -> None:
    """Wait until the script has finished, every chart is drawn and the page has not
    changed for 0.7 s."""
    wait_for_app(pg)
    pg.wait_for_function("""() => !document.querySelector('[data-testid=stSkeleton]') &&
        [...document.querySelectorAll('[data-testid=stPlotlyChart]')]
            .every(c => c.querySelector('.main-svg'))""", timeout=60_000)
    pg.evaluate(QUIET)


def main_text(pg) -> str:
    return pg.locator("[data-testid='stMain']").inner_text()


def widget_values(pg) -> dict:
    """Every input, select and checkbox of the page as the browser shows it."""
    return pg.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('[class*="st-key-"]')].map(el => {
            const key = [...el.classList].find(c => c.startsWith('st-key-')).slice(7);
            const inputs = [...el.querySelectorAll('input, textarea')];
            const value = !inputs.length ? el.innerText : inputs.map(input =>
                input.type === 'checkbox' || input.type === 'radio' ? String(input.checked)
                : input.getAttribute('aria-valuetext') || input.value).join('|');
            return [key, value];
        }))""")


def open_fresh(browser, url, **context):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000},
                              permissions=["clipboard-read", "clipboard-write"], **context)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    pg.goto(url)
    settle(pg)
    return ctx, pg


# the zoo has a link per tab; in the browser two of them (its first tab, with most controls,
# and the shift lab), the others in AppTest only (test_link_roundtrip.py): each case here
# is two first loads, about 12 s, and the suite must stay within CI's 20 minutes
BROWSER_CASES = [(p, i) for p, i in CASES if p != "zoo" or i in (0, 6)]


@pytest.mark.parametrize("page_name,i", BROWSER_CASES, ids=[f"{p}-{i}" for p, i in BROWSER_CASES])
def test_a_copied_link_reopens_the_same_view(browser, app_url, page_name, i):
    link = LINKS[page_name][i]
    ctx, pg = open_fresh(browser, f"{app_url}/{page_name}?{urlencode(link)}")
    try:
        assert pg.locator("[data-testid='stException']").count() == 0
        first_text, first_values = main_text(pg), widget_values(pg)
        url = copied_link(pg)
    finally:
        ctx.close()
    query = dict(parse_qsl(urlsplit(url).query))
    for key, text in link.items():  # every value of the link is in the copied one
        spec = LINK_PARAMS[key]
        default = None if spec.default is None else spec.text(spec.default)
        if not (spec.dynamic and key not in query):  # a default that follows the data
            assert query.get(key, default) == text, (key, url)
    assert urlsplit(url).path == f"/{page_name}"
    if query == link:
        # the copied link is the very link this fresh context opened: opening it again
        # would repeat that load; the by-hand round trip below always reopens
        return

    ctx, pg = open_fresh(browser, url)  # a new browser context: nothing but the link
    try:
        assert main_text(pg) == first_text
        assert widget_values(pg) == first_values
        assert dict(parse_qsl(urlsplit(copied_link(pg)).query)) == query
    finally:
        ctx.close()


def test_controls_changed_by_hand_go_into_the_link(browser, app_url):
    """Kernel 3, untick Stride = kernel size (the stride stays 3), Speed 2×: the copied
    link reopens all three in a fresh context."""
    ctx, pg = open_fresh(browser, f"{app_url}/playground")
    try:
        pg.locator(".st-key-kh input[type=range]").focus()
        pg.keyboard.press("ArrowRight")
        wait_for_app(pg)
        pg.locator(".st-key-sk label").click()
        wait_for_app(pg)
        assert pg.locator(".st-key-sh input[type=range]").get_attribute("value") == "3"
        pg.locator(".st-key-anim_speed input[type=range]").focus()
        pg.keyboard.press("ArrowRight")
        wait_for_app(pg)
        url = copied_link(pg)
    finally:
        ctx.close()
    query = dict(parse_qsl(urlsplit(url).query))
    assert query == {"kh": "3", "sh": "3", "sk": "false", "anim_speed": "2×"}, url
    ctx, pg = open_fresh(browser, url)
    try:
        for key, value in (("kh", "3"), ("sh", "3"), ("anim_speed", "2×")):
            slider = pg.locator(f".st-key-{key} input[type=range]")
            assert slider.get_attribute("aria-valuetext") == value, key
        assert not pg.locator(".st-key-sk input").is_checked()
    finally:
        ctx.close()


def test_a_refused_setting_greys_the_figure_and_says_so(page, app_url):
    page.goto(f"{app_url}/playground?kh=3&dh=2")
    settle(page)
    paper = ("() => document.querySelector('.st-key-animation .js-plotly-plot')"
             "._fullLayout.paper_bgcolor")
    page.locator(".st-key-animation .main-svg").first.wait_for(state="visible")
    assert page.evaluate(paper) != widgets.STALE_BACKGROUND
    page.locator(".st-key-mode input").click()  # the select: type to filter, Enter picks
    page.keyboard.type("Average")
    page.keyboard.press("Enter")
    wait_for_app(page)
    notice = page.locator("[data-testid='stAlert']", has_text="Not updated")
    assert notice.count() == 1
    assert "no dilation" in notice.inner_text() and "mode Max" in notice.inner_text()
    page.wait_for_function(f"{paper} === '{widgets.STALE_BACKGROUND}'")
    caption = ".st-key-animation .scatterlayer .textpoint text"  # the step's caption
    assert page.locator(caption).first.text_content().startswith("out[0, 0] = max(")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "stale_notice.png"), full_page=True)
