"""Sentiment fixtures: an untrained tiny sentiment adapter, a watchlist, synthetic feeds.

``tiny_sentiment`` is a LoRA adapter on the ``tiny_bert`` fixture with a random head: a real
adapter directory the real backbone loads and runs, for tests where sentiment quality does not
matter (ingest, dedupe, scheduling). Alert tests insert labelled items directly instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

LABELS = ["negative", "neutral", "positive"]


@pytest.fixture(scope="session")
def tiny_sentiment_dir(tiny_bert, tmp_path_factory) -> Path:
    import torch

    from shared import adapters
    from shared.adapters import TrainedAdapter
    from shared.classifier import ClassifierHead
    from shared.lora import wrap
    from shared.models import load_encoder, resolve
    from shared.settings import LoraSettings

    torch.manual_seed(0)
    settings = LoraSettings(r=2, max_length=32)
    peft_model = wrap(load_encoder(resolve(tiny_bert)), settings)
    head = ClassifierHead(32, len(LABELS))
    meta = {"task": "classify", "base_model": tiny_bert, "labels": LABELS, "pooling": "mean", "temperature": 1.0,
            "max_length": 32, "settings": settings.to_dict(), "metrics": {}}
    root = tmp_path_factory.mktemp("adapters")
    return adapters.save("sentiment", "tiny", TrainedAdapter(peft_model, head.state_dict(), meta), root=root)


@pytest.fixture
def tiny_sentiment(tiny_sentiment_dir, lorasuite_home) -> str:
    """Install the tiny adapter as ``sentiment/tiny`` and make it the configured one."""
    dest = lorasuite_home / "adapters" / "sentiment" / "tiny"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        os.symlink(tiny_sentiment_dir, dest)
    (lorasuite_home / "config.toml").write_text('[sentiment]\nadapter = "tiny"\ndemo_feeds = false\n')
    return "tiny"


@pytest.fixture
def db(lorasuite_home):
    from apps.sentiment.store import close_all, open_db

    database = open_db()
    yield database
    close_all()
