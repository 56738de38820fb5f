"""Drift statistics on synthetic inputs: stable inputs score low, shifted ones past the threshold."""

import numpy as np

from shared import drift
from shared.storage import shared_database

LABELS = ["negative", "neutral", "positive"]


def _profile(n: int, mix: list[float], confidence: float, centre: np.ndarray, seed: int):
    rng = np.random.default_rng(seed)
    top = rng.choice(3, size=n, p=mix)
    probs = np.full((n, 3), (1 - confidence) / 2)
    probs[np.arange(n), top] = confidence
    vectors = centre + 0.3 * rng.normal(size=(n, len(centre)))
    return drift.profile(probs, LABELS, vectors)


def test_same_distribution_is_stable_and_a_shift_is_flagged():
    centre = np.ones(8)
    ref = _profile(1000, [0.15, 0.65, 0.2], 0.9, centre, 0)
    same = drift.compare(ref, _profile(500, [0.15, 0.65, 0.2], 0.9, centre, 1))
    assert same["score"] < 0.1 and abs(same["confidence_drop"]) < 0.01 and same["psi"] < 0.05
    other = np.ones(8)
    other[:4] = -1.0
    shifted = drift.compare(ref, _profile(500, [0.45, 0.2, 0.35], 0.6, other, 2))
    assert shifted["psi"] > 0.25 and shifted["confidence_drop"] > 0.25 and shifted["centroid_distance"] > 0.3
    assert shifted["score"] > 0.25


def test_psi_of_identical_mixes_is_zero_and_rows_are_stored_per_day():
    assert drift.psi({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == 0.0
    db = shared_database()
    stats = {"n": 10, "mean_confidence": 0.8, "confidence_drop": 0.05, "psi": 0.1, "centroid_distance": 0.01,
             "score": 0.1}
    drift.store(db, "sentiment", "finance", 1, "2026-12-01", stats)
    drift.store(db, "sentiment", "finance", 1, "2026-12-01", dict(stats, score=0.3))  # replaces the day
    drift.store(db, "sentiment", "finance", 2, "2026-12-02", stats)
    rows = drift.history(db, "sentiment", "finance")
    assert [(r["day"], r["score"]) for r in rows] == [("2026-12-02", 0.1), ("2026-12-01", 0.3)]
    assert drift.latest(db, "sentiment", "finance")["version"] == 2
