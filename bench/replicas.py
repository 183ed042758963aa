"""Replicas behind nginx: bench/load.py's users through deploy/nginx.conf (issue 21).

Starts two ``streamlit run app.py`` replicas on free ports of 127.0.0.1 and Debian's
nginx in front of them with the shipped configuration (``bench/balancer.py`` renders it
for these ports and runs nginx without root), then plays ``bench/load.py``'s users
through nginx's URL, each keeping the cookies it is given as a browser does. It prints
load.py's report, then per replica: the users it served, their control changes' p50 and
p95, their errors, and the replica's peak RSS and CPU; and, from nginx's access log,
how many requests reached a replica other than the one their cookie named.

``--kill-after S`` kills the first replica (SIGKILL to its process group) S seconds
into the run; its users' websockets drop and they reconnect as the browser does
(load.py ``--reconnect``: the health route every 0.5 s, then a new websocket and a rerun
with the widget states they hold; the image lab's users upload again). The report says
how long each was without a page, what the page showed then, and whether anyone else
saw an error. ``--restart-after S`` starts it again S seconds after the kill (as
Docker's restart policy would). ``--round-robin`` replaces the sticky routing by plain
round robin, to see what stickiness prevents.

Every other option goes to load.py (``--users``, ``--seconds``, ``--think``, ...).
Exit status as load.py's: 0 when every check passed, 1 when one failed, 2 when the
replicas or nginx could not start.

Usage::

    python bench/replicas.py --users 60 --seconds 30
    python bench/replicas.py --users 20 --seconds 30 --kill-after 12
    python bench/replicas.py --users 20 --seconds 30 --kill-after 10 --restart-after 5
    python bench/replicas.py --users 10 --seconds 10 --round-robin
    python bench/replicas.py --quick          # 6 users, 8 s, one kill
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

try:
    from bench import load
    from bench.balancer import DEPLOY_CONF, Nginx, render
except ImportError:  # run as a script: bench/ is on the path
    import load
    from balancer import DEPLOY_CONF, Nginx, render

SHIPPED_PORTS = (8501, 8502)  # the replicas of deploy/compose.yaml


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=True,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kill-after", type=float, help="kill the first replica after S seconds")
    p.add_argument("--restart-after", type=float,
                   help="with --kill-after: start it again S seconds after the kill")
    p.add_argument("--round-robin", action="store_true",
                   help="plain round robin instead of the sticky cookie")
    p.add_argument("--conf", type=Path, default=DEPLOY_CONF,
                   help="another nginx site to try, written for replicas on ports 8501 and "
                        "8502 (default: deploy/nginx.conf)")
    p.add_argument("--keep-logs", type=Path,
                   help="copy the replicas' and nginx's logs (access log included) here")
    p.add_argument("--quick", action="store_true", help="6 users, 8 s, a kill after 4 s")
    own, rest = p.parse_known_args(argv)
    if own.quick:
        rest = ["--users", "6", "--seconds", "8", *rest]
        own.kill_after = 4 if own.kill_after is None else own.kill_after
    if own.kill_after is not None:
        rest = ["--reconnect", *rest]
    return own, load.parse_args(rest)


def replica_rows(users: list[dict], servers, samplers, cpu: list[float], killed_port) -> list[dict]:
    rows = []
    for server, mem, busy in zip(servers, samplers, cpu):
        name = str(server.port)
        mine = [u for u in users if u["replica"] == name]
        changes = [s for u in mine for s in u["samples"] if s[0] == "change"]
        st = load.stats(changes and [s[2] for s in changes])
        rows.append({"replica": name, "killed": server.port == killed_port, "users": len(mine),
                     "changes": st["n"], "p50": st["p50"], "p95": st["p95"],
                     "errors": sum(len(u["errors"]) for u in mine),
                     "peak_rss_mib": mem.peak_kib / 1024, "cpu_s": busy})
    return rows


def misrouted(lines: list[str]) -> dict:
    """Requests whose cookie named one replica and that another replica served."""
    out = {"requests": 0, "misrouted": 0, "uploads": 0, "media": 0, "bad_status": 0}
    for line in lines:
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f and not f.startswith('"'))
        out["requests"] += 1
        cookie, served = fields.get("cookie", "-"), fields.get("replica", "")
        if cookie not in ("-", "") and served and cookie != served:
            out["misrouted"] += 1
        out["uploads"] += "PUT /_stcore/upload_file/" in line
        out["media"] += "GET /media/" in line
        status = line.split('" ', 1)[1].split()[0] if '" ' in line else ""
        out["bad_status"] += status.startswith(("4", "5"))
    return out


class Chaos(threading.Thread):
    """Kills a replica ``kill_after`` seconds from now, and starts it again ``restart_after``
    seconds later. One thread that lives until :meth:`finish`: the replica it restarts gets
    SIGTERM when the thread that started it ends (load.py's PR_SET_PDEATHSIG)."""

    def __init__(self, server, sampler, kill_after, restart_after, record: dict):
        super().__init__(daemon=True)
        self.server, self.sampler, self.record = server, sampler, record
        self.kill_after, self.restart_after = kill_after, restart_after
        self.done = threading.Event()

    def run(self) -> None:
        if self.done.wait(self.kill_after):
            return
        s = self.server
        self.record.update(port=s.port, at=time.monotonic(), cpu=load.cpu_seconds(s.proc.pid))
        s.kill_now()
        print(f"replicas.py: killed replica {s.port} at {self.kill_after:g} s", file=sys.stderr)
        if self.restart_after is None or self.done.wait(self.restart_after):
            return
        try:
            s.start()
        except RuntimeError as exc:
            print(f"replicas.py: replica {s.port} did not restart: {exc}", file=sys.stderr)
            return
        self.sampler.pid = s.proc.pid
        print(f"replicas.py: replica {s.port} is back "
              f"{time.monotonic() - self.record['at']:.1f} s after the kill", file=sys.stderr)
        self.done.wait()

    def finish(self) -> None:
        self.done.set()
        self.join(120)


def main(argv=None) -> int:
    own, args = parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="poolscope_replicas_")
    work = Path(tmp.name)
    servers = [load.Server(load.free_port(), work / f"replica{i}.log") for i in range(2)]
    nginx = None
    chaos = None
    killed = {"port": None, "at": None}
    try:
        try:
            for s in servers:
                s.start()
            ports = dict(zip(SHIPPED_PORTS, (s.port for s in servers)))
            nginx = Nginx(render(own.conf.read_text(), ports, round_robin=own.round_robin),
                          work / "nginx")
            nginx.start()
        except RuntimeError as exc:
            print(f"replicas.py: could not start: {exc}", file=sys.stderr)
            return 2
        samplers = [load.MemorySampler(s.proc.pid) for s in servers]
        for m in samplers:
            m.start()
        cpu0 = [load.cpu_seconds(s.proc.pid) for s in servers]

        w, h = (int(v) for v in args.image_size.lower().split("x"))
        images = {i: load.make_jpeg(args.seed * 1000 + i, w, h)
                  for i, page in enumerate(load.assign_pages(args.users, args.upload_share))
                  if page == "image_lab"}
        loads = {"before": [round(x, 2) for x in os.getloadavg()]}
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        if own.kill_after is not None:
            chaos = Chaos(servers[0], samplers[0], own.kill_after, own.restart_after, killed)
            chaos.start()
        users, wall = asyncio.run(load.run_users(args, nginx.url, images))
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        loads["after"] = [round(x, 2) for x in os.getloadavg()]
        for m in samplers:
            m.stop()
        cpu = []
        for i, s in enumerate(servers):
            if s.port == killed["port"] and own.restart_after is None:
                cpu.append(killed["cpu"] - cpu0[i])
            else:
                cpu.append(load.cpu_seconds(s.proc.pid) - (0 if s.port == killed["port"]
                                                           else cpu0[i]))
        report = load.build_report(args, users, None, False, loads, wall,
                                   (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime))
        for u, summary in zip(users, report["users"]):
            summary["samples"] = [(s.kind, s.page, s.seconds) for s in u.samples]
        report["replicas"] = replica_rows(report["users"], servers, samplers, cpu,
                                          killed["port"])
        report["routing"] = misrouted(nginx.access_lines())
        report["reruns_total"] = sum(len(u.samples) for u in users)
        report["config"]["mode"] = "round robin" if own.round_robin else "sticky cookie"
        report["config"]["kill_after"], report["config"]["restart_after"] = (own.kill_after,
                                                                           own.restart_after)
        load.print_report(report, nginx.url + " (nginx, " + report["config"]["mode"] + ")")
        print_replicas(report)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))
        return 0 if report["ok"] else 1
    finally:
        if chaos is not None:
            chaos.finish()
        if nginx is not None:
            nginx.stop()
        for s in servers:
            s.stop()
        if own.keep_logs:
            own.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in [*work.glob("*.log"), *work.glob("nginx/*.log")]:
                shutil.copy(log, own.keep_logs / f"{log.parent.name}_{log.name}")
        tmp.cleanup()


def print_replicas(report: dict) -> None:
    print(f"\n{'replica (port)':16} {'users':>5} {'changes':>7} {'p50':>6} {'p95':>6} "
          f"{'errors':>6} {'peak RSS':>9} {'CPU s':>6}")
    for r in report["replicas"]:
        p50 = f"{r['p50']:.2f}" if r["p50"] is not None else "—"
        p95 = f"{r['p95']:.2f}" if r["p95"] is not None else "—"
        name = r["replica"] + (" (killed)" if r["killed"] else "")
        print(f"{name:16} {r['users']:5d} {r['changes']:7d} {p50:>6} {p95:>6} {r['errors']:6d} "
              f"{r['peak_rss_mib']:6.0f} MiB {r['cpu_s']:6.1f}")
    rt = report["routing"]
    print(f"nginx: {rt['requests']} requests ({rt['uploads']} uploads, {rt['media']} images), "
          f"{rt['misrouted']} served by a replica other than the cookie's, "
          f"{rt['bad_status']} answered 4xx/5xx")
    killed = [r["replica"] for r in report["replicas"] if r["killed"]]
    victims = [u for u in report["users"] if killed and u["replica"] == killed[0]]
    if victims:
        seen = [o for u in victims for o in u["outages"]]
        print(f"users of the killed replica: {len(victims)}; {len(seen)} saw the websocket close, "
              f"then the page again after {min([o['seconds'] for o in seen], default=0):.2f}–"
              f"{max([o['seconds'] for o in seen], default=0):.2f} s, drawn by replica(s) "
              f"{sorted({o['replica_after'] for o in seen})}; sidebar settings kept: "
              f"{sum(o['page_drew_sidebar'] for o in seen)}/{len(seen)}; uploads lost and made "
              f"again: {sum(o['kept_upload'] is False for o in seen)}")
        others = [u for u in report["users"] if u not in victims]
        print(f"errors of the killed replica's users: {sum(len(u['errors']) for u in victims)}; "
              f"of everyone else ({len(others)}): {sum(len(u['errors']) for u in others)}")


if __name__ == "__main__":
    sys.exit(main())
