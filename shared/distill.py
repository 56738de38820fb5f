"""Knowledge distillation: a bigger teacher's softened outputs train the small MiniLM student.

``--teacher REF`` is an adapter (``sentiment/finance``: any task-matching adapter, on any base)
or a base model name (``mpnet``, a path, a hub id). For a base, a LoRA teacher is first trained
on the same data with the same settings and early stopping, and cached under
``$LORASUITE_HOME/teachers/<hash>`` (hash of the data, the base and the settings), so a second
student costs nothing. The teacher's probabilities at temperature T are computed once, up front,
for every training row (and for ``--unlabeled`` texts, which then carry no hard label); the
student minimises ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(labels)``
(Hinton et al. 2015). The student's base stays the default one, so serving is unchanged.

    distill = classify_targets("mpnet", texts, labels, dev, settings, data_hash, unlabeled=more_texts)
    train_classifier(texts, labels, settings, dev=dev, distill=distill)
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from shared.errors import AdapterNotFoundError, DataError, LorasuiteError
from shared.settings import LoraSettings

log = logging.getLogger(__name__)
IGNORE = -100
# LoRA target names are BERT's; other encoders name the same layers differently.
_TARGET_NAMES = {"mpnet": {"query": ["q"], "key": ["k"], "value": ["v"], "attention.output.dense": ["o"],
                           "output.dense": ["o", "output.dense"]}}


@dataclass
class Distillation:
    """Teacher probabilities at T for the training rows, then the unlabeled rows, and meta for the student."""

    soft: list[np.ndarray]
    unlabeled: list[Any] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def kd_loss(logits: torch.Tensor, soft: torch.Tensor, labels: torch.Tensor, temperature: float, alpha: float,
            hard=None) -> torch.Tensor:
    """``alpha * T^2 * KL(soft || softmax(logits / T)) + (1 - alpha) * CE(logits, labels)``.

    Works per row ([B, C]) or per token ([B, L, C]); a row whose ``soft`` sums to 0 has no teacher
    target, a label of -100 has no hard target (unlabeled texts, sub-tokens after a word's first).
    """
    n = logits.shape[-1]
    z, p, y = logits.reshape(-1, n), soft.reshape(-1, n).to(logits.dtype), labels.reshape(-1)
    zero = logits.sum() * 0.0
    taught = p.sum(-1) > 0
    kl = zero
    if taught.any():
        log_q = F.log_softmax(z[taught] / temperature, dim=-1)
        target = p[taught]
        kl = (target * (torch.log(target.clamp_min(1e-12)) - log_q)).sum(-1).mean() * temperature**2
    labelled = y != IGNORE
    ce = (hard or F.cross_entropy)(z[labelled], y[labelled]) if labelled.any() else zero
    return alpha * kl + (1.0 - alpha) * ce


def align_soft(word_ids: list[int | None], word_soft: np.ndarray, n: int) -> torch.Tensor:
    """Per sub-token teacher targets [seq, n]: a word's row on its first sub-token, zeros elsewhere."""
    out, previous = torch.zeros(len(word_ids), n), None
    for pos, word in enumerate(word_ids):
        if word is not None and word != previous:
            out[pos] = torch.as_tensor(word_soft[word])
        previous = word
    return out


def read_unlabeled(path: str | Path, text_col: str = "text") -> list[str]:
    """Texts for the teacher to label: a CSV ``text`` column or JSONL ``{"text": ...}``; blanks dropped."""
    from shared.datasets import read_texts

    texts = [t.strip() for t in read_texts(path, text_col) if t and t.strip()]
    if not texts:
        raise DataError(path, f"no non-empty texts in '{text_col}'", fix="give a CSV text column or JSONL text")
    return texts


def is_adapter(ref: str) -> bool:
    """``app/name`` of a registry adapter (a known app whose adapter is missing is an error)."""
    from shared import adapters

    app, sep, name = ref.partition("/")
    if not sep or Path(ref).exists() or "/" in name:
        return False
    try:
        adapters.find(app, name)
        return True
    except AdapterNotFoundError:
        if adapters.list_adapters(app):
            raise
        return False
    except LorasuiteError:
        return False


def check_teacher(ref: str) -> None:
    """Fail before any training when the teacher cannot be had (e.g. `lorasuite models install mpnet`)."""
    from shared.models import resolve

    if not is_adapter(ref):
        resolve(ref)


def targets_for(ref: str, targets: list[str] | str) -> list[str] | str:
    """LoRA target module names of ``targets`` (BERT's names) for the base ``ref``'s architecture."""
    from transformers import AutoConfig

    from shared.models import resolve, set_offline_default

    set_offline_default()
    kind = AutoConfig.from_pretrained(resolve(ref).location).model_type
    names = _TARGET_NAMES.get(kind)
    if not names or isinstance(targets, str):
        return targets
    return sorted({m for t in targets for m in names.get(t, [t])})


def _cache_dir(task: str, ref: str, data_hash: str, settings: LoraSettings) -> Path:
    from shared.home import state_dir

    kept = {k: v for k, v in settings.to_dict().items() if not k.startswith("distill_")}
    key = json.dumps({"task": task, "ref": ref, "data": data_hash, "settings": kept}, sort_keys=True)
    return state_dir("teachers") / hashlib.sha256(key.encode()).hexdigest()[:16]


def teacher_path(task: str, ref: str, data_hash: str, settings: LoraSettings, train) -> tuple[Path, bool]:
    """(adapter folder of the teacher, trained now?): a registry adapter, a cached teacher, or a new one."""
    from shared import adapters

    if is_adapter(ref):
        path = adapters.find(*ref.split("/"))
        if adapters.read_meta(path).get("task") != task:
            raise LorasuiteError(f"teacher {ref} is a {adapters.read_meta(path).get('task')} adapter, not {task}")
        return path, False
    root = _cache_dir(task, ref, data_hash, settings)
    path = root / task / "teacher"
    if (path / "meta.json").exists():
        log.info("teacher %s: cached at %s", ref, path)
        return path, False
    check_teacher(ref)
    teacher_settings = replace(settings, target_modules=targets_for(ref, settings.target_modules))
    log.info("training the %s teacher on %s first (cached by data hash at %s)", ref, task, root)
    adapters.save(task, "teacher", train(teacher_settings), root=root)
    return path, True


def load_teacher(path: Path) -> tuple[Any, Any, dict[str, Any]]:
    """(task module, tokenizer, meta) of a classify or tag adapter folder, in eval mode."""
    from peft import PeftModel
    from safetensors.torch import load_file

    from shared import adapters
    from shared.models import load_encoder, load_tokenizer, resolve

    meta = adapters.read_meta(path)
    ref = resolve(meta["base_model"])
    tokenizer, base = load_tokenizer(ref), load_encoder(ref)
    encoder = PeftModel.from_pretrained(base, str(path))
    state = load_file(str(Path(path) / "head.safetensors"))
    if meta["task"] == "classify":
        from shared.classifier import ClassifierHead, EncoderClassifier

        head = ClassifierHead(state["linear.weight"].shape[1], len(meta["labels"]))
        head.load_state_dict(state)
        task = EncoderClassifier(encoder, head, meta.get("pooling", "mean"))
    else:
        from shared.tagging import EncoderTagger, head_from_state

        task = EncoderTagger(encoder, head_from_state(state))
    return task.eval(), tokenizer, meta


def _info(ref: str, path: Path, meta: dict, trained_now: bool, settings: LoraSettings, dev_metrics: dict,
          n_unlabeled: int) -> dict[str, Any]:
    return {"teacher": {"ref": ref, "base_model": meta["base_model"], "path": str(path), "trained_now": trained_now,
                        "data_hash": meta.get("data_hash"), "train_seconds": meta.get("train_seconds"), **dev_metrics},
            "temperature": settings.distill_temperature, "alpha": settings.distill_alpha, "unlabeled_rows": n_unlabeled}


def classify_targets(ref: str, texts: list[str], labels: list[str], dev: tuple[list[str], list[str]] | None,
                     settings: LoraSettings, data_hash: str, unlabeled: list[str] | None = None) -> Distillation:
    """The teacher's probabilities at T for ``texts + unlabeled`` (label order: sorted label names)."""
    from shared.classifier import predict_logits, train_classifier
    from shared.evaluation import classification_report

    path, now = teacher_path("classify", ref, data_hash, settings,
                             lambda s: train_classifier(texts, labels, s, model=ref, dev=dev, data_hash=data_hash))
    task, tokenizer, meta = load_teacher(path)
    names = sorted(set(labels))
    if meta["labels"] != names:
        raise LorasuiteError(f"teacher {ref} has labels {meta['labels']}, the training data {names}: they must match")
    unlabeled = unlabeled or []
    logits = predict_logits(task, tokenizer, texts + unlabeled, meta["max_length"])
    soft = torch.softmax(torch.as_tensor(logits) / settings.distill_temperature, dim=-1).numpy()
    metrics = {}
    if dev:
        predicted = predict_logits(task, tokenizer, dev[0], meta["max_length"]).argmax(1)
        report = classification_report(dev[1], [names[i] for i in predicted], names)
        metrics = {"dev_accuracy": report["accuracy"], "dev_macro_f1": report["macro_f1"]}
    info = _info(ref, path, meta, now, settings, metrics, len(unlabeled))
    log.info("teacher %s (%s): %s", ref, meta["base_model"], metrics)
    return Distillation(list(soft), unlabeled, info)


def tag_targets(ref: str, train: list, dev: list | None, settings: LoraSettings, data_hash: str,
                unlabeled: list[list[str]] | None = None) -> Distillation:
    """The teacher's per-word tag probabilities at T for the training sentences, then ``unlabeled``."""
    from shared.conll import types_of
    from shared.entities import entity_report, tag_set
    from shared.tagging import decode_tags, train_tagger, word_probs

    path, now = teacher_path("tag", ref, data_hash, settings,
                             lambda s: train_tagger(train, s, model=ref, dev=dev, data_hash=data_hash))
    task, tokenizer, meta = load_teacher(path)
    names = tag_set(types_of(train))
    if meta["labels"] != names:
        raise LorasuiteError(f"teacher {ref} has tags {meta['labels']}, the training data {names}: they must match")
    unlabeled = unlabeled or []
    soft = word_probs([s.tokens for s in train] + unlabeled, tokenizer,
                      lambda b: task.logits(b) / settings.distill_temperature, len(names))
    metrics = {}
    if dev:
        probs = word_probs([s.tokens for s in dev], tokenizer, task.logits, len(names))
        report = entity_report([s.tags for s in dev], [decode_tags(p, names)[0] for p in probs])
        metrics = {"dev_f1": report["micro"]["f1"], "dev_macro_f1": report["macro_f1"]}
    info = _info(ref, path, meta, now, settings, metrics, len(unlabeled))
    log.info("teacher %s (%s): %s", ref, meta["base_model"], metrics)
    return Distillation(soft, unlabeled, info)
