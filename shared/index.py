"""EmbeddingIndex: faiss search over unit vectors with stable integer ids.

Cosine similarity = inner product of L2-normalised vectors. ``kind`` picks the faiss index:
``flat`` (exact; the default, right for up to ~50k items), ``hnsw`` (graph, fast on large
collections) or ``ivf`` (inverted lists, trained on the data), or ``auto`` = flat below
``auto_threshold`` items and HNSW above. The vectors and ids are kept beside the faiss index,
so removal works for every kind (HNSW cannot remove: we rebuild) and ``save`` writes both
atomically: an interrupted save leaves the previous index in place.

    index = EmbeddingIndex(dim=384)
    index.add([10, 11], vectors)
    scores, ids = index.search(query_vectors, k=5)   # ids are -1 where fewer than k exist
    index.save(path); index = EmbeddingIndex.load(path)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from shared.atomic import atomic_dir
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
KINDS = ("flat", "hnsw", "ivf", "auto")


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation as float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class EmbeddingIndex:
    """A faiss index plus the (id, vector) table it is built from."""

    def __init__(self, dim: int, kind: str = "flat", hnsw_m: int = 32, ivf_lists: int = 0,
                 auto_threshold: int = 50_000) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim, self.kind, self.hnsw_m, self.ivf_lists = dim, kind, hnsw_m, ivf_lists
        self.auto_threshold = auto_threshold
        self.ids = np.zeros(0, dtype=np.int64)
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self._faiss = None

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, item_id: int) -> bool:
        return bool(np.any(self.ids == item_id))

    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add (or replace) vectors under the given ids."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = normalize(vectors)
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of dim {self.dim}, got {vectors.shape}")
        if len(set(ids.tolist())) != len(ids):
            raise ValueError("duplicate ids in one add() call")
        self.remove(ids)
        self.ids = np.concatenate([self.ids, ids])
        self.vectors = np.concatenate([self.vectors, vectors])
        self._faiss = None

    def remove(self, ids: list[int] | np.ndarray) -> int:
        """Remove the given ids (unknown ids are ignored); returns how many were removed."""
        keep = ~np.isin(self.ids, np.asarray(ids, dtype=np.int64))
        removed = int((~keep).sum())
        if removed:
            self.ids, self.vectors, self._faiss = self.ids[keep], self.vectors[keep], None
        return removed

    def vector(self, item_id: int) -> np.ndarray | None:
        """The stored (normalised) vector of one id, or None."""
        where = np.flatnonzero(self.ids == item_id)
        return self.vectors[where[0]] if len(where) else None

    def search(self, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-k cosine scores and ids per query row; ids are -1 where fewer than k exist."""
        queries = normalize(queries)
        n = len(queries)
        if len(self) == 0 or k <= 0:
            return np.zeros((n, max(k, 0)), np.float32), np.full((n, max(k, 0)), -1, np.int64)
        scores, rows = self._index().search(queries, min(k, len(self)))
        ids = np.where(rows >= 0, self.ids[np.clip(rows, 0, None)], -1)
        if k > len(self):
            pad = k - len(self)
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-np.inf)
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
        return scores, ids

    def _effective_kind(self) -> str:
        if self.kind != "auto":
            return self.kind
        return "hnsw" if len(self) >= self.auto_threshold else "flat"

    def _index(self):
        if self._faiss is None:
            self._faiss = self._build()
        return self._faiss

    def _build(self):
        import faiss

        kind = self._effective_kind()
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = max(64, self.hnsw_m * 2)
        elif kind == "ivf" and len(self) >= 39:
            lists = self.ivf_lists or max(1, int(np.sqrt(len(self))))
            lists = min(lists, len(self) // 39 or 1)  # faiss wants ~39 points per centroid
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, lists, faiss.METRIC_INNER_PRODUCT)
            index.train(self.vectors)
            index.nprobe = max(1, lists // 4)
        else:
            index = faiss.IndexFlatIP(self.dim)
        index.add(self.vectors)  # faiss row number = position in self.ids
        return index

    def save(self, path: str | Path) -> None:
        """Write the index directory atomically (faiss file + ids + vectors + meta)."""
        import faiss

        try:
            with atomic_dir(path) as tmp:
                np.save(tmp / "ids.npy", self.ids)
                np.save(tmp / "vectors.npy", self.vectors)
                faiss.write_index(self._index(), str(tmp / "index.faiss"))
                meta = {"dim": self.dim, "kind": self.kind, "hnsw_m": self.hnsw_m, "ivf_lists": self.ivf_lists,
                        "auto_threshold": self.auto_threshold, "count": len(self)}
                (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        except (OSError, RuntimeError) as err:  # disk full, read-only, faiss I/O error
            raise LorasuiteError(f"could not save the index to {path} ({err}); the previous index is unchanged "
                                 "and still served: free disk space and run the ingest again") from err

    @classmethod
    def load(cls, path: str | Path) -> EmbeddingIndex:
        """Read an index written by ``save``; a damaged one raises LorasuiteError."""
        import faiss

        path = Path(path)
        try:
            meta = json.loads((path / "meta.json").read_text())
            index = cls(meta["dim"], meta["kind"], meta["hnsw_m"], meta["ivf_lists"], meta["auto_threshold"])
            index.ids = np.load(path / "ids.npy")
            index.vectors = np.load(path / "vectors.npy").astype(np.float32)
            index._faiss = faiss.read_index(str(path / "index.faiss"))
        except Exception as err:  # noqa: BLE001 - any damage is reported the same way
            raise LorasuiteError(f"index at {path} is missing or damaged ({err}); rebuild it") from err
        if len(index.ids) != len(index.vectors) or index._faiss.ntotal != len(index.ids):
            raise LorasuiteError(f"index at {path} is inconsistent; rebuild it")
        return index
