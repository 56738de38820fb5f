"""Adapter versions: numbering, the champion pointer, promote / rollback, references, and a
backbone that follows the champion and unloads what it no longer serves."""

import json

import pytest

from shared import adapters, registry
from shared.adapters import TrainedAdapter
from shared.backbone import Backbone
from shared.classifier import train_classifier
from shared.errors import AdapterNotFoundError, LorasuiteError
from shared.settings import LoraSettings

FAST = dict(epochs=1, lr=5e-3, batch_size=8, max_length=16, early_stopping_patience=0)
TEXTS = ["good", "fine day", "awful", "bad day"] * 3
LABELS = ["pos", "pos", "neg", "neg"] * 3


@pytest.fixture(scope="module")
def trained(tiny_bert):
    """Two different classifiers (different seeds) to save as versions."""
    return [train_classifier(TEXTS, LABELS, LoraSettings(**FAST, seed=s), model=tiny_bert) for s in (1, 2)]


def _save(trained: TrainedAdapter, **kw):
    return adapters.save("demo", "mood", trained, **kw)


def test_refs_parse_names_versions_and_paths(tmp_path):
    assert registry.parse_ref("sentiment/finance") == registry.Ref("sentiment", "finance")
    assert registry.parse_ref("finance@3", app="sentiment") == registry.Ref("sentiment", "finance", 3)
    assert str(registry.parse_ref("support/intent@2")) == "support/intent@2"
    folder = tmp_path / "my-adapter"
    folder.mkdir()
    (folder / "meta.json").write_text("{}")
    assert registry.parse_ref(str(folder)).path == folder.resolve()
    with pytest.raises(LorasuiteError, match="names no app"):
        registry.parse_ref("finance")
    with pytest.raises(LorasuiteError, match="neither"):
        registry.parse_ref("/no/such/folder")
    with pytest.raises(LorasuiteError, match="invalid adapter name"):
        adapters.save("demo", "v2", None)


def test_versions_champion_promote_reject_and_rollback(trained):
    first = _save(trained[0])
    assert first.name == "v1" and registry.resolve("demo/mood").version == 1
    second = _save(trained[1], status="challenger", parent=1)
    assert registry.resolve("demo/mood").version == 1  # a challenger is not served
    assert registry.resolve("demo/mood@2").path == second
    assert json.loads((second / "meta.json").read_text())["parent"] == 1
    registry.promote("demo", "mood", 2, reason="won")
    assert [(r["version"], r["status"]) for r in registry.history("demo", "mood")] == [(1, "retired"), (2, "champion")]
    assert registry.rollback("demo", "mood").version == 1
    assert [r["status"] for r in registry.history("demo", "mood")] == ["champion", "retired"]
    with pytest.raises(LorasuiteError, match="no earlier champion"):
        registry.rollback("demo", "mood")
    _save(trained[1], status="challenger", parent=1)
    registry.reject("demo", "mood", 3, "no better on new data")
    rows = {r["version"]: r for r in registry.history("demo", "mood")}
    assert rows[3]["status"] == "rejected" and rows[3]["reason"] == "no better on new data"
    assert registry.resolve("demo/mood").version == 1
    with pytest.raises(AdapterNotFoundError, match="no version 9"):
        registry.resolve("demo/mood@9")


def test_shipped_adapter_is_version_one_and_new_versions_go_home():
    shipped = registry.resolve("sentiment/finance")
    assert (shipped.version, shipped.source) == (1, "shipped")
    assert registry.next_number("sentiment", "finance") == 2


def test_backbone_follows_the_champion_and_unloads_the_old_weights(tiny_bert, trained):
    _save(trained[0])
    backbone = Backbone(tiny_bert)
    first = backbone.classify_probs(TEXTS[:4], "demo/mood")[1]
    _save(trained[1])  # a retrain: the new version is the champion
    second = backbone.classify_probs(TEXTS[:4], "demo/mood")[1]
    assert not (first == second).all()
    assert len(backbone.model.peft_config) == 1  # the old version was deleted from the model
    registry.rollback("demo", "mood")
    assert (backbone.classify_probs(TEXTS[:4], "demo/mood")[1] == first).all()
    pinned = backbone.classify_probs(TEXTS[:4], "demo/mood@2")[1]
    assert (pinned == second).all() and len(backbone.model.peft_config) == 2
