"""Hybrid retrieval: dense (faiss) + BM25 (bm25s) over passages, fused by reciprocal rank.

A ``HybridIndex`` holds passages (``shared.passages.Passage`` or an app's subclass), their
vectors in a ``shared.index.EmbeddingIndex`` and a ``shared.lexical.Bm25`` over their
``embed_text()``. Passages are added and removed per source (``add_document`` /
``remove_source``, with the source's content hash kept in ``docs`` for idempotent re-indexing).
``search`` ranks the ``depth`` best passages by cosine and by BM25 and fuses the two rankings:
``score = sum 1 / (60 + rank)`` (ties: higher cosine first); ``within`` restricts it to some ids.

One directory on disk, written atomically (an interrupted save leaves the previous index):
``chunks.jsonl`` (the passages), ``docs.json`` (source -> hash, title, ids), ``meta.json``,
``dense/`` (the faiss index) and ``bm25/`` (bm25s files; rebuilt from the passages when absent,
unreadable or made by another analyzer).

    index = HybridIndex()
    index.add_document(Document("faq.md", sha, "FAQ", passages), vectors)
    hits = index.search("lost my card", encode("lost my card")[0], k=5)   # -> [Hit]
    index.save(path); index = HybridIndex.load(path)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.atomic import atomic_dir
from shared.errors import LorasuiteError
from shared.lexical import DEFAULT, Analyzer, Bm25
from shared.passages import Document, Passage

log = logging.getLogger(__name__)
RRF_K = 60
FORMAT = 2


@dataclass
class Hit:
    """One fused result: the passage, its RRF score, dense cosine and the two ranks (0 = absent)."""

    chunk: Passage
    score: float
    cosine: float
    dense_rank: int
    bm25_rank: int


class HybridIndex:
    """Passages + dense vectors + BM25, with per-source bookkeeping for idempotent indexing."""

    record: type[Passage] = Passage  # what chunks.jsonl rows are read back as
    analyzer: Analyzer = DEFAULT
    kind = "retrieval index"  # how error messages name it
    rebuild = "rebuild it from its sources"  # what error messages tell the user to do

    def __init__(self, dim: int = 384) -> None:
        from shared.index import EmbeddingIndex

        self.dense = EmbeddingIndex(dim)
        self.chunks: dict[int, Passage] = {}
        self.docs: dict[str, dict] = {}
        self.next_id = 1
        self._bm25: Bm25 | None = None
        self._order: np.ndarray = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.chunks)

    # --- building -------------------------------------------------------------------------------
    def add_document(self, doc: Document, vectors: np.ndarray | None) -> list[int]:
        """Add (or replace) a document's passages with their vectors; returns the new ids."""
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
        """Drop every passage of a source; returns how many were removed."""
        entry = self.docs.pop(source, None)
        if not entry:
            return 0
        for chunk_id in entry["ids"]:
            self.chunks.pop(chunk_id, None)
        self.dense.remove(entry["ids"])
        self._bm25 = None
        return len(entry["ids"])

    # --- lookup ---------------------------------------------------------------------------------
    def passages(self, keep=None) -> list[Passage]:
        """Passages (those for which ``keep(passage)`` is true, if given) in id order."""
        return [self.chunks[i] for i in sorted(self.chunks) if keep is None or keep(self.chunks[i])]

    def similarity(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of the closest passage for each query vector (-1 when the index is empty)."""
        vectors = np.atleast_2d(vectors)
        if not self.chunks:
            return np.full(len(vectors), -1.0)
        return self.dense.search(vectors, 1)[0][:, 0].astype(np.float64)

    def prepare(self) -> None:
        """Build (or load) BM25 and the faiss index ahead of the first search."""
        self.lexical()
        if len(self.dense):
            self.dense.search(np.zeros((1, self.dense.dim), dtype=np.float32), 1)

    def lexical(self) -> Bm25:
        """The BM25 index; row r is the passage with id ``order[r]`` (ids ascending)."""
        if self._bm25 is None:
            self._order = np.array(sorted(self.chunks), dtype=np.int64)
            self._bm25 = Bm25([self.chunks[int(i)].embed_text() for i in self._order], self.analyzer)
        return self._bm25

    def search(self, text: str, vector: np.ndarray, k: int = 5, within: set[int] | None = None,
               depth: int = 50) -> list[Hit]:
        """Top-k passages for a query by reciprocal-rank fusion of dense and BM25 rankings."""
        if not self.chunks or k <= 0:
            return []
        vector = np.asarray(vector, dtype=np.float32).ravel()
        dense = self._dense_ranking(vector, within, depth)
        return self._fuse(dense, self._lexical_ranking(text, within, depth), vector, k)

    def _dense_ranking(self, vector: np.ndarray, within: set[int] | None, depth: int) -> list[tuple[int, float]]:
        if within is None:
            scores, ids = self.dense.search(vector[None, :], min(depth, len(self.chunks)))
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        cand = sorted(i for i in within if i in self.chunks)
        return sorted(zip(cand, self._cosines(cand, vector), strict=True), key=lambda p: -p[1])[:depth]

    def _lexical_ranking(self, text: str, within: set[int] | None, depth: int) -> list[int]:
        bm25 = self.lexical()
        mask = None
        if within is not None:
            mask = np.isin(self._order, np.fromiter(within, dtype=np.int64, count=len(within)))
        return [int(self._order[row]) for row, _ in bm25.top(text, depth, mask)]

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
    def save(self, path: Path) -> Path:
        """Write the whole index atomically (the previous one stays until the rename)."""
        path = Path(path)
        with atomic_dir(path) as tmp:
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as out:
                for chunk_id in sorted(self.chunks):
                    out.write(json.dumps(self.chunks[chunk_id].to_dict(), ensure_ascii=False) + "\n")
            (tmp / "docs.json").write_text(json.dumps(self.docs, indent=1))
            self.dense.save(tmp / "dense")
            self.lexical().save(tmp / "bm25")
            meta = {"format": FORMAT, "next_id": self.next_id, "chunks": len(self.chunks), "docs": len(self.docs),
                    "analyzer": self.analyzer.name}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        return path

    @classmethod
    def load(cls, path: Path) -> HybridIndex:
        """Read an index; a missing or damaged one raises LorasuiteError saying how to rebuild it."""
        from shared.index import EmbeddingIndex

        path = Path(path)
        if not (path / "meta.json").exists():
            raise LorasuiteError(f"no {cls.kind} at {path}; {cls.rebuild}")
        try:
            meta = json.loads((path / "meta.json").read_text())
            dense = EmbeddingIndex.load(path / "dense")
            index = cls(dense.dim)
            index.dense, index.next_id = dense, int(meta["next_id"])
            index.docs = json.loads((path / "docs.json").read_text())
            with open(path / "chunks.jsonl", encoding="utf-8") as rows:
                for line in rows:
                    chunk = cls.record(**json.loads(line))
                    index.chunks[chunk.id] = chunk
        except (OSError, ValueError, KeyError, TypeError, LorasuiteError) as err:
            raise LorasuiteError(f"the {cls.kind} at {path} is damaged ({err}); {cls.rebuild}") from err
        if set(index.chunks) != set(index.dense.ids.tolist()):
            raise LorasuiteError(f"the {cls.kind} at {path} is inconsistent; {cls.rebuild}")
        index._load_lexical(path / "bm25")
        return index

    def _load_lexical(self, path: Path) -> None:
        """Use the saved BM25 when it matches the passages and analyzer; otherwise it is rebuilt lazily."""
        if not (path / "lexical.json").exists():
            return  # an index written before BM25 was saved: rebuilt on first use
        try:
            bm25 = Bm25.load(path, self.analyzer)
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("rebuilding BM25 for %s: %s", path.parent, err)
            return
        if len(bm25) == len(self.chunks):
            self._order, self._bm25 = np.array(sorted(self.chunks), dtype=np.int64), bm25


def stamp(path: Path) -> float:
    """When the index at ``path`` was last written (0 when absent): lets a reader notice a rewrite."""
    try:
        return (Path(path) / "meta.json").stat().st_mtime
    except OSError:
        return 0.0
