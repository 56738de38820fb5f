"""The suite as an attacker's browser sees it: foreign origins, guessed passwords, stolen or old
cookies, anonymous uploads, forged conversation ids, and what /healthz and /metrics tell strangers.
Every test runs the real FastAPI + Gradio app under a non-localhost Host (TestClient, no models)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from apps.launcher import create_app

HOST = "http://suite.example.com"
EVIL = "https://evil.example"
PASSWORD = "correct horse battery"


@pytest.fixture
def suite(make_ctx, monkeypatch):
    monkeypatch.setenv("LORASUITE_ADMIN_PASSWORD", PASSWORD)

    def make(**sections) -> TestClient:
        ctx = make_ctx(suite=dict({"host": "0.0.0.0"}, **sections.pop("suite", {})), **sections)
        return TestClient(create_app(ctx, ["support", "sentiment"]), base_url=HOST)
    return make


def _login(client: TestClient, password: str, path: str = "/sentiment") -> int:
    return client.post(f"{path}/login", data={"username": "admin", "password": password},
                       headers={"Origin": HOST}).status_code


def test_foreign_origin_gets_no_credentialed_read_and_no_preflight(suite):
    client = suite()
    assert _login(client, PASSWORD) == 200
    read = client.get("/sentiment/config", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in read.headers and "access-control-allow-credentials" not in read.headers
    preflight = client.options("/sentiment/gradio_api/queue/join", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.headers.get("access-control-allow-origin") != EVIL and preflight.status_code >= 400
    same = client.get("/sentiment/config", headers={"Origin": HOST})
    assert same.status_code == 200


@pytest.mark.parametrize("headers", [{"Origin": EVIL}, {"Origin": "null"}, {"Referer": EVIL + "/page"}])
def test_state_changing_requests_from_a_foreign_site_are_refused(suite, headers):
    client = suite()
    assert client.post("/sentiment/gradio_api/queue/join", json={}, headers=headers).status_code == 403
    assert client.post("/api/support/ask", json={"text": "hi"}, headers=headers).status_code == 403
    assert client.post("/sentiment/login", data={"username": "admin", "password": PASSWORD},
                       headers=headers).status_code == 403


def test_configured_origin_may_call(suite):
    client = suite(suite={"cors_origins": [EVIL]})
    response = client.get("/sentiment/config", headers={"Origin": EVIL})
    assert response.headers.get("access-control-allow-origin") == EVIL


def test_session_cookie_is_lax_secure_only_behind_tls_and_expires(suite):
    client = suite(auth={"session_hours": 0.0005})  # 1.8 s
    assert _login(client, PASSWORD) == 200
    cookies = [v for k, v in client.post("/sentiment/login", data={"username": "admin", "password": PASSWORD},
                                         headers={"Origin": HOST}).headers.multi_items() if k == "set-cookie"]
    assert cookies and all("SameSite=Lax" in c and "Max-Age=1" in c and "Secure" not in c for c in cookies)
    assert client.get("/sentiment/config").status_code == 200
    time.sleep(2.0)
    assert client.get("/sentiment/config").status_code in (401, 403)  # the old cookie no longer opens it
    tls = TestClient(client.app, base_url="https://suite.example.com")
    answer = tls.post("/sentiment/login", data={"username": "admin", "password": PASSWORD},
                      headers={"Origin": "https://suite.example.com"})
    assert all("Secure" in v for k, v in answer.headers.multi_items() if k == "set-cookie")


def test_wrong_passwords_are_throttled_and_counted(suite):
    client = suite()
    codes = [_login(client, f"guess-{i}") for i in range(12)]
    assert codes[:10] == [400] * 10 and codes[10:] == [429, 429]
    locked = client.post("/sentiment/login", data={"username": "admin", "password": PASSWORD},
                         headers={"Origin": HOST})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 55  # even the right one waits
    metrics = client.get("/metrics").text
    assert "lorasuite_login_failures_total" in metrics and "lorasuite_login_lockouts_total" in metrics


def test_non_ascii_credentials_are_a_wrong_password_not_a_500(suite):
    client = suite()
    assert _login(client, "pässwörd-€-日本") == 400
    assert client.post("/sentiment/login", data={"username": "ädmin", "password": "x"},
                       headers={"Origin": HOST}).status_code == 400


def test_success_resets_the_failure_count(make_ctx, monkeypatch):
    from apps.auth import Guard

    monkeypatch.setenv("LORASUITE_ADMIN_PASSWORD", PASSWORD)
    guard = Guard(make_ctx().config)
    for _ in range(9):
        guard.failed("1.2.3.4")
    guard.succeeded("1.2.3.4")
    guard.failed("1.2.3.4")
    assert guard.retry_after("1.2.3.4") == 0
    for _ in range(9):
        guard.failed("1.2.3.4")
    assert 59 < guard.retry_after("1.2.3.4") <= 60
    for _ in range(10):
        guard.failed("1.2.3.4")  # a second lockout lasts longer
    assert guard.retry_after("1.2.3.4") > 100


def test_no_anonymous_uploads_where_no_page_takes_files(suite):
    client = suite()
    files = {"files": ("big.bin", b"x" * (5 * 1024 * 1024), "application/octet-stream")}
    for path in ("/support/gradio_api/upload", "/sentiment/gradio_api/upload", "/support/admin/gradio_api/upload"):
        assert client.post(path, files=files, headers={"Origin": HOST}).status_code == 404


def test_public_health_and_metrics_tell_strangers_little(suite):
    client = suite(suite={"metrics_token": "metrics-secret-token"})
    assert set(client.get("/healthz").json()) == {"ok", "apps"}
    assert client.get("/metrics").status_code == 401
    detailed = client.get("/healthz", auth=("admin", PASSWORD)).json()
    assert "notices" in detailed and "database" in detailed
    assert set(client.get("/healthz", auth=("admin", "wrong")).json()) == {"ok", "apps"}
