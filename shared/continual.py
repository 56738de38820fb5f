"""Continue training a champion: warm start from its weights, new labels mixed with replayed old data.

A plain retrain from scratch on all the old rows plus a few hundred new labels barely moves the
model (the new labels drown: +3.8 points on PhraseBank for -0.6 on Twitter). Here the challenger
starts from the champion's LoRA and head, and each epoch sees every new training label plus a
fresh random sample of the old training data (replay), so the new labels are a fixed share of
what the model sees (``share``, default one third) and, with ``distill``, the replayed rows also
pull the model towards the champion's own predictions (learning without forgetting). The
replay sample is bounded (``replay_cap``), so a retrain costs minutes whatever the old data's size.
Measured on 640 PhraseBank labels (bench/results/learning.md): replay at one half without
distillation gained 5.8 points of PhraseBank accuracy but lost 2.1 points of Twitter macro-F1;
one third with distillation gained 6.6 for -0.8.

    mix = mixed_examples(new_rows, old_rows, MixPlan(epochs=2, share=1 / 3))
    trained = continue_classifier(champion_path, new_rows, old_rows, MixPlan(), LoraSettings(lr=5e-4))
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from shared.adapters import TrainedAdapter, read_meta
from shared.settings import LoraSettings

log = logging.getLogger(__name__)
Row = tuple[str, str]  # (text, label)


@dataclass
class MixPlan:
    """How new labels and replayed old rows are mixed (one plan per retrain, recorded in meta.json)."""

    epochs: int = 2
    share: float = 1 / 3  # share of each epoch that is new labels (oversampled when they are few)
    replay_cap: int = 2000  # most old rows replayed per epoch
    min_new_per_epoch: int = 0  # new examples per epoch at least (oversampling small label sets)
    distill: float = 1.0  # weight of the KL term to the champion's own predictions on replayed old rows
    seed: int = 42

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError(f"share must be in (0, 1], got {self.share}")
        if self.epochs < 1 or self.replay_cap < 0:
            raise ValueError(f"epochs must be >= 1 and replay_cap >= 0, got {self.epochs}, {self.replay_cap}")

    @classmethod
    def from_weight(cls, weight: float, **kw: object) -> MixPlan:
        """``[learning] new_label_weight`` w: the new labels weigh w times the replayed old rows in each epoch
        (share w / (1 + w): 1 = halves); 0 = the measured default, one third (w = 0.5)."""
        if weight <= 0:
            return cls(**kw)
        return cls(share=weight / (1.0 + weight), **kw)

    def sizes(self, n_new: int, n_old: int) -> tuple[int, int]:
        """(new, old) examples per epoch."""
        if n_new == 0:
            return 0, min(n_old, self.replay_cap)
        new = max(n_new, self.min_new_per_epoch)
        old = 0 if self.share >= 1 else round(new * (1 - self.share) / self.share)
        return new, min(old, n_old, self.replay_cap)  # capped: the new share grows

    def to_dict(self) -> dict:
        return asdict(self)


def mixed_examples(new: Sequence[Row], old: Sequence[Row], plan: MixPlan) -> list[Row]:
    """Every epoch's examples, concatenated: the new rows (cycled to their quota) + a fresh old sample."""
    rng = random.Random(plan.seed)
    n_new, n_old = plan.sizes(len(new), len(old))
    out: list[Row] = []
    for _ in range(plan.epochs):
        if new:
            cycled = list(new) * (n_new // len(new)) + rng.sample(list(new), n_new % len(new))
            out.extend(cycled)
        out.extend(rng.sample(list(old), n_old))
    return out


def load_classifier(path: str | Path, trainable: bool = True, model: str | None = None):
    """(task, tokenizer, labels, meta) of a classifier adapter folder, ready to train further."""
    from peft import PeftModel
    from safetensors.torch import load_file

    from shared.classifier import ClassifierHead, EncoderClassifier
    from shared.models import load_encoder, load_tokenizer, resolve

    meta = read_meta(path)
    ref = resolve(model or meta["base_model"])
    tokenizer, base = load_tokenizer(ref), load_encoder(ref)
    encoder = PeftModel.from_pretrained(base, str(path), is_trainable=trainable)
    state = load_file(str(Path(path) / "head.safetensors"))
    head = ClassifierHead(state["linear.weight"].shape[1], len(meta["labels"]),
                          float(meta.get("settings", {}).get("dropout", 0.1)))
    head.linear.load_state_dict({"weight": state["linear.weight"], "bias": state["linear.bias"]})
    task = EncoderClassifier(encoder, head, meta.get("pooling", "mean"))
    torch.manual_seed(0)
    return task, tokenizer, list(meta["labels"]), meta


class Distilled(nn.Module):
    """Learning without forgetting (Li & Hoiem 2017): cross-entropy on every row plus, on replayed old rows,
    ``weight`` x the KL divergence from the champion's own softened predictions, so the old domain keeps
    its answers while the new labels move the model."""

    def __init__(self, task: nn.Module, weight: float, temperature: float = 2.0) -> None:
        super().__init__()
        self.task, self.weight, self.temperature = task, weight, temperature

    def forward(self, batch: dict) -> torch.Tensor:
        logits = self.task.logits(batch)
        loss = nn.functional.cross_entropy(logits, batch["labels"])
        mask = batch["teacher_mask"]
        if self.weight and bool(mask.any()):
            t = self.temperature
            kl = nn.functional.kl_div(nn.functional.log_softmax(logits[mask] / t, -1),
                                      nn.functional.softmax(batch["teacher"][mask] / t, -1), reduction="batchmean")
            loss = loss + self.weight * t * t * kl
        return loss


def teacher_logits(task, tokenizer, texts: list[str], max_length: int) -> dict[str, list[float]]:
    """The champion's logits for each distinct text (before any training step: the task still is the champion)."""
    from shared.classifier import predict_logits

    unique = sorted(set(texts))
    logits = predict_logits(task, tokenizer, unique, max_length) if unique else []
    return {text: [float(x) for x in row] for text, row in zip(unique, logits)}


def distill_batch(tokenizer, rows: list[tuple], max_length: int, n_labels: int) -> dict:
    """A ``Distilled`` batch of (text, label id, champion logits or None) rows."""
    from shared.inference import tokenize

    batch = dict(tokenize(tokenizer, [r[0] for r in rows], max_length))
    batch["labels"] = torch.tensor([r[1] for r in rows])
    batch["teacher"] = torch.tensor([r[2] or [0.0] * n_labels for r in rows])
    batch["teacher_mask"] = torch.tensor([r[2] is not None for r in rows])
    return batch


def continue_classifier(path: str | Path, new: Sequence[Row], old: Sequence[Row], plan: MixPlan,
                        settings: LoraSettings, model: str | None = None) -> TrainedAdapter:
    """Train the classifier at ``path`` further on the mix of ``new`` and ``old``; meta inherits the champion's."""
    from shared.training import fit, trainable_parameters

    task, tokenizer, labels, meta = load_classifier(path, model=model)
    index = {label: i for i, label in enumerate(labels)}
    max_length = int(meta.get("max_length", settings.max_length))
    mix = mixed_examples(new, old, plan)
    fresh = {text for text, _ in new}
    teacher = teacher_logits(task, tokenizer, [t for t, _ in mix if t not in fresh], max_length) if plan.distill else {}
    examples = [(text, index[label], teacher.get(text)) for text, label in mix]
    collate = functools.partial(distill_batch, tokenizer, max_length=max_length, n_labels=len(labels))
    run = LoraSettings.from_dict(dict(settings.to_dict(), epochs=1, max_length=max_length))
    log.info("continuing %s on %d examples (%d new, %d old rows available)", path, len(examples), len(new), len(old))
    trainer = Distilled(task, plan.distill)
    result = fit(trainer, examples, collate, run, None, desc="retrain", head_prefix="task.head.")
    trainable, total = trainable_parameters(task)
    out = {k: v for k, v in meta.items() if k not in ("app", "name", "created", "version", "parent", "status")}
    out.update(settings=run.to_dict(), mix=plan.to_dict(), trainable_params=trainable, total_params=total,
               train_seconds=round(result.seconds, 1), steps=result.steps, metrics={})
    return TrainedAdapter(task.encoder, task.head.state_dict(), out, result.history, task=task, tokenizer=tokenizer)


def predict_labels(task, tokenizer, labels: list[str], texts: Sequence[str], max_length: int) -> tuple[list[str], object]:
    """Top labels and logits of an in-memory classifier for ``texts``."""
    from shared.classifier import predict_logits

    if not texts:
        import numpy as np

        return [], np.zeros((0, len(labels)), dtype="float32")
    logits = predict_logits(task, tokenizer, list(texts), max_length)
    return [labels[i] for i in logits.argmax(1)], logits


def continue_biencoder(path: str | Path, new: Sequence[Row], old: Sequence[Row], plan: MixPlan,
                       settings: LoraSettings, model: str | None = None) -> TrainedAdapter:
    """Train the bi-encoder at ``path`` further on (query, positive) pairs: new ones mixed with replayed old ones."""
    from peft import PeftModel

    from shared.contrastive import BiEncoder
    from shared.inference import tokenize
    from shared.models import load_encoder, load_tokenizer, resolve
    from shared.training import fit, trainable_parameters

    meta = read_meta(path)
    ref = resolve(model or meta["base_model"])
    tokenizer = load_tokenizer(ref)
    encoder = PeftModel.from_pretrained(load_encoder(ref), str(path), is_trainable=True)
    task = BiEncoder(encoder, meta.get("pooling", "mean"), float(meta.get("settings", {}).get("temperature", 0.05)))
    pairs = mixed_examples(new, old, plan)
    ids = {text: i for i, text in enumerate(sorted({p for _, p in pairs}))}
    max_length = int(meta.get("max_length", settings.max_length))

    def collate(rows: list[Row]) -> dict:
        return {"query": dict(tokenize(tokenizer, [r[0] for r in rows], max_length)),
                "positive": dict(tokenize(tokenizer, [r[1] for r in rows], max_length)),
                "positive_ids": torch.tensor([ids[r[1]] for r in rows])}

    run = LoraSettings.from_dict(dict(settings.to_dict(), epochs=1, max_length=max_length))
    result = fit(task, pairs, collate, run, None, desc="retrain")
    trainable, total = trainable_parameters(task)
    out = {k: v for k, v in meta.items() if k not in ("app", "name", "created", "version", "parent", "status")}
    out.update(settings=run.to_dict(), mix=plan.to_dict(), trainable_params=trainable, total_params=total,
               train_seconds=round(result.seconds, 1), metrics={})
    return TrainedAdapter(task.encoder, None, out, result.history, task=task, tokenizer=tokenizer)


def load_biencoder(path: str | Path, model: str | None = None):
    """(BiEncoder, tokenizer, meta) of a bi-encoder adapter folder, frozen (for scoring)."""
    from peft import PeftModel

    from shared.contrastive import BiEncoder
    from shared.models import load_encoder, load_tokenizer, resolve

    meta = read_meta(path)
    ref = resolve(model or meta["base_model"])
    encoder = PeftModel.from_pretrained(load_encoder(ref), str(path))
    return BiEncoder(encoder, meta.get("pooling", "mean"), 0.05).eval(), load_tokenizer(ref), meta


def hits_at_k(task, tokenizer, pairs: Sequence[Row], candidates: Sequence[str], max_length: int,
              k: int = 10) -> list[int]:
    """Per pair, 1 when its positive is among the ``k`` candidates nearest its query, else 0."""
    import numpy as np

    from shared.inference import run_batched

    if not pairs:
        return []
    where = {text: i for i, text in enumerate(candidates)}
    q = run_batched([q for q, _ in pairs], tokenizer, task.embed, 128, max_length)
    c = run_batched(list(candidates), tokenizer, task.embed, 128, max_length)
    top = np.argsort(-(q @ c.T), axis=1)[:, :k]
    return [int(where.get(p, -1) in row) for (_, p), row in zip(pairs, top, strict=True)]
