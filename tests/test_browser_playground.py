"""The matrix playground in a real browser: Debian's Chromium against ``streamlit run``."""
import re

from conftest import ARTIFACTS, wait_for_app


def formula(pg):
    return pg.locator("[data-testid='stCaptionContainer']", has_text=re.compile(r"^floor|^ceil"))


def figure_title(pg):
    return pg.locator(".st-key-animation .gtitle").first.text_content()


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
        "() => !document.querySelector('.st-key-animation .gtitle').textContent"
        ".startsWith('out[0, 0]')", timeout=15_000)
    assert figure_title(page) != title0

    # a click on output cell (1, 1) reruns the page with the animation on its window
    page.locator(".st-key-animation .updatemenu-button", has_text="Pause").click()
    points = page.locator(".st-key-animation .scatterlayer .trace:last-child path.point")
    assert points.count() == 4  # the 2×2 output's click targets, row by row
    box = points.nth(3).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => document.querySelector('.st-key-animation .gtitle').textContent"
        ".startsWith('out[1, 1]')", timeout=15_000)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)

    # the GIF download arrives
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the animation (GIF)").click()
    path = tmp_path / "anim.gif"
    info.value.save_as(path)
    assert path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
