"""Issue 17's classroom features in a real browser (Debian's Chromium against
``streamlit run``): presenter mode's keys, and the offline HTML export."""
import re

from conftest import ARTIFACTS, wait_for_app

# the animation's step caption (a text trace above its grids)
CAPTION = ".scatterlayer .textpoint text"
TITLE = ("(document.querySelector('.st-key-animation " + CAPTION + "') || {textContent: ''})"
         ".textContent")


def keys_ready(pg, element):
    """Wait until presenter mode's key handler clicks ``element`` (its iframe has run),
    then take the focus off any widget (keys typed into a widget stay there)."""
    pg.wait_for_function("(k) => Object.values(window.__poolscopeTargets || {}).flat()"
                         ".includes(k)", arg=element, timeout=20_000)
    pg.evaluate("document.activeElement && document.activeElement.blur()")


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
    keys_ready(page, "present_next")
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
    keys_ready(page, "quiz_new_playground")
    page.keyboard.press("n")
    page.wait_for_selector("text=Question 2.", timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_offline_html_plays_from_file_with_the_network_blocked(page, browser, app_url, tmp_path):
    page.goto(f"{app_url}/playground")
    wait_for_app(page)
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the animation (HTML, plays offline)").click()
    path = tmp_path / "animation.html"
    info.value.save_as(path)

    context = browser.new_context(viewport={"width": 1200, "height": 800})
    refused = []

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()
    context.route("**/*", only_files)
    try:
        offline = context.new_page()
        offline.goto(path.as_uri())
        offline.wait_for_selector(CAPTION)
        title = f"document.querySelector('{CAPTION}').textContent"
        assert offline.evaluate(title).startswith("out[0, 0] = max(")
        # hover an output cell: its tooltip names the window
        points = offline.locator(".scatterlayer path.point")
        assert points.count() == 9
        box = points.nth(4).bounding_box()
        offline.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        offline.wait_for_selector(".hoverlayer .hovertext", timeout=10_000)
        assert "out[1, 1]" in offline.locator(".hoverlayer").text_content()
        # Play: the frames advance with no server
        offline.locator(".updatemenu-button", has_text="Play").click()
        offline.wait_for_function(f"() => {title}.startsWith('out[0, 2]')", timeout=15_000)
        offline.wait_for_function(f"() => {title}.startsWith('out[2, 2]')", timeout=15_000)
        # the slider scrubs back to the first step
        rail = offline.locator(".slider-rail-touch-rect").first
        rbox = rail.bounding_box()
        rail.click(position={"x": 2, "y": rbox["height"] / 2})
        offline.wait_for_function(f"() => {title}.startsWith('out[0, 0]')", timeout=15_000)
        assert refused == []  # nothing even tried the network
    finally:
        context.close()


def test_presenter_arrows_turn_the_lesson_pages(page, app_url):
    page.goto(f"{app_url}/lesson?present=1&step=3")
    wait_for_app(page)
    keys_ready(page, "lesson_next_top")
    # Streamlit removes the keys' iframe on a rerun before the next one has run: a key
    # pressed then must still work (a listener bound by the iframe itself would be dead)
    removed = page.evaluate("""() => [...document.querySelectorAll('iframe')]
        .filter(f => (f.srcdoc || '').includes('__poolscopeTargets'))
        .map(f => f.remove()).length""")
    assert removed == 1
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('step=4')", timeout=20_000)
    wait_for_app(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => location.search.includes('step=3')", timeout=20_000)
    wait_for_app(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("n")
    page.wait_for_selector("text=Question 2.", timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_tap_shows_what_the_hover_shows(page, app_url):
    """Phones have no hover: a click on an output of the 1-D figure writes its label."""
    page.goto(f"{app_url}/dims")
    wait_for_app(page)
    page.wait_for_selector(".st-key-d1_fig_chart .scatterlayer")
    diamonds = page.locator(".st-key-d1_fig_chart .scatterlayer .trace:nth-child(3) path.point")
    assert diamonds.count() == 12  # 24 samples, k=2 s=2
    diamonds.nth(2).scroll_into_view_if_needed()
    box = diamonds.nth(2).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    caption = page.locator("[data-testid=stCaptionContainer]", has_text="Tapped: out[2] = ")
    caption.wait_for(timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_tap_on_a_playground_output_cell_says_what_it_reads(page, app_url):
    page.goto(f"{app_url}/playground")
    wait_for_app(page)
    title_starts(page, "out[0, 0]")
    points = page.locator(".st-key-animation .scatterlayer path.point")
    assert points.count() == 9
    box = points.nth(4).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    title_starts(page, "out[1, 1]")
    wait_for_app(page)
    page.locator("[data-testid=stCaptionContainer]",
                 has_text=re.compile(r"^Tapped: out\[1, 1\].*reads rows 2–3, cols 2–3$")
                 ).wait_for(timeout=20_000)
