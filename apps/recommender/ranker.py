"""Two-stage ranking: candidates from the faiss index and the signals, a blended rerank, MMR.

Stage 1 (candidates): the ``candidates`` nearest items to the user's profile in the item index
(the LoRA-tuned embeddings when an adapter is loaded), the nearest to the typed interest in the
frozen-MiniLM index, the items with the strongest collaborative score, and the most popular
items; the user's seen items are removed.

Stage 2 (rerank): each signal is standardised over the candidates (z-score, so the weights
mean the same whatever the scale of a signal) and summed with ``Blend`` weights:

    score = content * z(cos(profile, item)) + interest * z(cos(typed interest, item))
          + lexical * z(BM25 of the interest's words in the item, best item = 1)
          + collab * z(sum_j w_j sim_cf(j, item)) + popularity * z(log popularity)

A missing signal (no history, no typed text) simply drops out. The defaults come from the
validation splits of bench/recommender.py (MovieLens and the demo books): recency counts a lot
(half-life 3 events), text weighs as much as the collaborative signal on the books (their
descriptions say a lot; on MovieLens titles and genres add little), popularity a little.

Stage 3 (diversity): maximal marginal relevance over the best ``3k`` items with text vectors:
pick the item maximising ``mmr * relevance - (1 - mmr) * max cosine to the items picked``.
Then, if the list has no cold item (nobody rated it yet) but a cold candidate is among the best
``2k`` candidates, the best one takes the last place (``new_slots``): proven items would
otherwise always outrank new ones, which then never get the ratings that would make them warm.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from apps.recommender.collab import (
    collab_scores,
    fill_cold,
    fill_cold_popularity,
    interaction_matrix,
    item_neighbours,
    popularity,
)
from apps.recommender.profiles import History, event_weights, history_profile
from shared.index import EmbeddingIndex


@dataclass
class Blend:
    """Weights and knobs of the second stage."""

    content: float = 1.0  # (tuned) text similarity of the history profile
    collab: float = 1.0  # item-item collaborative score
    popularity: float = 0.1
    interest_popularity: float = 0.1  # popularity weight when only a typed interest is known
    interest: float = 1.0  # typed interest (frozen MiniLM similarity)
    lexical: float = 0.5  # typed interest: BM25 of its words in the item (words.WordIndex)
    candidates: int = 200  # per source in stage 1
    mmr: float = 0.8  # 1.0 = no diversity
    half_life: float = 3.0  # recency, in the user's own events
    dislike: float = 1.0  # how hard dislikes push away (0 = ignored)
    query_share: float = 0.0  # adapter only: share of the encoded recent-titles query (measured: hurts)
    new_slots: int = 1  # up to this many places in a list are kept for cold (never rated) items

    def __post_init__(self) -> None:
        if not 0.0 <= self.mmr <= 1.0:
            raise ValueError(f"mmr must be in [0, 1], got {self.mmr}")
        if self.candidates < 1:
            raise ValueError(f"candidates must be >= 1, got {self.candidates}")


@dataclass
class Signals:
    """Per-catalogue precomputed signals (positions 0..n-1 are the engine's item order)."""

    vectors: np.ndarray  # tuned (or frozen) item embeddings, unit rows
    base: np.ndarray  # frozen MiniLM item embeddings, unit rows (typed interests, diversity)
    neighbours: sparse.csr_matrix  # item-item collaborative similarity, cold items filled from text
    popularity: np.ndarray  # [0, 1]
    index: EmbeddingIndex | None = None  # over ``vectors``, ids = positions
    base_index: EmbeddingIndex | None = None
    by_popularity: np.ndarray = field(default=None)  # positions, most popular first
    cold: np.ndarray = field(default=None)  # True for items nobody interacted with

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = _index(self.vectors)
        if self.base_index is None:
            self.base_index = self.index if self.base is self.vectors else _index(self.base)
        if self.by_popularity is None:
            self.by_popularity = np.argsort(-self.popularity, kind="stable")
        if self.cold is None:
            self.cold = np.zeros(len(self.vectors), dtype=bool)

    def __len__(self) -> int:
        return len(self.vectors)


def build_signals(vectors: np.ndarray, base: np.ndarray, histories: list[History], neighbours: int = 50,
                  cold_scale: float = 0.5) -> Signals:
    """Signals of a catalogue from item vectors and everybody's histories (cold items filled from text)."""
    matrix = interaction_matrix(histories, len(vectors))
    cold = np.asarray(matrix.sum(axis=0)).ravel() == 0
    return Signals(vectors, base, fill_cold(item_neighbours(matrix, neighbours), base, cold, scale=cold_scale),
                   fill_cold_popularity(popularity(matrix), base, cold, scale=cold_scale), cold=cold)


def _index(vectors: np.ndarray) -> EmbeddingIndex:
    index = EmbeddingIndex(vectors.shape[1], kind="auto")
    index.add(np.arange(len(vectors)), vectors)
    return index


@dataclass
class Request:
    """What is known about the person: profile vectors, collaborative scores, what to skip."""

    profile: np.ndarray | None = None  # in the ``vectors`` space
    interest: np.ndarray | None = None  # in the ``base`` space
    lexical: np.ndarray | None = None  # dense per-item word-match score of the typed interest
    collab: np.ndarray | None = None  # dense per-item collaborative score
    exclude: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass
class Ranked:
    """The top items (positions), their blended scores and the per-signal parts."""

    items: np.ndarray
    scores: np.ndarray
    parts: dict[str, np.ndarray]


def candidates(signals: Signals, request: Request, blend: Blend) -> np.ndarray:
    """Stage 1: union of index neighbours, collaborative top and popular items, minus seen."""
    n, want = len(signals), blend.candidates + len(request.exclude)
    pools = [signals.by_popularity[:want]]
    if request.profile is not None:
        pools.append(signals.index.search(request.profile[None, :], min(want, n))[1][0])
    if request.interest is not None:
        pools.append(signals.base_index.search(request.interest[None, :], min(want, n))[1][0])
    for dense in (request.collab, request.lexical):
        if dense is not None:
            nonzero = np.flatnonzero(dense > 0)
            if len(nonzero) > want:
                nonzero = nonzero[np.argpartition(-dense[nonzero], want - 1)[:want]]
            pools.append(nonzero)
    pool = np.unique(np.concatenate(pools))
    pool = pool[pool >= 0]
    return np.setdiff1d(pool, request.exclude, assume_unique=False)


def _z(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def blend_scores(signals: Signals, request: Request, blend: Blend, pool: np.ndarray) -> tuple[np.ndarray, dict]:
    """Stage 2: the blended score of each candidate and the raw signal values."""
    parts = {"popularity": signals.popularity[pool]}
    personal = request.profile is not None or request.collab is not None
    weights = {"popularity": blend.popularity if personal else blend.interest_popularity}
    if request.profile is not None:
        parts["content"], weights["content"] = signals.vectors[pool] @ request.profile, blend.content
    if request.interest is not None:
        parts["interest"], weights["interest"] = signals.base[pool] @ request.interest, blend.interest
    if request.lexical is not None:
        parts["lexical"], weights["lexical"] = request.lexical[pool], blend.lexical
    if request.collab is not None:
        parts["collab"], weights["collab"] = request.collab[pool], blend.collab
    if len(parts) == 1:  # nothing personal: popularity alone orders
        return parts["popularity"].astype(np.float32), parts
    total = sum(weights[name] * _z(values.astype(np.float32)) for name, values in parts.items())
    return np.asarray(total, dtype=np.float32), parts


def mmr(pool: np.ndarray, relevance: np.ndarray, vectors: np.ndarray, k: int, weight: float) -> np.ndarray:
    """Stage 3: indices into ``pool`` picked by maximal marginal relevance."""
    k = min(k, len(pool))
    if weight >= 1.0 or k <= 1:
        return np.argsort(-relevance, kind="stable")[:k]
    spread = float(relevance.max() - relevance.min())
    rel = (relevance - relevance.min()) / spread if spread > 1e-9 else np.ones_like(relevance)
    vecs = vectors[pool]
    closest = np.full(len(pool), -np.inf, dtype=np.float32)
    chosen: list[int] = []
    for _ in range(k):
        penalty = np.where(np.isfinite(closest), closest, 0.0)
        value = weight * rel - (1 - weight) * penalty
        value[chosen] = -np.inf
        best = int(np.argmax(value))
        chosen.append(best)
        closest = np.maximum(closest, vecs @ vecs[best])
    return np.array(chosen, dtype=np.int64)


def reserve_new(top: np.ndarray, picked: np.ndarray, cold: np.ndarray, slots: int, k: int) -> np.ndarray:
    """``picked`` with up to ``slots`` of its last places given to the best cold items of ``top``
    (candidate indices, best first; ``cold`` tells which candidates are cold)."""
    need = slots - int(cold[picked].sum())
    if need <= 0:
        return picked
    taken = set(picked.tolist())
    extra = [int(i) for i in top if cold[i] and int(i) not in taken][:need]
    if not extra:
        return picked
    drop = set([int(i) for i in picked[::-1] if not cold[i]][: max(0, len(picked) + len(extra) - k)])
    return np.array([int(i) for i in picked if int(i) not in drop] + extra, dtype=np.int64)


_THREADS: list = []


def single_threaded():
    """A context running BLAS/OpenMP (numpy, faiss) on one thread: one request's work is too small to
    share, and on a busy machine the extra threads only spin-wait (measured: 50 ms -> 3 ms per search)."""
    if not _THREADS:
        try:
            import faiss  # noqa: F401 - its thread pools must be loaded before they are listed
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return nullcontext()
        _THREADS.append(ThreadpoolController())
    return _THREADS[0].limit(limits=1)


def rank(signals: Signals, request: Request, blend: Blend, k: int = 10) -> Ranked:
    """The top ``k`` unseen items for the request, diversified."""
    with single_threaded():
        return _rank(signals, request, blend, k)


def _rank(signals: Signals, request: Request, blend: Blend, k: int) -> Ranked:
    pool = candidates(signals, request, blend)
    if len(pool) == 0 or k <= 0:
        return Ranked(np.zeros(0, np.int64), np.zeros(0, np.float32), {})
    scores, parts = blend_scores(signals, request, blend, pool)
    top = np.argsort(-scores, kind="stable")[: max(3 * k, 30)]
    picked = top[mmr(pool[top], scores[top], signals.base, k, blend.mmr)]
    if blend.new_slots > 0 and signals.cold.any():
        picked = reserve_new(top[: 2 * k], picked, signals.cold[pool], blend.new_slots, k)
    return Ranked(pool[picked], scores[picked], {name: values[picked] for name, values in parts.items()})


def user_request(signals: Signals, history: History | None, blend: Blend, profile: np.ndarray | None = None,
                 interest: np.ndarray | None = None, lexical: np.ndarray | None = None) -> Request:
    """The request for a user: history profile (unless given), collaborative scores, seen items."""
    if history is None or len(history) == 0:
        return Request(profile, interest, lexical=lexical)
    weights = event_weights(history, blend.half_life, blend.dislike)
    if profile is None:
        profile = history_profile(signals.vectors, history, blend.half_life, blend.dislike)
    collab = collab_scores(signals.neighbours, history.items, weights)
    return Request(profile, interest, lexical, collab, exclude=history.items)
