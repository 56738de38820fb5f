"""Calibrate the bot's thresholds on in-scope dev questions and the out-of-scope set.

In-scope: the dev split of BANKING77 train that the shipped intent adapter did not train on
(``dev_split``: sklearn ``train_test_split(test_size=0.2, random_state=42, stratify=category)``),
or any ``text,category`` CSV. Out of scope: ``data/support/out_of_scope.csv`` (``text,kind``;
``human`` rows are left to the hand-over rule in ``inputs`` and not used to fit numbers). Both
are cut in two halves (seeded): thresholds are fitted on the first (``calibration``), and
``bench/support.py`` reports on the second (``holdout``), so the reported figures are not
fitted on themselves. See ``policy.py`` for what each threshold does and the selection rules.

    lorasuite support calibrate                  # the defaults above, saved for the adapter
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from apps.support.policy import Thresholds
from shared.datasets import read_csv_rows, read_labeled_csv
from shared.errors import DataError, LorasuiteError
from shared.home import data_dir

log = logging.getLogger(__name__)
PRECISION_TARGET = 0.95
MAX_INSCOPE_HANDOVER = 0.10


def banking_csv() -> Path:
    """BANKING77 train: the shipped copy, else the project's shared data folder."""
    shipped = data_dir("support", "banking77_train.csv")
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "support" / "banking77_train.csv"
    return shipped if shipped.exists() or not shared.exists() else shared


def oos_csv() -> Path:
    return data_dir("support", "out_of_scope.csv")


def dev_split(path: str | Path | None = None) -> tuple[list[str], list[str]]:
    """The 20% dev split of BANKING77 train the shipped adapter was evaluated on (seed 42)."""
    from sklearn.model_selection import train_test_split

    texts, labels = read_labeled_csv(path or banking_csv(), "text", "category")
    _, dev_t, _, dev_y = train_test_split(texts, labels, test_size=0.2, random_state=42, stratify=labels)
    return list(dev_t), list(dev_y)


def read_oos(path: str | Path | None = None) -> tuple[list[str], list[str]]:
    """Texts and kinds (``out_of_scope`` | ``human``) of the out-of-scope set."""
    path = path or oos_csv()
    texts, kinds = [], []
    for row, values in read_csv_rows(path, ["text", "kind"]):
        kind = (values.get("kind") or "").strip()
        if kind not in ("out_of_scope", "human"):
            raise DataError(path, f"kind must be out_of_scope or human, got {kind!r}", row=row)
        texts.append((values.get("text") or "").strip())
        kinds.append(kind)
    return texts, kinds


def halves(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays of a seeded 50/50 split (calibration, holdout)."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


@dataclass
class Features:
    """What the thresholds look at, per question."""

    confidence: np.ndarray
    margin: np.ndarray
    similarity: np.ndarray
    predicted: list[str]


def measure(bot, texts: list[str]) -> Features:
    """Intent confidence, margin, predicted label and best-passage cosine for each text."""
    key, why = bot.intent_key()
    index, why_index = bot.index()
    if key is None or index is None:
        raise LorasuiteError(f"cannot calibrate: {why or why_index}")
    from shared.progress import progress

    with progress(f"intents of {len(texts)} questions"):
        preds = bot.backbone.classify(texts, key)
    with progress(f"passages for {len(texts)} questions"):
        sims = index.similarity(bot.backbone.encode(texts))
    return Features(np.array([p.score for p in preds]), np.array([p.margin for p in preds]), np.asarray(sims),
                    [p.label for p in preds])


def fit_answer(feats: Features, gold: list[str], target: float = PRECISION_TARGET) -> tuple[float, float, dict]:
    """The loosest (confidence, margin) whose article answers are at least ``target`` correct."""
    right = np.array([p == g for p, g in zip(feats.predicted, gold, strict=True)])
    best = (0.99, 0.5, {"coverage": 0.0, "precision": 1.0})
    for conf in np.arange(0.20, 1.0, 0.01):
        for margin in np.arange(0.0, 0.51, 0.05):
            chosen = (feats.confidence >= conf) & (feats.margin >= margin)
            if chosen.sum() < 10:
                continue
            precision, coverage = right[chosen].mean(), chosen.mean()
            if precision >= target and coverage > best[2]["coverage"] + 1e-9:
                best = (round(float(conf), 2), round(float(margin), 2),
                        {"coverage": float(coverage), "precision": float(precision)})
    return best


def fit_handover(inscope: Features, oos: Features, max_fpr: float = MAX_INSCOPE_HANDOVER) -> tuple[float, float, float, dict]:
    """(min_similarity, unsure_similarity, handover_margin) maximising OOS recall minus in-scope hand-over rate."""
    from shared.progress import bar

    best = (0.0, 0.0, 0.0, {"j": -1.0})
    for low in bar(np.arange(0.0, 0.61, 0.01), desc="fitting hand-over thresholds", unit="step"):
        floor_in, floor_out = inscope.similarity < low, oos.similarity < low
        for high in np.arange(low, 0.71, 0.01):
            near_in, near_out = inscope.similarity < high, oos.similarity < high
            for margin in np.arange(0.0, 1.0, 0.05):
                fpr = float((floor_in | (near_in & (inscope.margin < margin))).mean())
                tpr = float((floor_out | (near_out & (oos.margin < margin))).mean())
                if fpr <= max_fpr and tpr - fpr > best[3]["j"] + 1e-9:
                    best = (round(float(low), 2), round(float(high), 2), round(float(margin), 2),
                            {"j": tpr - fpr, "tpr": tpr, "fpr": fpr})
    return best


def calibrate(bot, dev: tuple[list[str], list[str]] | None = None, oos_path: str | Path | None = None,
              seed: int = 7) -> tuple[Thresholds, dict]:
    """Fit the four thresholds on the calibration halves; returns them and a report."""
    dev_texts, dev_labels = dev or dev_split()
    oos_texts, kinds = read_oos(oos_path)
    cal_dev, _ = halves(len(dev_texts), seed)
    cal_oos, _ = halves(len(oos_texts), seed)
    texts = [dev_texts[i] for i in cal_dev]
    gold = [dev_labels[i] for i in cal_dev]
    oos = [oos_texts[i] for i in cal_oos if kinds[i] == "out_of_scope"]
    log.info("calibrating on %d in-scope and %d out-of-scope questions", len(texts), len(oos))
    inscope_f, oos_f = measure(bot, texts), measure(bot, oos)
    conf, margin, answer_report = fit_answer(inscope_f, gold)
    low, high, unsure_margin, handover_report = fit_handover(inscope_f, oos_f)
    thresholds = Thresholds(conf, margin, low, high, unsure_margin, source="calibrated")
    report = {"inscope_n": len(texts), "oos_n": len(oos), "article": answer_report, "handover": handover_report,
              "dev_accuracy": float(np.mean([p == g for p, g in zip(inscope_f.predicted, gold, strict=True)]))}
    return thresholds, report
