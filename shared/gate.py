"""The label-quality gate: refuse labels a model cannot learn, before any training.

A logistic-regression probe on frozen sentence embeddings is cross-validated on the labels
(5 folds, seeded). If its held-out predictions are not significantly more often right than
always answering the majority class (exact one-sided sign test on the items where the two
disagree, McNemar's test), the labels carry no signal the encoder can see: shuffled or careless
labels. They are refused with the numbers, and no challenger is trained. Shuffled labels matter:
a model trained on them drifts towards the majority class and can then look better on its own
held-back labels. Labels are never compared with the champion's predictions here, so labels
that disagree with the champion (a new domain) pass.

    result = check_labels(embeddings, labels)
    if not result.ok: raise LorasuiteError(result.reason)
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class GateResult:
    """The probe's verdict and the figures behind it."""

    ok: bool
    reason: str
    n: int
    probe_accuracy: float
    majority_accuracy: float
    probe_macro_f1: float
    p_value: float

    def to_dict(self) -> dict:
        return asdict(self)


def sign_test(wins: int, losses: int) -> float:
    """One-sided exact p-value of at least ``wins`` successes in ``wins + losses`` fair coin flips."""
    from scipy.stats import binom

    n = wins + losses
    return 1.0 if n == 0 else float(binom.sf(wins - 1, n, 0.5))


def probe_predictions(features: np.ndarray, labels: Sequence[str], folds: int = 5, seed: int = 42) -> np.ndarray:
    """Cross-validated predictions of a logistic-regression probe (each item predicted by a model that did not see it)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    y = np.asarray(labels)
    smallest = min(Counter(labels).values())
    folds = max(2, min(folds, len(y)))
    splitter = (StratifiedKFold(folds, shuffle=True, random_state=seed) if smallest >= folds
                else KFold(folds, shuffle=True, random_state=seed))
    probe = LogisticRegression(C=1.0, max_iter=1000)
    return cross_val_predict(probe, features, y, cv=splitter)


def check_labels(features: np.ndarray, labels: Sequence[str], alpha: float = 0.05, folds: int = 5,
                 seed: int = 42, min_labels: int = 10) -> GateResult:
    """Are these labels learnable from these (frozen) features? See the module docstring."""
    from sklearn.metrics import f1_score

    counts = Counter(labels)
    n = len(labels)
    majority, top = counts.most_common(1)[0] if counts else ("", 0)
    if n < min_labels or len(counts) < 2:
        why = f"only {n} label(s)" if n < min_labels else f"every label is {majority!r}"
        return GateResult(False, f"labels refused: {why}; the gate needs {min_labels}+ labels of 2+ classes to "
                                 "check that they are learnable", n, 0.0, top / max(n, 1), 0.0, 1.0)
    y = np.asarray(labels)
    predicted = probe_predictions(features, labels, folds, seed)
    probe_right, majority_right = predicted == y, y == majority
    wins = int(np.sum(probe_right & ~majority_right))
    losses = int(np.sum(~probe_right & majority_right))
    p = sign_test(wins, losses)
    acc, base = float(probe_right.mean()), float(majority_right.mean())
    f1 = float(f1_score(y, predicted, average="macro", zero_division=0))
    ok = acc > base and p < alpha
    figures = (f"a cross-validated probe on frozen embeddings is right on {acc:.1%} of {n} labels, always answering "
               f"{majority!r} on {base:.1%} (sign test p={p:.3g})")
    reason = (f"labels learnable: {figures}" if ok else
              f"labels refused as not learnable (shuffled or careless?): {figures}; check how they were made")
    log.info("label gate: %s", reason)
    return GateResult(ok, reason, n, acc, base, f1, p)
