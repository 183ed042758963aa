"""ui/budget.py: one session's cost on a shared server is capped, and normal use never is.

The caps (one expensive job at a time per session; a budget of pooled values and of
estimated seconds per change) must refuse the hostile session of ``bench/hostile.py``
with a message that says what to change, and nothing that ``bench/load.py``'s normal users
do. Timings come from ``bench/hostile.py``; here: what is refused, with which message, and
that a session's jobs never overlap.
"""
import logging
import threading

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bench import load
from conftest import ROOT
from pooling_core import pool2d
from ui import budget
from ui import imagelab as lab
from ui.pool_settings import MODE_LABELS, PoolSettings

LOAD_IMAGE = (3, 1000, 1600)       # bench/load.py's upload (1600×1000 RGB)
LARGEST = (3, 5164, 7744)          # 40 megapixels, the largest upload (bench/hostile.py)
LOAD_MODES = [m for m, label in MODE_LABELS.items() if label in load.MODES]


def kwargs_of(kernel, stride, mode):
    return PoolSettings(kernel=(kernel, kernel), stride=(stride, stride), mode=mode)\
        .pool_kwargs(LOAD_IMAGE[1:])


def test_nothing_the_normal_load_test_does_is_refused():
    assert set(LOAD_MODES) == {"max", "avg", "sum", "min", "median", "lp"}
    worst = 0.0
    for kernel in load.KERNELS:
        for stride in (*load.STRIDES, kernel):
            for mode in LOAD_MODES:
                change = budget.Change()
                change.charge(LOAD_IMAGE, kwargs_of(kernel, stride, mode), "Pooling")
                worst = max(worst, change.seconds)
    assert worst < budget.MAX_SECONDS / 4  # a median 4×4 at stride 1: about 0.4 s


def test_the_largest_image_at_the_default_settings_keeps_all_five_levels():
    array = np.zeros(LARGEST, np.uint8)
    change = budget.Change()
    kwargs = dict(kernel_size=(2, 2), stride=(2, 2), mode="max")
    shape = LARGEST
    for _ in range(5):
        shape = change.charge(shape, kwargs, "a pass")
    assert change.values < budget.MAX_VALUES and shape[-2:] == (161, 242)
    assert array.shape == LARGEST


def test_the_hostile_change_is_refused_with_what_to_change():
    change = budget.Change()
    kwargs = dict(kernel_size=(2, 2), stride=(1, 1), mode="median")
    with pytest.raises(budget.OverBudget) as info:
        change.charge(LARGEST, kwargs, "Pooling this image with these settings")
    assert str(info.value) == (
        "Pooling this image with these settings would compute 119,931,327 pooled values "
        "(Median, about 7.4 s of the server's time); on a server shared by a class one change "
        "may take at most 48,000,000 values. Use a larger stride, fewer pyramid levels or a "
        "smaller image, or a faster mode (Max, Min).")
    assert change.values == 0  # nothing was counted


def test_a_pyramid_stops_at_the_last_level_within_budget():
    x = np.zeros((3, 600, 800), np.uint8)
    change = budget.Change(max_values=1_500_000)
    kwargs = dict(kernel_size=2, stride=1, mode="max")  # 1,435,803 values, then 1,431,612

    def pool(a, kw):
        change.charge(a.shape, kw, "Pass")
        return pool2d(a, **kw)

    levels, used, stop = lab.pyramid(x, kwargs, lambda shape: kwargs, 5, pool=pool)
    assert len(levels) == 1 and len(used) == 1
    assert stop.startswith("Stopped after 1 pass: Pass would compute 1,431,612 pooled values "
                           "(Max, about 0.0 s of the server's time) after 1,435,803 values")
    assert "at most 1,500,000 values" in stop and "fewer pyramid levels" in stop
    def refuse(a, kw):
        budget.Change(max_values=10).charge(a.shape, kw, "Pooling")

    levels, _, stop = lab.pyramid(x, kwargs, lambda shape: kwargs, 1, pool=refuse)
    assert levels == [] and stop.startswith("Pooling would compute 1,435,803 pooled values")


def test_the_seconds_budget_refuses_a_slow_mode_the_values_budget_would_take():
    change = budget.Change()
    kwargs = dict(kernel_size=(4, 4), stride=(1, 1), mode="stochastic", training=True)
    with pytest.raises(budget.OverBudget, match=r"may take about 2 s of computing"):
        change.charge((3, 3000, 4000), kwargs, "Pooling")  # 36 M values < 48 M


# ----------------------------------------------------------------------------- one at a time


def test_a_session_s_jobs_run_one_at_a_time_and_one_more_is_refused():
    jobs = budget.SessionJobs()
    running, release, order = threading.Event(), threading.Event(), []

    def first():
        with jobs.turn("the first"):
            order.append("first starts")
            running.set()
            release.wait(10)
            order.append("first ends")

    def second():
        with jobs.turn("the second"):
            order.append("second runs")

    a = threading.Thread(target=first)
    a.start()
    assert running.wait(10)
    b = threading.Thread(target=second)
    b.start()
    for _ in range(1000):  # until the second waits for the lock
        if jobs.waiting == 1:
            break
        threading.Event().wait(0.01)
    assert jobs.waiting == 1
    with pytest.raises(budget.Busy, match=r"^Still working on your previous requests; the "
                                           r"third is refused\. Wait for them to finish"):
        with jobs.turn("the third"):
            pass
    script_ran = []

    def script():  # the script run is never refused: it waits its turn
        with jobs.turn("the script", refuse=False):
            script_ran.append(order[-1])

    c = threading.Thread(target=script)
    c.start()
    release.set()
    for t in (a, b, c):
        t.join(10)
    assert order == ["first starts", "first ends", "second runs"]
    assert script_ran and script_ran[0] in ("first ends", "second runs")  # after the first
    assert not jobs.lock.locked() and jobs.waiting == 0


def test_a_refused_download_is_logged_as_one_line(monkeypatch):
    record = logging.LogRecord("streamlit.runtime.backend_operation_handler", logging.ERROR,
                               __file__, 1, "Error executing deferred callable for file_id %s",
                               ("f1",), None)
    try:
        raise budget.Busy("Still working on your previous requests; this download is refused.")
    except budget.Busy:
        import sys
        record.exc_info = sys.exc_info()
    assert budget._QuietBusy().filter(record)
    assert record.exc_info is None
    assert record.getMessage() == ("download refused: Still working on your previous "
                                   "requests; this download is refused.")


# ----------------------------------------------------------------------------- the page


def test_the_image_lab_shows_the_refusal_and_the_original(monkeypatch):
    monkeypatch.setattr(budget, "MAX_VALUES", 100_000)  # the scene sample: 3×192×256
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/image_lab.py")
    at.run()
    at.selectbox(key="img_sample").set_value("Scene (generated)").run()
    at.checkbox(key="sk").set_value(False).run()
    at.slider(key="sh").set_value(1).run()  # 3 × 191 × 255 = 146,115 values
    assert not at.exception
    (message,) = [e.value for e in at.error]
    assert message.startswith("Pooling this image with these settings would compute 146,115 "
                              "pooled values (Max, about 0.0 s")
    captions = [i.caption for im in at.get("image") for i in im.proto.imgs]
    assert captions == ["Original: 256×192 px (not pooled)"]
    at.slider(key="sh").set_value(2).run()  # 36,864 values: pooled again
    assert not at.error
    at.slider(key="img_times").set_value(5).run()  # 36,864 + 9,216 + ... < 100,000
    assert not at.error
    monkeypatch.setattr(budget, "MAX_VALUES", 40_000)
    at.slider(key="kh").set_value(3).run()  # a new change: 3×95×127 + 3×47×63 > 40,000
    assert not at.exception
    assert any(i.value.startswith("Stopped after 1 pass: Pass 2 would compute 8,883 pooled "
                                  "values (Max, about 0.0 s of the server's time) after "
                                  "36,195 values")
               for i in at.info), [i.value for i in at.info]
