"""Adapters as standard artefacts: export a registry adapter to a Hub-ready folder, push it.

An exported folder loads with plain ``PeftModel.from_pretrained(AutoModel.from_pretrained(base),
DIR)`` and holds:

- ``adapter_config.json`` + ``adapter_model.safetensors``: the PEFT adapter, its
  ``base_model_name_or_path`` the public model id (``sentence-transformers/all-MiniLM-L6-v2``,
  never a local path) and ``task_type`` set (``FEATURE_EXTRACTION`` for an encoder,
  ``CAUSAL_LM`` for a causal LM);
- ``head.safetensors`` (``linear.weight`` [labels, hidden], ``linear.bias``) and ``head_config.json``
  (task, ``input`` = ``mean_pooled`` or ``tokens``, ``id2label``, ``label2id``, ``temperature``,
  ``max_length``) plus ``labels.json`` (label names in head order), for tasks with a head;
- ``meta.json`` (lorasuite's record), ``training_curve.png`` when there is one, and ``README.md``:
  a model card (shared.modelcard) with a usage snippet.

    export_adapter(adapters.find("support", "intent"), "out/intent")
    push_adapter(adapters.find("support", "intent"), "me/northwind-intent")   # LORASUITE_ONLINE=1
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")
INFER_MAX_LENGTH = 256  # shared.tagging.INFER_MAX_LENGTH (not imported: it would import torch)


def base_id(base_model: str | None) -> str | None:
    """The name an adapter should give as its base: the public id, or the name as given (a path)."""
    from shared.models import public_id

    return public_id(base_model) or base_model


def publish_config(adapter_dir: str | Path, base_model: str | None, task_type: str | None = None) -> dict[str, Any]:
    """Rewrite ``adapter_config.json``: the base's public id (not a local path); ``task_type`` if given."""
    path = Path(adapter_dir) / "adapter_config.json"
    config = json.loads(path.read_text())
    config["base_model_name_or_path"] = base_id(base_model) or config.get("base_model_name_or_path")
    if task_type:
        config["task_type"] = task_type
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return config


def head_config(meta: dict[str, Any]) -> dict[str, Any]:
    """What the head needs besides its weights: label names, input, temperature, max_length."""
    labels = list(meta.get("labels") or [])
    tag = meta.get("task") == "tag"
    return {"task": meta.get("task"), "input": "tokens" if tag else f"{meta.get('pooling', 'mean')}_pooled",
            "num_labels": len(labels), "id2label": {str(i): label for i, label in enumerate(labels)},
            "label2id": {label: i for i, label in enumerate(labels)},
            "temperature": float(meta.get("temperature", 1.0)),
            "max_length": max(int(meta.get("max_length", 64)), INFER_MAX_LENGTH) if tag else int(meta.get("max_length", 64)),
            "weights": {"linear.weight": "[num_labels, hidden]", "linear.bias": "[num_labels]"}}


def _check_source(path: Path) -> dict[str, Any]:
    from shared.adapters import read_meta

    meta = read_meta(path)
    missing = [f for f in PEFT_FILES if not (path / f).exists()]
    if missing:
        raise LorasuiteError(f"adapter at {path} lacks {', '.join(missing)}: retrain it or pick another")
    if meta.get("task") in ("classify", "tag") and not (path / "head.safetensors").exists():
        raise LorasuiteError(f"adapter at {path} is a {meta['task']} adapter without head.safetensors")
    return meta


def _check_dest(dest: Path, source: Path, overwrite: bool) -> None:
    if dest.resolve() == source.resolve() or source.resolve() in dest.resolve().parents:
        raise LorasuiteError(f"export to a folder outside the adapter itself, not {dest}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())) and not overwrite:
        raise LorasuiteError(f"{dest} exists and is not empty: pick a new folder or pass overwrite")


def standardize(adapter_dir: str | Path, meta: dict[str, Any], base_model: str | None = None,
                task_type: str | None = None, repo_id: str | None = None,
                training_data: dict[str, Any] | None = None) -> None:
    """Make an adapter folder a standard artefact in place: public base id in adapter_config.json,
    head_config.json + labels.json next to a head, README.md model card. Weights are not touched."""
    from shared.modelcard import adapter_card

    folder = Path(adapter_dir)
    base = base_id(base_model or meta.get("base_model"))
    publish_config(folder, base, task_type)
    if (folder / "head.safetensors").exists():
        (folder / "head_config.json").write_text(json.dumps(head_config(meta), indent=2) + "\n")
        (folder / "labels.json").write_text(json.dumps(list(meta.get("labels") or []), indent=2) + "\n")
    files = sorted({p.name for p in folder.iterdir() if not p.name.startswith(".")} | {"README.md"})
    adapter_card(meta, base, files, repo_id=repo_id, data=training_data).save(folder / "README.md")


def export_adapter(path: str | Path, dest: str | Path, base_model: str | None = None, repo_id: str | None = None,
                   overwrite: bool = False, training_data: dict[str, Any] | None = None) -> Path:
    """Write the adapter at ``path`` as a standard, Hub-ready folder ``dest`` (atomically); returns it.

    ``base_model`` overrides the base named in the files (e.g. a public id for a base that was a
    local directory); ``repo_id`` is named in the card's usage snippet; ``training_data`` (name,
    source, data_license, license, split, citation, hub_id) replaces what the card finds itself.
    """
    from shared.atomic import atomic_dir

    source, dest = Path(path), Path(dest)
    meta = _check_source(source)
    _check_dest(dest, source, overwrite)
    task_type = "CAUSAL_LM" if meta.get("task") == "causal" else "FEATURE_EXTRACTION"
    with atomic_dir(dest) as tmp:
        for name in (*PEFT_FILES, "head.safetensors", "training_curve.png", "meta.json"):
            if (source / name).exists():
                shutil.copy2(source / name, tmp / name)
        standardize(tmp, meta, base_model, task_type, repo_id, training_data)
    log.info("exported %s/%s to %s", meta.get("app"), meta.get("name"), dest)
    return dest


def push_adapter(path: str | Path, repo_id: str, token: str | None = None, private: bool = False,
                 base_model: str | None = None) -> str:
    """Export the adapter and upload it to the Hugging Face Hub model repo ``repo_id`` (created if
    needed); needs ``LORASUITE_ONLINE=1``. ``token`` defaults to huggingface_hub's (HF_TOKEN, login)."""
    from shared.models import online

    if not online():
        raise LorasuiteError("pushing to the Hugging Face Hub needs the network: set LORASUITE_ONLINE=1 "
                             "(and HF_TOKEN or `hf auth login`), or export to a folder with `lorasuite adapters export`")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise LorasuiteError(f"repo id must be OWNER/NAME, got {repo_id!r}")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="lorasuite-push-") as tmp:
        folder = export_adapter(path, Path(tmp) / "adapter", base_model=base_model, repo_id=repo_id)
        try:
            url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
            api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="model",
                              commit_message=f"lorasuite: upload adapter {Path(path).parent.name}/{Path(path).name}")
        except HfHubHTTPError as err:
            raise LorasuiteError(f"could not push to {repo_id}: {err}") from err
    log.info("pushed %s to %s", path, url)
    return str(url)
