"""What hostile input costs the server: before and after the bounds of issue 21.

A class shares one server process, and typed numbers are converted, and images decoded,
holding Python's interpreter lock: while one visitor's input is being worked on, every
other session waits. This script times the work each hostile input causes, with the
code of this checkout ("after") and with ``ui/parsing.py`` and ``ui/imageio.py`` as they
were at ``--before`` (default e1cb800, before issue 21; read with ``git show``):

* one number of many digits followed by a letter, typed in the kernel or signal field:
  the number pattern used to backtrack over every split of the digits (O(n²));
* one number of 100,000 digits;
* a pasted signal of 2,000,000 numbers (time and peak traced memory, ``tracemalloc``);
* the same texts again (every rerun while the text stays in its box);
* a progressive JPEG of 8000×5000 with 300 scans (``tests/data/make_bad.many_scans``):
  decoded, or refused before decoding;
* the real pages through AppTest (this checkout only): the rerun that shows the refusal,
  and the rerun after it with the same text.

Each figure is the median of ``--repeat`` runs (one run for anything over 3 s). The
"before" O(n²) case is timed at 5,000, 10,000 and 20,000 digits (100,000 would take
minutes); ``--quick`` stops at 10,000 and skips the AppTest part.

Usage::

    python bench/bad_input.py              # about a minute
    python bench/bad_input.py --quick
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "data")]

import make_bad  # noqa: E402
from ui import imageio, parsing  # noqa: E402

ONCE_ABOVE = 3.0  # seconds: slower calls are timed once


def module_at(rev: str, path: str, name: str) -> types.ModuleType:
    """``path`` as it was at commit ``rev``, imported as a fresh module ``name``."""
    source = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    module = types.ModuleType(name)
    module.__file__ = str(ROOT / path)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)
    return module


def timed(fn, repeat: int) -> tuple[float, str]:
    """Median seconds of ``fn()`` and what it gave (the refusal's start, or the result)."""
    times, outcome = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            result = fn()
            outcome = f"accepted ({type(result).__name__})"
        except ValueError as exc:
            outcome = "refused: " + str(exc)[:70]
        times.append(time.perf_counter() - t0)
        if times[-1] > ONCE_ABOVE:
            break
    return statistics.median(times), outcome


def traced_peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
    except ValueError:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def parse_cases(quick: bool):
    digits = (5_000, 10_000) if quick else (5_000, 10_000, 20_000)
    cases = [(f"kernel: {n:,} digits then 'x'", "matrix", "1" * n + "x", True) for n in digits]
    cases += [("kernel: 100,000 digits then 'x'", "matrix", "1" * 100_000 + "x", False),
              ("kernel: one number of 100,000 digits", "matrix", "1" * 100_000, True),
              ("signal: one number of 100,000 digits", "numbers", "1" * 100_000, True),
              ("signal: 2,000,000 numbers", "numbers", ", ".join(["1"] * 2_000_000), True)]
    return cases


def run_parsing(before, repeat: int, quick: bool) -> list[dict]:
    rows = []
    for label, kind, text, time_before in parse_cases(quick):
        row = {"case": label, "chars": len(text)}
        for side, mod in (("before", before), ("after", parsing)):
            if side == "before" and not time_before:
                row[side] = None
                continue
            fn = getattr(mod, "parse_matrix" if kind == "matrix" else "parse_numbers")
            call = (lambda: fn(text, "The kernel")) if kind == "matrix" else (lambda: fn(text))
            if hasattr(fn, "cache_clear"):
                fn.cache_clear()
            row[side], row[side + "_outcome"] = timed(call, 1)
            row[side + "_again"], _ = timed(call, repeat)  # the rerun
            if kind == "numbers" and len(text) > 1_000_000:
                if hasattr(fn, "cache_clear"):
                    fn.cache_clear()
                row[side + "_mib"] = traced_peak_mib(call)
        rows.append(row)
    return rows


def run_jpeg(before, repeat: int) -> dict:
    data = make_bad.many_scans()
    row = {"case": "JPEG 8000×5000, 300 scans", "chars": len(data)}
    for side, mod in (("before", before), ("after", imageio)):
        row[side], row[side + "_outcome"] = timed(lambda: mod.load_image(data, "x.jpg"),
                                                  repeat)
    return row


def run_pages(repeat: int) -> list[dict]:
    """The page's rerun with the hostile text, then the rerun after it (AppTest)."""
    from streamlit.testing.v1 import AppTest

    rows = []
    for label, page, radio, field, text in (
            ("pool_vs_conv: kernel of 100,000 digits + 'x'", "pool_vs_conv",
             ("pc_kernel", "typed"), "pc_text", "1" * 100_000 + "x"),
            ("pool_vs_conv: kernel of 30,000 digits + 'x'", "pool_vs_conv",
             ("pc_kernel", "typed"), "pc_text", "1" * 30_000 + "x"),
            ("dims: signal of 2,000,000 numbers", "dims", ("d1_kind", "paste"), "d1_text",
             ", ".join(["1"] * 2_000_000))):
        first, again = [], []
        for _ in range(repeat):
            parsing.parse_numbers.cache_clear()
            parsing.parse_matrix.cache_clear()
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.switch_page(f"pages/{page}.py")
            at.run()
            at.radio(key=radio[0]).set_value(radio[1]).run()
            at.text_area(key=field).set_value(text)
            t0 = time.perf_counter()
            at.run()
            first.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            at.run()
            again.append(time.perf_counter() - t0)
            assert not at.exception and at.error, (label, at.exception)
        rows.append({"case": label, "first": statistics.median(first),
                     "again": statistics.median(again), "shown": at.error[0].value[:90]})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", default="e1cb800", help="the commit to compare with")
    p.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    before_parsing = module_at(args.before, "ui/parsing.py", "parsing_before")
    before_imageio = module_at(args.before, "ui/imageio.py", "imageio_before")
    print(f"load average before: {os.getloadavg()}")
    rows = run_parsing(before_parsing, args.repeat, args.quick)
    jpeg = run_jpeg(before_imageio, 1 if args.quick else min(args.repeat, 3))

    def s(v):
        return "—" if v is None else f"{v:.4f}" if v < 0.1 else f"{v:.2f}"

    print(f"\nCPU seconds of the server's work per input: before = {args.before}, after = this "
          f"checkout (median of {args.repeat}; once above {ONCE_ABOVE:g} s)\n")
    print(f"{'input':40} {'chars':>10} {'before':>8} {'again':>8} {'after':>8} {'again':>8}")
    for r in rows + [jpeg]:
        print(f"{r['case']:40} {r['chars']:>10,} {s(r.get('before')):>8} "
              f"{s(r.get('before_again')):>8} {s(r['after']):>8} {s(r.get('after_again')):>8}")
    for r in rows:
        if "after_mib" in r:
            print(f"\n{r['case']}: peak traced memory {r['before_mib']:.0f} MiB before, "
                  f"{r['after_mib']:.2f} MiB after")
    print("\nwhat each gives now:")
    for r in rows + [jpeg]:
        print(f"  {r['case']:40} {r['after_outcome']}")
    if not args.quick:
        print("\nThe pages through AppTest (this checkout): the rerun showing the refusal, "
              "and the next rerun with the same text (seconds, median of "
              f"{min(args.repeat, 3)})\n")
        for r in run_pages(min(args.repeat, 3)):
            print(f"  {r['case']:48} {r['first']:6.3f} {r['again']:6.3f}   {r['shown']!r}")
    print(f"\nload average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
