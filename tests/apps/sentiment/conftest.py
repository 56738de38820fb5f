"""Sentiment fixtures: an untrained tiny sentiment adapter, a watchlist, synthetic feeds.

``tiny_sentiment`` is a LoRA adapter on the ``tiny_bert`` fixture with a random head: a real
adapter directory the real backbone loads and runs, for tests where sentiment quality does not
matter (ingest, dedupe, scheduling). ``always_negative`` is the same with a constant head, so
alert behaviour through the CLI is predictable. Alert unit tests insert labelled items directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

LABELS = ["negative", "neutral", "positive"]


def _adapter(tiny_bert: str, root: Path, name: str, negative_bias: float | None) -> Path:
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
    if negative_bias is not None:  # a constant classifier: every text is "negative"
        with torch.no_grad():
            head.linear.weight.zero_()
            head.linear.bias.copy_(torch.tensor([negative_bias, 0.0, 0.0]))
    meta = {"task": "classify", "base_model": tiny_bert, "labels": LABELS, "pooling": "mean", "temperature": 1.0,
            "max_length": 32, "settings": settings.to_dict(), "metrics": {}}
    return adapters.save("sentiment", name, TrainedAdapter(peft_model, head.state_dict(), meta), root=root)


@pytest.fixture(scope="session")
def tiny_adapters(tiny_bert, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    return {"tiny": _adapter(tiny_bert, root, "tiny", None), "allneg": _adapter(tiny_bert, root, "allneg", 6.0)}


def _install(adapter_dir: Path, home: Path, name: str) -> str:
    dest = home / "adapters" / "sentiment" / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        os.symlink(adapter_dir, dest)
    (home / "config.toml").write_text(f'[sentiment]\nadapter = "{name}"\ndemo_feeds = false\n')
    return name


@pytest.fixture
def tiny_sentiment(tiny_adapters, lorasuite_home) -> str:
    """The random tiny adapter as ``sentiment/tiny``, made the configured one."""
    return _install(tiny_adapters["tiny"], lorasuite_home, "tiny")


@pytest.fixture
def always_negative(tiny_adapters, lorasuite_home) -> str:
    """A constant adapter (``sentiment/allneg``) that calls every headline negative, made the configured one."""
    return _install(tiny_adapters["allneg"], lorasuite_home, "allneg")


@pytest.fixture
def db(lorasuite_home):
    from apps.sentiment.store import open_db

    return open_db()  # the autouse lorasuite_home fixture disposes it after the test


@pytest.fixture
def home_settings(app_specs):
    """``home_settings()``: the typed [sentiment] section of this test's $LORASUITE_HOME/config.toml."""
    def read():
        from apps.config import load_config

        return load_config(specs=app_specs).app("sentiment")
    return read
