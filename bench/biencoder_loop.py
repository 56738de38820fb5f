"""The previous bi-encoder trainer (hand-written loop via shared.training.fit), kept for comparison.

``bench/recommender.py --trainer loop`` trains with this instead of shared.biencoder (which uses
sentence-transformers' SentenceTransformerTrainer + MultipleNegativesRankingLoss); same adapter
format, same settings, so the two can be compared on the same splits.

Each example is (query text, positive text): for retrieval a question and its passage, for
recommendation a user's recent items and the item they took next. Both sides go through the
same LoRA encoder; the loss is cross-entropy over the batch's query x positive cosine matrix
divided by a temperature (InfoNCE / MultipleNegativesRankingLoss). Duplicated positives in a
batch are masked so that they are not counted as negatives of each other.

    trained = train_biencoder(pairs, LoraSettings(lr=5e-4), dev=dev_pairs)
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from shared.adapters import TrainedAdapter
from shared.contrastive import BiEncoder
from shared.inference import run_batched, tokenize
from shared.lora import wrap
from shared.models import load_encoder, load_tokenizer, pooling_mode, resolve
from shared.settings import LoraSettings
from shared.training import fit, trainable_parameters

log = logging.getLogger(__name__)


def recall_at_k(model: BiEncoder, tokenizer, pairs: list[tuple[str, str]], max_length: int, k: int = 10) -> float:
    """Share of dev queries whose own positive is in the top k among all dev positives."""
    model.eval()
    candidates = sorted({p for _, p in pairs})
    where = {p: i for i, p in enumerate(candidates)}
    q = run_batched([q for q, _ in pairs], tokenizer, model.embed, 128, max_length)
    c = run_batched(candidates, tokenizer, model.embed, 128, max_length)
    top = np.argsort(-(q @ c.T), axis=1)[:, :k]
    return float(np.mean([where[p] in row for (_, p), row in zip(pairs, top)]))


def train_biencoder(pairs: list[tuple[str, str]], settings: LoraSettings | None = None, model: str = "minilm",
                    dev: list[tuple[str, str]] | None = None, data_hash: str = "") -> TrainedAdapter:
    """Train a LoRA bi-encoder on (query, positive) pairs; early-stops on dev Recall@10."""
    settings = settings or LoraSettings(lr=5e-4)
    ref = resolve(model)
    tokenizer, base = load_tokenizer(ref), load_encoder(ref)
    task = BiEncoder(wrap(base, settings), pooling_mode(ref), settings.temperature)
    ids = {text: i for i, text in enumerate(sorted({p for _, p in pairs}))}

    def collate(rows: list[tuple[str, str]]) -> dict:
        return {"query": dict(tokenize(tokenizer, [r[0] for r in rows], settings.max_length)),
                "positive": dict(tokenize(tokenizer, [r[1] for r in rows], settings.max_length)),
                "positive_ids": torch.tensor([ids[r[1]] for r in rows])}

    def dev_score() -> float:
        return recall_at_k(task, tokenizer, dev, settings.max_length)

    baseline = dev_score() if dev else None
    result = fit(task, pairs, collate, settings, dev_score if dev else None, desc="bi-encoder")
    trainable, total = trainable_parameters(task)
    metrics = {"dev_recall_at_10": result.best_dev, "dev_recall_at_10_base": baseline} if dev else {}
    meta = {"task": "biencoder", "base_model": ref.name, "pooling": pooling_mode(ref), "max_length": settings.max_length,
            "data_hash": data_hash, "settings": settings.to_dict(), "metrics": metrics, "trainable_params": trainable,
            "total_params": total, "train_seconds": round(result.seconds, 1)}
    log.info("trained bi-encoder: %s", metrics)
    return TrainedAdapter(task.encoder, None, meta, result.history, task=task, tokenizer=tokenizer)
