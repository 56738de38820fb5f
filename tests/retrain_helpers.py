"""A tiny champion with locatable training data, for the retrain tests (shared and apps)."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = ["shares", "profit", "sales", "outlook", "stock", "margin", "revenue", "orders", "demand", "costs"]
FAST = dict(epochs=1, lr=5e-3, batch_size=16, max_length=16, early_stopping_patience=0, r=2)


def rows(n: int, seed: int, words: list[str] = WORDS) -> list[tuple[str, str]]:
    """Learnable rows: "good ..." is positive, "bad ..." negative, "flat ..." neutral."""
    rng = random.Random(seed)
    cues = {"positive": "good", "negative": "bad", "neutral": "flat"}
    out = []
    for i in range(n):
        label = rng.choice(sorted(cues))
        out.append((f"{cues[label]} {rng.choice(words)} {rng.choice(words)} {seed}-{i}", label))
    return out


def write_csv(path: Path, data: list[tuple[str, str]]) -> Path:
    from shared.traindata import labels_csv

    path.write_text(labels_csv(data))
    return path


def make_champion(tiny_bert: str, folder: Path, app: str = "sentiment", name: str = "tiny") -> Path:
    """Train a tiny classifier on old-domain rows and save it as ``app/name`` v1 with train_data/dev_data."""
    from shared import adapters
    from shared.classifier import train_classifier
    from shared.settings import LoraSettings

    train, dev = write_csv(folder / "old_train.csv", rows(90, 1)), write_csv(folder / "old_dev.csv", rows(45, 2))
    data = rows(90, 1)
    trained = train_classifier([t for t, _ in data], [y for _, y in data], LoraSettings(**FAST), model=tiny_bert,
                               data_hash="old-data")
    trained.meta.update(train_data={"sources": [{"file": str(train), "in": "absolute"}]},
                        dev_data={"file": str(dev), "in": "absolute"})
    return adapters.save(app, name, trained)
