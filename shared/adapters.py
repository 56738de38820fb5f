"""Adapter folders: write them atomically, read their meta; the registry API on top.

An adapter directory is exactly what ``PeftModel.save_pretrained`` writes
(``adapter_config.json`` + ``adapter_model.safetensors``), plus ``head.safetensors`` for tasks
with a head, ``meta.json`` (base model, task, labels, data hashes, settings, dev metrics,
version, parent, created) and ``training_curve.png``. It is written to a temp dir and renamed,
so a crash never leaves half an adapter. Versions, the champion pointer and references
(``APP/NAME[@VERSION]`` or a path) live in ``shared.registry``; ``save`` adds a version there.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared import registry
from shared.atomic import atomic_dir
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)


@dataclass
class TrainedAdapter:
    """A freshly trained adapter: the peft model, the head weights (if any) and its meta."""

    peft_model: Any
    head_state: dict | None
    meta: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    task: Any = None  # the full task module, handy for evaluating right after training
    tokenizer: Any = None
    files: dict[str, str] = field(default_factory=dict)  # extra text files for the folder (train_labels.csv)


def check_name(kind: str, value: str) -> str:
    """App and adapter names are short slugs (they become directory names)."""
    return registry.check_name(kind, value)


def find(app: str, name: str) -> Path:
    """The folder of ``app/name``'s champion (``name@N`` pins a version), or AdapterNotFoundError."""
    return registry.resolve(registry.parse_ref(name, app)).path


def read_meta(path: str | Path) -> dict[str, Any]:
    try:
        return json.loads((Path(path) / "meta.json").read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise LorasuiteError(f"adapter at {path} has no readable meta.json ({err})") from err


def save(app: str, name: str, trained: TrainedAdapter, root: Path | None = None, status: str = "champion",
         parent: int | None = None, reason: str = "trained") -> Path:
    """Write ``trained`` as the next version of ``app/name`` (the champion unless ``status`` says
    otherwise); with ``root``, as a plain folder ``root/app/name`` outside the registry."""
    check_name("app", app)
    check_name("adapter", name)
    meta = dict(trained.meta, app=app, name=name, created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if meta.get("data_hash") and not meta.get("data_hashes"):
        meta["data_hashes"] = [meta["data_hash"]]
    if root is not None:
        return write_folder(root / app / name, trained, meta)
    with registry.locked(app, name):
        number = registry.next_number(app, name)
        meta.update(version=number, parent=parent, status=status)
        dest = write_folder(registry.home_dir(app, name) / f"v{number}", trained, meta)
        registry._record(app, name, number, status, reason)
    log.info("saved adapter %s/%s version %d (%s) to %s", app, name, number, status, dest)
    return dest


def write_folder(dest: Path, trained: TrainedAdapter, meta: dict[str, Any]) -> Path:
    """The adapter folder at ``dest``, written whole or not at all."""
    from safetensors.torch import save_file

    with atomic_dir(dest) as tmp:
        trained.peft_model.save_pretrained(str(tmp))
        if trained.head_state is not None:
            save_file({k: v.contiguous() for k, v in trained.head_state.items()}, str(tmp / "head.safetensors"))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        for name, text in trained.files.items():
            (tmp / Path(name).name).write_text(text, encoding="utf-8")
        if trained.history:
            from shared.evaluation import curve_png

            curve_png(trained.history, tmp / "training_curve.png", title=f"{meta.get('app')}/{meta.get('name')}")
        from shared.export import standardize

        standardize(tmp, meta)  # public base id in adapter_config.json, head_config.json, README.md card
    return dest


def list_adapters(app: str | None = None) -> list[dict[str, Any]]:
    """Every APP/NAME with its champion: source, path, task, base model, metrics, version."""
    rows = []
    for entry in registry.list_names(app):
        champ = entry["champion"]
        meta = _safe_meta(champ.path) if champ else {"task": "no champion"}
        rows.append({"app": entry["app"], "name": entry["name"], "source": champ.source if champ else "-",
                     "path": str(champ.path) if champ else "", "version": champ.version if champ else None,
                     "versions": entry["versions"], "task": meta.get("task"), "base_model": meta.get("base_model"),
                     "metrics": meta.get("metrics", {}), "created": meta.get("created")})
    return rows


def _safe_meta(path: Path) -> dict[str, Any]:
    try:
        return read_meta(path)
    except LorasuiteError:
        return {"task": "damaged"}


def delete(app: str, name: str) -> Path:
    """Delete every version made here (shipped ones are read-only)."""
    return registry.delete(app, name)


def size_bytes(path: str | Path) -> int:
    """Bytes of the adapter's weight files (what it costs to ship)."""
    return sum(p.stat().st_size for p in Path(path).glob("*.safetensors"))
