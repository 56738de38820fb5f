"""Daily drift statistics of the classifiers the apps serve (``shared.drift``), and their metrics.

``measure(ctx, app)`` compares the app's live inputs of the last day (``Learner.live_texts``)
with a sample of its champion's training data (the reference profile is computed once per
version and cached under ``$LORASUITE_HOME/learning/drift``) and stores the day's row. The
scheduler runs it daily in a low-priority child (``lorasuite drift``); ``drift_metrics`` is what
the apps' ``AppSpec.metrics`` hooks add to ``/metrics``; the admin views show the history.

    measure(ctx, "sentiment")   # {"app", "name", "version", "day", "score", "psi", ...} or None
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from shared import drift, registry
from shared.home import state_dir

log = logging.getLogger(__name__)
REFERENCE_ROWS = 1000


def reference(ctx: Any, version: registry.Version) -> dict[str, Any] | None:
    """The profile of a sample of the version's training data (cached), or None when none is recorded."""
    from shared.adapters import read_meta
    from shared.traindata import locate

    path = state_dir("learning", "drift") / f"{version.app}_{version.name}_v{version.version}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    rows, _ = locate(read_meta(version.path), version.path)
    if not rows:
        return None
    sample = [text for text, _ in random.Random(0).sample(rows, min(REFERENCE_ROWS, len(rows)))]
    found = _profile(ctx, version, sample)
    path.write_text(json.dumps(found))
    return found


def _profile(ctx: Any, version: registry.Version, texts: list[str]) -> dict[str, Any]:
    from shared.adapters import read_meta
    from shared.backbone import backbone_for

    backbone = backbone_for(read_meta(version.path).get("base_model"))  # the process-wide one of its base model
    labels, probs = backbone.classify_probs(texts, version.ref)
    return drift.profile(probs, labels, backbone.encode(texts))


def measure(ctx: Any, app: str, name: str | None = None, hours: float = 24.0) -> dict[str, Any] | None:
    """Today's drift row of ``app``'s classifier from the last ``hours`` of live inputs (None: nothing to compare)."""
    from apps.learning import learner_of

    learner = learner_of(ctx, app)
    if learner.kind != "classify" or learner.live_texts is None:
        return None
    name = name or learner.name(ctx)
    version = registry.resolve(registry.Ref(app, name))
    since = (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="seconds")
    texts = [t for t in learner.live_texts(ctx, since) if t.strip()][:5000]
    ref = reference(ctx, version) if texts else None
    if ref is None:
        log.info("drift %s/%s: %s", app, name, "no live inputs" if not texts else "no recorded training data")
        return None
    stats = drift.compare(ref, _profile(ctx, version, texts))
    day = datetime.now(timezone.utc).date().isoformat()
    drift.store(ctx.db, app, name, version.version, day, stats)
    return dict(stats, app=app, name=name, version=version.version, day=day)


def notice(ctx: Any, app: str, name: str) -> str:
    """A line for the admin views: the latest drift score, and a warning past ``[learning] drift_threshold``."""
    row = drift.latest(ctx.db, app, name)
    if row is None:
        return "Drift: not measured yet (the scheduler measures it daily; `lorasuite drift` does it now)."
    line = (f"Drift on {row['day']}: score **{row['score']:.2f}** (PSI {row['psi']:.2f}, confidence "
            f"{row['mean_confidence']:.2f} ({-row['confidence_drop']:+.2f}), centroid distance "
            f"{row['centroid_distance']:.3f}; {row['n']} inputs, v{row['version']})")
    if row["score"] > ctx.config.learning.drift_threshold:
        line = (f"⚠️ **Inputs have drifted** past the threshold {ctx.config.learning.drift_threshold:g}: label some "
                f"of the queue and retrain. {line}")
    return line


def drift_metrics(ctx: Any, app: str):
    """``lorasuite_<app>_drift_score{adapter}``: the latest score of the app's classifier (for AppSpec.metrics)."""
    from prometheus_client.core import GaugeMetricFamily

    from apps.learning import learner_of

    try:
        learner = learner_of(ctx, app)
        name = learner.name(ctx)
        row = drift.latest(ctx.db, app, name)
    except Exception:  # noqa: BLE001 - a scrape never fails on the learning loop
        log.debug("no drift metric for %s", app, exc_info=True)
        return
    if row is None:
        return
    family = GaugeMetricFamily(f"lorasuite_{app}_drift_score", f"Drift score of the {app} classifier's inputs "
                               "(PSI scale; see shared/drift.py)", labels=["adapter"])
    family.add_metric([f"{app}/{name}"], float(row["score"]))
    yield family
