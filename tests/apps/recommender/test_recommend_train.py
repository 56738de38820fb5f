"""Next-item pairs and a tiny bi-encoder trained end to end (tiny BERT, a couple of steps)."""

import json

import numpy as np
import pytest

from apps.cli import main
from apps.recommender.app import service_of
from apps.recommender.catalog import read_interactions, read_items
from apps.recommender.train import next_item_pairs, split_pairs
from shared import adapters
from shared.errors import DataError


def test_next_item_pairs_follow_time_order_and_skip_dislikes(micro_files):
    items = read_items(micro_files[0]).rows
    inter = read_interactions(micro_files[1]).rows
    pairs = next_item_pairs(items, inter)
    assert [q for q, _ in pairs["space1"]] == ["Stars of the Expanse", "The Void Fleet; Stars of the Expanse"]
    assert pairs["space1"][1][1].startswith("Orbit of Ash. genres: science-fiction, space-opera. A slow-burn")
    assert "myst1" in pairs and all("Salt and Flame" not in q for q, _ in pairs["myst1"])  # disliked: not context
    train, dev = split_pairs(pairs)
    assert len(dev) == sum(1 for p in pairs.values() if len(p) > 1)
    assert len(train) + len(dev) == sum(len(p) for p in pairs.values())


def test_train_tiny_adapter_and_recommend_with_it(tmp_path, micro_files, tiny_bert, capsys, ctx):
    code = main(["recommender", "train", "--items", micro_files[0], "--interactions", micro_files[1], "--name", "tiny",
                 "--model", tiny_bert, "--epochs", "1", "--batch-size", "8", "--max-length", "32"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["adapter"] == "recommender/tiny" and printed["pairs"] == 7
    path = adapters.find("recommender", "tiny")
    meta = adapters.read_meta(path)
    assert meta["task"] == "biencoder" and meta["base_model"] == tiny_bert and meta["max_length"] == 32
    assert (path / "adapter_model.safetensors").exists()

    main(["recommend", "import", "--items", micro_files[0], "--interactions", micro_files[1]])
    users = tmp_path / "users.txt"
    users.write_text("space1\nghost\n")
    out = tmp_path / "recs.jsonl"
    assert main(["recommend", "batch", "--users", str(users), "--k", "4", "--output", str(out),
                 "--adapter", "tiny"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(r["items"]) for r in rows] == [4, 4]
    assert not set(rows[0]["items"]) & {"s1", "s2", "s3", "m2"}
    engine = service_of(ctx).engine("tiny")
    assert engine.key == "recommender/tiny@1" and engine.signals.vectors.shape == (12, 32)
    assert not np.allclose(engine.signals.vectors, engine.signals.base)  # tuned vectors are the adapter's
    # a retrain is a new champion: the next request is served by an engine pinned to it
    main(["recommender", "train", "--items", micro_files[0], "--interactions", micro_files[1], "--name", "tiny",
          "--model", tiny_bert, "--epochs", "1", "--batch-size", "8", "--max-length", "32", "--seed", "7"])
    assert service_of(ctx).engine("tiny").key == "recommender/tiny@2"
    assert service_of(ctx).engine("recommender/tiny@1").key == "recommender/tiny@1"


def test_too_few_pairs_is_a_clear_error(tmp_path, micro_files):
    from apps.recommender.train import train_from_files

    one = tmp_path / "one.csv"
    one.write_text("user_id,item_id,rating,timestamp\nu,s1,5,1\nu,s2,5,2\n")
    with pytest.raises(DataError, match="only 1 next-item pairs"):
        train_from_files(micro_files[0], one, "x")
