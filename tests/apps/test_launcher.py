"""The suite launcher: health, metrics, landing page, app selection, login on the dashboard."""

import pytest

from apps.config import Config
from apps.launcher import create_app, parse_apps
from shared.errors import LorasuiteError


def test_parse_apps_checks_names():
    assert parse_apps("support, recommender") == ["support", "recommender"]
    with pytest.raises(LorasuiteError, match="unknown app"):
        parse_apps("support,nope")


def test_production_without_password_refuses_to_start(monkeypatch):
    monkeypatch.delenv("LORASUITE_ADMIN_PASSWORD", raising=False)
    with pytest.raises(LorasuiteError, match="LORASUITE_ADMIN_PASSWORD"):
        create_app(["sentiment"], Config({"suite": {"production": True}}), mount_ui=False)


def test_health_metrics_and_landing(minilm):
    from fastapi.testclient import TestClient

    app = create_app(["support"], Config({}), mount_ui=False)
    with TestClient(app) as client:  # runs the lifespan: model load + support start
        health = client.get("/healthz").json()
        assert health["model_loaded"] and health["database"] and health["apps"] == {"support": True}
        assert health["ok"] is True
        assert "/support/" in client.get("/").text
        first = client.post("/api/support/ask", json={"text": "I lost my card"}).json()
        assert first["conversation_id"] and first["sources"] and set(first) >= {"intent", "answer", "escalate"}
        human = client.post("/api/support/ask", json={"text": "I want to talk to a person",
                                                      "conversation_id": first["conversation_id"]}).json()
        assert human["escalate"] is True
        metrics = client.get("/metrics").text
        assert 'lorasuite_http_requests_total{app="healthz",status="200"}' in metrics
        assert "lorasuite_support_messages 4.0" in metrics  # two questions, two replies
        assert "lorasuite_support_open_tickets 1.0" in metrics
