"""Champion or challenger: a paired comparison on new data, a regression limit on old data.

The challenger is promoted only if

1. it beats the champion on the held-back new labels by a margin that is significant for their
   number: a paired bootstrap of the macro-F1 difference (both models scored on the same
   resampled items, 2,000 rounds, seeded), one-sided p < ``alpha`` (0.05); and
2. it loses at most ``max_regression`` macro-F1 (0.01 = 1 point) on the champion's frozen dev set.

Macro-F1, not accuracy: a model that answers the majority class more often gains accuracy on
skewed labels without being better. ``per_item`` scores (e.g. Recall@10 hits of a bi-encoder)
use the mean instead of macro-F1, bootstrapped the same way.

    delta, p = paired_bootstrap(gold, champion_pred, challenger_pred)
    verdict = decide(Scores(0.80, 0.61), Scores(0.795, 0.70), p, max_regression=0.01)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Scores:
    """A model's score on the old data (frozen dev set) and on the new data (held-back labels)."""

    old_dev: float | None
    new_dev: float | None


@dataclass
class Verdict:
    promoted: bool
    reason: str
    p_value: float | None = None


def macro_f1_rows(gold: np.ndarray, pred: np.ndarray, weights: np.ndarray, classes: int) -> np.ndarray:
    """Macro-F1 over the classes present in ``gold`` for each row of resampling ``weights`` [rounds, n]."""
    scores = []
    for k in range(classes):
        g, p = gold == k, pred == k
        if not g.any():
            continue
        tp, fp, fn = weights @ (g & p), weights @ (~g & p), weights @ (g & ~p)
        denominator = 2 * tp + fp + fn
        scores.append(np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=float),
                                where=denominator > 0))
    return np.mean(scores, axis=0) if scores else np.zeros(weights.shape[0])


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Macro-F1 over the classes present in ``gold`` (what the new-data comparison uses)."""
    g, p, classes = _encode(gold, pred)
    return float(macro_f1_rows(g, p, np.ones((1, len(g))), classes)[0]) if len(g) else 0.0


def _encode(gold: Sequence[str], *preds: Sequence[str]) -> tuple:
    names = {name: i for i, name in enumerate(sorted(set(gold).union(*map(set, preds))))}
    return (np.array([names[x] for x in gold], dtype=int), *(np.array([names[x] for x in p], dtype=int) for p in preds),
            len(names))


def paired_bootstrap(gold: Sequence, champion: Sequence, challenger: Sequence, rounds: int = 2000,
                     seed: int = 42, per_item: bool = False) -> tuple[float, float]:
    """(observed challenger - champion difference, one-sided bootstrap p-value that it is <= 0).

    ``per_item``: ``champion``/``challenger`` are per-item scores (gold ignored) and the statistic is their mean."""
    n = len(gold) if not per_item else len(champion)
    if n == 0:
        return 0.0, 1.0
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(float)
    ones = np.ones((1, n))
    if per_item:
        a, b = np.asarray(champion, dtype=float), np.asarray(challenger, dtype=float)
        observed = float(b.mean() - a.mean())
        deltas = (weights @ (b - a)) / n
    else:
        g, a, b, classes = _encode(gold, champion, challenger)
        observed = float(macro_f1_rows(g, b, ones, classes)[0] - macro_f1_rows(g, a, ones, classes)[0])
        deltas = macro_f1_rows(g, b, weights, classes) - macro_f1_rows(g, a, weights, classes)
    p = float((1 + np.sum(deltas <= 0)) / (rounds + 1))
    return observed, p


def decide(champion: Scores, challenger: Scores, p_value: float, max_regression: float = 0.01,
           alpha: float = 0.05, n_new: int = 0) -> Verdict:
    """Promote or reject, with the reason in numbers."""
    gain = (challenger.new_dev or 0.0) - (champion.new_dev or 0.0)
    loss = (champion.old_dev or 0.0) - (challenger.old_dev or 0.0)
    on_new = f"{gain:+.3f} on {n_new} held-back new labels (paired bootstrap p={p_value:.3g})"
    on_old = f"{-loss:+.3f} on the old dev set (limit -{max_regression:.3f})"
    if gain <= 0 or p_value >= alpha:
        return Verdict(False, f"rejected: not significantly better on new data: {on_new}; {on_old}", p_value)
    if loss > max_regression + 1e-12:
        return Verdict(False, f"rejected: loses too much on old data: {on_old}; {on_new}", p_value)
    return Verdict(True, f"promoted: better on new data: {on_new}; {on_old}", p_value)
