"""Issue 17's classroom features in a real browser (Debian's Chromium against
``streamlit run``): presenter mode's keys, and the offline HTML export."""
from conftest import ARTIFACTS, wait_for_app

TITLE = "(document.querySelector('.st-key-animation .gtitle') || {textContent: ''}).textContent"


def title_starts(pg, text, timeout=20_000):
    pg.wait_for_function(f"() => {TITLE}.startsWith({text!r})", timeout=timeout)


def test_presenter_keys_step_play_and_pause(page, app_url):
    page.goto(f"{app_url}/playground?present=1&src=Preset&in_preset=Seed+example+%284%C3%974%29")
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0
    # the sidebar starts folded, the text is large
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_attribute("data-collapsed") == "true"
    bar = page.locator("[data-testid=stMarkdownContainer] p", has_text="Step 1 of 4")
    size = bar.evaluate("e => getComputedStyle(e).fontSize")
    assert float(size.rstrip("px")) >= 22, size
    title_starts(page, "out[0, 0]")
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no widget focused
    page.keyboard.press("ArrowRight")
    title_starts(page, "out[0, 1]")
    wait_for_app(page)
    page.keyboard.press("ArrowRight")
    title_starts(page, "out[1, 0]")
    wait_for_app(page)
    page.keyboard.press("ArrowLeft")
    title_starts(page, "out[0, 1]")
    wait_for_app(page)
    # space plays on to the last step (4 steps, 0.6 s each) and the button says Pause meanwhile
    page.keyboard.press(" ")
    page.wait_for_selector(".st-key-present_play button:has-text('Pause')", timeout=20_000)
    title_starts(page, "out[1, 1]", timeout=30_000)
    page.wait_for_selector(".st-key-present_play button:has-text('Play')", timeout=20_000)
    # space again: plays from the start; space once more pauses before the end
    page.keyboard.press(" ")
    title_starts(page, "out[0, 0]", timeout=20_000)
    page.wait_for_selector(".st-key-present_play button:has-text('Pause')", timeout=20_000)
    page.keyboard.press(" ")
    page.wait_for_selector(".st-key-present_play button:has-text('Play')", timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "presenter.png"), full_page=True)


def test_presenter_key_n_asks_the_next_question(page, app_url):
    page.goto(f"{app_url}/playground?present=1")
    wait_for_app(page)
    page.locator(".st-key-quiz_on_playground label").click()
    page.wait_for_selector("text=Question 1.")
    wait_for_app(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("n")
    page.wait_for_selector("text=Question 2.", timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0
