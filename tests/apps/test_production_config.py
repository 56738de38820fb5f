"""deploy/config.example.toml is what the Docker image runs: with its paths mapped into this checkout
and a temp home, and an admin password from the environment, every app starts healthy."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "config.example.toml"


def mapped_example(tmp_path: Path) -> Path:
    """The example with /opt/lorasuite/src -> this checkout and /var/lib/lorasuite -> a temp folder
    holding what an operator would put there (the help centre, a catalogue)."""
    state = tmp_path / "state"
    shutil.copytree(ROOT / "data" / "support" / "kb", state / "kb")
    (state / "recommender").mkdir(parents=True)
    for name in ("items.csv", "interactions.csv"):
        shutil.copy(ROOT / "data" / "recommender" / name, state / "recommender" / name)
    text = EXAMPLE.read_text().replace("/opt/lorasuite/src", str(ROOT)).replace("/var/lib/lorasuite", str(state))
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_example_config_starts_every_app_healthy_in_production(tmp_path, monkeypatch, app_specs, minilm):
    from apps.context import AppContext
    from apps.launcher import create_app
    from apps.sentiment import feeds
    from apps.sentiment.app import service_of

    monkeypatch.setenv("LORASUITE_ADMIN_PASSWORD", "a-long-production-secret")
    monkeypatch.delenv("LORASUITE_HOME", raising=False)  # [suite] home and data_dir of the file decide
    monkeypatch.delenv("LORASUITE_DATA", raising=False)  # (restored after the test)
    ctx = AppContext.create(mapped_example(tmp_path), app_specs)
    assert ctx.config.production and ctx.config.suite.scheduler == "auto"
    with TestClient(create_app(ctx), base_url="http://suite.example.com") as client:
        service = service_of(ctx)
        assert service.ready.wait(300)  # elected leader (alone), first poll and alert check done
        health = client.get("/healthz")
        assert health.status_code == 200, health.text
        assert health.json() == {"ok": True, "apps": {"support": "ok", "sentiment": "ok", "recommender": "ok"}}
        names = {f["name"] for f in feeds.list_feeds(service.db)}
        assert names == {"Markets", "Companies", "Technology", "Economy", "Analyst ratings"}  # no demo feeds
        assert service.server is None and service.leader.is_leader
        assert client.get("/recommender/").status_code == 200
        assert client.get("/sentiment/config").status_code in (401, 403)  # login required
