"""Smoke test of the load script: bench/load.py with 3 users for a few seconds.

It starts its own ``streamlit run app.py`` on a free port and drives it through
Streamlit's websocket protocol (see the script's docstring); here we check that
every simulated user got through: its page opened, its control changes reran the
page and changed what it shows, the image-lab user's upload came back pooled, and
nothing went wrong (no exception element, timeout or disconnect).
"""
import json
import os
import signal
import subprocess
import sys

from conftest import ROOT


def run_load(tmp_path, *args, timeout=150):
    """Run bench/load.py; on our own timeout, SIGTERM it (it then stops its server)."""
    out = tmp_path / "load.json"
    cmd = [sys.executable, str(ROOT / "bench" / "load.py"), "--json", str(out), *args]
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            log, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            log, _ = proc.communicate()
        raise AssertionError(f"bench/load.py did not finish within {timeout} s:\n{log}")
    report = json.loads(out.read_text()) if out.exists() else None
    return proc.returncode, log, report


def test_three_users_drive_the_app_without_errors(tmp_path):
    code, log, report = run_load(tmp_path, "--users", "3", "--seconds", "5", "--think", "0.5",
                                 "--rerun-timeout", "30", "--hard-timeout", "120")
    assert report is not None, log
    assert code == 0, log
    assert report["errors"]["total"] == 0, report["errors"]
    users = report["users"]
    assert [u["page"] for u in users] == ["playground", "image_lab", "playground"]
    for u in users:
        assert u["opened"], u
        assert u["control_reruns"] >= 1, u           # changed a sidebar control, page reran
        assert u["changed_outputs"] >= 1, u          # ... and what it shows changed
        assert not u["errors"], u
    uploader = users[1]
    assert uploader["upload_ok"] is True, uploader   # the uploaded image came back pooled
    assert uploader["media_bytes"] > 0, uploader     # and its images could be fetched
    rows = {(r["page"], r["action"]): r for r in report["rows"]}
    assert rows[("playground", "change")]["n"] >= 2
    assert rows[("image_lab", "upload")]["n"] == 1
    assert all(0 < r["p50"] <= r["p95"] <= r["max"] for r in rows.values())
    assert report["memory"]["peak_rss_mib"] > 0      # the server's memory was sampled
    assert report["checks"] and all(report["checks"].values()), report["checks"]
