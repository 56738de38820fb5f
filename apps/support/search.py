"""Hybrid retrieval over the help centre: faiss (dense) + BM25 (words), fused by reciprocal rank.

The index lives in one directory, ``$LORASUITE_HOME/indexes/support/`` (written atomically:
an interrupted ingest leaves the previous index): ``chunks.jsonl`` (the passages),
``docs.json`` (source -> content hash and chunk ids, for idempotent re-ingest),
``meta.json`` and ``dense/`` (a ``shared.index.EmbeddingIndex`` of base-MiniLM vectors). BM25
(``rank_bm25.BM25Okapi`` statistics, scored through an inverted index so 10k passages take
about a millisecond) is rebuilt from the passages when the index is loaded.

    index = HybridIndex.load()                  # LorasuiteError if missing/damaged
    hits = index.search("lost my card", embed("lost my card")[0], k=5)
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from apps.support.kb import Chunk, Document
from shared.atomic import atomic_dir
from shared.errors import LorasuiteError
from shared.home import state_dir

log = logging.getLogger(__name__)
RRF_K = 60
FORMAT = 1
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being do does did "
    "i me my we our you your it its this that these those there here what which who whom how when where why "
    "can could will would should shall may might must have has had am not no so just about into than then "
    "them they their he she his her ive im dont".split())


def index_dir() -> Path:
    return state_dir("indexes") / "support"


def tokens(text: str) -> list[str]:
    """BM25 terms: lowercase words without stopwords, plural -s dropped."""
    out = []
    for word in _WORD.findall(text.lower().replace("’", "'")):
        word = word.split("'")[0]
        if word in STOPWORDS or not word:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


class Bm25:
    """BM25Okapi statistics from rank_bm25, scored through per-term postings (vectorised)."""

    def __init__(self, corpus: list[list[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.n = len(corpus)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if not self.n:
            return
        model = BM25Okapi([doc or ["\0"] for doc in corpus])
        doc_len = np.asarray(model.doc_len, dtype=np.float64)
        norm = model.k1 * (1 - model.b + model.b * doc_len / model.avgdl)
        rows: dict[str, list[tuple[int, int]]] = {}
        for row, freqs in enumerate(model.doc_freqs):
            for term, tf in freqs.items():
                rows.setdefault(term, []).append((row, tf))
        for term, pairs in rows.items():
            idx = np.fromiter((r for r, _ in pairs), dtype=np.int64, count=len(pairs))
            tf = np.fromiter((t for _, t in pairs), dtype=np.float64, count=len(pairs))
            self.postings[term] = (idx, model.idf[term] * tf * (model.k1 + 1) / (tf + norm[idx]))

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every document for the query terms (same values as BM25Okapi.get_scores)."""
        out = np.zeros(self.n)
        for term in query:
            if term in self.postings:
                idx, weight = self.postings[term]
                out[idx] += weight
        return out


@dataclass
class Hit:
    """One fused result: the chunk, its RRF score, dense cosine and the two ranks (0 = absent)."""

    chunk: Chunk
    score: float
    cosine: float
    dense_rank: int
    bm25_rank: int


class HybridIndex:
    """Passages + dense vectors + BM25, with per-source bookkeeping for idempotent ingest."""

    def __init__(self, dim: int = 384) -> None:
        from shared.index import EmbeddingIndex

        self.dense = EmbeddingIndex(dim)
        self.chunks: dict[int, Chunk] = {}
        self.docs: dict[str, dict] = {}
        self.next_id = 1
        self._bm25: Bm25 | None = None
        self._order: np.ndarray = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.chunks)

    # --- building -------------------------------------------------------------------------------
    def add_document(self, doc: Document, vectors: np.ndarray) -> list[int]:
        """Add (or replace) a document's chunks with their vectors; returns the new chunk ids."""
        self.remove_source(doc.source)
        ids = list(range(self.next_id, self.next_id + len(doc.chunks)))
        self.next_id += len(doc.chunks)
        for chunk_id, chunk in zip(ids, doc.chunks, strict=True):
            chunk.id = chunk_id
            self.chunks[chunk_id] = chunk
        if ids:
            self.dense.add(ids, vectors)
        self.docs[doc.source] = {"hash": doc.hash, "title": doc.title, "ids": ids}
        self._bm25 = None
        return ids

    def remove_source(self, source: str) -> int:
        """Drop every chunk of a source; returns how many were removed."""
        entry = self.docs.pop(source, None)
        if not entry:
            return 0
        for chunk_id in entry["ids"]:
            self.chunks.pop(chunk_id, None)
        self.dense.remove(entry["ids"])
        self._bm25 = None
        return len(entry["ids"])

    # --- lookup ---------------------------------------------------------------------------------
    def by_intent(self, intent: str) -> list[Chunk]:
        """The chunks of the article(s) tagged with ``intent``, in document order."""
        return sorted((c for c in self.chunks.values() if c.intent == intent), key=lambda c: c.id)

    def intents(self) -> set[str]:
        return {c.intent for c in self.chunks.values() if c.intent}

    def similarity(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of the closest passage for each query vector (-1 when the index is empty)."""
        vectors = np.atleast_2d(vectors)
        if not self.chunks:
            return np.full(len(vectors), -1.0)
        return self.dense.search(vectors, 1)[0][:, 0].astype(np.float64)

    def prepare(self) -> None:
        """Build the BM25 postings and the faiss index ahead of the first search."""
        self._bm25_model()
        if len(self.dense):
            self.dense.search(np.zeros((1, self.dense.dim), dtype=np.float32), 1)

    def _bm25_model(self) -> Bm25:
        if self._bm25 is None:
            self._order = np.array(sorted(self.chunks), dtype=np.int64)
            self._bm25 = Bm25([tokens(self.chunks[int(i)].embed_text()) for i in self._order])
        return self._bm25

    def search(self, text: str, vector: np.ndarray, k: int = 5, within: set[int] | None = None,
               depth: int = 50) -> list[Hit]:
        """Top-k chunks for a query by reciprocal-rank fusion of dense and BM25 rankings."""
        if not self.chunks:
            return []
        bm25 = self._bm25_model()
        lexical = bm25.scores(tokens(text))
        if within is not None:
            allowed = np.isin(self._order, np.fromiter(within, dtype=np.int64, count=len(within)))
            lexical = np.where(allowed, lexical, 0.0)
            cand = [i for i in within if i in self.chunks]
            cos = self._cosines(cand, vector)
            dense = sorted(zip(cand, cos, strict=True), key=lambda p: -p[1])[:depth]
        else:
            scores, ids = self.dense.search(np.asarray(vector)[None, :], min(depth, len(self.chunks)))
            dense = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        top = np.argsort(-lexical, kind="stable")[:depth]
        lexical_ids = [int(self._order[r]) for r in top if lexical[r] > 0]
        return self._fuse(dense, lexical_ids, vector, k)

    def _cosines(self, ids: list[int], vector: np.ndarray) -> list[float]:
        return [float(self.dense.vector(i) @ vector) for i in ids]

    def _fuse(self, dense: list[tuple[int, float]], lexical: list[int], vector: np.ndarray, k: int) -> list[Hit]:
        fused: dict[int, float] = {}
        dense_rank = {chunk_id: r + 1 for r, (chunk_id, _) in enumerate(dense)}
        bm25_rank = {chunk_id: r + 1 for r, chunk_id in enumerate(lexical)}
        for ranking in (dense_rank, bm25_rank):
            for chunk_id, rank in ranking.items():
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
        cosine = dict(dense)
        best = sorted(fused, key=lambda i: (-fused[i], -cosine.get(i, -1.0)))[:k]
        missing = [i for i in best if i not in cosine]
        cosine.update(zip(missing, self._cosines(missing, vector), strict=True))
        return [Hit(self.chunks[i], fused[i], cosine[i], dense_rank.get(i, 0), bm25_rank.get(i, 0)) for i in best]

    # --- persistence ----------------------------------------------------------------------------
    def save(self, path: Path | None = None) -> Path:
        """Write the whole index atomically (the previous one stays until the rename)."""
        path = path or index_dir()
        with atomic_dir(path) as tmp:
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as out:
                for chunk_id in sorted(self.chunks):
                    out.write(json.dumps(self.chunks[chunk_id].to_dict(), ensure_ascii=False) + "\n")
            (tmp / "docs.json").write_text(json.dumps(self.docs, indent=1))
            self.dense.save(tmp / "dense")
            meta = {"format": FORMAT, "next_id": self.next_id, "chunks": len(self.chunks), "docs": len(self.docs)}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        return path

    @classmethod
    def load(cls, path: Path | None = None) -> HybridIndex:
        """Read the index; a missing or damaged one raises LorasuiteError saying how to rebuild."""
        from shared.index import EmbeddingIndex

        path = path or index_dir()
        rebuild = "run `lorasuite support ingest data/support/kb` (or your help-centre folder) to rebuild it"
        if not (path / "meta.json").exists():
            raise LorasuiteError(f"no help-centre index at {path}; {rebuild}")
        try:
            meta = json.loads((path / "meta.json").read_text())
            dense = EmbeddingIndex.load(path / "dense")
            index = cls(dense.dim)
            index.dense, index.next_id = dense, int(meta["next_id"])
            index.docs = json.loads((path / "docs.json").read_text())
            with open(path / "chunks.jsonl", encoding="utf-8") as rows:
                for line in rows:
                    chunk = Chunk(**json.loads(line))
                    index.chunks[chunk.id] = chunk
        except (OSError, ValueError, KeyError, TypeError, LorasuiteError) as err:
            raise LorasuiteError(f"the help-centre index at {path} is damaged ({err}); {rebuild}") from err
        if set(index.chunks) != set(index.dense.ids.tolist()):
            raise LorasuiteError(f"the help-centre index at {path} is inconsistent; {rebuild}")
        return index


def stamp(path: Path | None = None) -> float:
    """When the index was last written (0 when absent): lets a running bot notice a re-ingest."""
    try:
        return ((path or index_dir()) / "meta.json").stat().st_mtime
    except OSError:
        return 0.0
