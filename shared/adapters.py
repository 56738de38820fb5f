"""The adapter registry: save, list, find, load and delete adapters by app and name.

An adapter directory is exactly what ``PeftModel.save_pretrained`` writes
(``adapter_config.json`` + ``adapter_model.safetensors``), plus ``head.safetensors`` for tasks
with a head, ``meta.json`` (base model, task, labels, data hash, settings, dev metrics,
created) and ``training_curve.png``. It is written to a temp dir and renamed, so a crash never
leaves half an adapter. Lookup order: ``$LORASUITE_HOME/adapters/<app>/<name>`` (trained by
the user) then ``data/adapters/<app>/<name>`` (shipped defaults, read-only).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared.atomic import atomic_dir
from shared.errors import AdapterNotFoundError, LorasuiteError
from shared.home import data_dir, state_dir

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class TrainedAdapter:
    """A freshly trained adapter: the peft model, the head weights (if any) and its meta."""

    peft_model: Any
    head_state: dict | None
    meta: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    task: Any = None  # the full task module, handy for evaluating right after training
    tokenizer: Any = None


def check_name(kind: str, value: str) -> str:
    """App and adapter names are short slugs (they become directory names)."""
    if not _NAME.match(value or ""):
        raise LorasuiteError(f"invalid {kind} name {value!r}: use letters, digits, '_', '-', '.' (max 64)")
    return value


def roots() -> list[tuple[str, Path]]:
    """Registry roots in lookup order: the user's, then the shipped defaults."""
    return [("home", state_dir("adapters")), ("shipped", data_dir("adapters"))]


def find(app: str, name: str) -> Path:
    """The directory of an adapter, or AdapterNotFoundError listing what exists."""
    check_name("app", app)
    check_name("adapter", name)
    for _, root in roots():
        path = root / app / name
        if (path / "meta.json").exists():
            return path
    known = [f"{a['app']}/{a['name']}" for a in list_adapters(app)]
    raise AdapterNotFoundError(f"no adapter {app}/{name}; known: {', '.join(known) or 'none'}")


def read_meta(path: str | Path) -> dict[str, Any]:
    try:
        return json.loads((Path(path) / "meta.json").read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise LorasuiteError(f"adapter at {path} has no readable meta.json ({err})") from err


def save(app: str, name: str, trained: TrainedAdapter, root: Path | None = None) -> Path:
    """Write the adapter atomically under the home registry (or ``root``); returns its path."""
    from safetensors.torch import save_file

    dest = (root or state_dir("adapters")) / check_name("app", app) / check_name("adapter", name)
    meta = dict(trained.meta, app=app, name=name, created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    with atomic_dir(dest) as tmp:
        trained.peft_model.save_pretrained(str(tmp))
        if trained.head_state is not None:
            save_file({k: v.contiguous() for k, v in trained.head_state.items()}, str(tmp / "head.safetensors"))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        if trained.history:
            from shared.evaluation import curve_png

            curve_png(trained.history, tmp / "training_curve.png", title=f"{app}/{name}")
        from shared.export import standardize

        standardize(tmp, meta)  # public base id in adapter_config.json, head_config.json, README.md card
    log.info("saved adapter %s/%s to %s", app, name, dest)
    return dest


def list_adapters(app: str | None = None) -> list[dict[str, Any]]:
    """Every adapter (home ones shadow shipped ones of the same app/name), sorted."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for source, root in roots():
        for meta_file in sorted(root.glob("*/*/meta.json")):
            key = (meta_file.parent.parent.name, meta_file.parent.name)
            if key[1].startswith(".") or key in seen or (app and key[0] != app):  # skip temp dirs
                continue
            try:
                meta = json.loads(meta_file.read_text())
            except (OSError, json.JSONDecodeError):
                meta = {"task": "damaged"}
            seen[key] = {"app": key[0], "name": key[1], "source": source, "path": str(meta_file.parent),
                         "task": meta.get("task"), "base_model": meta.get("base_model"),
                         "metrics": meta.get("metrics", {}), "created": meta.get("created")}
    return [seen[k] for k in sorted(seen)]


def delete(app: str, name: str) -> Path:
    """Delete a user-trained adapter (shipped ones are read-only)."""
    path = state_dir("adapters") / check_name("app", app) / check_name("adapter", name)
    if not path.exists():
        shipped = data_dir("adapters", app, name)
        why = " (it is a shipped default, read-only)" if shipped.exists() else ""
        raise AdapterNotFoundError(f"no user adapter {app}/{name} to delete{why}")
    shutil.rmtree(path)
    return path


def size_bytes(path: str | Path) -> int:
    """Bytes of the adapter's weight files (what it costs to ship)."""
    return sum(p.stat().st_size for p in Path(path).glob("*.safetensors"))
