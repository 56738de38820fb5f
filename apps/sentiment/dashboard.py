"""What the dashboard shows, as plain data and matplotlib figures (no Gradio here, so it is testable).

Every text that came from a feed is returned as a plain string for a ``str`` table cell, which
Gradio shows as text (never rendered as HTML or Markdown).

    trend_figure(db, "Boeing", bucket_hours=6, days=28)   # stacked labels, window count, baseline, alerts
    headline_rows(db, topic="Boeing")                      # newest first
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from apps.sentiment import aggregates, alerts, feeds, outbox
from apps.sentiment.detector import Rules
from apps.sentiment.store import get_setting, iso
from apps.sentiment.topics import Watch, parse_aliases, save_watchlist, watchlist
from shared.storage import Database

HEADLINE_COLS = ["published", "label", "score", "title", "link", "topics", "entities", "feed"]
ALERT_COLS = ["id", "fired_at", "severity", "topic", "negative", "baseline", "total", "status", "resolved_at", "state"]
FEED_COLS = ["name", "url", "every (s)", "status", "last success", "last error", "failures", "next attempt", "bozo"]
EVIDENCE_COLS = ["title", "link", "published", "score"]


def status_text(db: Database) -> str:
    """One line of numbers for the page header."""
    items = db.scalar("SELECT COUNT(*) FROM sentiment_items")
    scored = db.scalar("SELECT COUNT(*) FROM sentiment_items WHERE label IS NOT NULL")
    latest = db.scalar("SELECT MAX(published) FROM sentiment_items") or "-"
    n_feeds = db.scalar("SELECT COUNT(*) FROM sentiment_feeds")
    failing = db.scalar("SELECT COUNT(*) FROM sentiment_feeds WHERE failures > 0")
    open_alerts = len(alerts.list_alerts(db, open_only=True))
    clock = get_setting(db, alerts.CLOCK, {}) or {}
    checked = iso(datetime.fromtimestamp(clock["last_eval"], timezone.utc)) if clock.get("last_eval") else "never"
    return (f"**{items}** headlines ({scored} scored, latest {latest}) · **{n_feeds}** feeds ({failing} failing) · "
            f"**{open_alerts}** open alerts · detector checked up to {checked}")


def topic_choices(db: Database) -> list[str]:
    return [r["topic"] for r in aggregates.topic_summary(db)]


def topic_rows(db: Database) -> list[list[Any]]:
    return [[r["topic"], r["kind"], r["items"], r["negative"], r["negative_share"], r["mean_score"]]
            for r in aggregates.topic_summary(db)]


def _range(db: Database, days: float) -> tuple[str | None, str | None]:
    """The last ``days`` up to the newest item (the demo data is in the past)."""
    latest = db.scalar("SELECT MAX(published) FROM sentiment_items WHERE label IS NOT NULL")
    if not latest:
        return None, None
    end = datetime.fromisoformat(latest)
    return iso(end - timedelta(days=days)), iso(end)


def trend_figure(db: Database, topic: str | None, bucket_hours: float = 6.0, days: float = 28.0,
                 rules: Rules | None = None) -> Any:
    """Stacked label counts per bucket, the detector's window count vs baseline, alert markers."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), tight_layout=True)
    ax = fig.add_subplot()
    since, until = _range(db, days)
    if not topic or since is None:
        ax.text(0.5, 0.5, "no scored headlines yet" if since is None else "pick a topic", ha="center", va="center")
        ax.set_axis_off()
        return fig
    rules = rules or alerts.load_rules(db)
    rows = aggregates.aggregate(db, topic, bucket_hours, since, until)
    when = [datetime.fromisoformat(r["bucket"]) for r in rows]
    width = timedelta(hours=bucket_hours) * 0.9
    bottom = [0] * len(rows)
    for label, color in (("negative", "#d62728"), ("neutral", "#bbbbbb"), ("positive", "#2ca02c")):
        values = [r[label] for r in rows]
        ax.bar(when, values, width=width, bottom=bottom, color=color, label=label, align="edge")
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    series = aggregates.baseline_series(db, topic, rules, since, until)
    if series:
        times = [datetime.fromisoformat(s["at"]) for s in series]
        ax.plot(times, [s["negative"] for s in series], color="#7f0000", lw=1.2,
                label=f"negatives in {rules.window_hours:g} h window")
        ax.plot(times, [s["baseline"] for s in series], color="black", ls="--", lw=1.2, label="baseline")
    last = iso(datetime.fromisoformat(until) + timedelta(hours=rules.window_hours))
    for alert in alerts.list_alerts(db):
        if alert["topic"] == topic and since <= alert["fired_at"] <= last:
            ax.axvline(datetime.fromisoformat(alert["fired_at"]), color="#ff7f0e", lw=2)
            ax.annotate(f"alert ({alert['severity']})", (datetime.fromisoformat(alert["fired_at"]), ax.get_ylim()[1]),
                        color="#ff7f0e", fontsize=8, ha="left", va="top")
    ax.set_title(f"{topic}: headlines per {bucket_hours:g} h")
    ax.set_ylabel("headlines")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    return fig


def headline_rows(db: Database, topic: str | None = None, label: str | None = None, limit: int = 200) -> list[list]:
    where, params = ["1 = 1"], {"l": limit}
    if topic:
        where.append("i.id IN (SELECT item_id FROM sentiment_item_topics WHERE topic = :topic)")
        params["topic"] = topic
    if label:
        where.append("i.label = :label")
        params["label"] = label
    rows = db.query(f"SELECT i.* FROM sentiment_items i WHERE {' AND '.join(where)} "
                    "ORDER BY i.published DESC, i.id DESC LIMIT :l", params)
    topics: dict[int, list[str]] = {}
    if rows:
        ids = {f"i{n}": r["id"] for n, r in enumerate(rows)}
        for t in db.query(f"SELECT item_id, topic FROM sentiment_item_topics WHERE item_id IN "
                          f"({', '.join(':' + k for k in ids)})", ids):
            topics.setdefault(t["item_id"], []).append(t["topic"])
    return [[r["published"], r["label"] or "", round(r["score"], 3) if r["score"] is not None else "",
             r["title"], r["link"] or "", ", ".join(sorted(topics.get(r["id"], []))), _entities(r["entities"]),
             r["feed"]] for r in rows]


def _entities(raw: str | None) -> str:
    if not raw:
        return ""
    return ", ".join(f"{e['text']} ({e['type']})" for e in json.loads(raw))


def alert_rows(db: Database, open_only: bool = False) -> list[list]:
    out = []
    for a in alerts.list_alerts(db, open_only=open_only):
        state = "silenced" if a["silenced_by"] else (f"acked by {a['acked_by']}" if a["acked_by"] else "open")
        out.append([a["id"], a["fired_at"], a["severity"], a["topic"], a["negative"], round(a["baseline"], 2),
                    a["total"], a["status"], a["resolved_at"] or "", state])
    return out


def evidence_rows(db: Database, alert_id: int | None) -> list[list]:
    if alert_id is None:
        return []
    rows = db.query("SELECT evidence FROM sentiment_alerts WHERE id = :i", {"i": int(alert_id)})
    evidence = json.loads(rows[0]["evidence"]) if rows else []
    return [[e.get("title", ""), e.get("link") or "", e.get("published", ""), e.get("score")] for e in evidence]


def feed_rows(db: Database) -> list[list]:
    return [[f["name"], f["url"], f["interval_s"], f["last_status"] or "never polled", f["last_success"] or "",
             f["last_error"] or "", f["failures"], f["next_attempt"] or "", (f["bozo"] or "")[:120]]
            for f in feeds.list_feeds(db)]


def silence_rows(db: Database) -> list[list]:
    return [[s["id"], s["topic"], s["until"], s["who"], s["why"]] for s in alerts.silences(db)]


def outbox_rows(db: Database) -> list[list]:
    return [[r["id"], r["topic"], r["channel"], r["event"], r["attempts"], r["last_error"] or "", r["next_attempt"]]
            for r in outbox.pending_summary(db)]


def watchlist_rows(db: Database) -> list[list[str]]:
    return [[w.topic, "|".join(w.aliases)] for w in watchlist(db)]


def save_watchlist_rows(db: Database, rows: list[list[Any]]) -> int:
    """Replace the watchlist from edited rows (blank rows dropped), then re-tag stored items."""
    from apps.sentiment.ingest import retag

    watches = [Watch(str(r[0]).strip(), parse_aliases(str(r[1] if len(r) > 1 else "")) or [str(r[0]).strip()])
               for r in rows if r and str(r[0] or "").strip()]
    save_watchlist(db, watches)
    retag(db)
    return len(watches)


def backtest_rows(db: Database, rules: Rules) -> list[list]:
    """What these rules would have fired over the stored items (the detector, replayed)."""
    from apps.sentiment.detector import event_for
    from apps.sentiment.replay import run

    rows = aggregates.topic_rows(db)
    pairs = [(r["topic"], event_for(r["published"], r["label"], r["score"], r["title"], r["link"])) for r in rows]
    first = db.scalar("SELECT MIN(published) FROM sentiment_items WHERE label IS NOT NULL")
    origin = datetime.fromisoformat(first).timestamp() if first else None  # as live: the stream's start
    return [[a["topic"], a["fired_at"], a["severity"], a["negative"], a["baseline"], a["resolved_at"] or ""]
            for a in run(pairs, rules, origin)]
