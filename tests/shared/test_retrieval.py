"""shared.retrieval.HybridIndex with deterministic fake vectors, and shared.passages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pytest

from shared.errors import LorasuiteError
from shared.passages import Document, Passage, slug, split_text
from shared.retrieval import RRF_K, HybridIndex, stamp

DIM = 32


def vec(text: str) -> np.ndarray:
    """A deterministic unit vector per text (similar texts are NOT close: dense is noise here)."""
    raw = np.frombuffer(hashlib.sha256(text.encode()).digest(), dtype=np.uint8)[:DIM].astype(np.float32) - 127.5
    return raw / np.linalg.norm(raw)


def doc(source: str, *texts: str, title: str = "Cards") -> Document:
    passages = [Passage(t, title, f"Part {i + 1}", f"part-{i + 1}", source=source) for i, t in enumerate(texts)]
    return Document(source, hashlib.sha256("".join(texts).encode()).hexdigest(), title, passages)


def add(index: HybridIndex, document: Document) -> list[int]:
    return index.add_document(document, np.stack([vec(p.embed_text()) for p in document.chunks]))


@pytest.fixture
def index() -> HybridIndex:
    index = HybridIndex(DIM)
    add(index, doc("cards.md", "Freeze a lost card in the app.", "Cards arrive in five working days."))
    add(index, doc("fees.md", "Exchange rates and fees at the weekend.", "Error NW-7734 blocks a login.",
                   title="Fees"))
    return index


def test_search_fuses_dense_and_bm25(index):
    text = "Cards. Part 1. Freeze a lost card in the app."
    hits = index.search("lost card", vec(text), k=3)
    assert hits[0].chunk.text.startswith("Freeze") and hits[0].dense_rank == 1 and hits[0].bm25_rank == 1
    assert hits[0].score == pytest.approx(2 / (RRF_K + 1)) and hits[0].cosine == pytest.approx(1.0, abs=1e-5)
    code = index.search("nw-7734", vec("unrelated"), k=1)[0]
    assert "NW-7734" in code.chunk.text and code.bm25_rank == 1
    assert all(h.bm25_rank == 0 for h in index.search("zzz", vec("zzz"), k=4))  # dense only
    assert index.search("lost card", vec("x"), k=0) == []


def test_within_restricts_both_rankings(index):
    fees = set(index.docs["fees.md"]["ids"])
    hits = index.search("lost card fees", vec("q"), k=5, within=fees)
    assert {h.chunk.id for h in hits} == fees
    assert index.search("lost card", vec("q"), k=5, within=set()) == []
    assert index.search("lost card", vec("q"), k=5, within={999}) == []


def test_documents_replace_and_remove_by_source(index):
    old = set(index.docs["cards.md"]["ids"])
    new = add(index, doc("cards.md", "Order a new card."))
    assert not old & set(index.chunks) and len(index) == 3 and new == [5]
    assert index.search("order new card", vec("q"), k=1)[0].chunk.id == 5
    assert index.remove_source("cards.md") == 1 and index.remove_source("nope") == 0
    assert [p.source for p in index.passages()] == ["fees.md", "fees.md"]
    assert [p.id for p in index.passages(lambda p: "NW" in p.text)] == [4]


def test_empty_index():
    index = HybridIndex(DIM)
    assert len(index) == 0 and index.search("anything", vec("a")) == []
    assert list(index.similarity(vec("a"))) == [-1.0]
    index.prepare()


def test_save_load_round_trip(index, tmp_path):
    path = index.save(tmp_path / "idx")
    again = HybridIndex.load(path)
    assert again.docs == index.docs and again.next_id == index.next_id and stamp(path) > 0
    assert again._bm25 is not None  # BM25 read from bm25/, not rebuilt
    query = ("lost card fees", vec("q"))
    assert [(h.chunk, h.score) for h in again.search(*query, k=4)] == [(h.chunk, h.score) for h in
                                                                       index.search(*query, k=4)]
    assert np.allclose(again.similarity(vec("q")), index.similarity(vec("q")))
    HybridIndex(DIM).save(tmp_path / "empty")
    assert len(HybridIndex.load(tmp_path / "empty")) == 0


def test_missing_damaged_and_stale_parts(index, tmp_path):
    with pytest.raises(LorasuiteError, match="no retrieval index"):
        HybridIndex.load(tmp_path / "none")
    assert stamp(tmp_path / "none") == 0.0
    path = index.save(tmp_path / "idx")
    (path / "bm25" / "vocab.index.json").write_text("{broken")
    again = HybridIndex.load(path)  # BM25 is derived data: rebuilt, not fatal
    assert again._bm25 is None and again.search("nw-7734", vec("q"), k=1)[0].bm25_rank == 1
    (path / "chunks.jsonl").write_text('{"text": "x", "id": 1}\n')
    with pytest.raises(LorasuiteError, match="inconsistent"):
        HybridIndex.load(path)
    (path / "dense" / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(LorasuiteError, match="damaged"):
        HybridIndex.load(path)


def test_subclass_records_and_messages(tmp_path):
    @dataclass
    class Tagged(Passage):
        intent: str = ""

    class TaggedIndex(HybridIndex):
        record, kind, rebuild = Tagged, "tagged index", "run the tagger"

    index = TaggedIndex(DIM)
    index.add_document(Document("a", "h", "A", [Tagged("Unicode ✓ café 日本語", "A", intent="x")]), vec("a")[None, :])
    loaded = TaggedIndex.load(index.save(tmp_path / "t"))
    assert loaded.passages()[0] == Tagged("Unicode ✓ café 日本語", "A", intent="x", id=1)
    assert loaded.search("CAFÉ", vec("q"), k=1)[0].bm25_rank == 1
    with pytest.raises(LorasuiteError, match="no tagged index.*run the tagger"):
        TaggedIndex.load(tmp_path / "missing")


def test_passages_and_chunking():
    p = Passage("Body", "Title", "Section")
    assert p.label == "Title › Section" and p.embed_text() == "Title. Section. Body"
    assert Passage("Body", "T", "T").label == "T" and Passage("Body").embed_text() == "Body"
    assert slug("  How long does it take? ") == "how-long-does-it-take" and slug("!!!") == "section"
    text = "\n\n".join(["Short para."] * 3 + ["A sentence here. " * 30])
    pieces = split_text(text, max_chars=120)
    assert all(len(piece) <= 120 for piece in pieces) and pieces[0].startswith("Short para.")
    assert split_text("x" * 250, max_chars=100) == ["x" * 100, "x" * 100, "x" * 50]
    assert split_text("   ") == [] and split_text("tiny") == ["tiny"]
