"""Support fixtures: an inline micro help centre, its index (built once), a real-format intent adapter.

``proto_intent`` is a genuine registry adapter for the real MiniLM: a freshly initialised
LoRA (B = 0, so it leaves the encoder unchanged) plus a linear head whose rows are the
normalised centroids of a few example questions per intent: a nearest-centroid classifier
that is deterministic and costs seconds instead of a training run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from support_kb import EXAMPLES, TEST_THRESHOLDS, write_kb


@pytest.fixture(autouse=True)
def support_config(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(TEST_THRESHOLDS)
    monkeypatch.setenv("LORASUITE_CONFIG", str(path))
    return path


@pytest.fixture
def kb_dir(tmp_path) -> Path:
    """A fresh copy of the micro help centre (safe to edit)."""
    return write_kb(tmp_path / "kb")


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, minilm) -> Path:
    """The micro help centre ingested once with the real MiniLM; copied into each test's home."""
    from apps.support.ingest import ingest

    root = tmp_path_factory.mktemp("support-index")
    ingest([write_kb(root / "kb")], path=root / "index")
    return root / "index"


@pytest.fixture
def index_home(lorasuite_home, built_index) -> Path:
    """This test's LORASUITE_HOME with the micro help-centre index in place."""
    dest = lorasuite_home / "indexes" / "support"
    shutil.copytree(built_index, dest)
    return dest


@pytest.fixture(scope="session")
def proto_intent(tmp_path_factory, minilm) -> Path:
    """Folder of a nearest-centroid intent adapter for the real MiniLM (see the module docstring)."""
    import torch

    from shared import adapters
    from shared.adapters import TrainedAdapter
    from shared.lora import wrap
    from shared.models import load_encoder, resolve
    from shared.settings import LoraSettings

    labels = sorted(EXAMPLES)
    rows = []
    for label in labels:
        raw = minilm.encode(EXAMPLES[label], normalize=False)
        rows.append(raw.mean(axis=0))
    weight = np.stack(rows)
    norms = np.linalg.norm(weight, axis=1, keepdims=True)
    weight = weight / norms**2 * 12.0  # logit ~ 12 * cos * |x|/|c|: sharp for close questions
    peft_model = wrap(load_encoder(resolve("minilm")), LoraSettings())
    head = {"linear.weight": torch.tensor(weight, dtype=torch.float32),
            "linear.bias": torch.zeros(len(labels), dtype=torch.float32)}
    meta = {"task": "classify", "base_model": "minilm", "labels": labels, "pooling": "mean", "temperature": 1.0,
            "max_length": 64, "metrics": {}}
    root = tmp_path_factory.mktemp("proto-adapter")
    return adapters.save("support", "proto_intent", TrainedAdapter(peft_model, head, meta), root=root)


@pytest.fixture
def bot(index_home, proto_intent):
    """A SupportBot on the micro help centre and the prototype intent adapter (no slot tagging: faster)."""
    from support_kb import pinned_ctx

    from apps.support.bot import SupportBot

    return SupportBot(pinned_ctx(slots="off"), adapter=str(proto_intent))


@pytest.fixture
def slot_bot(index_home, proto_intent):
    """The same bot with slot tagging on (used when the shipped slots adapter exists)."""
    from support_kb import file_ctx

    from apps.support.bot import SupportBot

    return SupportBot(file_ctx(), adapter=str(proto_intent))
