"""Train a sentiment adapter (``sentiment/<name>``) from a CSV with ``text,label`` columns.

Labels must include ``negative`` (the alerts count negatives); ``negative/neutral/positive``
is the expected set (the Twitter financial news set, PhraseBank). Validation happens before
any training, and the adapter is saved atomically; a running monitor picks up a retrained
adapter on its next batch.

    lorasuite sentiment train --data data/sentiment/twitter_fin_news_train.csv --name mine --dev dev.csv
"""

from __future__ import annotations

from pathlib import Path

from shared.datasets import read_labeled_csv
from shared.errors import DataError
from shared.settings import LoraSettings

EXPECTED = {"negative", "neutral", "positive"}


def check_labels(path: str | Path, text_col: str = "text", label_col: str = "label") -> list[str]:
    """The file's label set, after checking it can drive the alerts (has ``negative``)."""
    _, labels = read_labeled_csv(path, text_col, label_col)
    found = sorted(set(labels))
    if "negative" not in found:
        raise DataError(path, f"labels {found} have no 'negative'", fix="use negative/neutral/positive labels")
    return found


def train(data: str | Path, name: str, dev: str | Path | None = None, settings: LoraSettings | None = None,
          model: str = "minilm", teacher: str | None = None, unlabeled: str | Path | None = None) -> Path:
    """Validate, train a LoRA classifier and save it as ``sentiment/<name>``; returns its path.

    ``teacher`` (e.g. ``mpnet``) distils into the MiniLM student, also on ``unlabeled`` headlines.
    """
    from shared.tasks import train_classify_files

    check_labels(data)
    return train_classify_files(data, name, app="sentiment", dev=dev, settings=settings, model=model,
                                teacher=teacher, unlabeled=unlabeled)
