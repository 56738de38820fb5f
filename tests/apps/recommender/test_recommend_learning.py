"""The recommender's learning loop: page likes become new next-item pairs; a retrain is judged on them."""

from __future__ import annotations

import json

import pytest

from apps.cli import main
from apps.recommender import learning
from apps.recommender.catalog import read_interactions, read_items
from apps.recommender.train import next_item_pairs, split_pairs
from shared import adapters, registry

FAST = dict(epochs=1, lr=5e-3, batch_size=8, max_length=32, early_stopping_patience=0, r=2)


@pytest.fixture
def champion(tiny_bert, micro_files, micro_store, lorasuite_home):
    """recommender/tinyrec trained on the micro catalogue, with its data recorded, made the configured adapter."""
    from shared.biencoder import train_biencoder
    from shared.settings import LoraSettings

    items = read_items(micro_files[0]).rows
    pairs = next_item_pairs(items, read_interactions(micro_files[1], {i.item_id for i in items}).rows)
    train, _ = split_pairs(pairs)
    trained = train_biencoder(train, LoraSettings(**FAST), model=tiny_bert)
    source = {"items": micro_files[0], "interactions": micro_files[1], "in": "absolute", "min_pref": 0.4}
    trained.meta.update(train_data={"sources": [source]}, dev_data=dict(source, part="dev"), min_pref=0.4)
    adapters.save("recommender", "tinyrec", trained)
    (lorasuite_home / "config.toml").write_text('[recommender]\nadapter = "recommender/tinyrec"\n'
                                                "[learning]\nepochs = 1\n")
    return micro_store


def _likes(store, n_users: int = 12) -> None:
    """Page likes: new readers who like two space operas, then a third, in time order."""
    for u in range(n_users):
        for t, item in enumerate(["s1", "x1", "s3", "s2"]):
            store.add_feedback(f"new{u}", item, 5.0)
            store.db.execute("UPDATE recommender_interactions SET ts = :t WHERE user_id = :u AND item_id = :i",
                             {"t": 1_800_000_000 + 60 * t, "u": f"new{u}", "i": item})


def test_likes_count_as_new_data(champion, ctx):
    assert learning.pending(ctx, "tinyrec") == 0
    _likes(champion, 3)
    assert learning.pending(ctx, "tinyrec") == 9  # three readers x three next-item pairs


def test_retrain_recommender_reports_recall_and_records_its_pairs(champion, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("apps.learning.lower_priority", lambda threads: None)
    assert main(["retrain", "recommender"]) == 2  # no new likes yet
    capsys.readouterr()
    _likes(champion)
    assert main(["retrain", "recommender", "--report", str(tmp_path / "R.json")]) == 0
    report = json.loads((tmp_path / "R.json").read_text())
    assert report["name"] == "tinyrec" and report["champion"]["version"] == 1
    assert report["challenger"]["version"] == 2 and 0 <= report["challenger"]["new_dev"] <= 1
    v2 = registry.resolve("recommender/tinyrec@2")
    meta = json.loads((v2.path / "meta.json").read_text())
    assert meta["parent"] == 1 and meta["train_data"]["pairs"] == "train_pairs.csv"
    assert "new_dev_recall_at_10" in meta["metrics"]
    assert (v2.path / "train_pairs.csv").read_text().startswith("query,positive\n")


def test_anonymous_visitors_do_not_steer_the_next_model_by_default(champion, ctx, make_ctx):
    """Visitor ids are free to mint, so a stranger's clicks are not training data unless configured."""
    from apps.recommender.store import VISITOR

    for n in range(5):
        user = f"{VISITOR}forged-token-{n:04d}-aaaaaaaaaaaa"
        for t, item in enumerate(["s1", "x1", "s3"]):
            champion.add_feedback(user, item, 5.0)
            champion.db.execute("UPDATE recommender_interactions SET ts = :t WHERE user_id = :u AND item_id = :i",
                                {"t": 1_800_000_000 + 60 * t, "u": user, "i": item})
    assert learning.pending(ctx, "tinyrec") == 0
    opted_in = make_ctx(recommender={"learn_from_visitors": True})
    assert learning.pending(opted_in, "tinyrec") == 10  # five visitors x two next-item pairs
