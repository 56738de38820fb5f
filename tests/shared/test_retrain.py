"""Champion/challenger retraining end to end on a tiny model: lineage, held-back labels, the gate."""

import json
import random

import pytest

from shared import labels, registry
from shared.errors import LorasuiteError
from shared.retrain import Job, Knobs, NoNewLabels, plan_classifier, public, run_classifier
from shared.storage import shared_database
from tests.retrain_helpers import make_champion, rows

KNOBS = Knobs(epochs=1, lr=5e-3, batch_size=16, replay_cap=40)


@pytest.fixture
def champion(tiny_bert, tmp_path):
    return make_champion(tiny_bert, tmp_path)


def _job(new_rows):
    db = shared_database()
    labels.record(db, "sentiment", "sentiment", new_rows, source="cli", who="test")
    return Job("sentiment", "tiny", "sentiment", labels.labels(db, "sentiment", "sentiment"), KNOBS)


def test_no_new_labels_is_an_error(champion):
    with pytest.raises(NoNewLabels, match="no new labels"):
        plan_classifier(Job("sentiment", "tiny", "sentiment", [], KNOBS))


def test_retrain_saves_a_challenger_with_its_lineage(champion):
    plan = plan_classifier(_job(rows(80, 7, ["guidance", "dividend", "tender", "merger"])))
    assert len(plan.train) + len(plan.held) == 80 and plan.held and plan.old_dev
    report = run_classifier(plan)
    contract = public(report)
    assert set(contract) == {"app", "name", "champion", "challenger", "promoted", "reason"}
    assert set(contract["champion"]) == set(contract["challenger"]) == {"version", "old_dev", "new_dev"}
    assert contract["champion"]["version"] == 1 and contract["challenger"]["version"] == 2
    assert isinstance(contract["challenger"]["old_dev"], float) and contract["reason"]
    v2 = registry.resolve("sentiment/tiny@2")
    assert v2.status == ("champion" if contract["promoted"] else "rejected")
    meta = json.loads((v2.path / "meta.json").read_text())
    assert meta["parent"] == 1 and meta["train_data"]["labels"] == "train_labels.csv"
    assert meta["labels"] == ["negative", "neutral", "positive"] and meta["task"] == "classify"  # still servable
    assert meta["dev_data"]["file"].endswith("old_dev.csv") and len(meta["data_hashes"]) == 2
    assert meta["labels_through"] == max(r.id for r in plan.train + plan.held)
    assert set(meta["metrics"]) >= {"old_dev_macro_f1", "new_dev_macro_f1"} and meta["gate"]["ok"]
    trained_on = (v2.path / "train_labels.csv").read_text()
    assert all(row.text not in trained_on for row in plan.held)  # held-back labels are never trained on
    from shared.backbone import Backbone

    served = Backbone(meta["base_model"]).classify(["good shares rally"], "sentiment/tiny@2")
    assert served[0].label in meta["labels"]  # the new version serves as it is
    history = registry.history("sentiment", "tiny")
    assert history[-1]["parent"] == 1 and history[-1]["reason"] == contract["reason"]


def test_shuffled_labels_are_refused_before_training(champion):
    data = rows(120, 9, ["guidance", "dividend", "tender", "merger"])
    shuffled = [y for _, y in data]
    random.Random(3).shuffle(shuffled)
    report = run_classifier(plan_classifier(_job([(t, y) for (t, _), y in zip(data, shuffled)])))
    assert report["promoted"] is False and "not learnable" in report["reason"]
    assert report["challenger"] == {"version": None, "old_dev": None, "new_dev": None}
    assert [v.version for v in registry.versions("sentiment", "tiny")] == [1]  # no model was made


def test_a_champion_without_a_dev_set_cannot_be_compared(tiny_bert, tmp_path):
    path = make_champion(tiny_bert, tmp_path)
    meta = json.loads((path / "meta.json").read_text())
    del meta["dev_data"]
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(LorasuiteError, match="records no dev set"):
        plan_classifier(_job(rows(30, 4)))


def test_labels_on_old_dev_texts_are_never_trained_on(champion):
    dev_text = rows(45, 2)[0][0]
    plan = plan_classifier(_job(rows(40, 8) + [(dev_text, "positive")]))
    assert dev_text not in {row.text for row in plan.train}
