"""The matrix playground in a real browser: Debian's Chromium against ``streamlit run``."""
import re

from conftest import ARTIFACTS, wait_for_app


def formula(pg):
    return pg.locator("[data-testid='stCaptionContainer']", has_text=re.compile(r"^floor|^ceil"))


CAPTION = ".st-key-animation .scatterlayer .textpoint text"  # the step's caption (a text trace)


def figure_title(pg):
    return pg.locator(CAPTION).first.text_content()


def test_playground_slider_play_and_gif(page, app_url, tmp_path):
    page.goto(f"{app_url}/playground")
    wait_for_app(page)
    assert page.get_by_role("heading", name="Matrix playground").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    before = formula(page).first.inner_text()
    assert before.endswith("= 2 + 1 = 3")

    # move the kernel slider with the keyboard: 2 -> 3
    page.locator(".st-key-kh input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".some(e => e.innerText.startsWith('floor((6 + 2·0 - 1·(3 - 1)'))")
    wait_for_app(page)
    assert formula(page).first.inner_text().endswith("= 1 + 1 = 2")
    assert "kh=3" in page.url  # the state is in the link

    # Play advances the frames in the browser, with no rerun
    title0 = figure_title(page)
    assert title0.startswith("out[0, 0] = max(")
    page.locator(".st-key-animation .updatemenu-button", has_text="Play").click()
    page.wait_for_function(
        "() => !document.querySelector('.st-key-animation .scatterlayer .textpoint text').textContent"
        ".startsWith('out[0, 0]')", timeout=15_000)
    assert figure_title(page) != title0

    # a click on output cell (1, 1) reruns the page with the animation on its window
    page.locator(".st-key-animation .updatemenu-button", has_text="Pause").click()
    points = page.locator(".st-key-animation .scatterlayer path.point")
    assert points.count() == 4  # the 2×2 output's click targets, row by row
    box = points.nth(3).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => document.querySelector('.st-key-animation .scatterlayer .textpoint text').textContent"
        ".startsWith('out[1, 1]')", timeout=15_000)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)

    # the GIF download arrives
    page.get_by_role("tab", name="Export").click()
    wait_for_app(page)  # the tab's rerun draws the buttons anew: a click before it is lost
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the animation (GIF)").click()
    path = tmp_path / "anim.gif"
    info.value.save_as(path)
    assert path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")


def test_playground_animates_every_cell_of_a_32x32_matrix(page, app_url):
    """2×2 stride 1 on 32×32: all 961 output cells animate; a click jumps to a cell."""
    page.goto(f"{app_url}/playground?rows=32&cols=32&sk=false&sh=1")
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert figure_title(page).startswith("out[0, 0] = max(")
    assert page.locator(".st-key-animation .slider-group").count() == 1
    # the slider reaches the last cell: a click at the right end of its rail
    rail = page.locator(".st-key-animation .slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    rail.click(position={"x": box["width"] - 1, "y": box["height"] / 2})
    page.wait_for_function(
        "() => document.querySelector('.st-key-animation .scatterlayer .textpoint text').textContent"
        ".startsWith('out[30, 30]')", timeout=15_000)

    # Play runs on from the first frame
    rail.click(position={"x": 1, "y": box["height"] / 2})
    page.wait_for_function(
        "() => document.querySelector('.st-key-animation .scatterlayer .textpoint text').textContent"
        ".startsWith('out[0, 0]')", timeout=15_000)
    page.locator(".st-key-animation .updatemenu-button", has_text="Play").click()
    page.wait_for_function(
        "() => /^out\\[0, [2-9]/.test("
        "document.querySelector('.st-key-animation .scatterlayer .textpoint text').textContent)", timeout=20_000)
    page.locator(".st-key-animation .updatemenu-button", has_text="Pause").click()

    # a click on out[5, 7] reruns the page with the animation on that cell
    points = page.locator(".st-key-animation .scatterlayer path.point")
    assert points.count() == 961
    points.nth(5 * 31 + 7).evaluate("e => e.scrollIntoView({block: 'center'})")  # not under
    box = points.nth(5 * 31 + 7).bounding_box()  # the page's sticky header
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => document.querySelector('.st-key-animation .scatterlayer .textpoint text').textContent"
        ".startsWith('out[5, 7]')", timeout=15_000)
    wait_for_app(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground_32x32.png"), full_page=True)
