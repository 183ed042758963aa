"""nginx in front of ``streamlit run`` replicas on 127.0.0.1, for the tests and benchmarks.

``deploy/nginx.conf`` is the configuration shipped for ``deploy/compose.yaml``: its
replicas are the containers ``app1:8501`` and ``app2:8502``, it listens on port 80 and
logs to ``/var/log/nginx``. :func:`render` gives the same file for replicas on
127.0.0.1 (each replica's name, the port, becomes the port it really listens on), and
:class:`Nginx` runs it without root and without touching the system's nginx: its own
prefix, configuration, pid file, logs and temporary directories under one directory,
``daemon off`` in a child process (its own process group) that :meth:`Nginx.stop`
always ends.

Usage::

    nginx = Nginx(render(DEPLOY_CONF.read_text(), {8501: 9001, 8502: 9002}), workdir)
    nginx.start()            # picks a free port; nginx.url is http://127.0.0.1:<port>
    ...
    nginx.stop()
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

try:
    from bench.load import HTTP, ROOT, _die_with_parent, free_port, stop_group
except ImportError:  # run as a script from bench/
    from load import HTTP, ROOT, _die_with_parent, free_port, stop_group

DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REPLICA_HOSTS = {8501: "app1", 8502: "app2"}  # the replicas of deploy/compose.yaml


def render(conf: str, ports: dict[int, int], round_robin: bool = False) -> str:
    """``conf`` (deploy/nginx.conf) for replicas on 127.0.0.1 instead of compose's.

    ``ports`` maps each shipped replica port (8501, 8502) to the port its replica
    listens on here. The ``listen`` and ``access_log`` lines are left for
    :class:`Nginx` to set. ``round_robin=True`` replaces the sticky routing by plain
    round robin over the replicas (what goes wrong without stickiness).
    """
    for shipped, port in ports.items():
        conf = conf.replace(f"{REPLICA_HOSTS[shipped]}:{shipped}", f"127.0.0.1:{port}")
        conf = re.sub(rf"(?<!\d){shipped}(?!\d)", str(port), conf)
    if round_robin:
        conf = re.sub(r"proxy_pass http://\$poolscope_upstream;", "proxy_pass http://poolscope_any;",
                      conf)
        conf = conf.replace("least_conn;", "")
    return conf


class Nginx:
    """nginx with ``conf`` (an http-context file) on 127.0.0.1, all of its files in ``workdir``."""

    def __init__(self, conf: str, workdir: Path, port: int | None = None):
        self.conf, self.workdir, self.port = conf, Path(workdir), port
        self.proc: subprocess.Popen | None = None
        self.url = ""

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    @property
    def error_log(self) -> Path:
        return self.workdir / "error.log"

    def write(self, port: int) -> Path:
        """Write ``nginx.conf`` (the main file) and ``poolscope.conf`` (``conf``, listening on
        127.0.0.1:``port``, logging here); returns the main file's path."""
        w = self.workdir
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (w / "temp" / d).mkdir(parents=True, exist_ok=True)
        site = re.sub(r"^(\s*)listen\s+[^;]+;", rf"\g<1>listen 127.0.0.1:{port};", self.conf,
                      flags=re.M)
        site = re.sub(r"access_log\s+\S+", f"access_log {self.access_log}", site)
        (w / "poolscope.conf").write_text(site)
        # As root, nginx's workers would switch to "nobody", who cannot read this directory
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        main = (f"{user}daemon off;\nworker_processes 1;\npid {w / 'nginx.pid'};\n"
                f"error_log {self.error_log} info;\n"
                "events { worker_connections 1024; }\n"
                "http {\n"
                f"    client_body_temp_path {w / 'temp/client_body'};\n"
                f"    proxy_temp_path {w / 'temp/proxy'};\n"
                f"    fastcgi_temp_path {w / 'temp/fastcgi'};\n"
                f"    uwsgi_temp_path {w / 'temp/uwsgi'};\n"
                f"    scgi_temp_path {w / 'temp/scgi'};\n"
                f"    include {w / 'poolscope.conf'};\n"
                "}\n")
        path = w / "nginx.conf"
        path.write_text(main)
        return path

    def command(self, *extra: str) -> list[str]:
        return [NGINX, "-p", str(self.workdir), "-e", str(self.error_log),
                "-c", str(self.workdir / "nginx.conf"), *extra]

    def check(self) -> subprocess.CompletedProcess:
        """``nginx -t`` on the written files (call :meth:`write` first)."""
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)

    def start(self, timeout: float = 20) -> None:
        """Start nginx (a free port unless one was given) and wait until it answers."""
        for attempt in range(3):
            port = self.port or free_port()
            self.write(port)
            checked = self.check()
            if checked.returncode != 0:
                raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_die_with_parent)
            self.url = f"http://127.0.0.1:{port}"
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    break
                try:
                    HTTP.open(self.url + "/_stcore/health", timeout=2).close()
                    return
                except OSError:
                    time.sleep(0.2)
            log = self.log()
            self.stop()
            if "Address already in use" not in log or self.port or attempt == 2:
                raise RuntimeError(f"nginx did not answer within {timeout:g} s:\n{log}")

    def log(self, tail: int = 4000) -> str:
        try:
            return self.error_log.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def access_lines(self) -> list[str]:
        try:
            return self.access_log.read_text(errors="replace").splitlines()
        except OSError:
            return []

    def stop(self) -> None:
        """Graceful (SIGQUIT), then SIGTERM, then SIGKILL."""
        proc, self.proc = self.proc, None
        stop_group(proc, ((signal.SIGQUIT, 5), (signal.SIGTERM, 5), (signal.SIGKILL, 5)))
