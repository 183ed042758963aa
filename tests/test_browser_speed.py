"""Promises the playground's figure makes, kept in a real browser (issue 22): hovering or
tapping an output cell moves the drawn window to that cell's window, and the output panel
is drawn at its own size with its empty grid."""
import pytest

from conftest import ARTIFACTS, wait_for_app
from pooling_core import pool2d, window_cells
from ui import widgets

# 6×6 seed-0 matrix, 3×3 windows, stride 1, padding 1: a 6×6 output whose border windows
# read padding
LINK = "/playground?kh=3&sk=false&sh=1&sw=1&ph=1&pw=1"
KWARGS = dict(kernel_size=3, stride=1, padding=1)

OVERLAY = """() => [...document.querySelectorAll('.st-key-animation .poolscope-hover rect.tap')]
  .map(r => [r.getAttribute('data-tap'), r.classList.contains('pad'),
             +r.getAttribute('x'), +r.getAttribute('y'), +r.getAttribute('width')])"""
HIDDEN = """() => [...document.querySelectorAll('.st-key-animation .trace')]
  .filter(e => e.__data__ && e.style.visibility === 'hidden').map(e => e.__data__[0].trace.name)"""
IMAGES = """() => [...document.querySelectorAll('.st-key-animation .imagelayer image')]
  .map(i => ['x', 'y', 'width', 'height'].map(a => +i.getAttribute(a)))"""


def open_chart(pg, url):
    pg.goto(url)
    wait_for_app(pg)
    pg.wait_for_function(
        "() => document.querySelectorAll('.st-key-animation .imagelayer image').length == 2")


def target(pg, i, j, cols):
    """The centre of output cell (i, j)'s click target (markers row by row)."""
    point = pg.locator(".st-key-animation .scatterlayer path.point").nth(i * cols + j)
    point.evaluate("e => e.scrollIntoView({block: 'center'})")
    box = point.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def expected(i, j):
    wc = window_cells((6, 6), **KWARGS)
    return [(f"{r},{c}", not ok) for (r, c), ok in
            zip(wc.coords[i, j].reshape(-1, 2).tolist(), wc.inside[i, j].ravel().tolist())]


def test_hovering_an_output_cell_moves_the_window_there(page, app_url):
    open_chart(page, app_url + LINK)
    out = pool2d(widgets.random_matrix(6, 6, 0), **KWARGS)
    assert out.shape == (6, 6)
    (ix, iy, iw, ih), _ = page.evaluate(IMAGES)
    cell = iw / 8  # the input picture: 6×6 and its padding ring
    for i, j in ((0, 0), (2, 3), (5, 5)):
        page.mouse.move(*target(page, i, j, 6))
        page.wait_for_function(
            f"() => document.querySelector('.poolscope-hover')?.dataset.cell === '{i},{j}'")
        taps = page.evaluate(OVERLAY)
        assert [(t, pad) for t, pad, *_ in taps] == expected(i, j)
        for tap, _, x, y, w in taps:  # each tap drawn on its cell of the input picture
            r, c = map(int, tap.split(","))
            assert x == pytest.approx(ix + (c + 1) * cell, abs=0.5)
            assert y == pytest.approx(iy + (r + 1) * cell, abs=0.5) and w == pytest.approx(cell)
        # the animation's own window steps aside while the pointer stays
        assert sorted(page.evaluate(HIDDEN)) == sorted(
            ["window", "window (padding)", "chosen cell", "output cell"])
        if (i, j) == (2, 3):
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(".st-key-animation").screenshot(path=str(ARTIFACTS / "hover_window.png"))
    page.mouse.move(5, 5)  # off the chart: the animation's window is back
    page.wait_for_function("() => !document.querySelector('.poolscope-hover')")
    assert page.evaluate(HIDDEN) == []


def test_tapping_an_output_cell_on_a_touch_screen_moves_the_window_there(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, has_touch=True,
                                  is_mobile=False)
    try:
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        open_chart(pg, app_url + LINK)
        for i, j in ((3, 1), (4, 4)):  # a tap is Plotly's click: the window moves there
            pg.touchscreen.tap(*target(pg, i, j, 6))
            want = [[tap, pad] for tap, pad in expected(i, j)]
            pg.wait_for_function(
                f"(want) => JSON.stringify(({OVERLAY})().map(t => t.slice(0, 2)))"
                " === JSON.stringify(want)", arg=want)
    finally:
        context.close()


def test_the_output_is_drawn_at_its_own_size_with_its_empty_grid(page, app_url):
    # 2×2 windows, stride 2 on 6×6: a 3×3 output on an input of 6 rows
    open_chart(page, app_url + "/playground")
    _, (ox, oy, ow, oh) = page.evaluate(IMAGES)
    (ix, iy, iw, ih), _ = page.evaluate(IMAGES)
    assert ow == pytest.approx(oh) and ow == pytest.approx(iw / 2)  # 3 cells of the input's size
    assert oy == pytest.approx(iy)  # both panels start at the top
    ticks = page.locator(".st-key-animation .y2tick text").all_text_contents()
    assert sorted(ticks) == ["0", "1", "2"]  # the output's rows, not the input's 0-5
    assert page.locator(".st-key-animation .x2tick text").all_text_contents() == ["0", "1", "2"]
    # the empty grid: every border of the 3×3 output drawn at step 0, when one cell is done
    lines = page.evaluate("""() => {
      const t = [...document.querySelectorAll('.st-key-animation .trace')]
        .find(e => e.__data__ && e.__data__[0].trace.name === 'output grid');
      return [...t.querySelectorAll('path.js-line')].map(p => {
        const b = p.getBBox(); return [b.x, b.y, b.width, b.height]; });
    }""")
    assert len(lines) == 4 + 4  # 4 row borders, 4 column borders
    assert sorted(round(w) for _, _, w, h in lines if h < 1) == [round(ow)] * 4
    assert sorted(round(h) for _, _, w, h in lines if w < 1) == [round(oh)] * 4
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".st-key-animation").screenshot(path=str(ARTIFACTS / "output_grid.png"))


def test_a_busy_note_shows_until_the_animation_is_drawn(browser, app_url):
    """While the browser has not drawn the animation yet (Plotly's script held back here),
    the page says so; the note goes once the chart is drawn."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    held = []
    context.route("**/PlotlyChart*.js", lambda route: held.append(route))
    try:
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.goto(app_url + "/playground")
        note = pg.locator(".poolscope-busy")
        note.wait_for(state="visible", timeout=60_000)
        assert "Drawing the animation" in note.text_content()
        assert pg.locator(".st-key-animation .main-svg").count() == 0
        for _ in range(100):  # the chart's script was asked for, and is held back
            if held:
                break
            pg.wait_for_timeout(100)
        assert held
        for route in held:
            route.continue_()
        pg.locator(".st-key-animation .main-svg").first.wait_for(timeout=60_000)
        note.wait_for(state="detached", timeout=10_000)
    finally:
        context.close()
