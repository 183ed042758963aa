"""What the user waits for, measured in the browser (issue 22).

Starts ``streamlit run app.py`` (:class:`bench.load.Server`) and drives Debian's
Chromium through Playwright, headless, with the browser tests' flags. It reports

1. **first load**, per page: a fresh browser context (nothing cached, as a first
   visit) opens the page's link; the time from the navigation's start to *idle*;
2. **control change**, per page (playground, backprop, pool_vs_conv), matrix size
   (6, 12, 32; a page whose matrix is smaller at most uses its largest) and stride
   (1 and 2): the page is opened on a link with that size and stride, then the
   sidebar's kernel slider is focused and ArrowRight pressed (2 → 3 → 4 …, so every
   change is one the server has not cached); the time from the key press to idle;
3. **animation**, on the playground: ▶ Play at the speed control's 1× and 4×, the
   time between two frames (the figure's caption changing), against the frame
   duration asked for (600 ms at 1×, 150 ms at 4×);
4. **breakdown** (only when asked: ``--only breakdown``), per page, of one first load:
   when the HTML's scripts were in (``DOMContentLoaded``), the first and last message of
   the script run, when Streamlit's Plotly module arrived, when the first chart was
   drawn, how many times the charts were drawn again after their first drawing (Plotly's
   ``plotly_afterplot`` events after each chart's first, all charts together), and idle;
5. **floor** (only when asked: ``--only floor``): the same first load and control change
   (a sidebar slider, ArrowRight) of two one-page Streamlit apps that are not Poolscope,
   written to a temporary folder and served the same way: a title, the slider and a line
   of text; and a title, the slider and one 6×6 heatmap through ``st.plotly_chart`` that
   the slider changes. What no page of ours can go under on the machine, with and
   without Streamlit's Plotly chart.

*Idle* is: no status widget ("Running…"), no stale element, no skeleton, every
Plotly chart drawn (its ``.main-svg``), and no DOM change for 700 ms (a
``MutationObserver`` installed before the page's scripts); the time is that of the
last DOM change. The longest main-thread task seen meanwhile (``longtask``
entries) is reported too. Each figure is the median and the max of ``--runs`` runs.

Usage::

    python bench/bench_browser.py            # every page and size: about 10 minutes
    python bench/bench_browser.py --quick    # 2 runs, sizes 6 and 32, stride 1 only
    python bench/bench_browser.py --url http://127.0.0.1:8501 --only change
    python bench/bench_browser.py --only breakdown --pages backprop zoo
    python bench/bench_browser.py --only floor load --pages home backprop

Prints Markdown tables (times in seconds). Timings depend on the machine's load:
note what else ran.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import Server, free_port  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the browser tests' Chromium)
PAGES = ("home", "playground", "lesson", "image_lab", "backprop", "pool_vs_conv", "dims",
         "network", "zoo")
# page: (URL parameters of the matrix size, the largest side it takes)
SIZED = {"playground": ("rows", "cols", 32), "backprop": ("bp_rows", "bp_cols", 12),
         "pool_vs_conv": ("pc_rows", "pc_cols", 16)}
QUIET_MS = 700

INIT = """
window.__mut = performance.now();
window.__longest = 0;
new MutationObserver(() => { window.__mut = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
try {
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
  }).observe({type: 'longtask', buffered: true});
} catch (e) {}
"""

IDLE = """(quiet) => {
  const d = document;
  if (!d.querySelector('[data-testid="stMain"] h1')) return false;
  if (d.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (d.querySelector('[data-stale="true"]')) return false;
  if (d.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const c of d.querySelectorAll('[data-testid="stPlotlyChart"]'))
    if (!c.querySelector('.main-svg')) return false;
  return performance.now() - window.__mut >= quiet;
}"""


def wait_idle(pg, timeout_s: float = 120) -> float:
    """Wait for idle; the page's time (ms since its time origin) of the last DOM change."""
    pg.wait_for_function(IDLE, arg=QUIET_MS, timeout=timeout_s * 1000, polling=100)
    return pg.evaluate("window.__mut")


def longest_task(pg) -> float:
    return pg.evaluate("window.__longest") / 1000


def new_page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(INIT)
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    return ctx, pg


def link(base: str, page: str, size: int | None = None, stride: int | None = None) -> str:
    params = []
    if size is not None:
        r, c, top = SIZED[page]
        n = min(size, top)
        params += [f"{r}={n}", f"{c}={n}"]
    if stride is not None:
        params += ["sk=false", f"sh={stride}", f"sw={stride}"]
    path = "" if page == "home" else page
    return f"{base}/{path}" + ("?" + "&".join(params) if params else "")


def first_load(browser, url: str) -> tuple[float, float]:
    """Seconds from navigation start to idle, and the longest task, in a fresh context."""
    ctx, pg = new_page(browser)
    try:
        pg.goto(url, wait_until="commit")
        t = wait_idle(pg) / 1000
        return t, longest_task(pg)
    finally:
        ctx.close()


def control_changes(browser, url: str, runs: int) -> list[tuple[float, float]]:
    """Open ``url``, then ``runs`` times: ArrowRight on the kernel slider, seconds to idle."""
    ctx, pg = new_page(browser)
    out = []
    try:
        pg.goto(url)
        wait_idle(pg)
        slider = pg.locator("[data-testid='stSidebar'] .st-key-kh input[type=range]")
        for _ in range(runs):
            slider.focus()
            pg.evaluate("window.__longest = 0")
            t0 = pg.evaluate("performance.now()")
            pg.keyboard.press("ArrowRight")
            t1 = wait_idle(pg)
            out.append(((t1 - t0) / 1000, longest_task(pg)))
    finally:
        ctx.close()
    return out


BREAKDOWN_INIT = """
window.__draws = [];
window.__ws = [];
const Socket = window.WebSocket;
window.WebSocket = function (...args) {
  const ws = new Socket(...args);
  ws.addEventListener('message', () => window.__ws.push(performance.now()));
  return ws;
};
window.WebSocket.prototype = Socket.prototype;
Object.assign(window.WebSocket, Socket);
new MutationObserver(() => {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (gd.__counted || !gd.emit) continue;
    // Plotly's own event emitter, there once a chart's first drawing is done: every later
    // drawing ends in an afterplot
    gd.__counted = true;
    window.__draws.push(performance.now());
    const emit = gd.emit.bind(gd);
    gd.emit = (name, ...rest) => {
      if (name === 'plotly_afterplot') window.__draws.push(performance.now());
      return emit(name, ...rest);
    };
  }
}).observe(document, {subtree: true, childList: true});
"""

TIMES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const plotly = performance.getEntriesByType('resource')
    .filter(r => /PlotlyChart[^/]*[.]js$/.test(r.name)).map(r => r.responseEnd);
  return {dcl: nav.domContentLoadedEventEnd, ws: window.__ws, plotly: plotly[0] ?? null,
          draws: window.__draws, charts: document.querySelectorAll('.js-plotly-plot').length};
}"""


def breakdown(browser, url: str) -> dict:
    """One first load, in a fresh context, broken down (seconds from navigation start)."""
    ctx, pg = new_page(browser)
    try:
        ctx.add_init_script(BREAKDOWN_INIT)
        pg.goto(url, wait_until="commit")
        idle = wait_idle(pg) / 1000
        t = pg.evaluate(TIMES)
    finally:
        ctx.close()
    sec = [v / 1000 for v in t["ws"]]
    draws = sorted(v / 1000 for v in t["draws"])
    return {"dcl": t["dcl"] / 1000, "ws": (sec[0], sec[-1]) if sec else (None, None),
            "plotly": None if t["plotly"] is None else t["plotly"] / 1000,
            "drawn": draws[0] if draws else None, "charts": t["charts"],
            # the first time per chart is its first drawing, the others its drawings again
            "redraws": len(draws) - t["charts"], "idle": idle}


FRAMES = """async ([n, limit]) => {
  const title = () => document.querySelector('.st-key-animation .scatterlayer .textpoint text')?.textContent;
  const times = [];
  let last = title();
  const t0 = performance.now();
  await new Promise(done => {
    const tick = () => {
      const now = title();
      if (now !== last) { times.push(performance.now()); last = now; }
      if (times.length > n || performance.now() - t0 > limit) done(); else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const gaps = times.slice(1).map((t, k) => t - times[k]);
  return gaps;
}"""


def animation(browser, url: str, frames: int) -> dict[str, float]:
    """The median seconds between two frames of ▶ Play at 1× and at 4×."""
    ctx, pg = new_page(browser)
    res = {}
    try:
        pg.goto(url)
        wait_idle(pg)
        for label, presses in (("1×", 0), ("4×", 2)):
            if presses:
                speed = pg.locator(".st-key-anim_speed input[type=range]")
                speed.focus()
                for _ in range(presses):
                    pg.keyboard.press("ArrowRight")
                    wait_idle(pg)
            pg.locator(".st-key-animation .updatemenu-button", has_text="Play").click()
            gaps = pg.evaluate(FRAMES, [frames, 30_000])
            pg.locator(".st-key-animation .updatemenu-button", has_text="Pause").click()
            res[label] = statistics.median(gaps) / 1000 if gaps else float("nan")
            pg.wait_for_timeout(300)
            # back to the first frame for the next speed: a fresh page would do, this is cheaper
            pg.goto(url)
            wait_idle(pg)
    finally:
        ctx.close()
    return res


FLOOR_APP = """
import numpy as np
import plotly.graph_objects as go
import streamlit as st


def page():
    st.title("Floor")
    k = st.sidebar.slider("Kernel", 1, 20, 2, key="kh")  # the slider control_changes moves
    if st.query_params.get("chart") == "1":
        st.plotly_chart(go.Figure(go.Heatmap(z=np.arange(36).reshape(6, 6) % (k + 1),
                                             texttemplate="%{z}")))
    else:
        st.write(f"Kernel {k}.")


st.navigation([st.Page(page, title="Floor", url_path="floor", default=True)]).run()
"""


def floor(browser, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """``{app: (first loads, control changes)}`` of the two floor apps (``FLOOR_APP``):
    first loads after one unmeasured visit, and ``runs`` changes of their sidebar slider
    timed as :func:`control_changes` times ours."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "app.py").write_text(FLOOR_APP)
        server = Server(free_port(), folder / "server.log", app_dir=folder)
        server.start(timeout=90)
        try:
            times = {}
            for name, query in (("text only", "chart=0"), ("one Plotly chart", "chart=1")):
                url = f"{server.url}/?{query}"
                first_load(browser, url)
                loads = [first_load(browser, url)[0] for _ in range(runs)]
                times[name] = loads, [t for t, _ in control_changes(browser, url, runs)]
            return times
        finally:
            server.stop()


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def stats(values) -> str:
    return f"{statistics.median(values):.2f} / {max(values):.2f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 runs, sizes 6 and 32, stride 1")
    ap.add_argument("--runs", type=int, default=None, help="runs per figure (default 4)")
    ap.add_argument("--sizes", type=int, nargs="*", default=None)
    ap.add_argument("--strides", type=int, nargs="*", default=None)
    ap.add_argument("--pages", nargs="*", default=None, help="pages of the first-load table")
    ap.add_argument("--only", nargs="*", default=None,
                    choices=("load", "change", "animation", "breakdown", "floor"))
    ap.add_argument("--url", help="an app already running (default: start one)")
    args = ap.parse_args(argv)
    runs = args.runs or (2 if args.quick else 4)
    sizes = args.sizes or ([6, 32] if args.quick else [6, 12, 32])
    strides = args.strides or ([1] if args.quick else [1, 2])
    parts = set(args.only or ("load", "change", "animation"))
    from playwright.sync_api import sync_playwright

    server = None
    base = args.url
    if base is None:
        server = Server(free_port(), Path(tempfile.mkdtemp()) / "server.log")
        server.start(timeout=90)
        base = server.url
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            # one unmeasured visit of every page: the server's first run of a page imports
            # and compiles what it needs once for all later users
            if parts != {"floor"}:  # the floor is measured on apps of its own
                for page in PAGES:
                    first_load(browser, link(base, page))
            if "load" in parts:
                print("\n### First load (s, median / max of %d; longest task)\n" % runs)
                print("| Page | First load | Longest task |\n|---|---|---|")
                for page in args.pages or PAGES:
                    res = [first_load(browser, link(base, page)) for _ in range(runs)]
                    print(f"| {page} | {stats([r[0] for r in res])} | "
                          f"{stats([r[1] for r in res])} |", flush=True)
            if "breakdown" in parts:
                print("\n### One first load, broken down (s from the navigation's start)\n")
                print("| Page | Scripts in | Script run's messages | Plotly module in | "
                      "First chart drawn | Charts | Drawn again | Idle |\n"
                      "|---|---|---|---|---|---|---|---|")
                for page in args.pages or PAGES:
                    b = breakdown(browser, link(base, page))
                    print(f"| {page} | {fmt(b['dcl'])} | {fmt(b['ws'][0])}–{fmt(b['ws'][1])} | "
                          f"{fmt(b['plotly'])} | {fmt(b['drawn'])} | {b['charts']} | "
                          f"{b['redraws']} | {fmt(b['idle'])} |", flush=True)
            if "floor" in parts:
                print("\n### The framework's floor: a one-page app that is not Poolscope "
                      "(s, median / max of %d)\n" % runs)
                print("| App | First load | Slider change to idle |\n|---|---|---|")
                for name, (loads, changes) in floor(browser, runs).items():
                    print(f"| {name} | {stats(loads)} | {stats(changes)} |", flush=True)
            if "change" in parts:
                print("\n### Control change to idle (s, median / max of %d; longest task)\n"
                      % runs)
                print("| Page | Matrix | Stride | Change to idle | Longest task |\n"
                      "|---|---|---|---|---|")
                for page in SIZED:
                    top = SIZED[page][2]
                    for size in sorted({min(s, top) for s in sizes}):
                        for stride in strides:
                            res = control_changes(browser, link(base, page, size, stride), runs)
                            print(f"| {page} | {size}×{size} | {stride} | "
                                  f"{stats([r[0] for r in res])} | "
                                  f"{stats([r[1] for r in res])} |", flush=True)
            if "animation" in parts:
                print("\n### ▶ Play on the playground (s between two frames, median)\n")
                print("| Matrix | Stride | 1× (asks 0.60) | 4× (asks 0.15) |\n|---|---|---|---|")
                for size in sizes:
                    for stride in strides:
                        res = animation(browser, link(base, "playground", size, stride),
                                        frames=8)
                        print(f"| {size}×{size} | {stride} | {res['1×']:.2f} | "
                              f"{res['4×']:.2f} |", flush=True)
            browser.close()
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
