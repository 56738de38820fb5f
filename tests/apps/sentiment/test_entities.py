"""Entities on headlines (issue 7): the real Backbone.tag path with a deterministic tagger adapter."""

from __future__ import annotations

import json

import pytest
from sentiment_helpers import rss


@pytest.fixture
def every_word_org(tiny_bert, lorasuite_home) -> str:
    """A genuine tag adapter on tiny_bert whose head says B-ORG for every word (zero weights, biased)."""
    import torch

    from shared import adapters
    from shared.adapters import TrainedAdapter
    from shared.lora import wrap
    from shared.models import load_encoder, resolve
    from shared.settings import LoraSettings
    from shared.tagging import TagHead

    head = TagHead(32, 3)
    with torch.no_grad():
        head.linear.weight.zero_()
        head.linear.bias.copy_(torch.tensor([0.0, 5.0, 0.0]))  # O, B-ORG, I-ORG
    meta = {"task": "tag", "base_model": tiny_bert, "labels": ["O", "B-ORG", "I-ORG"], "types": ["ORG"],
            "max_length": 32}
    adapters.save("ner", "everyorg", TrainedAdapter(wrap(load_encoder(resolve(tiny_bert)), LoraSettings(r=2)),
                                                    head.state_dict(), meta))
    return "ner/everyorg"


def test_org_entities_are_stored_and_become_topics(tiny_sentiment, every_word_org, db, lorasuite_home, tmp_path,
                                                  home_settings):
    from apps.sentiment.ingest import Pipeline, ingest_sources

    (lorasuite_home / "config.toml").write_text(f'[sentiment]\nadapter = "tiny"\nner_adapter = "{every_word_org}"\n')
    path = tmp_path / "f.xml"
    path.write_text(rss([{"title": "Boeing hires Spirit", "guid": "e1"}]))
    pipeline = Pipeline.from_config(db, home_settings())
    assert pipeline.tagger is not None
    assert ingest_sources([str(path)], db, pipeline).new == 1
    row = db.query("SELECT id, entities FROM sentiment_items")[0]
    entities = json.loads(row["entities"])
    assert [(e["text"], e["type"], e["start"], e["end"]) for e in entities] == [
        ("Boeing", "ORG", 0, 6), ("hires", "ORG", 7, 12), ("Spirit", "ORG", 13, 19)]
    topics = {r["topic"]: r["kind"] for r in db.query("SELECT topic, kind FROM sentiment_item_topics")}
    assert topics["Boeing"] == "watch"  # the ORG merged into the watched topic
    assert topics["Spirit"] == "org"  # an organisation nobody watches is a topic of its own


def test_tagging_is_off_without_the_adapter(tiny_sentiment, db):
    from apps.sentiment.classify import EntityTagger

    assert EntityTagger.maybe("ner/missing") is None and EntityTagger.maybe("off") is None
