"""Timing helpers shared by the benchmarks (bench_app.py, bench_image_lab.py, bench_core.py,
bench_variants.py).

``median_time`` times a call; ``time_reruns`` drives a page through Streamlit's
AppTest, one change per script run, and times each ``at.run()`` (the whole
script: widgets, st.cache_data look-ups, figures serialised to what Streamlit
sends; the browser's drawing is not included); ``photo`` makes the 12-megapixel
test image.
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def median_time(fn, repeat=3, once_above=None) -> float:
    """Median wall time of ``repeat`` calls of ``fn``, in seconds; a first call that
    takes more than ``once_above`` seconds is not repeated."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if once_above is not None and times[0] > once_above:
            break
    return statistics.median(times)


def photo(h=3000, w=4000, seed=0) -> np.ndarray:
    """A photo-like (H, W, 3) uint8 image: sky gradient, soft blobs, edges, sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 90 + 80 * y / h
    img[..., 1] = 140 + 60 * y / h
    img[..., 2] = 230 - 90 * y / h
    for _ in range(12):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(150, 700)
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        mask = np.clip(1.2 - np.hypot(y - cy, x - cx) / r, 0, 1)[..., None]
        img = img * (1 - mask) + colour * mask
    ground = y > h * 0.6 + 120 * np.sin(x / 300)
    img[ground] = img[ground] * 0.4 + np.array([40, 120, 50], np.float32) * 0.6
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def load_average() -> str:
    """The 1, 5 and 15-minute load averages (the machine is shared: timings are noisy)."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def time_reruns(page: str, session, *, repeat: int = 3, query: dict | None = None,
                inspect=None, warmup: bool = False, timeout: float = 120) -> list[dict]:
    """Median seconds of each change's script run over ``repeat`` fresh sessions.

    Parameters
    ----------
    page : page script, e.g. ``"pages/playground.py"``, reached through ``app.py``.
    session : ``session(at)`` yields ``(label, change)`` pairs; each ``change()`` sets
        widgets (or does nothing) and is followed by one timed ``at.run()``.
    repeat : sessions; ``st.cache_data`` and ``st.cache_resource`` are cleared before each,
        so every change that brings new settings is a cache miss, as for a user.
    query : query parameters of the link the session opens (``{"rows": "32"}``).
    inspect : ``inspect(at)`` after each timed run (not timed); its dict is kept per label.
    warmup : run one untimed session first (first-use imports happen once per server).

    Returns
    -------
    list of dicts ``label, seconds, runs, note, info`` in the session's order; ``note``
    names the page's error messages or an exception after that change.
    """
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    rows: dict[str, dict] = {}
    # AppTest driven from this thread warns "No runtime found" and "missing
    # ScriptRunContext" at every session; errors still show
    logging.disable(logging.WARNING)
    try:
        for n in range(repeat + int(warmup)):
            st.cache_data.clear()
            st.cache_resource.clear()
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
            at.switch_page(page)  # the link opens the page: its values reach every widget
            for key, value in (query or {}).items():
                at.query_params[key] = value
            at.run()
            for label, change in session(at):
                change()
                t0 = time.perf_counter()
                at.run()
                seconds = time.perf_counter() - t0
                if warmup and n == 0:
                    continue
                row = rows.setdefault(label, {"label": label, "runs": [], "info": {}})
                row["runs"].append(seconds)
                errors = [e.value.split(".")[0] for e in at.error]
                row["note"] = f"page says: {'; '.join(errors)}" if errors else ""
                if at.exception:
                    row["note"] += f" EXCEPTION {at.exception[0].message}"
                if inspect is not None:
                    row["info"] = inspect(at)
    finally:
        logging.disable(logging.NOTSET)
    for row in rows.values():
        row["seconds"] = statistics.median(row["runs"])
    return list(rows.values())
