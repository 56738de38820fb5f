"""Offline evaluation: time-ordered leave-last-out splits, cold-item splits, Recall@k and NDCG@k.

Leave-last-out: each user's last positive event (preference >= ``min_pref``; 0.6 = a 4-star
rating on a 0-5 scale) is the test item; the history before it is what the model sees (events
after it are dropped, so nothing from the user's future leaks). Full ranking: every item the
user has not seen competes. NDCG@k with one relevant item is 1 / log2(rank + 2).

    train, test = leave_last_out(histories)
    recall, ndcg = evaluate(lambda user, hist: top_k(scores(hist), hist.items, 10), train, test)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from apps.recommender.profiles import History

LIKED = 0.6  # preference of a 4-star rating on the 0-5 scale


def leave_last_out(histories: dict[str, History], min_pref: float = LIKED,
                   min_train: int = 1) -> tuple[dict[str, History], dict[str, set[int]]]:
    """(history before the last liked item, {that item}) per user with one."""
    train, test = {}, {}
    for user, history in histories.items():
        liked = np.flatnonzero(history.prefs >= min_pref)
        if len(liked) == 0 or liked[-1] < min_train:
            continue
        cut = int(liked[-1])
        train[user] = History(history.items[:cut], history.prefs[:cut], history.ts[:cut])
        test[user] = {int(history.items[cut])}
    return train, test


def hide_items(histories: dict[str, History], hidden: np.ndarray,
               min_pref: float = LIKED) -> tuple[dict[str, History], dict[str, set[int]]]:
    """Histories without the hidden items, and each user's liked hidden items (the targets)."""
    hidden_set = np.asarray(hidden)
    kept, targets = {}, {}
    for user, history in histories.items():
        mask = np.isin(history.items, hidden_set)
        kept[user] = History(history.items[~mask], history.prefs[~mask], history.ts[~mask])
        liked = history.items[mask & (history.prefs >= min_pref)]
        if len(liked) and len(kept[user]):
            targets[user] = {int(i) for i in liked}
    return kept, targets


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int = 10, allowed: np.ndarray | None = None) -> np.ndarray:
    """Positions of the k best scores, skipping ``exclude`` (and anything not ``allowed``)."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    if allowed is not None:
        mask = np.full(len(scores), True)
        mask[allowed] = False
        scores[mask] = -np.inf
    scores[exclude] = -np.inf
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.zeros(0, np.int64)
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")]


def recall_ndcg(ranked: np.ndarray, relevant: set[int], k: int = 10) -> tuple[float, float]:
    """Recall@k and NDCG@k of one ranked list against a set of relevant items."""
    hits = [i for i, item in enumerate(ranked[:k]) if int(item) in relevant]
    if not relevant:
        return 0.0, 0.0
    dcg = sum(1.0 / np.log2(i + 2) for i in hits)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return len(hits) / len(relevant), dcg / ideal


def evaluate(recommend: Callable[[str, History], np.ndarray], histories: dict[str, History],
             targets: dict[str, set[int]], k: int = 10) -> dict[str, float]:
    """Mean Recall@k and NDCG@k over the users with targets, with their standard errors."""
    pairs = np.array([recall_ndcg(np.asarray(recommend(user, histories[user])), targets[user], k)
                      for user in targets]).reshape(-1, 2)
    n = len(pairs)
    means = pairs.mean(axis=0) if n else np.zeros(2)
    errors = pairs.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(2)
    return {f"recall@{k}": float(means[0]), f"ndcg@{k}": float(means[1]), "recall_se": float(errors[0]),
            "ndcg_se": float(errors[1]), "users": n}
