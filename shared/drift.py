"""Drift of a classifier's live inputs against its training data, one row per adapter and day.

Three statistics, each compared with the same statistic on a sample of the training data:

- mean top confidence: a model on unfamiliar inputs is less sure (``confidence_drop``);
- predicted-label mix: population stability index, PSI = sum((live - ref) * ln(live / ref));
  the usual reading is < 0.1 stable, 0.1-0.25 moderate, > 0.25 a real shift;
- input-embedding centroid: cosine distance between the mean unit embeddings (base model).

The drift score puts them on the PSI scale and takes the largest: ``max(psi, confidence_drop /
0.2 * 0.25, centroid_distance / 0.1 * 0.25)``: a 20-point confidence drop or a centroid 0.1 away
(PhraseBank sentences against Twitter headlines: 0.2-0.3) each count as a "real shift" of 0.25.

    ref = profile(probs_train, labels, vectors_train)
    stats = compare(ref, profile(probs_live, labels, vectors_live))   # {"score", "psi", ...}
    store(db, "sentiment", "finance", 1, "2026-12-01", stats)
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np

from shared.storage import Database

MIGRATIONS = [
    """
    CREATE TABLE learning_drift (
        id {pk}, app TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, day TEXT NOT NULL,
        n INTEGER NOT NULL, mean_confidence DOUBLE PRECISION NOT NULL, confidence_drop DOUBLE PRECISION NOT NULL,
        psi DOUBLE PRECISION NOT NULL, centroid_distance DOUBLE PRECISION NOT NULL, score DOUBLE PRECISION NOT NULL,
        created TEXT NOT NULL, UNIQUE (app, name, day)
    )
    """,
]
CONFIDENCE_SCALE, CENTROID_SCALE, PSI_SHIFT = 0.2, 0.1, 0.25


def profile(probs: np.ndarray, labels: list[str], vectors: np.ndarray) -> dict[str, Any]:
    """What is compared: n, mean top confidence, predicted-label mix, centroid of unit embeddings."""
    probs, vectors = np.asarray(probs, dtype=float), np.asarray(vectors, dtype=float)
    n = len(probs)
    counts = np.bincount(probs.argmax(1), minlength=len(labels)) if n else np.zeros(len(labels))
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12) if n else vectors
    return {"n": int(n), "mean_confidence": float(probs.max(1).mean()) if n else 0.0,
            "mix": {label: float(c / max(n, 1)) for label, c in zip(labels, counts, strict=True)},
            "centroid": unit.mean(0).tolist() if n else []}


def psi(expected: dict[str, float], actual: dict[str, float], eps: float = 1e-3) -> float:
    """Population stability index between two label mixes (shares floored at ``eps``)."""
    total = 0.0
    for label in set(expected) | set(actual):
        e, a = max(expected.get(label, 0.0), eps), max(actual.get(label, 0.0), eps)
        total += (a - e) * np.log(a / e)
    return float(total)


def centroid_distance(a: list[float], b: list[float]) -> float:
    if not a or not b:
        return 0.0
    x, y = np.asarray(a), np.asarray(b)
    return float(1.0 - x @ y / max(np.linalg.norm(x) * np.linalg.norm(y), 1e-12))


def compare(reference: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The drift statistics of ``live`` against ``reference`` and the score (PSI scale; see module doc)."""
    stats = {"n": live["n"], "mean_confidence": round(live["mean_confidence"], 4),
             "confidence_drop": round(reference["mean_confidence"] - live["mean_confidence"], 4),
             "psi": round(psi(reference["mix"], live["mix"]), 4),
             "centroid_distance": round(centroid_distance(reference["centroid"], live["centroid"]), 4)}
    stats["score"] = round(max(stats["psi"], PSI_SHIFT * max(stats["confidence_drop"], 0.0) / CONFIDENCE_SCALE,
                               PSI_SHIFT * stats["centroid_distance"] / CENTROID_SCALE), 4)
    return stats


def _db(db: Database) -> Database:
    db.migrate("learning_drift", MIGRATIONS)
    return db


def store(db: Database, app: str, name: str, version: int, day: str, stats: dict[str, Any]) -> None:
    """Keep (replace) the statistics of ``app/name`` for ``day``."""
    values = {"a": app, "m": name, "v": int(version), "d": day, "n": int(stats["n"]),
              "c": stats["mean_confidence"], "cd": stats["confidence_drop"], "p": stats["psi"],
              "x": stats["centroid_distance"], "s": stats["score"],
              "t": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with _db(db).transaction() as tx:
        tx.execute("DELETE FROM learning_drift WHERE app = :a AND name = :m AND day = :d", values)
        tx.execute("INSERT INTO learning_drift (app, name, version, day, n, mean_confidence, confidence_drop, psi, "
                   "centroid_distance, score, created) VALUES (:a, :m, :v, :d, :n, :c, :cd, :p, :x, :s, :t)", values)


def history(db: Database, app: str, name: str, days: int = 30) -> list[dict[str, Any]]:
    """The latest ``days`` rows of ``app/name``, newest first."""
    return _db(db).query("SELECT * FROM learning_drift WHERE app = :a AND name = :m ORDER BY day DESC LIMIT :k",
                         {"a": app, "m": name, "k": int(days)})


def latest(db: Database, app: str, name: str) -> dict[str, Any] | None:
    rows = history(db, app, name, 1)
    return rows[0] if rows else None
