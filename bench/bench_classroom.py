"""Timings of issue 17's classroom pieces (code loader, presenter mode, exports).

Run from the repository root::

    python bench/bench_classroom.py            # about half a minute
    python bench/bench_classroom.py --runs 30  # more playground reruns per variant

Prints, in CPU time (``time.process_time``: steadier than wall time on a shared machine)
and wall time:

* ``parse_pool_code`` on each framework's code for one setting (per call);
* the offline HTML of the playground's 16×16-cell animation (and its size), the PNG of
  a step, a lesson slide (they run when a download button is clicked, not per change);
* what the classroom pieces add to a cached playground rerun: the app with them and
  with ``code_loader.code_loader``, ``presenter.setup`` and ``export.downloads`` stubbed
  out (AppTest, median of ``--runs`` reruns each, interleaved); and presenter mode on.

Nothing here is asserted by a test (the house's rule: timings go in reports).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def timed(fn, repeat=5):
    """(median CPU ms, median wall ms, last result) of ``repeat`` calls."""
    cpu, wall, result = [], [], None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        cpu.append((time.process_time() - c0) * 1e3)
        wall.append((time.perf_counter() - w0) * 1e3)
    return statistics.median(cpu), statistics.median(wall), result


def pieces() -> None:
    from pooling_core.codeparse import parse_pool_code
    from pooling_core.conventions import FRAMEWORKS, Settings, framework_args
    from ui import export, figures
    from ui.quiz_lesson import STEPS

    s = Settings(shape=32, kernel=3, stride=2, padding=1, mode="max", ceil_mode=True)
    codes = [framework_args(s, k, fallback=True).code for k in FRAMEWORKS]
    codes = [c for c in codes if c]
    cpu, wall, _ = timed(lambda: [parse_pool_code(c) for c in codes], 20)
    print(f"parse_pool_code: {len(codes)} frameworks' code, {cpu / len(codes):.3f} ms CPU "
          f"({wall / len(codes):.3f} ms wall) per call")
    x = np.random.default_rng(0).integers(0, 10, (32, 32))
    kw = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), mode="max")
    fig, _ = figures.animation_figure(x, kw)
    cpu, wall, page = timed(lambda: export.html_bytes(fig), 3)
    print(f"offline HTML of the 32x32 playground animation ({len(fig.frames)} frames): "
          f"{cpu:.0f} ms CPU ({wall:.0f} ms wall), {len(page) / 1e6:.2f} MB")
    cpu, wall, png = timed(lambda: export.step_png(x, kw, 255), 3)
    print(f"step PNG (step 256 of 256, the GIF's drawing): {cpu:.0f} ms CPU ({wall:.0f} ms "
          f"wall), {len(png) / 1e3:.0f} kB")
    cpu, wall, slide = timed(lambda: export.lesson_slide(STEPS[9], 10), 3)
    print(f"lesson slide (step 10, backprop): {cpu:.0f} ms CPU ({wall:.0f} ms wall), "
          f"{len(slide) / 1e3:.0f} kB")


def reruns(runs: int) -> None:
    from streamlit.testing.v1 import AppTest

    from ui import code_loader, export, presenter

    real = (code_loader.code_loader, presenter.setup, export.downloads)

    def stub(on: bool) -> None:
        if on:
            code_loader.code_loader, presenter.setup, export.downloads = real
        else:
            code_loader.code_loader = lambda: None
            presenter.setup = lambda page: False
            export.downloads = lambda *a, **k: None

    def session(present: bool):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page("pages/playground.py")
        at.query_params.update(rows="32", cols="32", **({"present": "1"} if present else {}))
        at.run()
        at.run()  # caches warm
        return at

    variants = {"with the classroom pieces": (True, False),
                "pieces stubbed out": (False, False),
                "presenter mode on": (True, True)}
    sessions = {}
    for name, (on, present) in variants.items():
        stub(on)
        sessions[name] = session(present)
    times = {name: [] for name in variants}
    for _ in range(runs):
        for name, (on, _present) in variants.items():
            stub(on)
            c0 = time.process_time()
            sessions[name].run()
            times[name].append((time.process_time() - c0) * 1e3)
            assert not sessions[name].exception, sessions[name].exception
    stub(True)
    base = statistics.median(times["pieces stubbed out"])
    print(f"cached playground rerun, 32x32, CPU ms, median of {runs} (interleaved):")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:28s} {med:6.1f} ms  ({med - base:+.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    pieces()
    reruns(args.runs)
    print(f"load average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
