"""A fourth app is one package: a plugin installed from tests/fixtures/notes_app is found through
the ``lorasuite.apps`` entry point by the CLI, the launcher, the landing page and /healthz."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "notes_app"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The plugin installed (pip, like a user would) into a folder of its own."""
    target = tmp_path_factory.mktemp("plugin-site")
    build = tmp_path_factory.mktemp("plugin-src")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(target), str(FIXTURE)],
                   check=True, capture_output=True, text=True, timeout=300, cwd=build)
    return target


@pytest.fixture
def with_plugin(plugin_site, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_site))
    yield plugin_site
    sys.modules.pop("notes_app", None)


def _cli(site: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), LORASUITE_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "apps", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)


def test_cli_lists_and_runs_the_plugin(plugin_site, lorasuite_home):
    assert "Team notes" in _cli(plugin_site, "--help", home=lorasuite_home).stdout
    done = _cli(plugin_site, "notes", "echo", "hello", home=lorasuite_home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "notes: hello (model minilm, db sqlite)"  # the handler saw args.ctx


def test_suite_serves_the_plugin_next_to_support(with_plugin, make_ctx, minilm):
    from fastapi.testclient import TestClient

    from apps.launcher import create_app
    from apps.spec import discover

    specs = discover()
    assert [s.name for s in specs] == ["support", "sentiment", "recommender", "notes"]
    ctx = make_ctx()
    ctx.specs = specs
    with TestClient(create_app(ctx, ["support", "notes"])) as client:
        assert client.get("/notes/").status_code == 200
        assert "Team notes" in client.get("/").text
        health = client.get("/healthz").json()
        assert health == {"ok": True, "apps": {"support": "ok", "notes": "ok"}}, json.dumps(health)
