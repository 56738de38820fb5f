"""Ingest idempotence (fake embedder: the bookkeeping, not the model) and hybrid ranking (real MiniLM)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from apps.support.ingest import ingest
from apps.support.search import HybridIndex, index_dir
from shared.errors import LorasuiteError

CALLS: list[int] = []


def fake_embed(texts: list[str]) -> np.ndarray:
    """Deterministic unit vectors from a hash of each text (records how many were embedded)."""
    CALLS.append(len(texts))
    rows = [np.frombuffer(hashlib.sha256(t.encode()).digest() * 12, dtype=np.uint8)[:384] for t in texts]
    vectors = np.array(rows, dtype=np.float32) - 127.5
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_reingesting_unchanged_files_does_nothing(kb_dir):
    first = ingest([kb_dir], embed=fake_embed)
    assert (first.added, first.unchanged, first.chunks) == (5, 0, 13)
    stamp = (index_dir() / "meta.json").stat().st_mtime_ns
    CALLS.clear()
    second = ingest([kb_dir], embed=fake_embed)
    assert (second.added, second.updated, second.unchanged, second.removed) == (0, 0, 5, 0)
    assert CALLS == [] and (index_dir() / "meta.json").stat().st_mtime_ns == stamp


def test_changed_file_replaces_its_chunks_only(kb_dir):
    ingest([kb_dir], embed=fake_embed)
    before = HybridIndex.load()
    old_ids = set(before.docs[next(s for s in before.docs if s.endswith("exchange_rate.md"))]["ids"])
    others = {i for s, d in before.docs.items() if not s.endswith("exchange_rate.md") for i in d["ids"]}
    (kb_dir / "exchange_rate.md").write_text("---\ntitle: Rates\nintent: exchange_rate\n---\n## Answer\nNew rates.\n")
    CALLS.clear()
    report = ingest([kb_dir], embed=fake_embed)
    assert (report.updated, report.unchanged) == (1, 4) and CALLS == [1]
    after = HybridIndex.load()
    assert not old_ids & set(after.chunks) and others <= set(after.chunks)
    assert [c.text for c in after.by_intent("exchange_rate")] == ["New rates."]
    assert len(after.dense) == len(after.chunks) == 11


def test_removed_file_is_pruned_and_damaged_index_rebuilt(kb_dir):
    ingest([kb_dir], embed=fake_embed)
    (kb_dir / "card_arrival.md").unlink()
    assert ingest([kb_dir], embed=fake_embed).removed == 1
    assert not HybridIndex.load().by_intent("card_arrival")
    (index_dir() / "dense" / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(LorasuiteError, match="damaged.*lorasuite support ingest"):
        HybridIndex.load()
    report = ingest([kb_dir], embed=fake_embed)
    assert report.rebuilt and report.added == 4 and len(HybridIndex.load()) == 10


def test_missing_index_message_says_how_to_build_it():
    with pytest.raises(LorasuiteError, match="no help-centre index.*lorasuite support ingest"):
        HybridIndex.load()


def test_bad_file_stops_ingest_before_anything_changes(kb_dir):
    ingest([kb_dir], embed=fake_embed)
    stamp = (index_dir() / "meta.json").stat().st_mtime_ns
    (kb_dir / "broken.jsonl").write_text("{not json\n")
    with pytest.raises(LorasuiteError, match="broken.jsonl, row 1"):
        ingest([kb_dir], embed=fake_embed)
    assert (index_dir() / "meta.json").stat().st_mtime_ns == stamp


def test_index_written_before_bm25_was_saved_still_loads(kb_dir):
    """A format-1 index (no bm25/ folder) loads and rebuilds BM25 from its passages."""
    import shutil

    ingest([kb_dir], embed=fake_embed)
    shutil.rmtree(index_dir() / "bm25")
    index = HybridIndex.load()
    hits = index.search("NW-7734", fake_embed(["NW-7734"])[0], k=3)
    assert hits[0].chunk.source.endswith("policy_security.md") and hits[0].bm25_rank == 1


def test_hybrid_ranking_gets_paraphrases_and_exact_codes(index_home, minilm):
    index = HybridIndex.load()

    def top(query: str, within=None) -> list:
        return index.search(query, minilm.encode([query])[0], k=3, within=within)

    paraphrase = top("somebody nicked my wallet, what now?")  # no shared words with the article
    assert paraphrase[0].chunk.intent == "lost_or_stolen_card" and paraphrase[0].dense_rank == 1
    code = top("NW-7734")  # a code the encoder has never seen: BM25 finds it
    assert code[0].chunk.source.endswith("policy_security.md") and code[0].bm25_rank == 1
    both = top("fee for converting currency at the weekend")
    assert both[0].chunk.intent == "exchange_rate" and both[0].dense_rank and both[0].bm25_rank
    article = {c.id for c in index.by_intent("lost_or_stolen_card")}
    restricted = top("how long does it take", within=article)
    assert {h.chunk.id for h in restricted} <= article
    assert restricted[0].chunk.section == "How long does it take"
