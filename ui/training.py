"""Training runs of the tiny CNN, shared by every session of one server (no Streamlit).

The "Pooling inside a network" page keeps one :class:`Trainer` per server process
(``st.cache_resource``). :meth:`Trainer.run` returns the run of an (architecture,
seed, epochs) key, starting it only if no session has: a class of 30 pressing Train
on the same settings trains once, and every one of them watches the same run's
progress. Runs train in a background thread, one at a time (two at once in one
process are no faster: they share Python's interpreter lock; docs/performance.md), so
a second core stays free for the pages; the others wait in a queue. A session that
reruns or leaves does not stop a run; finished runs are kept, the oldest dropped past
``keep``.

The page's comparison table is built from plain dicts (:func:`result_row`), kept in
the session; :func:`spread_rows` summarises several seeds of one choice.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, NamedTuple

import numpy as np

from pooling_core import network as nw

#: Runs a server keeps after they finish (a few kB each; 'none', the largest, ~170 kB).
KEEP = 128


class Key(NamedTuple):
    """What a run is cached by."""
    downsample: str
    seed: int
    epochs: int

    @property
    def text(self) -> str:
        return f"{nw.DOWNSAMPLING[self.downsample]}, seed {self.seed}, {self.epochs} epochs"


def make_key(downsample, seed, epochs) -> Key:
    """A validated :class:`Key` (ValueError naming the bad value otherwise).

    >>> make_key("max", 0, 5)
    Key(downsample='max', seed=0, epochs=5)
    """
    nw.Architecture(downsample)  # raises for an unknown choice
    return Key(downsample, *nw.check_run(seed, epochs))


class Run:
    """One training run: ``state`` is 'queued', 'running', 'done' or 'failed'.

    ``progress`` is the latest :class:`~pooling_core.network.Progress` (None before
    the first batch), ``result`` the :class:`~pooling_core.network.TrainResult`
    once done, ``error`` the message if the run failed.
    """

    def __init__(self, key: Key, order: int):
        self.key, self.order = key, order
        self.state = "queued"
        self.progress: nw.Progress | None = None
        self.result: nw.TrainResult | None = None
        self.error: str | None = None
        self._finished = threading.Event()

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def fraction(self) -> float:
        """Share of the run's batches done (1 once finished)."""
        if self.done:
            return 1.0
        p = self.progress
        return 0.0 if p is None else p.step / max(p.steps, 1)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has finished (or ``timeout`` seconds); True if it has."""
        return self._finished.wait(timeout)


class Trainer:
    """Every run of one server process, keyed by :class:`Key`.

    Parameters
    ----------
    keep : int
        Finished runs kept; past it the least recently asked-for go first.
    train : callable
        ``train(arch, seed, epochs, callback=...)``, :func:`pooling_core.network.train`
        (the tests may pass a stand-in).
    """

    def __init__(self, keep: int = KEEP, train: Callable = nw.train):
        self.keep, self._train = keep, train
        self._runs: OrderedDict[Key, Run] = OrderedDict()
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Lock()
        self.started = 0  # runs started: trainings
        self.hits = 0  # asks answered by a run that existed (queued, running or done)

    def run(self, key: Key) -> Run:
        """The run of ``key``: the one already queued, running or done, or a new one."""
        with self._lock:
            run = self._runs.get(key)
            if run is not None and run.state != "failed":
                self._runs.move_to_end(key)
                self.hits += 1
                return run
            self.started += 1
            run = self._runs[key] = Run(key, self.started)
            self._drop_old()
        threading.Thread(target=self._work, args=(run,), daemon=True,
                         name=f"poolscope-train-{key.downsample}-{key.seed}").start()
        return run

    def get(self, key: Key) -> Run | None:
        """The run of ``key`` if this server has it (in any state)."""
        with self._lock:
            return self._runs.get(key)

    def ahead_of(self, run: Run) -> int:
        """Runs that will train before ``run`` (queued earlier, or training now)."""
        with self._lock:
            return sum(1 for r in self._runs.values()
                       if not r.done and r.order < run.order)

    def _work(self, run: Run) -> None:
        with self._one_at_a_time:
            run.state = "running"
            try:
                def report(progress):
                    run.progress = progress

                run.result = self._train(nw.Architecture(run.key.downsample), run.key.seed,
                                         run.key.epochs, callback=report)
                run.state = "done"
            except Exception as exc:  # noqa: BLE001  (shown to every session that waits)
                run.error, run.state = f"{type(exc).__name__}: {exc}", "failed"
            finally:
                run._finished.set()

    def _drop_old(self) -> None:
        finished = [k for k, r in self._runs.items() if r.done]
        while len(self._runs) > self.keep and finished:
            del self._runs[finished.pop(0)]


# ----------------------------------------------------------------------------- the table


def result_row(result: nw.TrainResult) -> dict:
    """One row of the comparison table (plain values, for the session and a DataFrame)."""
    return {"Downsampling": result.arch.label, "choice": result.arch.downsample,
            "Seed": result.seed, "Epochs": result.epochs,
            "Test accuracy": round(100 * result.test_accuracy, 1),
            "Shift-robust accuracy": round(100 * result.shift_accuracy, 1),
            "Parameters": result.params, "Multiply-adds": result.macs,
            "Training time (s)": round(result.seconds, 2)}


def spread_rows(rows: list[dict]) -> list[dict]:
    """Per choice and epochs with two seeds or more: how far the seeds spread.

    >>> rows = [{"Downsampling": "Max", "choice": "max", "Epochs": 5, "Seed": s,
    ...          "Test accuracy": a, "Shift-robust accuracy": a - 5}
    ...         for s, a in ((0, 97.0), (1, 95.0), (2, 96.0))]
    >>> spread_rows(rows)[0]["Test accuracy: mean (min-max)"]
    '96.0 (95.0-97.0)'
    """
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["choice"], r["Epochs"]), []).append(r)
    out = []
    for (_, epochs), group in groups.items():
        if len(group) < 2:
            continue
        acc = np.array([r["Test accuracy"] for r in group])
        shift = np.array([r["Shift-robust accuracy"] for r in group])
        out.append({"Downsampling": group[0]["Downsampling"], "Epochs": epochs,
                    "Seeds": ", ".join(str(r["Seed"]) for r in group),
                    "Test accuracy: mean (min-max)":
                        f"{acc.mean():.1f} ({acc.min():.1f}-{acc.max():.1f})",
                    "Shift-robust: mean (min-max)":
                        f"{shift.mean():.1f} ({shift.min():.1f}-{shift.max():.1f})"})
    return out
