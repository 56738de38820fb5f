"""Signals from what everybody did: popularity and the item-item collaborative neighbours.

The collaborative signal is item-KNN: cosine similarity of item columns of the binary
user x item matrix (any interaction counts: having watched/read it says more than the grade),
shrunk towards 0 for rarely co-consumed pairs, the top ``k`` neighbours kept per item.
Items nobody interacted with (cold items) have no columns; ``fill_cold`` gives them
neighbours from text similarity to warm items (scaled by ``scale``) in both directions, so that
a cold item can be reached from a history and "more like this" works from it. Popularity of a
cold item is borrowed the same way, from its text neighbours.

    X = interaction_matrix(histories.values(), n_items)
    neighbours = fill_cold(item_neighbours(X), vectors, cold=X.getnnz(0) == 0)
    scores = collab_scores(neighbours, history.items, weights)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import sparse

from apps.recommender.profiles import History


def interaction_matrix(histories: Iterable[History], n_items: int) -> sparse.csr_matrix:
    """Binary users x items matrix (rows in the order given)."""
    rows, cols = [], []
    for user, history in enumerate(histories):
        rows.append(np.full(len(history), user))
        cols.append(history.items)
    rows_a = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cols_a = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    data = np.ones(len(rows_a), np.float32)
    return sparse.csr_matrix((data, (rows_a, cols_a)), shape=(len(rows), n_items))


def item_neighbours(matrix: sparse.csr_matrix, k: int = 50, shrink: float = 10.0,
                    chunk: int = 1024) -> sparse.csr_matrix:
    """Items x items cosine similarity, top ``k`` per row, self excluded."""
    n = matrix.shape[1]
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    norms = np.sqrt(counts)
    columns = matrix.T.tocsr()
    rows, cols, vals = [], [], []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        co = (columns[start:stop] @ matrix).toarray()
        sims = co / (norms[start:stop, None] * norms[None, :] + shrink + 1e-9)
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
        top = min(k, n - 1) if n > 1 else 0
        if top <= 0:
            continue
        best = np.argpartition(-sims, top - 1, axis=1)[:, :top]
        values = np.take_along_axis(sims, best, axis=1)
        keep = values > 0
        rows.append(np.repeat(np.arange(start, stop), top)[keep.ravel()])
        cols.append(best.ravel()[keep.ravel()])
        vals.append(values.ravel()[keep.ravel()])
    if not rows:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    return sparse.csr_matrix((np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(n, n))


def popularity(matrix: sparse.csr_matrix) -> np.ndarray:
    """log(1 + interactions) scaled to [0, 1]."""
    counts = np.log1p(np.asarray(matrix.sum(axis=0)).ravel()).astype(np.float32)
    return counts / max(float(counts.max(initial=0.0)), 1e-9)


def text_neighbours(vectors: np.ndarray, sources: np.ndarray, targets: np.ndarray,
                    k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each source item, its ``k`` most text-similar target items: (indices, cosines)."""
    if len(sources) == 0 or len(targets) == 0:
        return np.zeros((len(sources), 0), np.int64), np.zeros((len(sources), 0), np.float32)
    k = min(k, len(targets))
    sims = vectors[sources] @ vectors[targets].T
    best = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return targets[best], np.take_along_axis(sims, best, axis=1)


def fill_cold(neighbours: sparse.csr_matrix, vectors: np.ndarray, cold: np.ndarray, k: int = 20,
              scale: float = 0.5) -> sparse.csr_matrix:
    """Give cold items text-derived neighbours among warm items, in both directions."""
    cold_idx, warm_idx = np.flatnonzero(cold), np.flatnonzero(~cold)
    near, sims = text_neighbours(vectors, cold_idx, warm_idx, k)
    if near.size == 0:
        return neighbours
    sims = np.clip(sims, 0, None) * scale
    rows = np.repeat(cold_idx, near.shape[1])
    extra = sparse.csr_matrix((np.concatenate([sims.ravel(), sims.ravel()]),
                               (np.concatenate([rows, near.ravel()]), np.concatenate([near.ravel(), rows]))),
                              shape=neighbours.shape, dtype=np.float32)
    return (neighbours + extra).tocsr()


def fill_cold_popularity(pop: np.ndarray, vectors: np.ndarray, cold: np.ndarray, k: int = 20,
                         scale: float = 0.5) -> np.ndarray:
    """Cold items get ``scale`` x the mean popularity of their text neighbours."""
    cold_idx, warm_idx = np.flatnonzero(cold), np.flatnonzero(~cold)
    near, _ = text_neighbours(vectors, cold_idx, warm_idx, k)
    out = pop.copy()
    if near.size:
        out[cold_idx] = scale * pop[near].mean(axis=1)
    return out


def collab_scores(neighbours: sparse.csr_matrix, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Dense score per item: sum over history items of weight x similarity."""
    if len(items) == 0:
        return np.zeros(neighbours.shape[1], np.float32)
    return np.asarray(neighbours[items].T @ weights).ravel().astype(np.float32)
