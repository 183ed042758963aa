"""One hostile session against a class: what it does to everyone else's latency (issue 21).

Starts one ``streamlit run app.py`` (bench/load.py's ``Server``) and plays, in rounds,
``--users`` normal users (bench/load.py's users: the playground and the image lab, one
control change about every second) alone, then the same with one more session that
does the most expensive things the app offers, in a loop, changing the kernel every
round so that no cache helps it:

* on the image lab: uploads the largest image the app takes (a 40-megapixel JPEG of
  about 12 MB), sets the pyramid at 5 levels, opens the zoom and the mode comparison,
  and reruns with median, then stochastic pooling, at stride 1, then at stride 2 (what
  a budget may still allow); after each run that pooled, it clicks every download (the
  pooled PNG, the raw .npy, the side-by-side PNG);
* then on the matrix playground: a 32×32 matrix at stride 1 (the largest animation),
  and both downloads (the GIF, the CSV); then back to the image lab, uploading again.

It prints the normal users' latency (p50, p95, max of their control changes and of
everything they did) without and with the hostile session, round by round, what the
hostile session got (each of its steps: time, and the messages the page showed), and
the server's CPU and peak RSS. The lead's target: the normal users' p95 under 2 s.

Exit status 0 when the normal users had no errors in any round, else 1 (2: the server
did not start).

Usage::

    python bench/hostile.py                       # 10 users, 2 rounds of 30 s each way
    python bench/hostile.py --users 10 --seconds 40 --rounds 3
    python bench/hostile.py --quick               # 4 users, 1 round of 12 s
    python bench/hostile.py --app-dir /tmp/base   # a checkout without the caps (git worktree)
    python bench/hostile.py --calibrate           # ui/budget.py's rates against the pooling
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

try:
    from bench import load
except ImportError:  # run as a script: bench/ is on the path
    import load

LARGEST = (7744, 5164)  # 40.0 megapixels: ui/imageio.MAX_PIXELS
IMAGE_DOWNLOADS = ("dl_png", "dl_npy", "dl_sbs")
PLAYGROUND_DOWNLOADS = ("dl_gif", "dl_csv")
HOSTILE_MODES = ("Median", "Stochastic (Caffe)")


class Hostile(load.User):
    """The session that does the most expensive things, in a loop (see the module doc)."""

    def __init__(self, base: str, args, image: bytes):
        super().__init__(900, "image_lab", base, args, image)
        self.steps: list[dict] = []

    async def goto(self, page: str, query: str = "") -> load.Run:
        """Switch this session to another page, as the navigation does."""
        self.page, self.page_hash, self.query_string = page, "", query
        return await self.step(f"open {page}", "open")

    async def step(self, label: str, kind: str = "hostile") -> load.Run:
        t0 = time.perf_counter()
        run = await self.rerun(kind)
        self.steps.append({"step": label, "seconds": time.perf_counter() - t0,
                           "messages": [m[:160] for m in run.error_alerts[:3]]})
        return run

    async def downloads(self, keys, label: str) -> None:
        for key in keys:
            t0 = time.perf_counter()
            size = await self.download(key)
            self.steps.append({"step": f"{label}: download {key}",
                               "seconds": time.perf_counter() - t0, "bytes": size,
                               "messages": []})

    async def play(self, deadline: float) -> None:
        try:
            await self.open()
            await self.step("open image_lab", "open")
            await self.upload()
            round_ = 0
            while time.monotonic() < deadline:
                kernel = 2 + round_ % 4  # 2..5: a new kernel each round, so no cache helps
                self._set("kh", "slider", kernel)
                self._set("sk", "checkbox", False)
                await self.step(f"kernel {kernel}, unlock the stride")
                self._set("img_times", "slider", 5)
                self._set("img_zoom", "expander", True)
                self._set("img_compare", "expander", True)
                for stride in (1, 2):  # the most expensive, then the most a budget may allow
                    self._set("sh", "slider", stride)
                    for mode in HOSTILE_MODES:
                        self._set("mode", "selectbox", mode)
                        label = (f"{mode}, kernel {kernel}, stride {stride}, pyramid 5, "
                                 f"zoom + comparison")
                        run = await self.step(label)
                        if "dl_png" in run.downloads:  # none when the change was refused
                            await self.downloads(IMAGE_DOWNLOADS, label)
                        if time.monotonic() >= deadline:
                            return
                await self.goto("playground", f"rows=32&cols=32&rseed={round_}&kh=2&sk=false&sh=1")
                await self.downloads(PLAYGROUND_DOWNLOADS, "playground 32×32, stride 1")
                await self.goto("image_lab")
                await self.upload()
                round_ += 1
        except load.UserStopped as exc:
            self.errors.append(f"stopped: {exc}")
        except (OSError, load.WebSocketException, load.urllib.error.URLError) as exc:
            self.errors.append(f"connection failed: {exc!r}")
        finally:
            await self.close()


async def play_round(args, base: str, images: dict, hostile_image: bytes | None):
    pages = load.assign_pages(args.users, args.upload_share)
    users = [load.User(i, p, base, args, images.get(i)) for i, p in enumerate(pages)]
    hostile = Hostile(base, args, hostile_image) if hostile_image is not None else None
    t0 = time.monotonic()
    deadline = t0 + args.ramp + args.seconds

    async def start(u):
        await asyncio.sleep(args.ramp * u.index / len(users))
        await u.play(deadline)

    tasks = [start(u) for u in users]
    if hostile is not None:
        tasks.append(hostile.play(deadline))
    await asyncio.gather(*tasks)
    return users, hostile, time.monotonic() - t0


def summarize(users) -> dict:
    changes = [s.seconds for u in users for s in u.samples if s.kind == "change"]
    everything = [s.seconds for u in users for s in u.samples]
    return {"change": load.stats(changes), "all": load.stats(everything),
            "errors": [e for u in users for e in u.errors],
            "messages": sorted({m[:160] for u in users for m in u.error_messages})}


CALIBRATION = [(k, s) for k in (2, 3, 4) for s in (1, 2)]


def calibrate(repeat: int = 3, shape=(3, 3000, 4000)) -> int:
    """Time the image lab's pooling (``pooling_core.pool2d``) of a 12-megapixel RGB image
    in every mode and compare with ``ui.budget``'s estimate (``SECONDS_PER_VALUE``): the
    fastest of ``repeat`` runs of each setting, and the per-value rates that fit them."""
    import numpy as np

    sys.path.insert(0, str(load.ROOT))
    from pooling_core import pool2d
    from ui import budget

    x = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    print(f"calibration: pooling_core.pool2d on a {shape[2]}×{shape[1]} RGB uint8 image, "
          f"fastest of {repeat}; load average {os.getloadavg()}")
    print(f"\n{'mode':11} {'k':>2} {'s':>2} {'values':>11} {'taps':>5} {'seconds':>8} "
          f"{'estimate':>8} {'ns/value':>9}")
    fits = {}
    for mode in budget.SECONDS_PER_VALUE:
        rows = []
        for k, st in CALIBRATION:
            kwargs = dict(kernel_size=k, stride=st, mode=mode)
            if mode == "stochastic":
                kwargs["training"] = True
            best = float("inf")
            for _ in range(repeat):
                t0 = time.perf_counter()
                pool2d(x, **kwargs)
                best = min(best, time.perf_counter() - t0)
            _, values, estimate = budget.cost(x.shape, kwargs)
            taps = budget.taps_per_value(kwargs)
            rows.append((values, taps, best))
            print(f"{mode:11} {k:2d} {st:2d} {values:11,} {taps:5d} {best:8.3f} {estimate:8.3f} "
                  f"{best / values * 1e9:9.1f}", flush=True)
        v, t, sec = (np.array(c, float) for c in zip(*rows))
        if t.any():  # seconds/value = a + b·taps, least squares
            a, b = np.linalg.lstsq(np.stack([np.ones_like(t), t], 1), sec / v, rcond=None)[0]
        else:
            a, b = float(np.max(sec / v)), 0.0
        fits[mode] = (a, b)
    print("\nfitted (a, b) of seconds per value = a + b·taps, against ui/budget.py's:")
    for mode, (a, b) in fits.items():
        print(f"  {mode:11} fitted ({a * 1e9:6.1f} ns, {b * 1e9:5.2f} ns)   budget.py "
              f"({budget.SECONDS_PER_VALUE[mode][0] * 1e9:6.1f} ns, "
              f"{budget.SECONDS_PER_VALUE[mode][1] * 1e9:5.2f} ns)")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=2, help="rounds without and with (default 2)")
    p.add_argument("--quick", action="store_true", help="4 users, 1 round of 12 s each way")
    p.add_argument("--app-dir", type=Path, default=load.ROOT,
                   help="the checkout to serve (e.g. one without the caps, to compare)")
    p.add_argument("--calibrate", action="store_true",
                   help="only time the pooling of each mode against ui/budget.py's estimate")
    own, rest = p.parse_known_args(argv)
    if own.calibrate:
        return calibrate()
    if own.quick:
        rest = ["--users", "4", "--seconds", "12", *rest]
        own.rounds = 1
    if "--seconds" not in rest:
        rest = ["--seconds", "30", *rest]
    args = load.parse_args(rest)
    args.hard_timeout = None
    tmp = tempfile.TemporaryDirectory(prefix="poolscope_hostile_")
    server = load.Server(load.free_port(), Path(tmp.name) / "server.log", own.app_dir)
    try:
        try:
            server.start()
        except RuntimeError as exc:
            print(f"hostile.py: could not start the server: {exc}", file=sys.stderr)
            return 2
        w, h = (int(v) for v in args.image_size.lower().split("x"))
        images = {i: load.make_jpeg(args.seed * 1000 + i, w, h)
                  for i, page in enumerate(load.assign_pages(args.users, args.upload_share))
                  if page == "image_lab"}
        big = load.make_jpeg(4242, *LARGEST)
        print(f"hostile.py: {args.users} users, {own.rounds} round(s) of {args.seconds:g} s each "
              f"way; the hostile upload is {LARGEST[0]}×{LARGEST[1]}, {len(big) / 2**20:.1f} MiB; "
              f"load average {os.getloadavg()}", file=sys.stderr)
        mem = load.MemorySampler(server.proc.pid)
        mem.start()
        results = []
        for r in range(own.rounds):
            for with_hostile in (False, True):
                cpu0 = load.cpu_seconds(server.proc.pid)
                users, hostile, wall = asyncio.run(
                    play_round(args, server.url, images, big if with_hostile else None))
                row = {"round": r + 1, "hostile": with_hostile, "wall": wall,
                       "server_cpu": load.cpu_seconds(server.proc.pid) - cpu0,
                       "peak_rss_mib": mem.peak_kib / 1024, **summarize(users)}
                if hostile is not None:
                    row["hostile_steps"] = hostile.steps
                    row["hostile_errors"] = hostile.errors
                results.append(row)
                print_row(row)
        mem.stop()
        print_summary(results, args)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
        return 0 if not any(r["errors"] for r in results) else 1
    finally:
        server.stop()
        tmp.cleanup()


def fmt(st: dict) -> str:
    if not st["n"]:
        return "—"
    return f"{st['p50']:.2f} / {st['p95']:.2f} / {st['max']:.2f} ({st['n']})"


def print_row(row: dict) -> None:
    print(f"round {row['round']} {'WITH' if row['hostile'] else 'without'} the hostile session: "
          f"normal users' control changes p50/p95/max {fmt(row['change'])}, everything "
          f"{fmt(row['all'])}; errors {len(row['errors'])}; server CPU {row['server_cpu']:.0f} s "
          f"in {row['wall']:.0f} s", file=sys.stderr)


def print_summary(results: list[dict], args) -> None:
    print(f"\nPoolscope: {args.users} normal users (bench/load.py, think {args.think:g} s), "
          f"{args.seconds:g} s a round, {os.cpu_count()} CPUs")
    print(f"\n{'round':6} {'hostile':8} {'changes p50 / p95 / max (n)':30} "
          f"{'everything p50 / p95 / max (n)':32} {'errors':>6} {'CPU s':>6} {'RSS MiB':>8}")
    for r in results:
        print(f"{r['round']:<6} {'with' if r['hostile'] else 'without':8} {fmt(r['change']):30} "
              f"{fmt(r['all']):32} {len(r['errors']):6d} {r['server_cpu']:6.0f} "
              f"{r['peak_rss_mib']:8.0f}")
    for flag in (False, True):
        rows = [r for r in results if r["hostile"] == flag]
        print(f"worst p95 of the normal users' control changes {'with' if flag else 'without'} "
              f"the hostile session: {max(r['change']['p95'] or 0 for r in rows):.2f} s")
    for r in results:
        for e in r["errors"][:3]:
            print(f"  normal user's error (round {r['round']}): {e[:200]}")
        if r["hostile"]:
            steps = r["hostile_steps"]
            print(f"\nhostile session, round {r['round']}: {len(steps)} steps, "
                  f"{sum(s['seconds'] for s in steps):.0f} s; slowest:")
            for s in sorted(steps, key=lambda s: -s["seconds"])[:6]:
                print(f"  {s['seconds']:6.2f} s  {s['step']}" +
                      (f"  — shown: {s['messages'][0]!r}" if s["messages"] else ""))
            shown = sorted({m for s in steps for m in s["messages"]})
            for m in shown[:6]:
                print(f"  message shown to it: {m!r}")
            for e in r["hostile_errors"][:3]:
                print(f"  its error: {e[:200]}")


if __name__ == "__main__":
    sys.exit(main())
