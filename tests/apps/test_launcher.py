"""The suite launcher: apps from specs, health, metrics, landing page, app selection, production rules."""

import pytest

from apps.config import validate
from apps.context import AppContext
from apps.launcher import create_app, parse_apps
from shared.errors import LorasuiteError


def test_parse_apps_checks_names(app_specs):
    assert parse_apps("support, recommender", app_specs) == ["support", "recommender"]
    assert parse_apps("recommend", app_specs) == ["recommender"]  # the other spelling is an alias
    with pytest.raises(LorasuiteError, match="unknown app"):
        parse_apps("support,nope", app_specs)


def test_builtin_apps_come_from_entry_points(app_specs):
    assert [s.name for s in app_specs][:3] == ["support", "sentiment", "recommender"]
    assert all(s.settings is not None for s in app_specs[:3])


@pytest.mark.parametrize("password, why", [(None, "LORASUITE_ADMIN_PASSWORD"), ("admin", "refuses"),
                                           ("change-me", "refuses"), ("short-pw", "refuses")])
def test_production_refuses_missing_or_weak_passwords(make_ctx, monkeypatch, password, why):
    monkeypatch.delenv("LORASUITE_ADMIN_PASSWORD", raising=False)
    auth = {"admin_password": password} if password else {}
    with pytest.raises(LorasuiteError, match=why):
        create_app(make_ctx(suite={"production": True}, auth=auth), ["sentiment"], mount_ui=False)


def test_demo_login_only_on_loopback(make_ctx, monkeypatch):
    monkeypatch.delenv("LORASUITE_ADMIN_PASSWORD", raising=False)
    with pytest.raises(LorasuiteError, match="loopback"):
        create_app(make_ctx(suite={"host": "0.0.0.0"}), ["sentiment"], mount_ui=False)
    create_app(make_ctx(suite={"host": "::1"}), ["sentiment"], mount_ui=False)


def test_health_metrics_and_landing(minilm, ctx):
    from fastapi.testclient import TestClient

    app = create_app(ctx, ["support"], mount_ui=False)
    with TestClient(app) as client:  # runs the lifespan: model load + support start
        health = client.get("/healthz").json()
        assert health == {"ok": True, "apps": {"support": "ok"}}  # public: no internals
        detailed = client.get("/healthz", auth=("admin", "admin")).json()
        assert detailed["model_loaded"] and detailed["database"] and "notices" in detailed
        assert "/support/" in client.get("/").text
        first = client.post("/api/support/ask", json={"text": "I lost my card"}).json()
        assert first["conversation_id"] and first["sources"] and set(first) >= {"intent", "answer", "escalate"}
        page = client.get(first["sources"][0]["url"].split("#")[0])  # sources link to the help centre
        assert page.status_code == 200 and "<h1>" in page.text and "data/support" not in page.text
        assert client.get("/support/help/0123456789abcdef").status_code == 404
        human = client.post("/api/support/ask", json={"text": "I want to talk to a person",
                                                      "conversation_id": first["conversation_id"]}).json()
        assert human["escalate"] is True and isinstance(human["confidence"], float)
        metrics = client.get("/metrics").text
        assert 'lorasuite_http_requests_total{app="healthz",status="200"}' in metrics
        assert "lorasuite_support_messages 4.0" in metrics  # two questions, two replies
        assert "lorasuite_support_open_tickets 1.0" in metrics


def test_metrics_token(make_ctx):
    from fastapi.testclient import TestClient

    app = create_app(make_ctx(suite={"metrics_token": "s3cret-token"}), ["recommender"], mount_ui=False)
    client = TestClient(app)  # no lifespan needed for /metrics
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_example_config_documents_every_key_and_validates(app_specs, tmp_path, monkeypatch):
    """deploy/config.example.toml names every key of every section, and loads as is."""
    from pathlib import Path

    import tomllib

    from apps.config import CORE, load_config

    example = Path(__file__).resolve().parents[2] / "deploy" / "config.example.toml"
    text = example.read_text()
    models = dict(CORE, **{s.name: s.settings for s in app_specs[:3]})
    for section, model in models.items():
        assert f"[{section}]" in text
        for name, field in model.model_fields.items():
            key = field.alias or name
            documented = (f"\n{key} =" in text or f"# {key} =" in text or f"[{section}.{key}]" in text
                          or f"[[{section}.{key}]]" in text)
            assert documented, f"[{section}] {key} is not in {example.name}"
    config = load_config(example, app_specs)
    assert config.production and config.app("sentiment").alerts.min_negative == 3
    raw = tomllib.loads(text)
    raw["sentiment"]["alerts"]["z_threshold"] = 3.0
    with pytest.raises(LorasuiteError, match=r"\[sentiment.alerts\] z_threshold: unknown key"):
        validate(raw, example, app_specs)
    raw = tomllib.loads(text)
    raw["suite"]["port"] = "seventy"
    with pytest.raises(LorasuiteError, match=r"\[suite\] port: "):
        validate(raw, example, app_specs)


def test_context_is_made_once_and_shared(app_specs, monkeypatch, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[model]\nbase = "minilm"\n[support]\nslots = "off"\n')
    ctx = AppContext.create(path, app_specs)
    assert ctx.settings("support").slots == "off" and ctx.db is ctx.db
    assert ctx.service("x", object) is ctx.service("x", object)
