"""`lorasuite adapters export | push`, run in-process through apps.cli.main with the verbs registered."""

from __future__ import annotations

import json

import pytest

import apps.cli
from apps.export_cli import parse_spec


@pytest.fixture
def cli():
    """apps.cli.main (``export`` and ``push`` are verbs of ``lorasuite adapters``)."""
    return apps.cli.main


def test_export_writes_a_standard_folder(cli, tmp_path, capsys):
    assert cli(["adapters", "export", "sentiment", "finance@1", str(tmp_path / "out")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {"adapter_config.json", "adapter_model.safetensors", "head.safetensors", "head_config.json",
            "labels.json", "README.md"} <= set(printed["files"])
    config = json.loads((tmp_path / "out" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.parametrize("argv,message", [
    (["adapters", "export", "sentiment", "finance@2", "OUT"], "has no version 2"),
    (["adapters", "export", "sentiment", "finance@x", "OUT"], "bad adapter version"),
    (["adapters", "export", "sentiment", "nope", "OUT"], "no adapter sentiment/nope"),
    (["adapters", "push", "sentiment", "finance", "me/finance"], "LORASUITE_ONLINE=1"),
])
def test_user_errors_print_one_line(cli, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.delenv("LORASUITE_ONLINE", raising=False)
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_push_uploads_through_huggingface_hub(cli, capsys, monkeypatch):
    import huggingface_hub

    uploaded = {}

    class FakeApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, **kwargs):
            uploaded["private"] = kwargs["private"]
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, repo_id, folder_path, **kwargs):
            uploaded["repo"] = repo_id

    monkeypatch.setenv("LORASUITE_ONLINE", "1")
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    assert cli(["adapters", "push", "ner", "orgs", "me/orgs", "--private"]) == 0
    assert json.loads(capsys.readouterr().out)["pushed"] == "https://huggingface.co/me/orgs"
    assert uploaded == {"private": True, "repo": "me/orgs"}


def test_parse_spec():
    assert parse_spec("intent") == ("intent", None) and parse_spec("intent@3") == ("intent", 3)
