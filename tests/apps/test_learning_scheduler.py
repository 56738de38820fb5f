"""The learning scheduler: where it runs, which adapters are due, one child retrain at a time."""

from __future__ import annotations

from apps import learning_scheduler
from apps.learning_scheduler import LearningScheduler, attach, detach
from shared import labels


def _label(ctx, n: int, start: int = 0) -> None:
    rows = [(f"headline number {i}", "neutral") for i in range(start, start + n)]
    labels.record(ctx.db, "sentiment", "sentiment", rows, source="test", who="t")


def test_jobs_run_only_where_the_suite_scheduler_says(make_ctx):
    off = make_ctx(suite={"scheduler": "0"}, learning={"schedule": "0 3 * * *"})
    assert attach(off, "sentiment").jobs() == []
    detach(off, "sentiment")
    on = make_ctx(suite={"scheduler": "1"}, learning={"schedule": "0 3 * * *"})
    scheduler = attach(on, "sentiment")
    attach(on, "support")
    assert sorted(scheduler.jobs()) == ["learning-drift", "learning-retrain"]
    detach(on, "sentiment")
    assert scheduler.jobs()  # support still attached
    detach(on, "support")
    assert scheduler.jobs() == [] and on.drop(learning_scheduler.KEY) is None
    demo = make_ctx(suite={"scheduler": "1"})  # the demo: no retrain schedule, drift only
    assert attach(demo, "sentiment").jobs() == ["learning-drift"]
    detach(demo, "sentiment")


def test_due_needs_min_new_labels_and_more_after_a_rejected_attempt(make_ctx, monkeypatch):
    ctx = make_ctx(suite={"scheduler": "0"}, learning={"min_new_labels": 5})
    scheduler = LearningScheduler(ctx)
    scheduler.apps = {"sentiment"}
    _label(ctx, 4)
    assert scheduler.due() == []
    _label(ctx, 1, start=4)
    assert scheduler.due() == [("sentiment", "finance", 5)]
    calls = []
    monkeypatch.setattr("apps.learning.run_child", lambda app, name, threads, report=None, timeout=None:
                        calls.append((app, name, threads)) or 0)
    assert scheduler.run_due() == [{"app": "sentiment", "name": "finance", "new_labels": 5, "exit": 0}]
    assert calls == [("sentiment", "finance", 1)]
    assert scheduler.due() == []  # rejected (the champion did not move): wait for 5 more labels
    _label(ctx, 4, start=5)
    assert scheduler.due() == []
    _label(ctx, 1, start=9)
    assert scheduler.due() == [("sentiment", "finance", 10)]
