"""Training, determinism and save/load identity of the LoRA classifier (tiny BERT: seconds)."""

import numpy as np
import pytest

from shared import adapters
from shared.backbone import Backbone
from shared.classifier import fit_temperature, predict_logits, train_classifier
from shared.settings import LoraSettings

TEXTS = ["great profit rise", "record earnings beat", "shares soar on strong sales", "upbeat outlook lifts stock",
         "heavy losses reported", "profit warning issued", "shares plunge after miss", "bankruptcy fears grow"] * 4
LABELS = (["positive"] * 4 + ["negative"] * 4) * 4
FAST = dict(epochs=20, lr=1e-2, batch_size=8, max_length=16, seed=1, early_stopping_patience=0)


@pytest.fixture(scope="module")
def trained(tiny_bert):
    return train_classifier(TEXTS, LABELS, LoraSettings(**FAST), model=tiny_bert, dev=(TEXTS[:8], LABELS[:8]))


def test_training_learns_the_task(trained):
    logits = predict_logits(trained.task, trained.tokenizer, TEXTS[:8], 16)
    predicted = [trained.meta["labels"][i] for i in logits.argmax(1)]
    assert np.mean([p == g for p, g in zip(predicted, LABELS[:8])]) >= 0.75
    assert trained.meta["metrics"]["dev_accuracy"] >= 0.75
    assert trained.meta["labels"] == ["negative", "positive"]
    assert 0 < trained.meta["trainable_params"] < trained.meta["total_params"]
    assert trained.history and all("loss" in h for h in trained.history)


def test_same_seed_same_weights(tiny_bert, trained):
    again = train_classifier(TEXTS, LABELS, LoraSettings(**FAST), model=tiny_bert, dev=(TEXTS[:8], LABELS[:8]))
    for key, value in trained.head_state.items():
        assert np.array_equal(value.numpy(), again.head_state[key].numpy())


def test_save_load_gives_identical_predictions(tiny_bert, trained):
    """The head and the LoRA weights must both survive the round trip (a known peft pitfall)."""
    path = adapters.save("core", "tiny", trained)
    assert {"adapter_config.json", "adapter_model.safetensors", "head.safetensors", "meta.json"} <= {
        p.name for p in path.iterdir()}
    before = predict_logits(trained.task, trained.tokenizer, TEXTS, 16) / trained.meta["temperature"]
    before = np.exp(before - before.max(1, keepdims=True))
    before /= before.sum(1, keepdims=True)
    backbone = Backbone(tiny_bert)
    labels, after = backbone.classify_probs(TEXTS, backbone.load("core", "tiny"))
    assert labels == trained.meta["labels"]
    assert np.allclose(before, after, atol=1e-6)


def test_temperature_fit_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 2, 400)
    logits = np.stack([np.where(gold == 0, 5.0, -5.0), np.where(gold == 0, -5.0, 5.0)], 1)
    flip = rng.random(400) < 0.2  # 20% confidently wrong: the right temperature is > 1
    logits[flip] = -logits[flip]
    assert fit_temperature(logits, gold) > 1.5
