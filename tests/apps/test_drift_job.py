"""Daily drift of a served classifier: measured against its training data, stored, in /metrics and the admin view."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from apps import drift as drift_job
from shared import drift
from tests.retrain_helpers import make_champion


@pytest.fixture
def tiny_ctx(tiny_bert, tmp_path, make_ctx):
    make_champion(tiny_bert, tmp_path)
    return make_ctx(sentiment={"adapter": "sentiment/tiny", "demo_feeds": False}, learning={"drift_threshold": 0.01})


def _items(ctx, titles):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "sentiment"))
    from sentiment_helpers import add_items

    from apps.sentiment.store import open_db

    now = datetime.now(timezone.utc)
    add_items(open_db(ctx.db), [("Acme", now - timedelta(hours=1), "neutral", t) for t in titles])


def test_measure_stores_the_day_and_feeds_metrics_and_the_notice(tiny_ctx):
    assert drift_job.measure(tiny_ctx, "sentiment") is None  # no live inputs yet
    assert "not measured yet" in drift_job.notice(tiny_ctx, "sentiment", "tiny")
    _items(tiny_ctx, [f"zzz quarterly {i} results in another language entirely" for i in range(20)])
    row = drift_job.measure(tiny_ctx, "sentiment")
    assert row["n"] == 20 and row["version"] == 1 and row["score"] >= 0
    assert drift.latest(tiny_ctx.db, "sentiment", "tiny")["score"] == row["score"]
    (family,) = list(drift_job.drift_metrics(tiny_ctx, "sentiment"))
    assert family.name == "lorasuite_sentiment_drift_score"
    assert family.samples[0].labels == {"adapter": "sentiment/tiny"}
    assert "Inputs have drifted" in drift_job.notice(tiny_ctx, "sentiment", "tiny")  # threshold 0.01 in this test
