"""Analysts' labels: relabel from the dashboard (who = the login), the uncertainty-ordered queue."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sentiment_helpers import add_items

from apps.sentiment import labelling, learning_ui
from shared import labels
from shared.errors import LorasuiteError

START = datetime(2026, 10, 5, tzinfo=timezone.utc)
TITLES = ["Acme beats forecasts", "Acme misses estimates", "Acme holds annual meeting", "Bolt recalls cars",
          "Bolt shares flat", "Bolt wins big order"]


@pytest.fixture
def ctx_tiny(tiny_sentiment, make_ctx, db):
    add_items(db, [("Acme", START + timedelta(hours=i), "neutral", t) for i, t in enumerate(TITLES)])
    return make_ctx(sentiment={"adapter": tiny_sentiment, "demo_feeds": False})


def test_relabel_from_the_dashboard_records_who_and_where(ctx_tiny):
    with pytest.raises(LorasuiteError, match="log in"):
        learning_ui.relabel_row(ctx_tiny, TITLES[0], "positive", request=None)
    with pytest.raises(LorasuiteError, match="choose"):
        learning_ui.relabel_row(ctx_tiny, TITLES[0], None, request=SimpleNamespace(username="ana"))
    status = learning_ui.relabel_row(ctx_tiny, TITLES[0], "positive", request=SimpleNamespace(username="ana"))
    assert "Saved **positive** (new)" in status and "1 label(s) wait" in status
    learning_ui.relabel_row(ctx_tiny, TITLES[0], "neutral", request=SimpleNamespace(username="bo"))
    (row,) = labels.labels(ctx_tiny.db, "sentiment", "sentiment")
    assert (row.text, row.label, row.who, row.source) == (TITLES[0], "neutral", "bo", "dashboard")
    with pytest.raises(LorasuiteError, match="not one of"):
        labelling.relabel(ctx_tiny, TITLES[1], "bullish", who="ana")


def test_queue_puts_the_least_certain_first_and_skips_labelled_rows(ctx_tiny):
    labelling.relabel(ctx_tiny, TITLES[1], "negative", who="ana")
    rows = labelling.queue(ctx_tiny, limit=10)
    assert {r["title"] for r in rows} == set(TITLES) - {TITLES[1]}
    margins = [r["margin"] for r in rows]
    assert margins == sorted(margins)
    assert all(0 <= r["margin"] <= r["score"] <= 1 for r in rows)
    assert labelling.queue(ctx_tiny, limit=2) == rows[:2]


def test_live_texts_are_the_items_fetched_since(ctx_tiny):
    texts = labelling.live_texts(ctx_tiny, "2000-01-01T00:00:00+00:00")
    assert set(texts) == set(TITLES)
    assert labelling.live_texts(ctx_tiny, "2999-01-01T00:00:00+00:00") == []
