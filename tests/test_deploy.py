"""deploy/: the compose file and nginx configuration, and nginx really in front of replicas.

The configuration is the shipped ``deploy/nginx.conf``, rendered for two ``streamlit run``
replicas on free ports of 127.0.0.1 (``bench/balancer.py``: only the replicas'
addresses and the listen/log lines change) and run by Debian's nginx as a child process,
with its pid file, logs and temporary files under ``tmp_path``. Docker has no engine on
the test machines, so ``compose.yaml`` is checked as a file (a YAML parse and what it
must agree with), not run.

Through nginx, ``bench/load.py --url`` drives a few users for a few seconds: with the
sticky cookie every request reaches the replica that holds its session (nginx's access
log says which replica served each request), so uploads and images work; with plain
round robin instead, uploads and images fail. A replica killed under load costs its
users a reconnect (``bench/replicas.py --kill-after``), and no one else an error.
"""
import json
import re
import signal
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request

import pytest
import yaml

from bench.balancer import DEPLOY_CONF, Nginx, render
from bench.load import HTTP, Server, free_port
from conftest import ROOT, wait_for_app
from ui import imageio

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SHIPPED = {8501: "app1", 8502: "app2"}


def streamlit_config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def conf_directive(conf: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", conf, re.M)


# ----------------------------------------------------------------------------- the files


def test_compose_starts_the_two_replicas_of_the_image_and_nginx_with_the_shipped_conf():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"app1", "app2", "nginx"}
    for port, name in SHIPPED.items():
        app = services[name]
        assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).resolve() == \
            ROOT / "Dockerfile"
        assert app["environment"]["STREAMLIT_SERVER_PORT"] == str(port)
        assert "--server.port" not in app["command"]  # the port is the environment's
        assert app["command"][:3] == ["streamlit", "run", "app.py"]
        assert "STREAMLIT_SERVER_PORT" in " ".join(app["healthcheck"]["test"])
        assert app["restart"] == "unless-stopped"
    nginx = services["nginx"]
    source, target = nginx["volumes"][0].split(":")[:2]
    assert (DEPLOY / source).resolve() == DEPLOY_CONF and target == "/etc/nginx/conf.d/default.conf"
    assert {dep: c["condition"] for dep, c in nginx["depends_on"].items()} == \
        {"app1": "service_healthy", "app2": "service_healthy"}
    assert nginx["ports"] == ["8080:80"]


def test_nginx_conf_names_each_replica_of_compose_by_its_port():
    conf = DEPLOY_CONF.read_text()
    servers = set(re.findall(r"^\s*server\s+(app\d):(\d+)", conf, re.M))
    assert servers == {(name, str(port)) for port, name in SHIPPED.items()}
    for port in SHIPPED:  # the cookie's value -> that replica's upstream, the others backup
        assert re.search(rf"^\s*{port}\s+poolscope_{port};", conf, re.M)
        block = re.search(rf"upstream poolscope_{port} \{{(.*?)\}}", conf, re.S).group(1)
        lines = [line.strip() for line in block.strip().splitlines()]
        assert lines[0].startswith(f"server {SHIPPED[port]}:{port} ")
        assert all(line.endswith("backup;") for line in lines[1:]) and len(lines) == 2
    assert "add_header Set-Cookie \"poolscope_replica=$poolscope_replica;" in conf


def test_every_setting_of_the_config_is_a_streamlit_option_of_its_type():
    """A misspelt or mistyped key in .streamlit/config.toml is ignored with a log line
    only; each of ours must name an option Streamlit has, with a value of its type."""
    from streamlit import config
    for section, values in streamlit_config().items():
        for name, value in values.items():
            option = config._config_options_template.get(f"{section}.{name}")
            assert option is not None, f"{section}.{name} is not a Streamlit option"
            assert isinstance(value, option.type) or (option.type is float and
                                                      isinstance(value, int)), (name, value)


def test_no_message_is_sent_as_a_cached_reference():
    """Streamlit sends only a hash for a message the browser should hold (one at least
    minCachedMessageSize bytes); on overlapping runs the browser may have dropped it and
    the page stops ("Cached ForwardMsg MISS"). Ours is above the largest message the
    server sends at all (server.maxMessageSize, MB), so every message goes whole."""
    from streamlit import config
    cfg = streamlit_config()
    largest = cfg.get("server", {}).get(
        "maxMessageSize", config._config_options_template["server.maxMessageSize"].default_val)
    assert cfg["global"]["minCachedMessageSize"] > largest * 1e6


def test_nginx_takes_every_upload_streamlit_takes():
    conf = DEPLOY_CONF.read_text()
    limit = streamlit_config()["server"]["maxUploadSize"]
    assert limit == imageio.MAX_UPLOAD_MB
    # the file itself may be maxUploadSize; the request adds the multipart envelope
    assert conf_directive(conf, "client_max_body_size") == [f"{limit + 1}m"]


def test_websocket_location_upgrades_and_stays_open():
    conf = DEPLOY_CONF.read_text()
    block = re.search(r"location /_stcore/stream \{(.*?)\}", conf, re.S).group(1)
    assert "proxy_http_version 1.1;" in block
    assert "proxy_set_header Upgrade $http_upgrade;" in block
    assert 'proxy_set_header Connection "upgrade";' in block
    assert re.search(r"proxy_read_timeout\s+1h;", block)


@pytest.mark.parametrize("round_robin", [False, True])
def test_rendered_conf_passes_nginx_t(tmp_path, round_robin):
    conf = render(DEPLOY_CONF.read_text(), {8501: 40001, 8502: 40002}, round_robin)
    directives = re.sub(r"#.*", "", conf)
    assert "app1" not in directives and "8501" not in directives
    assert "server 127.0.0.1:40002 " in directives and "\n    40001    poolscope_40001;" in conf
    nginx = Nginx(conf, tmp_path)
    nginx.write(free_port())
    checked = nginx.check()
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr
    if round_robin:
        assert "$poolscope_upstream;" not in (tmp_path / "poolscope.conf").read_text()


# ----------------------------------------------------------------------------- running


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Two ``streamlit run app.py`` replicas (bench/load.py's Server), always stopped."""
    work = tmp_path_factory.mktemp("replicas")
    servers = [Server(free_port(), work / f"replica{i}.log") for i in range(2)]
    try:
        for s in servers:
            s.start(timeout=90)
        yield servers
    finally:
        for s in servers:
            s.stop()


def nginx_for(replicas, workdir, round_robin=False) -> Nginx:
    ports = dict(zip(SHIPPED, (s.port for s in replicas)))
    return Nginx(render(DEPLOY_CONF.read_text(), ports, round_robin), workdir)


def run_load(tmp_path, url, *args, timeout=120):
    out = tmp_path / "load.json"
    cmd = [sys.executable, str(ROOT / "bench" / "load.py"), "--url", url, "--json", str(out),
           "--hard-timeout", str(timeout - 20), *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    assert out.exists(), log
    return proc.returncode, log, json.loads(out.read_text())


def access(nginx: Nginx) -> list[dict]:
    """nginx's access log (deploy/nginx.conf's ``poolscope`` format) as dicts."""
    rows = []
    for line in nginx.access_lines():
        request, rest = re.search(r'"([^"]*)" (.*)', line).groups()
        # a value may hold spaces: $upstream_addr is "a:1, b:2" when nginx tried a second
        # replica, so a field runs up to the next " key=" rather than the next space
        fields = dict(re.findall(r"(\w+)=(.*?)(?= \w+=|$)", rest))
        rows.append({"request": request, "status": int(rest.split()[0]), **fields})
    return rows


def load_through_nginx(replicas, tmp_path, seconds, round_robin=False):
    """4 users of bench/load.py through nginx in front of ``replicas``; nginx always stopped."""
    nginx = nginx_for(replicas, tmp_path / "nginx", round_robin)
    try:
        nginx.start()
        return nginx, *run_load(tmp_path, nginx.url, "--users", "4", "--seconds", str(seconds),
                                "--think", "0.5")
    finally:
        nginx.stop()


def test_sticky_cookie_keeps_every_session_on_its_replica(replicas, tmp_path):
    nginx, code, log, report = load_through_nginx(replicas, tmp_path, 5)
    assert code == 0, log
    assert report["errors"]["total"] == 0, report["errors"]
    assert all(u["upload_ok"] for u in report["users"] if u["page"] == "image_lab")
    ports = {str(s.port) for s in replicas}
    assert {u["replica"] for u in report["users"]} == ports  # both replicas have users
    rows = access(nginx)
    websockets = [r for r in rows if r["request"].startswith("GET /_stcore/stream")]
    uploads = [r for r in rows if r["request"].startswith("PUT /_stcore/upload_file/")]
    media = [r for r in rows if r["request"].startswith("GET /media/")]
    assert len(websockets) == 4 and {r["status"] for r in websockets} == {101}
    assert len(uploads) == 2 and {r["status"] for r in uploads} <= {200, 204}
    assert media and {r["status"] for r in media} == {200}
    for r in rows:
        assert r["replica"] in ports, r
        if r["cookie"] != "-":  # every request after the first reaches the cookie's replica
            assert r["cookie"] == r["replica"] == r["upstream"].rsplit(":", 1)[1], r
    # without a cookie: each user's first visit (the page's HTML) and Nginx.start's probe
    first = [r["request"].split()[1] for r in rows if r["cookie"] == "-"]
    assert sorted(p for p in first if p != "/_stcore/health") == \
        ["/image_lab", "/image_lab", "/playground", "/playground"]


def test_round_robin_makes_uploads_and_images_fail(replicas, tmp_path):
    nginx, code, log, report = load_through_nginx(replicas, tmp_path, 4, round_robin=True)
    assert code == 1, log
    kinds = report["errors"]["by_kind"]
    assert kinds.get("upload", 0) + kinds.get("image", 0) > 0, report["errors"]
    statuses = {r["status"] for r in access(nginx)
                if r["request"].startswith(("PUT /_stcore/upload_file/", "GET /media/"))}
    assert statuses & {400, 404}, statuses  # "Invalid session_id", media of another replica


def test_upload_limit_is_nginx_s_client_max_body_size(replicas, tmp_path):
    nginx = nginx_for(replicas, tmp_path / "nginx")
    limit = imageio.MAX_UPLOAD_MB * 2**20

    def put(size):
        req = urllib.request.Request(nginx.url + "/_stcore/upload_file/no-such-session/f",
                                     data=bytes(size), method="PUT")
        try:
            with HTTP.open(req, timeout=60) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        nginx.start()
        at_limit = put(limit + 4096)     # a file at the limit, in its multipart envelope
        log_at_limit = nginx.log(10**6)
        over = put(limit + 2**20 + 1)   # over maxUploadSize + the 1 MB allowance
    finally:
        nginx.stop()
    # nginx passed the first on (Streamlit refuses an unknown session: 400/403, or 502 when
    # it closes the connection before nginx has sent the whole body) and refused the second
    assert at_limit != 413 and "too large body" not in log_at_limit, at_limit
    assert over == 413
    assert f"client intended to send too large body: {limit + 2**20 + 1} bytes" in nginx.log(10**6)


def test_a_killed_replica_costs_its_users_a_reconnect_and_no_one_else_an_error(tmp_path):
    """Kill a replica under load and start it again (as Docker's restart policy would):
    its users reconnect to the other one and stay there (their cookie moved), so when it
    is back their uploads and images do not go to a replica without their session."""
    out = tmp_path / "replicas.json"
    cmd = [sys.executable, str(ROOT / "bench" / "replicas.py"), "--users", "4", "--seconds",
           "12", "--think", "0.5", "--kill-after", "4", "--restart-after", "0.5",
           "--json", str(out), "--hard-timeout", "150"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        log, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        log, _ = proc.communicate(timeout=30)
        raise AssertionError(f"bench/replicas.py did not finish:\n{log}")
    assert "is back" in log, log
    report = json.loads(out.read_text())
    killed = next(r["replica"] for r in report["replicas"] if r["killed"])
    victims = [u for u in report["users"] if u["replica"] == killed]
    others = [u for u in report["users"] if u["replica"] != killed]
    assert victims and others, log
    for u in others:
        assert not u["errors"] and not u["outages"], u
    for u in victims:
        (outage,) = u["outages"]           # the websocket closed once, then ...
        assert outage["replica_after"] != killed and outage["page_drew_sidebar"], outage
        assert u["control_reruns"] >= 1, u  # ... the student went on working elsewhere
        if u["page"] == "image_lab":
            assert outage["kept_upload"] is False and u["upload_ok"], u  # uploaded again
        for e in u["errors"]:  # at the moment of the kill, an image of the last run can 404
            assert e.startswith("image:") and "404" in e, u


def test_a_browser_reconnects_to_the_other_replica_with_its_settings(browser, tmp_path):
    """Debian's Chromium through nginx: kill the replica that serves the page; Streamlit's
    page reconnects by itself, now to the other replica (the cookie moved), and shows the
    page again with its settings."""
    servers = [Server(free_port(), tmp_path / f"replica{i}.log") for i in range(2)]
    nginx = nginx_for(servers, tmp_path / "nginx")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        for s in servers:
            s.start(timeout=90)
        nginx.start()
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(nginx.url + "/playground?kh=3")
        wait_for_app(pg)

        def replica():
            return {c["name"]: c["value"] for c in context.cookies()}.get("poolscope_replica")

        first = replica()
        victim = next(s for s in servers if str(s.port) == first)
        victim.kill_now()
        for _ in range(300):  # the page reconnects through nginx to the other replica
            if replica() not in (None, first):
                break
            pg.wait_for_timeout(100)
        assert replica() == str(next(s.port for s in servers if s is not victim))
        wait_for_app(pg)
        assert pg.locator("[data-testid='stMain'] h1").first.inner_text() == "Matrix playground"
        assert "out[0, 0] = max(8, 6, 5, 0, 0, 1, 5, 6, 9) = 9" in pg.content()  # 3×3, as set
    finally:
        context.close()
        nginx.stop()
        for s in servers:
            s.stop()
