"""What one session may cost a server shared by a class (issue 21).

Two caps, so that one visitor doing the most expensive things in a loop cannot slow
everyone else down (``bench/hostile.py`` measures it):

* **One expensive job at a time per session.** A session's script runs one after the
  other already, but the downloads that are made on the click (``st.download_button``
  with a callable) run on the server's worker threads, beside the script and beside each
  other. :func:`deferred` wraps such a callable so that it takes the session's lock, and
  the page's expensive work runs under the same lock (:func:`one_at_a_time`): a second
  job of the same session waits for the first. At most ``MAX_WAITING`` jobs of a session
  wait; one more is refused, with a message (the server's worker threads are shared).
* **A budget per change.** Before the image lab pools, it estimates the work: the
  pooled values of every pyramid level (``MAX_VALUES``: the memory the results take and
  the drawing and PNG encoding that follow) and the seconds of computing they cost at
  the rates measured on the project machine (``SECONDS_PER_VALUE``; ``MAX_SECONDS``). Past
  either, the pyramid stops at the last level within budget, or the change is refused,
  with a message saying what to change (a larger stride, fewer levels, a smaller image,
  a cheaper mode).

Nothing the normal load test does (``bench/load.py``: a 1.6-megapixel image, kernels 2 to
4, strides 1 to 3, every mode but stochastic, one level) comes near either cap: its most
expensive change, a median with a 4×4 window at stride 1, is 4.8 million values and an
estimated 0.4 s (tests/test_budget.py checks the whole grid).
"""
from __future__ import annotations

import contextlib
import functools
import logging
import threading
from math import prod

from pooling_core import geometry_kwargs, plan_axes

MAX_VALUES = 48_000_000  # pooled values per change, all levels: the largest image (40 MP RGB)
#                          at stride 2 with 5 levels is 40.0 million
MAX_SECONDS = 2.0  # estimated seconds of computing per change, at SECONDS_PER_VALUE
MAX_WAITING = 1  # jobs of one session waiting for its lock (one more is refused)

# Seconds per pooled value, by mode: ``(a, b)`` for a + b·(taps per value), where the taps
# are the window's cells read one at a time (median: the comparators of its sorting
# network; stochastic: the window's cells); the other modes are separable (b = 0).
# Fitted by ``python bench/hostile.py --calibrate`` (the image lab's pooling of a
# 12-megapixel RGB image, kernels 2 to 4 at strides 1 and 2, the fastest of 3 runs) on the
# project machine while other jobs shared it, rounded up: the estimate is what the budget
# compares, so re-fit them when the pooling gets faster.
SECONDS_PER_VALUE = {
    "max": (4e-9, 0.0), "min": (4e-9, 0.0),
    "avg": (18e-9, 0.0), "sum": (8e-9, 0.0), "lp": (30e-9, 0.0),
    "median": (60e-9, 0.4e-9), "stochastic": (80e-9, 5.5e-9),
}
MODE_NAMES = {"max": "Max", "min": "Min", "avg": "Average", "sum": "Sum", "lp": "Lp norm",
              "median": "Median", "stochastic": "Stochastic"}


def _comparators(k: int) -> int:
    """Comparators of the median's sorting network for ``k`` items (pooling_core's bound)."""
    m = max(1, (k - 1).bit_length())
    return (m * m - m + 4) * 2 ** (m - 2) - 1 if m >= 2 else 1


def taps_per_value(kwargs: dict) -> int:
    """Window reads per pooled value of a non-separable mode (0 for separable modes)."""
    kernel = kwargs["kernel_size"]
    cells = prod(kernel) if isinstance(kernel, (tuple, list)) else kernel * kernel
    mode = kwargs.get("mode", "max")
    return _comparators(cells) if mode == "median" else cells if mode == "stochastic" else 0


def cost(shape, kwargs: dict) -> tuple[tuple[int, ...], int, float]:
    """``(output shape, pooled values, estimated seconds)`` of ``pool2d(x, **kwargs)`` for an
    ``x`` of ``shape`` ``(..., H, W)``.

    >>> out, values, seconds = cost((3, 1000, 1600), dict(kernel_size=2, stride=2, mode="max"))
    >>> out, values, round(seconds, 3)
    ((3, 500, 800), 1200000, 0.005)
    """
    plans = plan_axes(tuple(shape[-2:]), **geometry_kwargs(kwargs))
    out = tuple(shape[:-2]) + tuple(p.out for p in plans)
    values = prod(out)
    a, b = SECONDS_PER_VALUE.get(kwargs.get("mode", "max"), SECONDS_PER_VALUE["stochastic"])
    return out, values, values * (a + b * taps_per_value(kwargs))


class OverBudget(ValueError):
    """A change would cost more than one change may; ``str(err)`` says what to change."""


class Change:
    """The budget of one change of one session: charge each piece of work before doing it."""

    def __init__(self, max_values: int | None = None, max_seconds: float | None = None):
        self.max_values = MAX_VALUES if max_values is None else max_values
        self.max_seconds = MAX_SECONDS if max_seconds is None else max_seconds
        self.values, self.seconds = 0, 0.0

    def charge(self, shape, kwargs: dict, what: str) -> tuple[int, ...]:
        """Count ``pool2d`` of an input of ``shape`` with ``kwargs``; returns the output
        shape, or raises :class:`OverBudget` (and counts nothing) if it does not fit.

        >>> change = Change()
        >>> change.charge((3, 7744, 5164), dict(kernel_size=2, stride=1, mode="median"),
        ...               "level 1")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ui.budget.OverBudget: level 1 would compute 119,931,327 pooled values (Median, ...
        """
        out, values, seconds = cost(shape, kwargs)
        over_values = self.values + values > self.max_values
        over_seconds = self.seconds + seconds > self.max_seconds
        if over_values or over_seconds:
            mode = MODE_NAMES.get(kwargs.get("mode", "max"), kwargs.get("mode"))
            spent = (f" after {self.values:,} values and about {self.seconds:.1f} s for the "
                     f"levels before it" if self.values else "")
            limit = (f"at most {self.max_values:,} values" if over_values else
                     f"about {self.max_seconds:g} s of computing")
            cheaper = "" if mode in ("Max", "Min") else ", or a faster mode (Max, Min)"
            raise OverBudget(
                f"{what} would compute {values:,} pooled values ({mode}, about {seconds:.1f} s "
                f"of the server's time){spent}; on a server shared by a class one change may "
                f"take {limit}. Use a larger stride, fewer pyramid levels or a smaller "
                f"image{cheaper}.")
        self.values += values
        self.seconds += seconds
        return out


# ----------------------------------------------------------------------------- one at a time


class Busy(RuntimeError):
    """The session already has a job running and ``MAX_WAITING`` waiting."""


class SessionJobs:
    """One session's lock, and how many of its jobs wait for it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting = 0
        self._count = threading.Lock()

    @contextlib.contextmanager
    def turn(self, what: str = "this", refuse: bool = True):
        """Run the block when no other job of this session runs (wait for it); raise
        :class:`Busy` if ``MAX_WAITING`` jobs wait already (unless ``refuse=False``: the
        script run, one per session, always waits its turn)."""
        with self._count:
            if refuse and self.lock.locked() and self.waiting >= MAX_WAITING:
                raise Busy(f"Still working on your previous requests; {what} is refused. "
                           f"Wait for them to finish, then try again.")
            self.waiting += 1
        try:
            self.lock.acquire()
        finally:
            with self._count:
                self.waiting -= 1
        try:
            yield
        finally:
            self.lock.release()


def session_jobs() -> SessionJobs:
    """This session's :class:`SessionJobs` (kept in its ``st.session_state``)."""
    import streamlit as st

    return st.session_state.setdefault("_budget_jobs", SessionJobs())


@contextlib.contextmanager
def one_at_a_time():
    """The page's expensive work, in the session's turn (after its running download)."""
    with session_jobs().turn(refuse=False):
        yield


class _QuietBusy(logging.Filter):
    """Streamlit logs a failed on-click download with its traceback; a :class:`Busy`
    refusal is expected (the user sees Streamlit's "Failed to generate file for
    download"), so it is logged as one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, Busy):
            record.msg, record.args, record.exc_info = f"download refused: {exc}", (), None
        return True


_quiet = _QuietBusy()


def deferred(fn, what: str = "this download"):
    """``fn`` for ``st.download_button(data=...)``, run in this session's turn.

    Called during the script run (it looks the session up there); the returned callable
    runs later on a server thread, when the button is clicked.
    """
    jobs = session_jobs()
    logger = logging.getLogger("streamlit.runtime.backend_operation_handler")
    if _quiet not in logger.filters:
        logger.addFilter(_quiet)

    @functools.wraps(fn)
    def run():
        with jobs.turn(what):
            return fn()

    return run
