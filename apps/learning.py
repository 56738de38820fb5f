"""The learning loop of the apps: labels in, champion/challenger retrains out (``shared.retrain``).

Each app that learns hands the suite a ``Learner`` through ``AppSpec.learning``: which adapter
it serves, the task its labels are stored under (``shared.labels``) and, for a model that is not
a classifier, its own retrain. The CLI (``lorasuite retrain``, ``lorasuite APP relabel``), the
scheduler (``apps.learning_scheduler``) and the admin views go through here.

    learner = learner_of(ctx, "sentiment")
    relabel_file(ctx, "sentiment", "labels.csv", who="ana")      # {"labels": N, "new": M}
    report = retrain(ctx, "sentiment", "finance")                  # full report; public(report) is the contract
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared import labels as label_store
from shared import registry
from shared.errors import DataError, LorasuiteError
from shared.home import state_dir

log = logging.getLogger(__name__)
NICE = 10  # the lowest priority a training process runs at (higher = nicer)


@dataclass
class Learner:
    """How an app learns: its adapter, its labels' task, and optionally its own retrain."""

    app: str
    task: str  # labels are stored under (app, task)
    adapter: Callable[[Any], str]  # ctx -> the configured adapter reference
    kind: str = "classify"  # classify | biencoder
    label_col: str = "label"  # the label column of ``lorasuite APP relabel --input``
    extra_labels: tuple[str, ...] = ()  # accepted from people though not a class of the adapter (out of scope)
    retrain: Callable[..., dict[str, Any]] | None = None  # (ctx, name, knobs, progress) -> report
    pending: Callable[[Any, str], int] | None = None  # (ctx, name) -> new data since the champion
    live_texts: Callable[[Any, str], list[str]] | None = None  # (ctx, since ISO time) -> inputs (drift)

    def name(self, ctx: Any) -> str:
        """The configured adapter's name (``sentiment/finance`` -> ``finance``)."""
        ref = registry.parse_ref(self.adapter(ctx), app=self.app)
        return ref.name if ref.path is None else ref.path.name


def learner_of(ctx: Any, app: str) -> Learner:
    spec = ctx.spec(app)
    if spec is None:
        raise LorasuiteError(f"no app {app!r}; installed: {', '.join(s.name for s in ctx.specs)}")
    if spec.learning is None:
        learning = [s.name for s in ctx.specs if s.learning is not None]
        raise LorasuiteError(f"app {spec.name!r} has no learning loop (apps that learn: {', '.join(learning)})")
    return spec.learning(ctx)


def knobs(ctx: Any):
    """``[learning]`` as the plain settings ``shared.retrain`` takes."""
    from shared.retrain import Knobs

    s = ctx.config.learning
    return Knobs(holdout=s.holdout, max_regression=s.max_regression, new_label_weight=s.new_label_weight,
                 epochs=s.epochs, lr=s.lr)


def label_names(ctx: Any, learner: Learner, name: str | None = None) -> list[str]:
    """The classes of the adapter (its champion's meta.json; no model is loaded)."""
    from shared.adapters import read_meta

    version = registry.resolve(registry.Ref(learner.app, name or learner.name(ctx)))
    return list(read_meta(version.path).get("labels") or [])


def allowed_labels(ctx: Any, learner: Learner, name: str | None = None) -> list[str]:
    return [*label_names(ctx, learner, name), *learner.extra_labels]


def record_labels(ctx: Any, app: str, rows: list[tuple[str, str]], source: str, who: str) -> dict[str, int]:
    """Check every label against the adapter's classes, then store them (last label wins)."""
    learner = learner_of(ctx, app)
    allowed = set(allowed_labels(ctx, learner))
    for text, label in rows:
        if label not in allowed:
            raise LorasuiteError(f"label {label!r} is not one of {sorted(allowed)}")
        if not label_store.normalise(text):
            raise LorasuiteError("the text to label is empty")
    return label_store.record(ctx.db, app, learner.task, rows, source=source, who=who)


def relabel_file(ctx: Any, app: str, path: str | Path, who: str, text_col: str = "text",
                 label_col: str | None = None) -> dict[str, int]:
    """Record every row of a CSV (``text,<label_col>``); a label outside the adapter's classes names its row."""
    from shared.datasets import read_labeled_csv

    learner = learner_of(ctx, app)
    label_col = label_col or learner.label_col
    texts, values = read_labeled_csv(path, text_col, label_col)
    allowed = allowed_labels(ctx, learner)
    for number, label in enumerate(values, start=2):
        if label not in allowed:
            raise DataError(path, f"label {label!r} is not one of the adapter's {sorted(allowed)}", row=number,
                            fix="fix the label or delete the row")
    result = label_store.record(ctx.db, app, learner.task, list(zip(texts, values, strict=True)), source="cli", who=who)
    return {"labels": result["labels"], "new": result["new"]}


def pending(ctx: Any, app: str, name: str | None = None) -> int:
    """New labels (or interactions) since the champion of ``app/name`` was trained."""
    from shared.adapters import read_meta

    learner = learner_of(ctx, app)
    name = name or learner.name(ctx)
    if learner.pending is not None:
        return learner.pending(ctx, name)
    meta = read_meta(registry.resolve(registry.Ref(app, name)).path)
    return label_store.count(ctx.db, app, learner.task, since=int(meta.get("labels_through") or 0))


def retrain(ctx: Any, app: str, name: str | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """One champion/challenger round in this process; returns the full report (see ``shared.retrain``)."""
    from shared.retrain import Job, plan_classifier, run_classifier

    learner = learner_of(ctx, app)
    name = name or learner.name(ctx)
    if learner.retrain is not None:
        report = learner.retrain(ctx, name, knobs(ctx), progress)
    else:
        rows = label_store.labels(ctx.db, app, learner.task)
        job = Job(app, name, learner.task, rows, knobs(ctx))
        report = run_classifier(plan_classifier(job), progress)
    save_report(report)
    return report


def report_dir() -> Path:
    return state_dir("learning", "reports")


def save_report(report: dict[str, Any]) -> Path:
    """Keep the full report as ``APP_NAME_last.json`` (the admin views show it) and a dated copy."""
    from shared.atomic import write_text

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    report = dict(report, finished=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    text = json.dumps(report, indent=2, default=str)
    write_text(report_dir() / f"{report['app']}_{report['name']}_{stamp}.json", text)
    last = report_dir() / f"{report['app']}_{report['name']}_last.json"
    write_text(last, text)
    return last


def last_report(app: str, name: str) -> dict[str, Any] | None:
    path = report_dir() / f"{app}_{name}_last.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def lower_priority(threads: int) -> None:
    """Train politely: at least ``NICE`` niceness and ``threads`` torch threads (serving keeps the rest)."""
    try:
        current = os.nice(0)
        if current < NICE:
            os.nice(NICE - current)
    except OSError:  # not permitted here: the thread bound still applies
        log.debug("cannot lower the priority", exc_info=True)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(max(1, threads))


def run_child(app: str, name: str, threads: int, report: Path | None = None, timeout: float | None = None) -> int:
    """``lorasuite retrain APP --name NAME`` in a child process at low priority with ``threads`` threads."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    command = [sys.executable, "-m", "apps", "retrain", app, "--name", name]
    if report is not None:
        command += ["--report", str(report)]
    log.info("retraining %s/%s in a child process: %s", app, name, " ".join(command))
    done = subprocess.run(command, env=env, preexec_fn=lambda: os.nice(NICE), timeout=timeout,  # noqa: PLW1509
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode not in (0, 2):
        log.error("retrain %s/%s failed (exit %d): %s", app, name, done.returncode, done.stderr[-2000:])
    return done.returncode
