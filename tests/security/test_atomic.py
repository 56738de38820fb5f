"""Issue 11 #13: atomic writes are durable (files and directories fsynced) and a replaced
directory is never missing, not even for a moment."""

from __future__ import annotations

import json
import os
import threading

import pytest

from shared import adapters, atomic
from shared.home import state_dir


@pytest.fixture
def fsynced(monkeypatch) -> list[str]:
    """Paths passed to os.fsync, in order (read back from /proc/self/fd)."""
    seen, real = [], os.fsync

    def fsync(fd: int) -> None:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def _write(tmp, version: str) -> None:
    (tmp / "sub").mkdir()
    (tmp / "meta.json").write_text(json.dumps({"version": version, "task": "classify"}))
    (tmp / "sub" / "weights.bin").write_bytes(version.encode() * 100)


def test_atomic_dir_fsyncs_files_folders_and_the_parent(tmp_path, fsynced):
    dest = tmp_path / "adapters" / "app" / "name"
    for version in ("1", "2"):
        fsynced.clear()
        with atomic.atomic_dir(dest) as tmp:
            _write(tmp, version)
        names = [p.removeprefix(str(dest.parent)) for p in fsynced]
        assert any(n.endswith("/meta.json") for n in names) and any(n.endswith("/sub/weights.bin") for n in names)
        assert any(n.endswith("/sub") for n in names)  # the folders' entries too
        assert fsynced[-1] == str(dest.parent)  # the swap itself, last
    assert json.loads((dest / "meta.json").read_text())["version"] == "2"
    assert os.listdir(dest.parent) == ["name"]  # no .tmp-* or .old-* left behind


def test_atomic_path_fsyncs_the_parent_after_replace(tmp_path, fsynced):
    atomic.write_text(tmp_path / "out.txt", "hello")
    assert fsynced[-1] == str(tmp_path) and (tmp_path / "out.txt").read_text() == "hello"


def test_replacing_a_directory_never_leaves_it_missing(tmp_path, monkeypatch):
    dest = tmp_path / "index"
    with atomic.atomic_dir(dest) as tmp:
        _write(tmp, "0")
    real_replace, real_rename = os.replace, os.rename

    def checked(real):
        def move(src, dst, *args, **kwargs):
            assert dest.exists(), "destination missing before a move"
            real(src, dst, *args, **kwargs)
            assert dest.exists(), "destination missing after a move"
        return move

    monkeypatch.setattr(os, "replace", checked(real_replace))
    monkeypatch.setattr(os, "rename", checked(real_rename))
    misses, stop = [], threading.Event()

    def reader() -> None:
        while not stop.is_set():
            if not (dest / "meta.json").exists():
                misses.append(1)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        for version in range(1, 30):
            with atomic.atomic_dir(dest) as tmp:
                _write(tmp, str(version))
    finally:
        stop.set()
        thread.join(10)
    assert misses == [] and json.loads((dest / "meta.json").read_text())["version"] == "29"


def test_fallback_and_symlinked_destinations(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("not ours to delete")
    dest = tmp_path / "adapter"
    dest.symlink_to(target)
    with atomic.atomic_dir(dest) as tmp:
        _write(tmp, "new")
    assert not dest.is_symlink() and (dest / "meta.json").exists() and (target / "keep.txt").exists()
    monkeypatch.setattr(atomic, "exchange", lambda a, b: False)  # a filesystem without RENAME_EXCHANGE
    with atomic.atomic_dir(dest) as tmp:
        _write(tmp, "fallback")
    assert json.loads((dest / "meta.json").read_text())["version"] == "fallback"
    assert sorted(os.listdir(tmp_path)) == ["adapter", "elsewhere"]


def test_adapter_lookup_after_overwrites():
    dest = state_dir("adapters") / "sentiment" / "swap"
    for version in ("1", "2"):
        with atomic.atomic_dir(dest) as tmp:
            _write(tmp, version)
    assert adapters.find("sentiment", "swap") == dest
    assert adapters.read_meta(dest)["version"] == "2"
    assert [a["name"] for a in adapters.list_adapters("sentiment") if a["source"] != "shipped"] == ["swap"]
