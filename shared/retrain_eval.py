"""Scoring for a retrain: the gate's embeddings, champion and challenger on old and new data, the time estimate.

The champion's predictions on its frozen dev set do not change, so they are cached under
``$LORASUITE_HOME/learning/cache`` (keyed by the version's folder and the dev texts): a second
retrain against the same champion scores only the challenger on the old data.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import numpy as np

from shared.home import state_dir
from shared.labels import text_hash
from shared.storage import content_hash

log = logging.getLogger(__name__)


def old_rows_without(rows: list[tuple[str, str]], hashes: set[str]) -> list[tuple[str, str]]:
    """Old rows whose text is not among ``hashes`` (a collected label overrides an old row of the same text)."""
    return [row for row in rows if text_hash(row[0]) not in hashes] if hashes else list(rows)


class Evaluator:
    """Predictions and scores of the champion (frozen) and the challenger on the plan's data."""

    def __init__(self, plan: Any, task: Any, tokenizer: Any, labels: list[str]) -> None:
        self.plan, self.task, self.tokenizer, self.labels = plan, task, tokenizer, labels
        self.max_length = int(plan.meta.get("max_length", 64))
        self.old_texts = [t for t, _ in plan.old_dev]
        self.old_gold = [y for _, y in plan.old_dev]
        self.new_texts = [row.text for row in plan.held]
        self.new_gold = [row.label for row in plan.held]
        self.champion_old: list[str] = []
        self.champion_new: list[str] = []

    def predict(self, task: Any, texts: list[str]) -> tuple[list[str], np.ndarray]:
        from shared.continual import predict_labels

        return predict_labels(task, self.tokenizer, self.labels, texts, self.max_length)

    def embed_frozen(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors of the base model with the adapter switched off (unit length)."""
        from shared.inference import run_batched
        from shared.lora import pooled_hidden

        encoder, pooling = self.task.encoder, self.task.pooling
        with encoder.disable_adapter():
            vectors = run_batched(texts, self.tokenizer, lambda b: pooled_hidden(encoder, b, pooling), 128,
                                  self.max_length)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def gate(self, texts: list[str], labels: list[str]):
        from shared.gate import check_labels

        return check_labels(self.embed_frozen(texts), labels)

    def _cache_path(self):
        key = content_hash(str(self.plan.champion.path), self.plan.champion.version, *self.old_texts)[:24]
        return state_dir("learning", "cache") / f"{self.plan.job.app}_{self.plan.job.name}_{key}.json"

    def score_champion(self) -> dict[str, Any]:
        path = self._cache_path()
        try:
            self.champion_old = json.loads(path.read_text())
        except (OSError, ValueError):
            from shared.atomic import write_text

            self.champion_old = self.predict(self.task, self.old_texts)[0]
            write_text(path, json.dumps(self.champion_old))
        self.champion_new = self.predict(self.task, self.new_texts)[0]
        return self.scores(self.champion_old, self.champion_new)

    def scores(self, old_pred: list[str], new_pred: list[str]) -> dict[str, Any]:
        from shared.promotion import macro_f1

        return {"old_dev": round(macro_f1(self.old_gold, old_pred), 4),
                "new_dev": round(macro_f1(self.new_gold, new_pred), 4),
                "old_dev_accuracy": round(_accuracy(self.old_gold, old_pred), 4),
                "new_dev_accuracy": round(_accuracy(self.new_gold, new_pred), 4)}

    def judge(self, trained: Any, champion: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """The challenger's scores and the verdict; calibrates its temperature on the old dev set."""
        from shared.classifier import fit_temperature
        from shared.promotion import Scores, decide, paired_bootstrap

        old_pred, logits = self.predict(trained.task, self.old_texts)
        new_pred, _ = self.predict(trained.task, self.new_texts)
        index = {label: i for i, label in enumerate(self.labels)}
        trained.meta["temperature"] = fit_temperature(logits, np.array([index[y] for y in self.old_gold]))
        scores = self.scores(old_pred, new_pred)
        knobs = self.plan.job.knobs
        _, p = paired_bootstrap(self.new_gold, self.champion_new, new_pred, seed=knobs.seed)
        verdict = decide(_scores(champion, Scores), _scores(scores, Scores), p, knobs.max_regression, knobs.alpha,
                         n_new=len(self.new_gold))
        return scores, verdict


def _scores(values: dict[str, Any], cls: type) -> Any:
    return cls(values["old_dev"], values["new_dev"])


def _accuracy(gold: list[str], pred: list[str]) -> float:
    return float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])) if gold else 0.0


def estimate_seconds(evaluator: Evaluator, mix: Any, n_new: int, n_old: int, batch_size: int) -> float:
    """A measured guess: one inference batch timed here, a training step counted as three of them."""
    sample = (evaluator.old_texts + evaluator.new_texts)[:batch_size]
    start = time.perf_counter()
    evaluator.predict(evaluator.task, sample)
    per_batch = max(time.perf_counter() - start, 1e-3)
    new, old = mix.sizes(n_new, n_old)
    steps = mix.epochs * -(-(new + old) // batch_size)
    teacher = mix.epochs * old if getattr(mix, "distill", 0) else 0
    scoring = (2 * len(evaluator.old_texts) + 3 * len(evaluator.new_texts) + n_new + teacher) / max(len(sample), 1)
    return per_batch * (3 * steps + scoring)
