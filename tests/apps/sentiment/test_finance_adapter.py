"""The shipped ``sentiment/finance`` adapter on the real MiniLM: obvious headlines, and the demo episode."""

from __future__ import annotations

from pathlib import Path

from apps.sentiment.detector import Rules

REPO = Path(__file__).resolve().parents[3]
FINANCE = REPO / "data" / "adapters" / "sentiment" / "finance"


def test_obvious_headlines(minilm):
    from apps.sentiment.classify import SentimentModel

    model = SentimentModel.load("finance")
    got = [s.label for s in model.predict(["Boeing shares plunge after FAA grounds 737 MAX fleet",
                                           "Apple beats estimates and raises its dividend, stock jumps to record",
                                           "Tesla to hold annual shareholder meeting on June 15"])]
    assert got == ["negative", "positive", "neutral"]


def test_demo_feeds_boeing_episode_fires(minilm):
    """The Boeing headlines of the shipped demo feeds, through the real adapter and the default rule."""
    from apps.sentiment.classify import SentimentModel
    from apps.sentiment.ingest import Pipeline
    from apps.sentiment.replay import read_items, run, scored_events
    from apps.sentiment.topics import TopicMatcher, Watch

    items, errors = read_items([str(REPO / "data" / "sentiment" / "feeds")])
    assert not errors and len(items) == 600
    boeing = [i for i in items if "boeing" in f"{i.title} {i.summary}".lower() or "$BA" in i.title]
    pipeline = Pipeline(SentimentModel.load("finance"), TopicMatcher([Watch("Boeing", ["$BA", "Boeing"])], {}))
    alerts = run(scored_events(boeing, pipeline), Rules())  # Boeing news starts on the stream's first day
    fired = [a for a in alerts if a["topic"] == "Boeing"]
    assert len(fired) == 1
    assert "2026-10-20T12:00" <= fired[0]["fired_at"] <= "2026-10-22T00:00"
    assert all(e["link"].startswith("https://news.example.com/") for e in fired[0]["evidence"])
