"""Task 1: single-label text classification = base encoder + LoRA + a linear head.

The sentence vector is pooled the way the base model was trained (mean pooling for MiniLM),
then ``Dropout -> Linear``. Confidence is calibrated by temperature scaling on the dev set
(stored in meta.json and applied by the backbone), so 0.9 means right about 90% of the time.

    trained = train_classifier(texts, labels, LoraSettings(), dev=(dev_texts, dev_labels))
    save_adapter("core", "sentiment", trained)
"""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import torch
from torch import nn

from shared.adapters import TrainedAdapter
from shared.distill import Distillation, kd_loss
from shared.inference import run_batched, tokenize
from shared.lora import pooled_hidden, wrap
from shared.models import load_encoder, load_tokenizer, pooling_mode, resolve
from shared.settings import LoraSettings
from shared.training import fit, trainable_parameters

log = logging.getLogger(__name__)


class ClassifierHead(nn.Module):
    """Dropout then a linear layer from the pooled vector to label logits."""

    def __init__(self, hidden: int, n_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, n_labels)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(pooled))


class EncoderClassifier(nn.Module):
    """A peft encoder and a head; ``forward(batch)`` returns the (weighted) cross-entropy."""

    def __init__(self, encoder: nn.Module, head: ClassifierHead, pooling: str,
                 class_weights: torch.Tensor | None = None) -> None:
        super().__init__()
        self.encoder, self.head, self.pooling = encoder, head, pooling
        self.loss = nn.CrossEntropyLoss(weight=class_weights)
        self.kd: tuple[float, float] | None = None  # (temperature, alpha) when a batch carries teacher "soft"

    def logits(self, batch: dict) -> torch.Tensor:
        return self.head(pooled_hidden(self.encoder, batch, self.pooling))

    def forward(self, batch: dict) -> torch.Tensor:
        if "soft" in batch and self.kd:
            return kd_loss(self.logits(batch), batch["soft"], batch["labels"], *self.kd, hard=self.loss)
        return self.loss(self.logits(batch), batch["labels"])


def _class_weights(label_ids: list[int], n: int) -> torch.Tensor:
    counts = Counter(label_ids)
    return torch.tensor([len(label_ids) / (n * max(counts.get(i, 0), 1)) for i in range(n)], dtype=torch.float32)


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The softmax temperature that minimises dev negative log-likelihood (grid search)."""
    best, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 60)):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        nll = -(z[np.arange(len(gold)), gold] - np.log(np.exp(z).sum(axis=1))).mean()
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def probe_head(head: ClassifierHead, base: nn.Module, tokenizer, texts: list[str], label_ids: list[int],
               pooling: str, settings: LoraSettings) -> None:
    """Linear probing before fine-tuning (LP-FT, Kumar et al. 2022): start the head from a logistic
    regression on the frozen embeddings, so LoRA refines a good classifier instead of chasing a
    random head; it converges in fewer epochs and distorts the pretrained features less."""
    from sklearn.linear_model import LogisticRegression

    features = run_batched(texts, tokenizer, lambda b: pooled_hidden(base, b, pooling), 128, settings.max_length)
    probe = LogisticRegression(C=1.0, max_iter=300, random_state=settings.seed).fit(features, label_ids)
    weight, bias = probe.coef_, probe.intercept_
    if weight.shape[0] == 1:  # binary: scikit-learn keeps one row; make it two symmetric logits
        weight, bias = np.vstack([-weight / 2, weight / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    with torch.no_grad():
        head.linear.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        head.linear.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    log.info("head initialised by a linear probe (train accuracy %.3f)", probe.score(features, label_ids))


def predict_logits(model: EncoderClassifier, tokenizer, texts: list[str], max_length: int) -> np.ndarray:
    """Logits for texts (batched, inference mode)."""
    model.eval()
    return run_batched(texts, tokenizer, model.logits, batch_size=128, max_length=max_length)


def majority_floor(dev_labels: list[str], label_names: list[str]) -> float:
    """Dev macro-F1 of always predicting the most common dev label (a run that never beats it failed)."""
    from shared.evaluation import classification_report

    top = Counter(dev_labels).most_common(1)[0][0]
    return classification_report(dev_labels, [top] * len(dev_labels), label_names)["macro_f1"]


def _examples(texts: list[str], label_ids: list[int], distill: Distillation | None) -> list[tuple]:
    """(text, label id) rows; with a teacher, (text, label id or -100, teacher probabilities)."""
    if distill is None:
        return list(zip(texts, label_ids))
    rows = texts + list(distill.unlabeled)
    ids = label_ids + [-100] * len(distill.unlabeled)
    return [(t, y, np.asarray(p, dtype=np.float32)) for t, y, p in zip(rows, ids, distill.soft, strict=True)]


def train_classifier(texts: list[str], labels: list[str], settings: LoraSettings | None = None,
                     model: str = "minilm", dev: tuple[list[str], list[str]] | None = None,
                     data_hash: str = "", teacher: str | None = None,
                     unlabeled: list[str] | None = None) -> TrainedAdapter:
    """Train a LoRA classifier; with ``dev``, early-stop on dev macro-F1 and calibrate confidence.

    With ``teacher`` (an adapter ``app/name`` or a base such as ``mpnet``), distil its softened
    outputs on ``texts`` and ``unlabeled`` into this student (``shared.distill``).
    """
    from shared.evaluation import classification_report

    settings = settings or LoraSettings()
    distill = None
    if teacher:
        from shared.distill import classify_targets

        distill = classify_targets(teacher, texts, labels, dev, settings, data_hash, unlabeled)
    label_names = sorted(set(labels))
    index = {label: i for i, label in enumerate(label_names)}
    ref = resolve(model)
    tokenizer, base = load_tokenizer(ref), load_encoder(ref)
    torch.manual_seed(settings.seed)
    head = ClassifierHead(base.config.hidden_size, len(label_names), settings.dropout)
    if settings.head_init == "probe":
        probe_head(head, base, tokenizer, texts, [index[y] for y in labels], pooling_mode(ref), settings)
    weights = _class_weights([index[y] for y in labels], len(label_names)) if settings.class_weighting else None
    task = EncoderClassifier(wrap(base, settings), head, pooling_mode(ref), weights)
    task.kd = (settings.distill_temperature, settings.distill_alpha) if distill else None

    def collate(rows: list[tuple]) -> dict:
        batch = dict(tokenize(tokenizer, [r[0] for r in rows], settings.max_length))
        batch["labels"] = torch.tensor([r[1] for r in rows])
        if distill:
            batch["soft"] = torch.as_tensor(np.stack([r[2] for r in rows]))
        return batch

    def dev_score() -> float:
        predicted = predict_logits(task, tokenizer, dev[0], settings.max_length).argmax(1)
        return classification_report(dev[1], [label_names[i] for i in predicted], label_names)["macro_f1"]

    examples = _examples(texts, [index[y] for y in labels], distill)
    result = fit(task, examples, collate, settings, dev_score if dev else None, desc="classify",
                 floor=majority_floor(dev[1], label_names) if dev else None)
    metrics, temperature = {}, 1.0
    if dev:
        logits = predict_logits(task, tokenizer, dev[0], settings.max_length)
        temperature = fit_temperature(logits, np.array([index[y] for y in dev[1]]))
        report = classification_report(dev[1], [label_names[i] for i in logits.argmax(1)], label_names)
        metrics = {"dev_accuracy": report["accuracy"], "dev_macro_f1": report["macro_f1"], "dev_n": report["n"]}
    trainable, total = trainable_parameters(task)
    meta = {"task": "classify", "base_model": ref.name, "labels": label_names, "pooling": pooling_mode(ref),
            "temperature": temperature, "max_length": settings.max_length, "data_hash": data_hash,
            "settings": settings.to_dict(), "metrics": metrics, "trainable_params": trainable,
            "total_params": total, "train_seconds": round(result.seconds, 1), "steps": result.steps}
    if distill:
        meta["distillation"] = distill.info
    log.info("trained classifier: %d labels, %d/%d trainable params, %s", len(label_names), trainable, total, metrics)
    return TrainedAdapter(task.encoder, head.state_dict(), meta, result.history, task=task, tokenizer=tokenizer)
