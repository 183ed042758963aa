"""App-side timings of issue 7: the matrix playground, its animation figure, the image lab.

Run from the repository root::

    python bench/bench_app.py              # everything (about a minute on 2 cores)
    python bench/bench_app.py --quick      # no image lab, no search for the largest figure
    python bench/bench_app.py --repeat 5   # AppTest sessions per change (default 3)
    python bench/bench_app.py --only-a --sessions quiz   # the Quiz me session alone

Targets (printed next to the measurements, never asserted by a test):

* playground: a control change re-renders (server side) in under 150 ms for a
  32×32 matrix with its full animation;
* image lab: a 12-megapixel photo in under 1 s per change;
* the animation figure of the largest matrix stays under 5 MB of JSON.

Part A drives the real playground through Streamlit's AppTest (``app.py`` →
``pages/playground.py``, a 32×32 random matrix from the link ``?rows=32&cols=32``)
and times the script run after each control change: the median and the slowest of
``--repeat`` sessions, caches cleared before each (so new settings are a cache
miss, as for a user), after one untimed session (first-use imports). The verdict
takes the slowest run: a user feels the change that happened to include one of
Python's full garbage collections too. Three sessions: the default
settings (2×2 stride 2, 16×16 = 256 animated cells) and the worst case for the
animation (2×2 stride 1, 31×31 = 961 cells, every one animated), and a third with
Quiz me on (issue 17): each settings change asks a new question and holds the page
back, each answer reveals the whole page under the question. The JSON column
is the animation's spec as Streamlit sends it (``PlotlyChart.spec``).

Part B times the figure builders alone, the JSON they make (``fig.to_json()``,
with plotly's default engine and with the standard-library one, used when
``orjson`` is not installed) and, unless ``--quick``, builds the animation for every
kernel, padding and dilation a 32×32 input allows at stride 1 to find the
largest JSON. Part C runs bench_image_lab.py's AppTest part (12 MP JPEG).

Timings are wall-clock on a machine shared with other work: the load average is
printed at the start and the end; re-run when it is low.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from apptiming import load_average, median_time, time_reruns  # noqa: E402
from pooling_core import plan_axes, geometry_kwargs  # noqa: E402
from ui import figures, pool_settings, widgets  # noqa: E402

PLAYGROUND = "pages/playground.py"
BUDGET_CHANGE = 0.150  # s, playground control change
BUDGET_IMAGE = 1.0  # s, image lab change
BUDGET_JSON = 5_000_000  # bytes of JSON, animation figure
SIZE = 32


def cells(kwargs: dict, shape=(SIZE, SIZE)) -> int:
    """Output cells, i.e. animation frames, of these pool2d settings."""
    return int(np.prod([p.out for p in plan_axes(shape, **geometry_kwargs(kwargs))]))


# ----------------------------------------------------------------------------- part A


def default_session(at):
    """Changes from the default settings (2×2 stride 2: 16×16 output cells)."""
    yield "kernel 3 (10×10 cells)", lambda: at.slider(key="kh").set_value(3)
    yield "kernel 2 again (16×16, cached)", lambda: at.slider(key="kh").set_value(2)
    yield "mode avg (16×16)", lambda: at.selectbox(key="mode").set_value("avg")
    yield "padding 1 (17×17)", lambda: at.slider(key="ph").set_value(1)
    yield "mode max, dilation 2 (16×16)", lambda: (
        at.selectbox(key="mode").set_value("max"), at.slider(key="dh").set_value(2))
    yield "preset AlexNet 3×3 stride 2 (15×15)", lambda: at.selectbox(key="preset").set_value(
        "Overlapping 3×3 stride 2 (AlexNet)")
    yield "input seed 1 (15×15)", lambda: at.number_input(key="rseed").set_value(1)
    yield "speed 2× (15×15)", lambda: at.select_slider(key="anim_speed").set_value("2×")
    yield "nothing changed (rerun, all cached)", lambda: None


def worst_session(at):
    """Changes around the worst case for the animation: 2×2 stride 1, 31×31 = 961 cells."""
    yield "mode avg (961 cells)", lambda: at.selectbox(key="mode").set_value("avg")
    yield "mode min (961)", lambda: at.selectbox(key="mode").set_value("min")
    yield "input seed 1 (961)", lambda: at.number_input(key="rseed").set_value(1)
    yield "padding 1 (33×33 = 1089)", lambda: at.slider(key="ph").set_value(1)
    yield "dilation 2 (32×32 = 1024)", lambda: at.slider(key="dh").set_value(2)
    yield "kernel 3 (30×30 = 900)", lambda: at.slider(key="kh").set_value(3)
    yield "speed 4× (900)", lambda: at.select_slider(key="anim_speed").set_value("4×")
    yield "preset Dilated 2×2 d=2 (30×30)", lambda: at.selectbox(key="preset").set_value(
        "Dilated 2×2 d=2")
    yield "kernel 8, padding 4 (26×26, largest JSON)", lambda: (
        at.slider(key="kh").set_value(8), at.slider(key="ph").set_value(4))
    yield "nothing changed (rerun, all cached)", lambda: None


def answer_quiz(at, page="playground"):
    """Answer the playground's quiz question right, with its keyboard widgets (the change
    that reveals the page)."""
    from ui.quiz_questions import cell_label

    state = at.session_state[f"quiz_{page}"]
    q, base = state["question"], f"quiz_{page}_{state['n']}"
    if q.form == "axes" and q.answer is None:
        at.checkbox(key=f"{base}_refused").check()
    elif q.form == "axes":
        for i, v in enumerate(q.answer):
            at.number_input(key=f"{base}_ax{i}").set_value(v)
    elif q.form == "number":
        at.text_input(key=f"{base}_val").input(repr(float(q.answer)))
    elif q.form == "cell":
        at.selectbox(key=f"{base}_cell").set_value(cell_label(q.answer))
    else:
        at.multiselect(key=f"{base}_cells").set_value([cell_label(c) for c in sorted(q.answer)])
    at.button(key=f"quiz_check_{page}_{state['n']}").click()


def quiz_session(at):
    """Quiz me on (issue 17): each settings change asks a new question and holds the page
    back; answering reveals the whole page under the answered question."""
    yield "quiz on (question, page held back)", lambda: at.toggle(
        key="quiz_on_playground").set_value(True)
    yield "answer: reveal (quiz + page, 16×16)", lambda: answer_quiz(at)
    yield "kernel 3, quiz on (new question)", lambda: at.slider(key="kh").set_value(3)
    yield "answer: reveal (quiz + page, 10×10)", lambda: answer_quiz(at)
    yield "mode avg, quiz on (new question)", lambda: at.selectbox(key="mode").set_value("avg")
    yield "type: which cells get gradient", lambda: at.selectbox(
        key="quiz_kind_playground").set_value("gradient")
    yield "answer: reveal (quiz + page, avg)", lambda: answer_quiz(at)
    yield "padding 1, type value (new question)", lambda: (
        at.slider(key="ph").set_value(1), at.selectbox(key="quiz_kind_playground").set_value(
            "value"))
    yield "answer: reveal (quiz + page, 17×17)", lambda: answer_quiz(at)
    yield "New question", lambda: at.button(key="quiz_new_playground").click()
    yield "answer: reveal (quiz + page)", lambda: answer_quiz(at)
    yield "nothing changed (rerun, all cached)", lambda: None
    for n in (1, 2, 3):  # the panel's own cost: the same cached page without and with it
        yield f"quiz off: page alone, cached ({n})", lambda: at.toggle(
            key="quiz_on_playground").set_value(False)
        yield f"quiz on: answered + page, cached ({n})", lambda: at.toggle(
            key="quiz_on_playground").set_value(True)


def quiz_cpu(rounds: int = 8) -> dict:
    """Quiz me's own cost in CPU time (less sensitive to a busy machine than wall time):
    one playground session (32×32, a question answered), the cached page rerun with the
    quiz off and on, alternately; and a new question (settings change, page held back)."""
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    logging.disable(logging.WARNING)
    try:
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page(PLAYGROUND)
        at.query_params.update(rows=str(SIZE), cols=str(SIZE))
        at.run()
        toggle = lambda on: at.toggle(key="quiz_on_playground").set_value(on)  # noqa: E731
        toggle(True).run()
        answer_quiz(at)
        at.run()
        times = {"off": [], "on": [], "new question": [], "reveal": []}

        def timed(label):
            c0, t0 = time.process_time(), time.perf_counter()
            at.run()
            times[label].append((time.process_time() - c0, time.perf_counter() - t0))

        for n in range(rounds):
            toggle(False)
            timed("off")
            toggle(True)
            timed("on")
            at.number_input(key="rseed").set_value(n + 1)  # a new matrix: a new question
            timed("new question")
            answer_quiz(at)
            timed("reveal")
    finally:
        logging.disable(logging.NOTSET)
    return {k: (float(np.median([c for c, _ in v])), float(np.median([w for _, w in v])))
            for k, v in times.items()}


def animation_info(at) -> dict:
    """The animation chart as Streamlit sends it: spec bytes and frame count."""
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    if not specs:
        return {}
    # the animation: the chart with the most frames (the quiz's figure comes first)
    frames, spec = max((len(json.loads(s).get("frames", [])), s) for s in specs)
    return {"json": len(spec.encode()), "frames": frames}


def part_a(repeat: int, only=None) -> dict:
    print(f"A. Matrix playground through AppTest, {SIZE}×{SIZE} random matrix; seconds per "
          f"at.run() after the change, median and slowest of {repeat} sessions (caches "
          f"cleared before each); JSON = the animation's spec as sent")
    results = {}
    sessions = [
        ("default", default_session, {"rows": str(SIZE), "cols": str(SIZE)}),
        ("worst", worst_session, {"rows": str(SIZE), "cols": str(SIZE), "sk": "false",
                                  "sh": "1"}),
        ("quiz", quiz_session, {"rows": str(SIZE), "cols": str(SIZE)})]
    for name, session, query in (s for s in sessions if only is None or s[0] in only):
        start = ", ".join(f"{k}={v}" for k, v in query.items())
        print(f"\n  session '{name}', opened with ?{start}")
        print(f"  {'change':<40}{'median':>8}{'slowest':>8}{'frames':>8}{'JSON MB':>9}"
              f"  verdict (slowest < 150 ms)")
        rows = time_reruns(PLAYGROUND, session, repeat=repeat, query=query,
                           inspect=animation_info, warmup=True)
        for r in rows:
            info = r["info"]
            verdict = "ok" if max(r["runs"]) < BUDGET_CHANGE else "OVER"
            note = f"  [{r['note']}]" if r["note"] else ""
            print(f"  {r['label']:<40}{r['seconds'] * 1e3:>8.0f}{max(r['runs']) * 1e3:>8.0f}"
                  f"{info.get('frames', 0):>8}"
                  f"{info.get('json', 0) / 1e6:>9.2f}  {verdict}{note}")
        results[name] = rows
    return results


# ----------------------------------------------------------------------------- part B


def build(x, kwargs, frame_ms=600):
    """The playground's figure: every output cell (older code needed max_frames)."""
    return figures.animation_figure(x, kwargs, max_frames=cells(kwargs, x.shape),
                                    frame_ms=frame_ms)[0]


def to_json_std(fig) -> str:
    import plotly.io as pio
    return pio.to_json(fig, validate=False, engine="json")


CASES = (
    ("default: 2×2 stride 2", dict(kernel_size=2, stride=2)),
    ("worst animation: 2×2 stride 1", dict(kernel_size=2, stride=1)),
    ("3×3 s1 padding 1 avg", dict(kernel_size=3, stride=1, padding=1, mode="avg")),
    ("8×8 s1 padding 4", dict(kernel_size=8, stride=1, padding=4)),
    ("8×8 s1 padding 4 dilation 2", dict(kernel_size=8, stride=1, padding=4, dilation=2)),
)


def part_b(quick: bool) -> dict:
    import plotly.io as pio
    from ui.gif import animation_gif

    x = widgets.random_matrix(SIZE, SIZE, 0)
    print(f"\nB. Figure builders alone, {SIZE}×{SIZE} random matrix (ms: median of 5; "
          f"JSON engine '{pio.json.config.default_engine}' → "
          f"{'orjson' if _has_orjson() else 'json'})")
    print(f"  {'settings':<32}{'frames':>7}{'build':>7}{'open':>6}{'pickle':>7}{'to_json':>8}"
          f"{'std json':>9}{'MB':>7}")
    sizes = {}
    for label, kw in CASES:
        fig = build(x, kw)
        t_build = median_time(lambda: build(x, kw), 5)
        opener = getattr(figures, "open_at", None)
        t_open = median_time(lambda: opener(fig, len(fig.frames) // 2), 5) if opener else np.nan
        blob = pickle.dumps(fig)  # st.cache_data stores the figure pickled
        t_cache = median_time(lambda: pickle.loads(blob), 5)
        t_json = median_time(fig.to_json, 5)
        t_std = median_time(lambda: to_json_std(fig), 3)
        size = len(fig.to_json().encode())
        sizes[label] = size
        print(f"  {label:<32}{len(fig.frames):>7}{t_build * 1e3:>7.0f}{t_open * 1e3:>6.0f}"
              f"{t_cache * 1e3:>7.0f}{t_json * 1e3:>8.0f}{t_std * 1e3:>9.0f}"
              f"{size / 1e6:>7.2f}")
    print("  (build = animation_figure; open = open_at, a copy opened on a clicked cell; "
          "pickle = unpickling the figure, what a st.cache_data hit costs (the playground "
          "keeps it in st.cache_resource); to_json = what st.plotly_chart does to send it, "
          "std json = the same without orjson)")
    limit = getattr(__import__("ui.gif", fromlist=["MAX_GIF_FRAMES"]), "MAX_GIF_FRAMES", 256)
    kw = dict(kernel_size=2, stride=1)
    steps = figures.animation_steps(x, kw, limit=limit)
    t0 = time.perf_counter()
    gif = animation_gif(x, kw, steps)
    print(f"  GIF export, 2×2 stride 1, first {len(steps)} cells (drawn on click): "
          f"{time.perf_counter() - t0:.2f} s, {len(gif) / 1e6:.2f} MB")
    if not quick:
        sizes.update(largest_json(x))
    return sizes


def _has_orjson() -> bool:
    from importlib.util import find_spec
    return find_spec("orjson") is not None


def largest_json(x) -> dict:
    """Every kernel, padding and dilation the sidebar offers at stride 1 (the most frames)
    that PyTorch accepts for a 32×32 input: the largest animation JSON."""
    best = (0, None)
    tried = 0
    for k in range(1, 9):
        for p in range(0, 5):
            for d in range(1, 5):
                s = pool_settings.PoolSettings(kernel=(k, k), stride=(1, 1), padding=(p, p),
                                       dilation=(d, d))
                try:
                    kw = s.pool_kwargs(x.shape)
                except ValueError:
                    continue
                tried += 1
                size = len(build(x, kw).to_json().encode())
                if size > best[0]:
                    best = (size, kw)
    size, kw = best
    label = (f"largest of {tried}: k={kw['kernel_size']} p={kw['padding']} "
             f"d={kw['dilation']}")
    print(f"  {label}: {cells(kw)} frames, {size / 1e6:.2f} MB")
    return {label: size}


# ----------------------------------------------------------------------------- part C


def part_c(repeat: int) -> list[dict]:
    import bench_image_lab as lab_bench

    print("\nC. Image lab, 12-megapixel JPEG (bench_image_lab.py part 2)")
    jpeg = lab_bench.encode(lab_bench.photo(), "JPEG")
    return lab_bench.part2(jpeg, repeat)


# ----------------------------------------------------------------------------- summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip the image lab and the search for the largest figure")
    parser.add_argument("--repeat", type=int, default=3, help="AppTest sessions per change")
    parser.add_argument("--no-image-lab", action="store_true", help="skip part C")
    parser.add_argument("--sessions", nargs="+", choices=("default", "worst", "quiz"),
                        help="part A: only these sessions (default: all three)")
    parser.add_argument("--only-a", action="store_true", help="part A only (no B, no C)")
    args = parser.parse_args(argv)
    import platform

    import plotly
    import streamlit
    print(f"{os.cpu_count()} CPU(s), Python {platform.python_version()}, numpy "
          f"{np.__version__}, streamlit {streamlit.__version__}, plotly {plotly.__version__}")
    load_start = load_average()
    print(f"load average at start: {load_start}\n")
    a = part_a(args.repeat, args.sessions)
    sizes = {} if args.only_a else part_b(args.quick)
    c = [] if args.quick or args.no_image_lab or args.only_a else part_c(args.repeat)

    if args.sessions is None or "quiz" in args.sessions:
        q = quiz_cpu()
        print("\nQ. Quiz me in CPU time, one 32×32 session, median of 8 (CPU ms / wall ms): "
              + "; ".join(f"{k} {cpu * 1e3:.0f} / {wall * 1e3:.0f}"
                          for k, (cpu, wall) in q.items()))
        print(f"  Quiz me's own CPU cost on a cached rerun: "
              f"{(q['on'][0] - q['off'][0]) * 1e3:.0f} ms")
    print(f"\nSummary (load average at start {load_start}, at end {load_average()})")
    print(f"  {'target':<58}{'budget':>9}{'measured':>11}  verdict")

    def line(what, budget, value, unit):
        scale = {"ms": 1e3, "s": 1, "MB": 1e-6}[unit]
        ok = value < budget
        print(f"  {what:<58}{budget * scale:>6.4g} {unit:<2}{value * scale:>8.3g} {unit:<2}"
              f"  {'met' if ok else 'NOT met'}")

    if "quiz" in a:  # what Quiz me adds to a rerun: the cached page with and without it
        rows = {r["label"]: r for r in a["quiz"]}
        off = [t for k, r in rows.items() if k.startswith("quiz off") for t in r["runs"]]
        on = [t for k, r in rows.items() if k.startswith("quiz on:") for t in r["runs"]]
        print(f"  Quiz me's own cost on a cached rerun: median {np.median(on) * 1e3:.0f} ms "
              f"with the answered question vs {np.median(off) * 1e3:.0f} ms without")
    for name, rows in a.items():
        timed = [r for r in rows if "cached" not in r["label"]]
        worst = max(timed, key=lambda r: max(r["runs"]))
        line(f"playground change, {name} session, slowest run ({worst['label'][:22]})",
             BUDGET_CHANGE, max(worst["runs"]), "ms")
    if c:
        worst = max(c, key=lambda r: r["seconds"])
        line(f"image lab change, 12 MP (slowest: {worst['label'][:26]})", BUDGET_IMAGE,
             worst["seconds"], "s")
        settings = [r for r in c if not r["label"].startswith("upload")]
        worst = max(settings, key=lambda r: r["seconds"])
        line(f"image lab settings change (slowest: {worst['label'][:24]})", BUDGET_IMAGE,
             worst["seconds"], "s")
    sent = max(r["info"].get("json", 0) for rows in a.values() for r in rows)
    line("animation JSON sent by the playground sessions (largest)", BUDGET_JSON, sent, "MB")
    if sizes:
        label, size = max(sizes.items(), key=lambda kv: kv[1])
        line(f"animation JSON, {SIZE}×{SIZE} ({label[:38]})", BUDGET_JSON, size, "MB")


if __name__ == "__main__":
    main()
