"""Aggregates per topic per time bucket: counts by label, negative share, mean polarity.

Buckets are aligned to UTC multiples of ``bucket_hours`` (1, 6, 24 ...). ``mean_score`` is the
mean polarity p(positive) - p(negative) of the bucket's items, in [-1, 1]. ``baseline_series``
adds the detector's expected negatives per window along the same buckets, for the trend plot.

    aggregate(db, topic="Boeing", bucket_hours=6)
    -> [{"topic", "bucket", "negative", "neutral", "positive", "total", "negative_share", "mean_score"}, ...]
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from apps.sentiment.detector import HOUR, Detector, Rules, event_for
from apps.sentiment.store import iso
from shared.storage import Database


def _bucket(published: str, hours: float) -> str:
    ts = datetime.fromisoformat(published).timestamp()
    start = ts - ts % (hours * HOUR)
    return iso(datetime.fromtimestamp(start, timezone.utc))


def topic_rows(db: Database, topic: str | None = None, since: str | None = None,
               until: str | None = None) -> list[dict[str, Any]]:
    """Scored items with their topic (one row per item and topic), oldest first."""
    where, params = ["i.label IS NOT NULL"], {}
    if topic:
        where.append("t.topic = :topic")
        params["topic"] = topic
    if since:
        where.append("i.published >= :since")
        params["since"] = since
    if until:
        where.append("i.published <= :until")
        params["until"] = until
    return db.query("SELECT t.topic, t.kind, i.id, i.published, i.label, i.score, i.polarity, i.title, i.link "
                    "FROM sentiment_items i JOIN sentiment_item_topics t ON t.item_id = i.id "
                    f"WHERE {' AND '.join(where)} ORDER BY i.published", params)


def aggregate(db: Database, topic: str | None = None, bucket_hours: float = 6.0, since: str | None = None,
              until: str | None = None) -> list[dict[str, Any]]:
    """One row per (topic, bucket) that has items, sorted by topic then time."""
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"negative": 0, "neutral": 0, "positive": 0, "total": 0, "polarity": 0.0})
    for row in topic_rows(db, topic, since, until):
        g = groups[(row["topic"], _bucket(row["published"], bucket_hours))]
        if row["label"] in ("negative", "neutral", "positive"):
            g[row["label"]] += 1
        g["total"] += 1
        g["polarity"] += float(row["polarity"] or 0.0)
    out = []
    for (name, bucket), g in sorted(groups.items()):
        out.append({"topic": name, "bucket": bucket, "negative": g["negative"], "neutral": g["neutral"],
                    "positive": g["positive"], "total": g["total"],
                    "negative_share": round(g["negative"] / g["total"], 4),
                    "mean_score": round(g["polarity"] / g["total"], 4)})
    return out


def topic_summary(db: Database, since: str | None = None) -> list[dict[str, Any]]:
    """Per topic: kind, items, negatives, negative share, mean polarity (busiest first)."""
    after = "AND i.published >= :since" if since else ""  # no untyped NULL parameter (PostgreSQL)
    rows = db.query("SELECT t.topic, t.kind, COUNT(*) AS items, "
                    "SUM(CASE WHEN i.label = 'negative' THEN 1 ELSE 0 END) AS negative, AVG(i.polarity) AS mean_score "
                    "FROM sentiment_items i JOIN sentiment_item_topics t ON t.item_id = i.id "
                    f"WHERE i.label IS NOT NULL {after} "
                    "GROUP BY t.topic, t.kind ORDER BY items DESC, t.topic", {"since": since} if since else {})
    for row in rows:
        row["negative_share"] = round(int(row["negative"]) / max(int(row["items"]), 1), 4)
        row["mean_score"] = round(float(row["mean_score"] or 0.0), 4)
    return rows


def baseline_series(db: Database, topic: str, rules: Rules, since: str | None = None,
                    until: str | None = None) -> list[dict[str, Any]]:
    """The detector's reading at each grid time: negatives in the window and the baseline."""
    rows = topic_rows(db, topic, None, until)
    if not rows:
        return []
    first = db.scalar("SELECT MIN(published) FROM sentiment_items WHERE label IS NOT NULL")
    detector = Detector(rules, origin=datetime.fromisoformat(first).timestamp())  # as live: the stream's start
    for row in rows:
        detector.add(topic, event_for(row["published"], row["label"], row["score"], row["title"], row["link"]))
    start = datetime.fromisoformat(since).timestamp() if since else detector.origin
    end = datetime.fromisoformat(rows[-1]["published"]).timestamp() + rules.window_hours * HOUR
    out = []
    for at in detector.grid(start - 1, end):
        c = detector.check(topic, at)
        out.append({"at": iso(datetime.fromtimestamp(at, timezone.utc)), "negative": c.negative,
                    "baseline": c.baseline, "spike": c.spike})
    return out
