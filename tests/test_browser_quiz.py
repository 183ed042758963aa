"""Quiz me in a real browser (Debian's Chromium against ``streamlit run``): a click on an
input cell answers "which cell wins the max" and "which cells get gradient" (a second
click removes a cell), the page's own figures wait for the answer, and the lesson's
link opens its step."""
import re

import numpy as np

from conftest import ARTIFACTS, wait_for_app
from pooling_core import pool2d, pool2d_backward

SEED = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
BOX = ".st-key-quiz_box_playground"


def prompt(pg) -> str:
    return pg.locator(".st-key-quiz_prompt_playground").inner_text()


def asked_cell(text: str) -> tuple[int, int]:
    i, j = re.search(r"out\[(\d+), (\d+)\]", text).groups()
    return int(i), int(j)


def click_cell(pg, cell):
    """Click input cell ``(row, col)`` of the 4×4 seed example in the quiz's figure."""
    points = pg.locator(f"{BOX} .scatterlayer .trace:last-child path.point")
    assert points.count() == SEED.size  # a click target on every input cell
    target = points.nth(cell[0] * SEED.shape[1] + cell[1])
    target.evaluate("e => e.scrollIntoView({block: 'center'})")
    box = target.bounding_box()
    before = prompt(pg)
    pg.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.wait_for_timeout(300)
    wait_for_app(pg)
    assert prompt(pg) == before  # the same question, now with the pick


def choose_kind(pg, label):
    pg.locator(".st-key-quiz_kind_playground").click()
    pg.get_by_role("option", name=label).click()
    wait_for_app(pg)


def cell_text(cell):
    return f"({cell[0]}, {cell[1]})"


def test_click_cells_to_answer(page, app_url):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app_url}/playground?src=Preset")  # the 4×4 seed example, 2×2 max stride 2
    wait_for_app(page)
    assert page.locator(".st-key-animation").count() == 1
    page.locator(".st-key-quiz_on_playground").get_by_text("Quiz me").click()
    page.locator(BOX).wait_for()
    wait_for_app(page)
    assert page.locator(".st-key-animation").count() == 0  # predict, then reveal

    # which cell wins the max: one click picks it, Check says right
    choose_kind(page, "Which cell wins the max")
    i, j = asked_cell(prompt(page))
    winner = divmod(int(pool2d(SEED, 2, return_indices=True)[1][i, j]), 4)
    click_cell(page, winner)
    picked = page.locator(BOX).get_by_role("combobox", name="The cell (row, col)")
    assert picked.input_value() == cell_text(winner)
    page.locator(BOX).get_by_role("button", name="Check").click()
    page.locator(BOX).get_by_text(f"Right: {cell_text(winner)}.").wait_for()
    wait_for_app(page)
    assert page.locator(".st-key-animation").count() == 1  # the page's figures are back
    assert "1 right of 1" in page.locator(BOX).inner_text()

    # which cells get gradient: click the winner and a wrong cell, click the wrong one again
    page.locator(BOX).get_by_role("button", name="New question").click()
    wait_for_app(page)
    choose_kind(page, "Which cells get gradient")
    i, j = asked_cell(prompt(page))
    g = np.zeros((2, 2))
    g[i, j] = 1
    cells = [tuple(int(v) for v in c) for c in np.argwhere(pool2d_backward(g, SEED, 2))]
    assert len(cells) == 1  # max: the whole gradient to one cell
    wrong = next((r, c) for r in range(4) for c in range(4) if (r, c) not in cells)
    click_cell(page, cells[0])
    click_cell(page, wrong)
    chosen = page.locator(BOX).locator("[data-testid='stMultiSelect']")
    assert cell_text(cells[0]) in chosen.inner_text() and cell_text(wrong) in chosen.inner_text()
    click_cell(page, wrong)  # a second click removes it
    assert cell_text(wrong) not in chosen.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "quiz_gradient.png"), full_page=True)
    page.locator(BOX).get_by_role("button", name="Check").click()
    page.locator(BOX).get_by_text(f"Right: {cell_text(cells[0])}.").wait_for()
    assert "2 right of 2" in page.locator(BOX).inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    assert not errors, errors


def test_the_lesson_link_opens_its_step(page, app_url):
    page.goto(f"{app_url}/lesson?step=5")
    wait_for_app(page)
    page.get_by_role("heading", name="5. Floor or ceil").wait_for()
    page.get_by_role("button", name="Next →").first.click()
    page.get_by_role("heading", name="6. Dilation").wait_for()
    assert page.url.endswith("step=6")
    page.goto(f"{app_url}/lesson?step=twelve")
    wait_for_app(page)
    assert "the lesson has steps 1 to 10" in page.locator("[data-testid='stAlert']").first \
        .inner_text()
    page.get_by_role("heading", name="1. A window slides and keeps one number").wait_for()
