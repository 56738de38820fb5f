"""A real suite server and a real headless Chromium for the end-to-end tests.

The server is ``lorasuite serve`` in a subprocess on a free loopback port with a fresh
``LORASUITE_HOME`` (the shipped adapters and demo data, exactly what ``make demo`` serves).
Chromium is Debian's (``LORASUITE_E2E_BROWSER``, default /usr/bin/chromium): Playwright cannot
download browsers here. Screenshots land in tests/e2e/artifacts/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BROWSER = os.environ.get("LORASUITE_E2E_BROWSER", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def suite_url(tmp_path_factory):
    import httpx

    home = tmp_path_factory.mktemp("e2e-home")
    port = _free_port()
    env = dict(os.environ, LORASUITE_HOME=str(home), PYTHONUNBUFFERED="1",
               LORASUITE_ADMIN_USER="admin", LORASUITE_ADMIN_PASSWORD="e2e-secret")
    log = open(home / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "apps", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.time() + 600
    while time.time() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, (home / "serve.log").read_text()[-3000:]
        time.sleep(1)
    else:
        pytest.fail("suite not healthy in 600 s:\n" + (home / "serve.log").read_text()[-3000:])
    yield url
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    log.close()
    text = (home / "serve.log").read_text()
    # uvicorn shuts down gracefully, then re-raises the signal, so the exit status is -SIGTERM
    assert proc.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in text, text[-2000:]


@pytest.fixture(scope="session")
def browser():
    if not Path(BROWSER).exists():
        pytest.skip(f"no Chromium at {BROWSER} (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=BROWSER, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
