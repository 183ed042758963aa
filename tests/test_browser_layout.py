"""Every page on a phone (390 px wide) and on a classroom projector (1280×720), in a real
browser (issue 20): nothing wider than the screen, no figure squeezed into a sliver, the
playground's input and output stacked on a phone, no Play button over an axis' labels or
the step slider. Each page's screenshot at both sizes goes
to tests/_artifacts/layout_<page>_<size>.png (looked at by people, not only by the test)."""
import pytest

from conftest import ARTIFACTS
from test_browser_links import settle

SIZES = {"phone": (390, 844), "projector": (1280, 720)}
#: a phone's browser says so (ui/responsive.py stacks the panels for it)
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0 Mobile Safari/537.36")
PAGES = ("home", "playground", "lesson", "image_lab", "backprop", "pool_vs_conv", "dims",
         "network", "zoo")
CASES = [(p, s) for p in PAGES for s in SIZES]

#: elements that scroll on their own (a wide table, a code line) may be wider than the screen
OWN_SCROLL = ("stDataFrame", "stCode", "stTable", "stMarkdownPre")


def overflowing(pg) -> list[str]:
    """Elements of the page that reach past the right edge of the screen (outside the
    elements that scroll by themselves)."""
    return pg.evaluate("""(own) => {
        const width = document.documentElement.clientWidth;
        const main = document.querySelector('[data-testid=stMain]');
        const out = [];
        for (const el of main.querySelectorAll('*')) {
            if (own.some(id => el.closest(`[data-testid=${id}]`))) continue;
            if (el.closest('.katex-mathml')) continue;  // KaTeX's MathML: for screen readers
            if (el.closest('[role=tablist]')) continue;  // a tab bar scrolls by itself
            if (el.closest('details:not([open])')) continue;  // in a closed expander: unseen
            const r = el.getBoundingClientRect();
            if (r.width > 0 && r.right > width + 1) {
                const id = el.closest('[data-testid]');
                out.push(`${id ? id.dataset.testid : el.tagName}: ${Math.round(r.right)} > ${width}`);
            }
        }
        return [...new Set(out)].slice(0, 10);
    }""", list(OWN_SCROLL))


def shoot(pg, path):
    """A screenshot of the whole page: the window made as tall as the page, same width."""
    width = pg.viewport_size["width"]
    height = pg.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    pg.set_viewport_size({"width": width, "height": min(max(height, 400), 8000)})
    pg.wait_for_timeout(800)
    pg.screenshot(path=str(path))


@pytest.mark.parametrize("name,size", CASES, ids=[f"{p}-{s}" for p, s in CASES])
def test_every_page_fits_the_phone_and_the_projector(browser, app_url, name, size):
    width, height = SIZES[size]
    ctx = browser.new_context(viewport={"width": width, "height": height},
                              device_scale_factor=1,
                              **(dict(user_agent=PHONE_UA, is_mobile=True, has_touch=True)
                                 if size == "phone" else {}))
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    try:
        pg.goto(f"{app_url}/{'' if name == 'home' else name}")
        settle(pg)
        errors = pg.locator("[data-testid='stException']")
        assert errors.count() == 0, errors.first.inner_text()
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= width
        assert overflowing(pg) == []
        charts = pg.evaluate("""() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]
            .map(c => c.getBoundingClientRect().width).filter(w => w > 0)""")
        assert all(w >= 120 for w in charts), charts  # no sliver of a chart (a 2×2 kernel: 156 px)
        if name == "playground":
            output_panel_fits(pg, width)
        assert controls_in_the_clear(pg) == []
        ARTIFACTS.mkdir(exist_ok=True)
        shoot(pg, ARTIFACTS / f"layout_{name}_{size}.png")
    finally:
        ctx.close()


def controls_in_the_clear(pg) -> list[str]:
    """What an animation's ▶ Play / ❚❚ Pause buttons cover (an x axis' labels or title, the
    step slider's current step, rail or labels), and what of the controls falls off the
    bottom of their chart: the controls sit a fixed number of pixels under the plot."""
    return pg.evaluate("""() => {
        const box = e => e.getBoundingClientRect();
        const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
            && b.top < a.bottom;
        const out = [];
        for (const plot of document.querySelectorAll('.js-plotly-plot')) {
            const buttons = [...plot.querySelectorAll('.updatemenu-button')].map(box);
            if (!buttons.length) continue;
            const parts = [...plot.querySelectorAll('.xtick text, .xtitle, .slider-current-value,'
                                                    + ' .slider-rail-rect, .slider-label')]
                .filter(e => e.textContent !== '' || e.matches('.slider-rail-rect'))
                .map(e => [e.getAttribute('class') || 'tick', e.textContent, box(e)]);
            for (const b of buttons)
                for (const [what, text, r] of parts)
                    if (r.width > 0 && hit(b, r)) out.push(`Play/Pause on ${what} "${text}"`);
            const bottom = box(plot).bottom;
            for (const [what, text, r] of parts)
                if (r.width > 0 && r.bottom > bottom + 1) out.push(`${what} "${text}" cut off`);
        }
        return [...new Set(out)].slice(0, 10);
    }""")


def output_panel_fits(pg, width):
    """The animation's output grid gets a real share of the screen: its cells are at least
    20 px, and on a phone the output is drawn below the input, not beside it."""
    cells = pg.evaluate("""() => {
        const plot = document.querySelector('.st-key-animation .js-plotly-plot');
        const l = plot._fullLayout;
        return {x1: l.xaxis._length, x2: l.xaxis2._length, y1: l.yaxis._length,
                y2: l.yaxis2._length, top1: l.yaxis._offset, top2: l.yaxis2._offset,
                n2: l.xaxis2.range[1] - l.xaxis2.range[0]};
    }""")
    assert cells["x2"] / cells["n2"] >= 20, cells
    if width < 600:
        assert cells["top2"] > cells["top1"] + cells["y1"] - 1, cells  # stacked
