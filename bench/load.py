"""Load test: N simulated users against one ``streamlit run app.py`` server.

Each user is a real Streamlit session driven through Streamlit's own protocol, the
one the browser speaks: a websocket on ``/_stcore/stream`` carrying ``BackMsg``
protobufs to the server and ``ForwardMsg`` protobufs back (both from
``streamlit.proto``; the client is the ``websockets`` package, a dependency of
streamlit itself). A user

1. opens a page (``rerun_script`` with the page's URL name, as a browser opening
   ``/playground`` does) and reads the widget ids from the deltas of that run;
2. on the image lab only (every second user): asks for an upload URL
   (``file_urls_request``), PUTs a generated 1.6-megapixel JPEG to
   ``/_stcore/upload_file/<session>/<file>`` and reruns with the uploader's widget
   state pointing at the file, then checks that the page shows the pooled image;
3. at least once, and until the time is up: changes one sidebar control (kernel
   size, stride, mode), reruns, and waits a jittered think time (``--think``, mean
   seconds). The Image lab's zoom and mode comparison stay closed, as the page
   opens them: they are computed only for a user who opens them.

The latency of a rerun is the time from sending ``rerun_script`` to the arrival of
its ``script_finished``. An error is an exception element in the deltas, a
compile error, a page-not-found, a rerun without ``script_finished`` within
``--rerun-timeout``, a dropped websocket, a failed upload, a missing pooled
result after an upload, or an image of the page that cannot be fetched.

Without ``--url`` the script starts ``streamlit run app.py`` itself on a free port
of 127.0.0.1 and always stops it. The server's memory is sampled from
``/proc/<pid>/status`` (VmRSS of the server and its children, and the kernel's
peak VmHWM of the server). Everything is bounded: ``--seconds`` of control
changes, then a hard overall timeout (``--hard-timeout``) that kills the server
and exits.

Exit status: 0 when every user opened its page, completed at least one rerun
whose output changed, every upload showed a pooled result and there were no
errors; 1 when the run finished but one of those checks failed; 2 when the test
could not run (the server did not start); 3 on the hard timeout.

Usage::

    python bench/load.py --users 30 --seconds 30
    python bench/load.py --users 3 --seconds 5 --json /tmp/load.json
"""
from __future__ import annotations

import argparse
import asyncio
import ctypes
import hashlib
import io
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"playground": "matrix playground", "image_lab": "image lab"}
XSRF_COOKIE = "_streamlit_xsrf"
REPLICA_COOKIE = "poolscope_replica"  # deploy/nginx.conf's sticky-session cookie
KERNELS = (2, 3, 4)
STRIDES = (1, 2, 3)
MODES = ("Max", "Average", "Sum", "Min", "Median", "Lp norm")  # the Mode selectbox's labels
FINAL = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
         ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
# urllib without the environment's proxies: everything here is on 127.0.0.1
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class UserStopped(Exception):
    """The user cannot go on (disconnected, or the server stopped answering)."""


# ----------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


try:  # resolved here, not in the forked child
    _PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):
    _PRCTL = None


def _die_with_parent() -> None:
    """In the server's child process: get SIGTERM if this script dies (Linux prctl)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """``streamlit run app.py`` on 127.0.0.1, in its own process group, always stopped."""

    def __init__(self, port: int, log_path: Path, app_dir: Path = ROOT):
        self.port, self.app_dir = port, app_dir
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
                 f"--server.port={self.port}", "--server.address=127.0.0.1",
                 "--server.fileWatcherType=none"],
                cwd=self.app_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log()}")
            try:
                HTTP.open(self.url + "/_stcore/health", timeout=2).close()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s:\n"
                           + self.log())

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def kill_now(self) -> None:
        """SIGKILL the server's process group at once (the hard timeout)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_group(proc, ((signal.SIGTERM, 10), (signal.SIGKILL, 5)))


def stop_group(proc: subprocess.Popen | None, steps) -> None:
    """End ``proc``'s process group: each ``(signal, seconds to wait)`` in turn until it
    has exited."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in steps:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


# ----------------------------------------------------------------------------- memory


def _status_kib(pid: int, field_name: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc/*/stat parent ids)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
                parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        todo += kids
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants, in seconds."""
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        except (OSError, ValueError, IndexError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


class MemorySampler(threading.Thread):
    """Samples the RSS of a process tree every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib = 0
        self.first_kib: int | None = None
        self.last_kib: int | None = None
        self.hwm_kib: int | None = None
        self.samples = 0
        self.series: list[tuple[float, int]] = []  # (seconds since start, KiB)
        self._t0 = time.monotonic()
        self._stop_event = threading.Event()

    def sample(self) -> None:
        pids = _descendants(self.pid)
        total = sum(_status_kib(p, "VmRSS") or 0 for p in pids)
        if total:
            self.samples += 1
            self.series.append((round(time.monotonic() - self._t0, 1), total))
            self.first_kib = total if self.first_kib is None else self.first_kib
            self.last_kib = total
            self.peak_kib = max(self.peak_kib, total)
        hwm = _status_kib(self.pid, "VmHWM")
        if hwm:
            self.hwm_kib = max(self.hwm_kib or 0, hwm)

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)
        self.sample()


# ----------------------------------------------------------------------------- uploads


def make_jpeg(seed: int, width: int = 1600, height: int = 1000) -> bytes:
    """A photo-like RGB JPEG (waves, blocks, noise), different for each seed."""
    rng = np.random.default_rng(seed)
    x, y = np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)[:, None]
    f = rng.uniform(20, 80, 4)
    rgb = np.empty((height, width, 3), np.float32)
    rgb[..., 0] = 128 + 90 * np.sin(x / f[0]) * np.cos(y / f[1])
    rgb[..., 1] = 128 + 90 * np.cos(y / f[2])  # broadcast over the columns
    rgb[..., 2] = 128 + 60 * np.sin(x / f[3])  # and over the rows
    for _ in range(12):
        h0, w0 = rng.integers(0, height - 50), rng.integers(0, width - 50)
        rgb[h0:h0 + rng.integers(20, 300), w0:w0 + rng.integers(20, 300)] = rng.uniform(0, 255, 3)
    rgb += rng.integers(-12, 13, (height, width, 1), dtype=np.int8)  # grain
    out = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(out, "JPEG", quality=88)
    return out.getvalue()


def multipart(name: str, data: bytes, mime: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one file field, as the browser's uploader sends."""
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: {mime}\r\n\r\n').encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# ----------------------------------------------------------------------------- one session


@dataclass
class Widget:
    id: str
    kind: str
    options: tuple = ()


@dataclass
class Run:
    """What the server sent for one rerun request (across st.rerun chains)."""

    widgets: dict = field(default_factory=dict)       # user key -> Widget
    texts: list = field(default_factory=list)         # text of markdown, code, captions, ...
    images: list = field(default_factory=list)        # (url, caption)
    exceptions: list = field(default_factory=list)
    error_alerts: list = field(default_factory=list)
    downloads: dict = field(default_factory=dict)     # user key -> (deferred file id, url)
    finished: asyncio.Future | None = None

    def new_script_run(self) -> None:
        """A new script run started (``new_session``): what is on screen starts over."""
        self.widgets.clear()
        self.texts.clear()
        self.images.clear()
        self.error_alerts.clear()
        self.downloads.clear()

    def add_block(self, block) -> None:
        """A keyed expander is a widget too (its open/closed state)."""
        if block.WhichOneof("type") == "expandable" and block.expandable.id.startswith("$$ID-"):
            key = block.expandable.id.split("-", 2)[2]
            if key != "None":
                self.widgets[key] = Widget(block.expandable.id, "expander")

    def add_element(self, el) -> None:
        kind = el.WhichOneof("type")
        if kind is None:
            return
        proto = getattr(el, kind)
        if kind == "exception":
            where = " <- ".join(frame.strip().splitlines()[0]
                                for frame in reversed(proto.stack_trace[-2:]) if frame.strip())
            self.exceptions.append(f"{proto.type}: {proto.message} ({where})")
        elif kind == "alert":
            self.texts.append(proto.body)
            if proto.format == Alert.ERROR:
                self.error_alerts.append(proto.body)
        elif kind in ("markdown", "heading", "text"):
            self.texts.append(proto.body)
        elif kind == "code":
            self.texts.append(proto.code_text)
        elif kind == "imgs":
            for im in proto.imgs:
                self.images.append((im.url, im.caption))
                self.texts.append(im.caption)
        elif kind == "plotly_chart":
            self.texts.append("plotly " + hashlib.sha1(proto.spec.encode()).hexdigest())
        elif kind == "download_button" and proto.id.startswith("$$ID-"):
            self.downloads[proto.id.split("-", 2)[2]] = (proto.deferred_file_id, proto.url)
        if "id" in proto.DESCRIPTOR.fields_by_name and proto.id.startswith("$$ID-"):
            key = proto.id.split("-", 2)[2]  # "$$ID-<hash>-<user key>"; "None" without a key
            if key == "None":
                return
            options = tuple(proto.options) if "options" in proto.DESCRIPTOR.fields_by_name else ()
            self.widgets[key] = Widget(proto.id, kind, options)

    def fingerprint(self) -> str:
        return hashlib.sha1("\x00".join(self.texts).encode()).hexdigest()


@dataclass
class Sample:
    kind: str        # "open", "change", "upload"
    page: str
    seconds: float


class User:
    """One browser tab: a websocket session on one page of the app."""

    def __init__(self, index: int, page: str, base: str, args, image: bytes | None):
        self.index, self.page, self.base, self.args = index, page, base, args
        self.image = image
        self.rng = random.Random(args.seed * 1000 + index)
        self.ws = None
        self.session_id = ""
        self.page_hash = ""
        self.query_string = ""
        self.cookies: dict[str, str] = {}  # kept and sent back, as a browser does
        self.values: dict[str, tuple[str, object]] = {}   # user key -> (kind, value) we set
        self.run: Run | None = None
        self.last = Run()
        self.url_requests: dict[str, asyncio.Future] = {}
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self.changed = 0
        self.control_reruns = 0
        self.error_messages: list[str] = []  # st.error boxes the page showed (not crashes)
        self.notes: list[str] = []  # oddities that are not errors
        self.upload_ok = None if page != "image_lab" else False
        self.media_bytes = 0
        self.closing = False
        self.reader: asyncio.Task | None = None
        self.dropped_at: float | None = None  # when the websocket closed under us (--reconnect)
        self.outages: list[dict] = []  # each reconnect: how long, and what the page showed
        self.first_replica: str | None = None  # behind deploy/nginx.conf: the first replica
        self.state = {"kh": 2, "sk": True, "sh": 2, "mode": "Max"}  # the app's defaults

    # -- connection

    @property
    def xsrf(self) -> str:
        return self.cookies.get(XSRF_COOKIE, "")

    def _cookie_header(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} \
            if self.cookies else {}

    def _http(self, method: str, path: str, body: bytes | None = None, headers=None):
        """One HTTP request with this user's cookies; keeps the cookies the answer sets
        (Streamlit's XSRF cookie, or a load balancer's sticky-session cookie)."""
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers={**self._cookie_header(), **(headers or {})})
        with HTTP.open(req, timeout=self.args.rerun_timeout) as resp:
            for cookie in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return resp.status, resp.headers, resp.read()

    async def open(self, html: bool = True) -> None:
        """Load the page's HTML (a load balancer may set its cookie there) and the health
        route (it sets Streamlit's XSRF cookie), then open the websocket. A reconnecting
        browser asks only the health route (``html=False``)."""
        if html:
            await asyncio.to_thread(self._http, "GET", f"/{self.page}")
        await asyncio.to_thread(self._http, "GET", "/_stcore/health")
        self.closing = False
        ws_url = "ws" + self.base[len("http"):] + "/_stcore/stream"
        self.ws = await connect(ws_url, subprotocols=["streamlit", self.xsrf or "x"],
                                origin=self.base, additional_headers=self._cookie_header(),
                                proxy=None, max_size=None, ping_interval=None,
                                open_timeout=self.args.rerun_timeout)
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except (TimeoutError, OSError, WebSocketException):
                pass
        if self.reader is not None:
            self.reader.cancel()
            try:
                await self.reader
            except (asyncio.CancelledError, Exception):
                pass

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._on_message(msg)
        except ConnectionClosed:
            pass
        finally:
            if not self.closing:
                if self.args.reconnect:
                    self.dropped_at = time.perf_counter()  # the browser will reconnect
                else:
                    self.errors.append("disconnect: the websocket closed")
                for fut in [self.run.finished if self.run else None, *self.url_requests.values()]:
                    if fut is not None and not fut.done():
                        fut.set_exception(UserStopped("websocket closed"))

    def _on_message(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        run = self.run
        if kind == "new_session":
            sid = msg.new_session.initialize.session_id
            self.session_id = sid or self.session_id
            if run:
                run.new_script_run()
        elif kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and run and msg.delta.WhichOneof("type") == "new_element":
            run.add_element(msg.delta.new_element)
        elif kind == "delta" and run and msg.delta.WhichOneof("type") == "add_block":
            run.add_block(msg.delta.add_block)
        elif kind == "session_event" and run:
            if msg.session_event.HasField("script_compilation_exception"):
                exc = msg.session_event.script_compilation_exception
                run.exceptions.append(f"compile error: {exc.type}: {exc.message}")
        elif kind == "page_not_found" and run:
            run.exceptions.append(f"page not found: {msg.page_not_found.page_name!r}")
        elif kind == "file_urls_response":
            fut = self.url_requests.pop(msg.file_urls_response.response_id, None)
            if fut is not None and not fut.done():
                fut.set_result(msg.file_urls_response)
        elif kind == "backend_operation_response":
            fut = self.url_requests.pop(msg.backend_operation_response.request_id, None)
            if fut is not None and not fut.done():
                fut.set_result(msg.backend_operation_response)
        elif kind == "script_finished" and run and msg.script_finished in FINAL:
            if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                run.exceptions.append("script finished with a compile error")
            if run.finished is not None and not run.finished.done():
                run.finished.set_result(time.perf_counter())

    # -- requests

    def _widget_states(self, run: Run) -> list[WidgetState]:
        """The states of the widgets we have set that are on the page now (as the browser
        sends every widget's value with each rerun)."""
        states = []
        for key, (kind, value) in self.values.items():
            w = run.widgets.get(key)
            if w is None:
                continue
            ws = WidgetState(id=w.id)
            if kind == "slider":
                ws.double_array_value.data.extend([float(value)])
            elif kind in ("checkbox", "expander"):
                ws.bool_value = bool(value)
            elif kind in ("selectbox", "radio"):
                ws.string_value = str(value)
            elif kind == "file_uploader":
                ws.file_uploader_state_value.uploaded_file_info.append(value)
            states.append(ws)
        return states

    async def rerun(self, kind: str, t_start: float | None = None) -> Run:
        """Send ``rerun_script`` and wait for its ``script_finished``; record the latency
        (from ``t_start`` when given, else from sending)."""
        if self.ws is None:
            raise UserStopped("not connected")
        cs = ClientState(query_string=self.query_string, page_script_hash=self.page_hash)
        if not self.page_hash:
            cs.page_name = self.page  # the first visit: the page's URL, as /playground
        cs.widget_states.widgets.extend(self._widget_states(self.last))
        run = Run(finished=asyncio.get_running_loop().create_future())
        self.run = run
        msg = BackMsg()
        msg.rerun_script.CopyFrom(cs)
        t0 = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
        except (ConnectionClosed, OSError) as exc:
            raise UserStopped(f"send failed: {exc}") from exc
        try:
            t1 = await asyncio.wait_for(asyncio.shield(run.finished), self.args.rerun_timeout)
        except TimeoutError:
            self.errors.append(f"timeout: no script_finished within {self.args.rerun_timeout:g} s "
                               f"({kind})")
            try:  # resynchronise: wait once more for the late end of this run (and keep it)
                t1 = await asyncio.wait_for(run.finished, self.args.rerun_timeout)
            except TimeoutError:
                raise UserStopped("the server stopped answering") from None
        self.samples.append(Sample(kind, self.page, t1 - (t0 if t_start is None else t_start)))
        for text in run.exceptions:
            self.errors.append(f"exception element: {text[:600]} — on {self.page} after "
                               f"{kind} with {self.settings()}")
        self.error_messages += run.error_alerts
        self.last = run
        if self.args.media:
            await self.fetch_media(run)
        return run

    async def fetch_media(self, run: Run) -> None:
        """GET the run's images, as the browser does (not part of the rerun latency)."""
        for url, _ in run.images:
            path = url if url.startswith("/") else "/" + url
            try:
                _, _, body = await asyncio.to_thread(self._http, "GET", path)
                self.media_bytes += len(body)
            except (OSError, urllib.error.HTTPError) as exc:
                self.errors.append(f"image: {url} could not be fetched: {exc}")

    async def ask(self, msg: BackMsg, request_id: str):
        """Send ``msg`` and wait for the answer that carries ``request_id`` (an upload URL,
        a download's URL); None when none came within ``--rerun-timeout``."""
        fut = asyncio.get_running_loop().create_future()
        self.url_requests[request_id] = fut
        try:
            await self.ws.send(msg.SerializeToString())
        except (ConnectionClosed, OSError) as exc:
            raise UserStopped(f"send failed: {exc}") from exc
        try:
            return await asyncio.wait_for(fut, self.args.rerun_timeout)
        except TimeoutError:
            return None

    async def download(self, key: str) -> int:
        """Click the download button ``key`` of the last run, as the browser does: a button
        whose file is made on the click (a callable) asks the server to run it
        (``backend_operation_request``) and gets its URL; then GET the file. Records the
        time as a ``download`` sample; returns the file's size (0 if it failed)."""
        if key not in self.last.downloads:
            self.errors.append(f"download: no button {key!r} on {self.page}")
            return 0
        deferred, url = self.last.downloads[key]
        t0 = time.perf_counter()
        if deferred:
            msg = BackMsg()
            request_id = msg.backend_operation_request.request_id = uuid.uuid4().hex
            msg.backend_operation_request.session_id = self.session_id
            msg.backend_operation_request.deferred_file.file_id = deferred
            response = await self.ask(msg, request_id)
            if response is None:
                self.errors.append(f"download: no answer for {key!r} within "
                                   f"{self.args.rerun_timeout:g} s")
                return 0
            if response.error_msg:
                self.errors.append(f"download: {key!r}: {response.error_msg}")
                return 0
            url = response.deferred_file.url
        path = url if url.startswith("/") else "/" + url
        try:
            _, _, body = await asyncio.to_thread(self._http, "GET", path)
        except (OSError, urllib.error.HTTPError) as exc:
            self.errors.append(f"download: {key!r} could not be fetched: {exc}")
            return 0
        self.samples.append(Sample("download", self.page, time.perf_counter() - t0))
        return len(body)

    async def upload(self) -> None:
        """The uploader's three steps: ask for a URL, PUT the file, rerun with its info."""
        name = f"student{self.index:02d}.jpg"
        msg = BackMsg()
        request_id = msg.file_urls_request.request_id = uuid.uuid4().hex
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        t0 = time.perf_counter()
        response = await self.ask(msg, request_id)
        if response is None:
            self.errors.append("upload: no file_urls_response")
            return
        if response.error_msg or not response.file_urls:
            self.errors.append(f"upload: no upload URL ({response.error_msg})")
            return
        urls = response.file_urls[0]
        body, ctype = multipart(name, self.image, "image/jpeg")
        headers = {"Content-Type": ctype}
        if self.xsrf:
            headers["X-Xsrftoken"] = self.xsrf
        try:
            status, _, _ = await asyncio.to_thread(self._http, "PUT", urls.upload_url, body,
                                                   headers)
        except (OSError, urllib.error.HTTPError) as exc:
            self.errors.append(f"upload: PUT failed: {exc}")
            return
        if status not in (200, 204):
            self.errors.append(f"upload: PUT answered {status}")
            return
        info = WidgetState().file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(self.image), urls.file_id
        info.file_urls.CopyFrom(urls)
        self.values["img_file"] = ("file_uploader", info)
        run = await self.rerun("upload", t_start=t0)
        pooled = [c for _, c in run.images if c.startswith("Pooled (")]
        # the page names the file (markdown-escaped: student01\\.jpg)
        named = any(name in t.replace("\\", "") for t in run.texts)
        if pooled and named and not run.error_alerts and not run.exceptions:
            self.upload_ok = True
        else:
            self.errors.append(f"upload: no pooled result for {name} (images {len(run.images)}, "
                               f"named {named}, error messages {run.error_alerts[:2]})")

    # -- the user's actions

    def next_change(self, step: int) -> None:
        """Change one sidebar control: kernel size, stride, mode in turn."""
        what = ("kernel", "stride", "mode")[step % 3]
        widgets = self.last.widgets
        if what == "stride" and "sk" in widgets:
            if self.state["sk"] or "sh" not in widgets:
                self._set("sk", "checkbox", False)   # unlocks the stride slider
            elif self.rng.random() < 0.3:
                self._set("sk", "checkbox", True)
            else:
                self._set("sh", "slider", self._other("sh", STRIDES))
        elif what == "mode" and "mode" in widgets:
            offered = widgets["mode"].options
            self._set("mode", "selectbox",
                      self._other("mode", [m for m in MODES if m in offered] or offered))
        else:
            self._set("kh", "slider", self._other("kh", KERNELS))

    def _other(self, key: str, choices) -> object:
        """A random choice that differs from the current value of ``key``."""
        return self.rng.choice([c for c in choices if c != self.state[key]])

    def settings(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.state.items())

    def _set(self, key: str, kind: str, value) -> None:
        self.state[key] = value
        self.values[key] = (kind, value)

    async def think(self) -> None:
        if self.args.think > 0:
            await asyncio.sleep(self.args.think * self.rng.uniform(0.5, 1.5))

    async def visit(self) -> None:
        """The first run of the page, then (image lab) the upload."""
        await self.rerun("open")
        if not self.last.widgets:
            self.errors.append("open: the page drew no widgets")
        elif "kh" not in self.last.widgets:
            # the page without the shared sidebar: first visits racing on a fresh server
            # did this before ui/startup.require_navigation read a per-run mark
            self.errors.append("open: the page came without the sidebar")
        await self.think()
        if self.page == "image_lab":
            await self.upload()
            await self.think()

    async def reconnect(self, give_up: float) -> None:
        """What the browser does when its websocket closes (``--reconnect``): ask the health
        route every 0.5 s until the server (or the load balancer) answers, open a new
        websocket and rerun the page with the widget states it holds. A new session:
        the upload is gone, so the student uploads again. Records the outage."""
        dropped, self.dropped_at = self.dropped_at, None
        before = self.cookies.get(REPLICA_COOKIE)
        await self.close()
        while True:
            try:
                await self.open(html=False)
                break
            except (OSError, WebSocketException, urllib.error.URLError) as exc:
                if time.monotonic() > give_up:
                    raise UserStopped(f"could not reconnect: {exc!r}") from None
                await asyncio.sleep(0.5)
        run = await self.rerun("reconnect", t_start=dropped)
        kept_upload = any(c.startswith("Pooled (") for _, c in run.images) and any(
            f"student{self.index:02d}.jpg" in t.replace("\\", "") for t in run.texts)
        self.outages.append({"seconds": time.perf_counter() - dropped, "replica_before": before,
                             "replica_after": self.cookies.get(REPLICA_COOKIE),
                             "kept_upload": kept_upload if self.page == "image_lab" else None,
                             "page_drew_sidebar": "kh" in run.widgets})
        if self.page == "image_lab" and not kept_upload:
            self.upload_ok = False
            await self.upload()

    async def play(self, deadline: float) -> None:
        give_up = deadline + self.args.rerun_timeout
        step, visited = 0, False
        try:
            await self.open()
            self.first_replica = self.cookies.get(REPLICA_COOKIE)
            while True:
                try:
                    if not visited:
                        await self.visit()
                        visited = True
                    if step > 0 and time.monotonic() >= deadline:  # at least one change each
                        break
                    before = self.last.fingerprint()
                    self.next_change(step)
                    step += 1
                    run = await self.rerun("change")
                    self.control_reruns += 1
                    self.changed += run.fingerprint() != before
                    await self.think()
                except UserStopped:
                    if self.args.reconnect and self.dropped_at is None and self.reader:
                        # a send can fail before the reader has seen the close
                        await asyncio.wait([self.reader], timeout=5)
                    if self.dropped_at is None:  # not a dropped websocket, or no --reconnect
                        raise
                    await self.reconnect(give_up)
                    visited = True
        except UserStopped as exc:
            if not any(e.startswith("disconnect") for e in self.errors):
                self.errors.append(f"stopped: {exc}")
        except (OSError, WebSocketException, urllib.error.URLError) as exc:
            self.errors.append(f"connection failed: {exc!r}")
        finally:
            await self.close()

    def summary(self) -> dict:
        return {"user": self.index, "page": self.page,
                "opened": any(s.kind == "open" for s in self.samples),
                "control_reruns": self.control_reruns, "changed_outputs": self.changed,
                "upload_ok": self.upload_ok, "media_bytes": self.media_bytes,
                "errors": self.errors, "error_messages_shown": self.error_messages[:5],
                "notes": self.notes, "replica": self.first_replica,
                "outages": self.outages}


# ----------------------------------------------------------------------------- report


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    a = np.asarray(values)
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)),
            "p95": float(np.percentile(a, 95)), "max": float(a.max())}


def build_report(args, users: list[User], mem: MemorySampler | None, started_here: bool,
                 loads: dict, wall: float, cpu: float) -> dict:
    rows = []
    for kind, label in (("open", "open the page"), ("upload", "upload + rerun"),
                        ("change", "change a control"), ("reconnect", "drop → page again"),
                        ("download", "download a file")):
        for page, title in PAGES.items():
            values = [s.seconds for u in users for s in u.samples
                      if s.kind == kind and s.page == page]
            if values:
                rows.append({"page": page, "action": kind, "label": f"{title}: {label}",
                             **stats(values)})
    errors = [e for u in users for e in u.errors]
    kinds: dict[str, int] = {}
    for e in errors:
        k = e.split(":", 1)[0]
        kinds[k] = kinds.get(k, 0) + 1
    checks = {
        "no_errors": not errors,
        "every_user_opened_its_page": all(any(s.kind == "open" for s in u.samples) for u in users),
        "every_user_reran_its_page": all(u.control_reruns >= 1 for u in users),
        "every_user_saw_its_output_change": all(u.changed >= 1 for u in users),
        "every_upload_showed_a_pooled_result": all(u.upload_ok for u in users
                                                   if u.page == "image_lab"),
    }
    memory = None
    if mem is not None:
        quarters = np.array_split(np.array([kib for _, kib in mem.series] or [0]), 4)
        memory = {"peak_rss_mib": mem.peak_kib / 1024, "start_rss_mib": (mem.first_kib or 0) / 1024,
                  "end_rss_mib": (mem.last_kib or 0) / 1024,
                  "vmhwm_mib": (mem.hwm_kib or 0) / 1024, "samples": mem.samples,
                  "peak_by_quarter_mib": [round(float(q.max()) / 1024) if q.size else None
                                          for q in quarters],
                  "series_s_mib": [(t, round(kib / 1024)) for t, kib in mem.series[::4]]}
    outages = [o for u in users for o in u.outages]
    return {"users": [u.summary() for u in users], "rows": rows,
            "outages": {"users": sum(bool(u.outages) for u in users), "count": len(outages),
                        **{k: v for k, v in stats([o["seconds"] for o in outages]).items()
                           if k != "n"},
                        "uploads_lost": sum(o["kept_upload"] is False for o in outages)},
            "errors": {"total": len(errors), "by_kind": kinds, "first": errors[:20]},
            "checks": checks, "ok": all(checks.values()), "memory": memory,
            "config": {"users": args.users, "seconds": args.seconds, "think": args.think,
                       "rerun_timeout": args.rerun_timeout, "server_started_here": started_here,
                       "upload_users": sum(u.page == "image_lab" for u in users),
                       "image_size": args.image_size, "cpus": os.cpu_count()},
            "load_average": loads, "wall_seconds": wall, "client_cpu_seconds": cpu}


def print_report(report: dict, url: str) -> None:
    c = report["config"]
    print(f"\nPoolscope load test — {c['users']} users ({c['users'] - c['upload_users']} matrix "
          f"playground, {c['upload_users']} image lab with a {c['image_size']} JPEG upload), "
          f"{c['seconds']:g} s of control changes, think time {c['think']:g} s (mean), "
          f"{c['cpus']} CPUs, server {url}")
    la = report["load_average"]
    print(f"load average (1/5/15 min): before {la['before']}, after {la['after']}")
    print(f"\n{'rerun latency (s)':42} {'n':>5} {'p50':>7} {'p95':>7} {'max':>7}")
    for r in report["rows"]:
        print(f"{r['label']:42} {r['n']:5d} {r['p50']:7.2f} {r['p95']:7.2f} {r['max']:7.2f}")
    e = report["errors"]
    print(f"\nerrors: {e['total']}" + (f" {e['by_kind']}" if e["total"] else ""))
    distinct: dict[str, int] = {}
    for u in report["users"]:
        for text in u["errors"]:
            distinct[text] = distinct.get(text, 0) + 1
    for text, count in list(distinct.items())[:8]:
        print(f"  - {count}× {' '.join(text.split())[:400]}")
    users = report["users"]
    changed = sum(u["changed_outputs"] for u in users)
    reruns = sum(u["control_reruns"] for u in users)
    uploads = [u for u in users if u["page"] == "image_lab"]
    print(f"output changed after a control change: {changed}/{reruns} reruns")
    o = report["outages"]
    if o["count"]:
        print(f"dropped websockets, reconnected as a browser does: {o['count']} for {o['users']} "
              f"user(s); served again after p50 {o['p50']:.2f} s, max {o['max']:.2f} s; "
              f"uploads lost (uploaded again): {o['uploads_lost']}")
    notes: dict[str, int] = {}
    for u in users:
        for note in u["notes"]:
            notes[note] = notes.get(note, 0) + 1
    for note, count in notes.items():
        print(f"note (not an error): {count} user(s): {note}")
    shown = sum(len(u["error_messages_shown"]) for u in users)
    if shown:
        print(f"st.error messages the pages showed (not counted as errors): {shown}, e.g. "
              f"{next(m for u in users for m in u['error_messages_shown'])[:200]!r}")
    if uploads:
        print(f"uploads that showed a pooled result: {sum(bool(u['upload_ok']) for u in uploads)}"
              f"/{len(uploads)}")
    m = report["memory"]
    if m:
        print(f"server memory: RSS {m['start_rss_mib']:.0f} MiB after start, peak "
              f"{m['peak_rss_mib']:.0f} MiB (sampled, server + children), "
              f"{m['end_rss_mib']:.0f} MiB at the end; VmHWM {m['vmhwm_mib']:.0f} MiB; peak in "
              f"each quarter of the run {m['peak_by_quarter_mib']} MiB")
    else:
        print("server memory: not measured (pass --server-pid with --url)")
    wall, cpu = report["wall_seconds"], report.get("server_cpu_seconds")
    if cpu is not None:
        print(f"server CPU: {cpu:.1f} s in {wall:.1f} s ({cpu / wall:.2f} cores busy on average; "
              f"{cpu / max(1, report['reruns_total']):.3f} s per rerun)")
    print(f"load-test client: {report['client_cpu_seconds']:.1f} s CPU in {wall:.1f} s "
          f"(it shares the machine with the server)")
    failed = [k for k, v in report["checks"].items() if not v]
    print("checks: " + ("all passed" if not failed else "FAILED " + ", ".join(failed)))


# ----------------------------------------------------------------------------- main


def assign_pages(n: int, upload_share: float) -> list[str]:
    """Each user's page: every second user (then the rest) on the image lab."""
    order = list(range(1, n, 2)) + list(range(0, n, 2))
    uploaders = set(order[:int(n * upload_share)])
    return ["image_lab" if i in uploaders else "playground" for i in range(n)]


async def run_users(args, base: str, images: dict[int, bytes]) -> tuple[list[User], float]:
    pages = assign_pages(args.users, args.upload_share)
    users = [User(i, p, base, args, images.get(i)) for i, p in enumerate(pages)]
    t0 = time.monotonic()
    deadline = t0 + args.ramp + args.seconds

    async def start(u: User):
        await asyncio.sleep(args.ramp * u.index / len(users))  # a class joins over a few s
        await u.play(deadline)

    await asyncio.gather(*(start(u) for u in users))
    return users, time.monotonic() - t0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=10, help="concurrent sessions (default 10)")
    p.add_argument("--seconds", type=float, default=20,
                   help="seconds of control changes (default 20)")
    p.add_argument("--think", type=float, default=1.0,
                   help="mean pause between a result and the next change, jittered ±50%% "
                        "(default 1.0; 0 = change again at once)")
    p.add_argument("--upload-share", type=float, default=0.5,
                   help="share of users on the image lab, each uploading an image (default 0.5)")
    p.add_argument("--image-size", default="1600x1000",
                   help="uploaded JPEG, WxH (default 1600x1000)")
    p.add_argument("--ramp", type=float, default=None,
                   help="seconds over which users join (default min(5, seconds/4))")
    p.add_argument("--rerun-timeout", type=float, default=30.0,
                   help="a rerun without script_finished after this many seconds is an error")
    p.add_argument("--hard-timeout", type=float, default=None,
                   help="kill everything after this many seconds (default seconds + 150)")
    p.add_argument("--app-dir", type=Path, default=ROOT,
                   help="start the server from this checkout (default: this script's)")
    p.add_argument("--url", help="use this running server instead of starting one")
    p.add_argument("--server-pid", type=int, help="with --url: the server's pid, for memory")
    p.add_argument("--no-media", dest="media", action="store_false",
                   help="do not fetch the pages' images after each run")
    p.add_argument("--reconnect", action="store_true",
                   help="when a websocket closes, reconnect as the browser does and go on "
                        "(counted as an outage, not an error); default: an error")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the report as JSON to this path")
    args = p.parse_args(argv)
    if args.users < 1 or args.seconds <= 0:
        p.error("--users must be at least 1 and --seconds positive")
    if args.ramp is None:
        args.ramp = min(5.0, args.seconds / 4)
    if args.hard_timeout is None:
        args.hard_timeout = args.seconds + args.ramp + 150
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    server: Server | None = None
    mem: MemorySampler | None = None

    def on_hard_timeout():
        sys.stderr.write(f"load.py: hard timeout of {args.hard_timeout:g} s reached; "
                         f"killing the server and exiting\n")
        if server is not None:
            server.kill_now()
        os._exit(3)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    watchdog = threading.Timer(args.hard_timeout, on_hard_timeout)
    watchdog.daemon = True
    watchdog.start()
    signal.signal(signal.SIGTERM, on_signal)
    tmp = tempfile.TemporaryDirectory(prefix="poolscope_load_")
    try:
        w, h = (int(v) for v in args.image_size.lower().split("x"))
        if args.url:
            base, pid = args.url.rstrip("/"), args.server_pid
        else:
            for attempt in range(3):
                server = Server(free_port(), Path(tmp.name) / f"server{attempt}.log", args.app_dir)
                try:
                    server.start()
                    break
                except RuntimeError as exc:
                    server.stop()
                    if "already in use" not in str(exc) or attempt == 2:
                        print(f"load.py: could not start the server: {exc}", file=sys.stderr)
                        return 2
            base, pid = server.url, server.proc.pid
        # one image per uploading user (a classroom uploads different pictures)
        images = {i: make_jpeg(args.seed * 1000 + i, w, h)
                  for i, page in enumerate(assign_pages(args.users, args.upload_share))
                  if page == "image_lab"}
        if pid:
            mem = MemorySampler(pid)
            mem.start()
        loads = {"before": [round(x, 2) for x in os.getloadavg()]}
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu0 = cpu_seconds(pid) if pid else None
        users, wall = asyncio.run(run_users(args, base, images))
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = cpu_seconds(pid) - server_cpu0 if pid else None
        loads["after"] = [round(x, 2) for x in os.getloadavg()]
        if mem is not None:
            mem.stop()
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        report = build_report(args, users, mem, server is not None, loads, wall, cpu)
        report["server_cpu_seconds"] = server_cpu
        report["reruns_total"] = sum(len(u.samples) for u in users)
        if server is not None and server.proc is not None and server.proc.poll() is not None:
            report["ok"] = False
            report["checks"]["server_stayed_up"] = False
        print_report(report, base)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))
        return 0 if report["ok"] else 1
    except KeyboardInterrupt:
        print("load.py: interrupted; stopping the server", file=sys.stderr)
        return 130
    finally:
        if mem is not None:
            mem.stop()
        if server is not None:
            if server.proc is not None and server.proc.poll() is not None:
                print("load.py: the server died during the test:\n" + server.log(), file=sys.stderr)
            server.stop()
        watchdog.cancel()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
