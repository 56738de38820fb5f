"""Helpers for the sentiment tests: tiny RSS documents and folders of synthetic feeds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path


def rss(items: list[dict], title: str = "Test feed") -> str:
    """A small RSS 2.0 document; items have title, link, guid, summary, published (datetime)."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{title}</title>'
             "<link>https://example.com/</link><description>test</description>"]
    for it in items:
        date = it.get("published")
        parts.append("<item>"
                     + (f"<title>{it['title']}</title>" if it.get("title") else "")
                     + (f"<link>{it['link']}</link>" if it.get("link") else "")
                     + (f'<guid isPermaLink="false">{it["guid"]}</guid>' if it.get("guid") else "")
                     + (f"<description>{it['summary']}</description>" if it.get("summary") else "")
                     + (f"<pubDate>{date.strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>" if date else "")
                     + "</item>")
    parts.append("</channel></rss>\n")
    return "".join(parts)


def write_feeds(folder: Path, n_files: int, per_file: int, start: datetime | None = None) -> int:
    """``n_files`` RSS files with ``per_file`` unique items each; returns the number of items."""
    start = start or datetime(2026, 10, 5, tzinfo=timezone.utc)
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(n_files):
        items = [{"title": f"Headline {f}-{i} about markets", "guid": f"g-{f}-{i}",
                  "link": f"https://example.com/{f}/{i}", "summary": "<p>Body &amp; <b>more</b></p>",
                  "published": start + timedelta(minutes=10 * (f * per_file + i))} for i in range(per_file)]
        (folder / f"feed{f:04d}.xml").write_text(rss(items))
    return n_files * per_file


def add_items(db, rows: list[tuple[str, datetime, str, str]]) -> None:
    """Store scored items directly (topic, published, label, title), through the real insert path."""
    from apps.sentiment.classify import Scored
    from apps.sentiment.ingest import Pipeline, commit
    from apps.sentiment.items import Item, dedupe_keys
    from apps.sentiment.store import iso
    from apps.sentiment.topics import TopicMatcher

    items, extras = [], []
    for n, (topic, when, label, title) in enumerate(rows):
        link = f"https://news.example.com/{abs(hash((topic, when, title, n)))}"
        items.append(Item("test", None, link, title, "", iso(when), "feed", iso(when), link,
                          dedupe_keys("test", None, link, title, "")))
        polarity = {"negative": -0.8, "positive": 0.8}.get(label, 0.0)
        extras.append({"score": Scored(label, 0.9, polarity), "entities": None, "topics": [(topic, "watch")]})
    commit(db, len(items), items, extras, Pipeline(None, TopicMatcher([])))


def spike_rows(start: datetime, topic: str = "Acme", days: int = 14, burst_day: int = 10,
               burst: int = 6) -> list[tuple[str, datetime, str, str]]:
    """A quiet topic (2 neutral items a day, a negative every 4 days) with a burst of negatives."""
    rows = []
    for d in range(days):
        day = start + timedelta(days=d)
        rows += [(topic, day + timedelta(hours=9), "neutral", f"{topic} update {d}a"),
                 (topic, day + timedelta(hours=15), "neutral", f"{topic} update {d}b")]
        if d % 4 == 1:
            rows.append((topic, day + timedelta(hours=11), "negative", f"{topic} minor worry {d}"))
    burst_at = start + timedelta(days=burst_day, hours=8)
    rows += [(topic, burst_at + timedelta(minutes=40 * i), "negative", f"{topic} scandal widens, part {i}")
             for i in range(burst)]
    return rows
