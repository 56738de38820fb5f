"""Two suite processes on one PostgreSQL with ``[suite] scheduler = "auto"``: one leader polls each
feed once per interval and delivers each alert once; killing it hands the work to the other."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
FEEDS = ROOT / "data" / "sentiment" / "feeds"
INTERVAL_S = 12


class Recorder(BaseHTTPRequestHandler):
    """Serves the shipped demo feeds (GET /NAME.xml) and takes webhook POSTs, counting both."""

    gets: collections.Counter
    posts: collections.Counter

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.gets[self.path] += 1
        body = (FEEDS / self.path.strip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.posts[self.headers.get("Idempotency-Key")] += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        return


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(path: Path, port: int) -> Path:
    feeds = "".join(f'[[sentiment.feeds]]\nname = "{name}"\nurl = "http://127.0.0.1:{port}/{name}.xml"\n'
                    f"interval_minutes = {INTERVAL_S / 60}\n" for name in ("companies", "markets"))
    path.write_text(f'[suite]\nscheduler = "auto"\n[sentiment]\ndemo_feeds = false\nalerts_interval = 5\n'
                    f'allow_hosts = ["127.0.0.1"]\nwebhook_url = "http://127.0.0.1:{port}/hook"\n{feeds}')
    return path


def _serve(tmp_path: Path, name: str, config: Path, pg_url: str) -> tuple[subprocess.Popen, str]:
    port, home = _free_port(), tmp_path / name
    home.mkdir()
    env = dict(os.environ, LORASUITE_HOME=str(home), LORASUITE_CONFIG=str(config), LORASUITE_DB_URL=pg_url,
               LORASUITE_ADMIN_PASSWORD="replica-secret", PYTHONUNBUFFERED="1")
    log = open(home / "serve.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "apps", "serve", "--apps", "sentiment", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    return proc, f"http://127.0.0.1:{port}"


def _leader(url: str) -> bool | None:
    try:
        body = httpx.get(url + "/healthz", auth=("admin", "replica-secret"), timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return None
    return body.get("details", {}).get("sentiment", {}).get("leader")


def _healthy(proc: subprocess.Popen, url: str) -> bool:
    assert proc.poll() is None, "a replica died"
    try:
        return httpx.get(url + "/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(predicate, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return False


def test_one_leader_polls_once_per_interval_and_the_other_takes_over(pg, tmp_path, minilm):
    Recorder.gets, Recorder.posts = collections.Counter(), collections.Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = _config(tmp_path / "config.toml", server.server_address[1])
    url = os.environ["LORASUITE_TEST_PG_URL"]
    replicas = [_serve(tmp_path, name, config, url) for name in ("a", "b")]
    try:
        assert _wait(lambda: all(_healthy(p, u) for p, u in replicas), 400), "replicas not healthy"
        assert _wait(lambda: sum(bool(_leader(u)) for _, u in replicas) == 1, 60)
        leader = next(i for i, (_, u) in enumerate(replicas) if _leader(u))
        assert _wait(lambda: Recorder.posts, 300), "no alert was delivered"  # the demo spike fires
        before, start = sum(Recorder.gets.values()), time.time()
        time.sleep(5 * INTERVAL_S)
        polls = sum(Recorder.gets.values()) - before
        expected = 2 * (time.time() - start) / INTERVAL_S  # two feeds, one poller
        assert 0.5 * expected <= polls <= expected + 2, (polls, expected)
        replicas[leader][0].send_signal(signal.SIGKILL)
        replicas[leader][0].wait(timeout=30)
        other = replicas[1 - leader][1]
        assert _wait(lambda: _leader(other) is True, 120), "no takeover"
        taken = sum(Recorder.gets.values())
        assert _wait(lambda: sum(Recorder.gets.values()) >= taken + 2, 60)  # the new leader polls
        time.sleep(10)  # alert checks of the new leader: nothing is sent twice
        assert Recorder.posts and set(Recorder.posts.values()) == {1}, Recorder.posts
    finally:
        for proc, _ in replicas:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
        server.shutdown()
