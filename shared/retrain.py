"""Champion/challenger retraining of a classifier adapter from collected labels.

    plan = plan_classifier(Job("sentiment", "finance", "sentiment", labels, Knobs()))
    report = run_classifier(plan)           # report.public() is the JSON contract

1. Plan: the champion's version, its old training data and frozen dev set (``shared.traindata``),
   the labels newer than what it trained on (none: ``NoNewLabels``), the fixed held-back 20%.
2. Gate (``shared.gate``): labels a probe on frozen embeddings cannot learn are refused; no model.
3. Challenger (``shared.continual``): the champion's LoRA + head trained further on every
   collected label (not the held-back ones) mixed with replayed old rows.
4. Both scored (macro-F1) on the old dev set and on the held-back labels; ``shared.promotion``
   decides; the challenger is saved as a new version, champion or rejected, atomically (a run
   killed before this step leaves nothing). The report is returned for the caller to write.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared import adapters, registry
from shared.errors import LorasuiteError
from shared.labels import Label, split, text_hash
from shared.retrain_eval import Evaluator, estimate_seconds, old_rows_without
from shared.traindata import LABELS_FILE, child_train_data, describe, labels_csv, locate

log = logging.getLogger(__name__)


class NoNewLabels(LorasuiteError):
    """Nothing to learn from: no label newer than the champion's training data."""


@dataclass
class Knobs:
    """The ``[learning]`` settings a retrain uses (plain values: ``shared`` does not read app config)."""

    holdout: float = 0.2
    max_regression: float = 0.01
    new_label_weight: float = 0.0
    alpha: float = 0.05
    epochs: int = 2
    distill: float = 1.0
    lr: float = 5e-4
    batch_size: int = 32
    replay_cap: int = 2000
    seed: int = 42


@dataclass
class Job:
    """What to retrain and on which labels (the app's current labels for its task)."""

    app: str
    name: str
    task: str
    labels: list[Label]
    knobs: Knobs = field(default_factory=Knobs)
    model: str | None = None  # base model override (tests)


@dataclass
class Plan:
    job: Job
    champion: registry.Version
    meta: dict[str, Any]
    old_train: list[tuple[str, str]]
    old_dev: list[tuple[str, str]]
    train: list[Label]
    held: list[Label]
    new_since: int

    def summary(self) -> str:
        k = self.job.knobs
        return (f"retrain {self.job.app}/{self.job.name}: champion v{self.champion.version}; {len(self.train)} labels to "
                f"train on + {len(self.held)} held back ({self.new_since} new since the champion); old data "
                f"{len(self.old_train)} rows ({describe(self.meta)}), replay up to {k.replay_cap}/epoch; old dev "
                f"{len(self.old_dev)} rows; {k.epochs} epochs at lr {k.lr}")


def plan_classifier(job: Job) -> Plan:
    """Resolve the champion and the data; raises NoNewLabels / LorasuiteError before anything heavy."""
    champion = registry.resolve(registry.Ref(job.app, job.name))
    meta = adapters.read_meta(champion.path)
    if meta.get("task") != "classify":
        raise LorasuiteError(f"{job.app}/{job.name} is a {meta.get('task')} adapter; retrain handles classifiers here")
    allowed = set(meta["labels"])
    usable = [row for row in job.labels if row.label in allowed]
    through = int(meta.get("labels_through") or 0)
    new_since = sum(1 for row in usable if row.id > through)
    if not new_since:
        raise NoNewLabels(f"{job.app}/{job.name}: no new labels since v{champion.version} was trained "
                          f"(label some with `lorasuite {job.app} relabel` or in the app)")
    old_train, old_dev = locate(meta, champion.path)
    if not old_dev:
        raise LorasuiteError(f"{champion.path}/meta.json records no dev set (dev_data): the champion cannot be "
                             "compared on old data")
    train, held = split(usable, job.knobs.holdout, job.knobs.seed)
    frozen = {text_hash(text) for text, _ in old_dev}
    train = [row for row in train if row.text_hash not in frozen]  # never train on the old dev set's texts
    if not train or not held:
        raise NoNewLabels(f"{job.app}/{job.name}: {len(usable)} label(s) are too few to both train on and hold back "
                          f"{job.knobs.holdout:.0%}; collect more")
    skip = {row.text_hash for row in usable}
    return Plan(job, champion, meta, old_rows_without(old_train, skip), old_rows_without(old_dev, set()),
                train, held, new_since)


def run_classifier(plan: Plan, progress: Any = None) -> dict[str, Any]:
    """Gate, train, score, decide, save; returns the full report (``public(report)`` is the contract)."""
    from shared.continual import MixPlan, continue_classifier, load_classifier
    from shared.settings import LoraSettings

    job, knobs, started = plan.job, plan.job.knobs, time.perf_counter()
    champion_task, tokenizer, labels, meta = load_classifier(plan.champion.path, trainable=False, model=job.model)
    evaluator = Evaluator(plan, champion_task, tokenizer, labels)
    mix = MixPlan.from_weight(knobs.new_label_weight, epochs=knobs.epochs, replay_cap=knobs.replay_cap,
                              distill=knobs.distill, seed=knobs.seed)
    new_rows = [(row.text, row.label) for row in plan.train]
    estimate = estimate_seconds(evaluator, mix, len(new_rows), len(plan.old_train), knobs.batch_size)
    _say(progress, f"{plan.summary()}; estimated {estimate / 60:.0f} min")
    gate = evaluator.gate([row.text for row in plan.train + plan.held], [row.label for row in plan.train + plan.held])
    champion_scores = evaluator.score_champion()
    report = _report(plan, champion_scores, gate=gate.to_dict(), estimate_s=round(estimate))
    if not gate.ok:
        return _finish(report, False, gate.reason, started)
    settings = LoraSettings.from_dict(dict(meta.get("settings", {}), lr=knobs.lr, batch_size=knobs.batch_size,
                                           seed=knobs.seed, early_stopping_patience=0))
    trained = continue_classifier(plan.champion.path, new_rows, plan.old_train, mix, settings, model=job.model)
    challenger_scores, verdict = evaluator.judge(trained, champion_scores)
    trained.meta.update(_lineage(plan, challenger_scores, gate.to_dict(), verdict))
    trained.files = {LABELS_FILE: labels_csv(new_rows)}
    status = "champion" if verdict.promoted else "rejected"
    path = adapters.save(job.app, job.name, trained, status=status, parent=plan.champion.version, reason=verdict.reason)
    report["challenger"] = dict(challenger_scores, version=int(path.name[1:]))
    report["details"]["p_value"] = verdict.p_value
    return _finish(report, verdict.promoted, verdict.reason, started)


def _say(progress: Any, text: str) -> None:
    """The plan goes to ``progress`` (the CLI prints it) or else to the log."""
    if progress is not None:
        progress(text)
    else:
        log.info("%s", text)


def _lineage(plan: Plan, scores: dict[str, Any], gate: dict, verdict: Any) -> dict[str, Any]:
    """What a new version's meta.json records: parent, data references and hashes, metrics, decision."""
    digest = text_hash("\n".join(f"{row.text_hash}:{row.label}" for row in plan.train))
    parent_hashes = plan.meta.get("data_hashes") or ([plan.meta["data_hash"]] if plan.meta.get("data_hash") else [])
    dev_data = dict(plan.meta["dev_data"])
    if dev_data.get("in") == "adapter":
        dev_data.update(file=str(plan.champion.path / dev_data["file"]), **{"in": "absolute"})
    return {"train_data": child_train_data(plan.meta, plan.champion.path), "dev_data": dev_data,
            "labels_through": max(row.id for row in plan.train + plan.held), "data_hash": digest,
            "data_hashes": [*parent_hashes, digest],
            "metrics": {"old_dev_macro_f1": scores["old_dev"], "new_dev_macro_f1": scores["new_dev"],
                        "old_dev_accuracy": scores["old_dev_accuracy"], "new_dev_accuracy": scores["new_dev_accuracy"],
                        "dev_macro_f1": scores["old_dev"], "dev_n": len(plan.old_dev), "new_dev_n": len(plan.held)},
            "label_counts": {"train": len(plan.train), "held_back": len(plan.held), "new_since_parent": plan.new_since},
            "gate": gate, "decision": {"promoted": verdict.promoted, "reason": verdict.reason,
                                       "p_value": verdict.p_value}}


def _report(plan: Plan, champion: dict[str, Any], **details: Any) -> dict[str, Any]:
    return {"app": plan.job.app, "name": plan.job.name, "champion": dict(champion, version=plan.champion.version),
            "challenger": {"version": None, "old_dev": None, "new_dev": None}, "promoted": False, "reason": "",
            "details": dict(details, labels_train=len(plan.train), labels_held_back=len(plan.held),
                            new_since_champion=plan.new_since, old_train_rows=len(plan.old_train),
                            old_dev_rows=len(plan.old_dev))}


def _finish(report: dict[str, Any], promoted: bool, reason: str, started: float) -> dict[str, Any]:
    report.update(promoted=promoted, reason=reason)
    report["details"]["seconds"] = round(time.perf_counter() - started, 1)
    log.info("%s/%s: %s", report["app"], report["name"], reason)
    return report


def public(report: dict[str, Any]) -> dict[str, Any]:
    """The report's contract keys only: app, name, champion/challenger {version, old_dev, new_dev}, promoted, reason."""
    keep = ("version", "old_dev", "new_dev")
    return {"app": report["app"], "name": report["name"],
            "champion": {k: report["champion"].get(k) for k in keep},
            "challenger": {k: report["challenger"].get(k) for k in keep},
            "promoted": bool(report["promoted"]), "reason": report["reason"]}


def folder_of(app: str, name: str, version: int) -> Path:
    return registry.resolve(registry.Ref(app, name, version)).path
