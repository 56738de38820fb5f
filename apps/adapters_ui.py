"""The "Model" tab of the admin views: adapter versions, training curve, last retrain, drift, promote/rollback.

One component for every app (the sentiment dashboard, the support admin page, the recommender
admin page): ``model_tab(ctx, app)`` inside a ``gr.Tab``. The handlers are plain functions
(``view``, ``promote``, ``rollback``) so they are tested without a browser; the buttons need a
logged-in user (``request.username``), who is recorded as the reason of the change.

    with gr.Tab("Model"):
        model_tab(ctx, "sentiment")
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

import gradio as gr

from apps.ui_guard import logged_in, who
from shared import registry
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
HISTORY_COLS = ["version", "status", "parent", "created", "old dev macro-F1", "new dev macro-F1", "reason"]
DRIFT_COLS = ["day", "version", "inputs", "score", "PSI", "mean confidence", "confidence drop", "centroid distance"]
PRIVATE = "private"


def adapter_name(ctx: Any, app: str) -> str:
    from apps.learning import learner_of

    return learner_of(ctx, app).name(ctx)


def history_rows(app: str, name: str) -> list[list[Any]]:
    """One row per version, newest first, with its old/new-data scores and why it has its status."""
    rows = []
    for row in reversed(registry.history(app, name)):
        metrics = row["metrics"] or {}
        old = metrics.get("old_dev_macro_f1", metrics.get("dev_macro_f1", metrics.get("dev_recall_at_10")))
        rows.append([row["version"], row["status"], row["parent"] or "", row["created"] or "",
                     _round(old), _round(metrics.get("new_dev_macro_f1", metrics.get("new_dev_recall_at_10"))),
                     row["reason"]])
    return rows


def _round(value: Any) -> Any:
    return round(float(value), 4) if isinstance(value, (int, float)) else ""


def curve_of(app: str, name: str, version: int | None = None) -> str | None:
    """The training curve PNG of ``version`` (default: the champion), if it has one."""
    ref = registry.Ref(app, name, int(version)) if version else registry.Ref(app, name)
    path = registry.resolve(ref).path / "training_curve.png"
    return str(path) if path.exists() else None


def view(ctx: Any, app: str, version: int | None = None) -> tuple[str, list, str | None, str, list]:
    """(header, version history, curve, last report JSON, drift history) of ``app``'s adapter."""
    from apps.drift import notice
    from apps.learning import last_report, pending
    from shared import drift

    name = adapter_name(ctx, app)
    champion = registry.resolve(registry.Ref(app, name))
    waiting = pending(ctx, app, name)
    header = (f"**{app}/{name}**: champion **v{champion.version}** ({champion.source}); {waiting} new label(s) since "
              f"it was trained (a scheduled retrain needs {ctx.config.learning.min_new_labels}; "
              f"`lorasuite retrain {app}` runs one now).\n\n{notice(ctx, app, name)}")
    report = last_report(app, name)
    drift_rows = [[r["day"], r["version"], r["n"], round(r["score"], 3), round(r["psi"], 3), round(r["mean_confidence"], 3),
                   round(r["confidence_drop"], 3), round(r["centroid_distance"], 4)]
                  for r in drift.history(ctx.db, app, name)]
    return (header, history_rows(app, name), curve_of(app, name, version),
            json.dumps(report, indent=2) if report else "no retrain yet", drift_rows)


def promote(ctx: Any, app: str, version: float | None, who: str) -> tuple:
    if not version:
        raise LorasuiteError("enter the version to promote")
    name = adapter_name(ctx, app)
    done = registry.promote(app, name, int(version), reason=f"promoted by {who} in the admin page")
    log.info("%s promoted %s/%s v%d", who, app, name, done.version)
    return view(ctx, app)


def rollback(ctx: Any, app: str, who: str) -> tuple:
    name = adapter_name(ctx, app)
    done = registry.rollback(app, name)
    log.info("%s rolled %s/%s back to v%d", who, app, name, done.version)
    return view(ctx, app)


def _show(ctx: Any, app: str, version: float | None = None, request: gr.Request = None) -> tuple:
    return view(ctx, app, int(version) if version else None)


def _promote(ctx: Any, app: str, version: float | None, request: gr.Request = None) -> tuple:
    return promote(ctx, app, version, who(request))


def _rollback(ctx: Any, app: str, request: gr.Request = None) -> tuple:
    return rollback(ctx, app, who(request))


def model_tab(ctx: Any, app: str, load_on: Any = None) -> list:
    """Build the tab's components in the current Blocks; refreshed on ``load_on`` (e.g. ``demo.load``)."""
    header = gr.Markdown()
    table = gr.Dataframe(headers=HISTORY_COLS, interactive=False, wrap=True, label="Versions (newest first)")
    with gr.Row():
        version = gr.Number(label="Version", precision=0, scale=1)
        show = gr.Button("Show curve", scale=1)
        go = gr.Button("Promote", variant="primary", scale=1)
        back = gr.Button("Roll back", variant="stop", scale=1)
        refresh = gr.Button("Refresh", scale=1)
    with gr.Row():
        curve = gr.Image(label="Training curve", type="filepath", height=300, scale=1, interactive=False)
        report = gr.Code(label="Last retrain report", language="json", scale=1)
    drift_table = gr.Dataframe(headers=DRIFT_COLS, interactive=False, label="Drift of live inputs (daily)")
    outputs = [header, table, curve, report, drift_table]
    bind = functools.partial
    show.click(logged_in(bind(_show, ctx, app), 5), [version], outputs, api_visibility=PRIVATE)
    refresh.click(logged_in(bind(_show, ctx, app), 5), [version], outputs, api_visibility=PRIVATE)
    go.click(logged_in(bind(_promote, ctx, app), 5), [version], outputs, api_visibility=PRIVATE)
    back.click(logged_in(bind(_rollback, ctx, app), 5), None, outputs, api_visibility=PRIVATE)
    if load_on is not None:
        load_on(logged_in(bind(_show, ctx, app), 5), None, outputs, api_visibility=PRIVATE)
    return outputs
