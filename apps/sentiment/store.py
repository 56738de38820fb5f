"""The sentiment app's tables (migrations), the database handle and small time helpers.

Every table is prefixed ``sentiment_``. Timestamps are ISO-8601 UTC strings of one fixed
shape (``2026-10-20T12:00:00+00:00``) so that string order is time order in SQLite and
PostgreSQL alike. Dedupe is enforced by the database: an item owns one or more keys in
``sentiment_item_keys`` (primary key), so a second ingest of the same entry cannot insert it.

    db = open_db()            # the shared Database for the URL, migrated
    set_setting(db, "rules", {...}); get_setting(db, "rules", {})
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from shared.storage import Database, shared_database

MIGRATIONS = [
    """
    CREATE TABLE sentiment_feeds (
        id {pk}, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL, interval_s INTEGER NOT NULL DEFAULT 900,
        enabled INTEGER NOT NULL DEFAULT 1, source TEXT NOT NULL DEFAULT 'user',
        etag TEXT, modified TEXT, last_checked TEXT, last_success TEXT, last_error TEXT, last_error_at TEXT,
        failures INTEGER NOT NULL DEFAULT 0, next_attempt TEXT, last_status TEXT, bozo TEXT,
        entries_seen INTEGER NOT NULL DEFAULT 0, items_new INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL
    );
    CREATE TABLE sentiment_items (
        id {pk}, feed TEXT NOT NULL, guid TEXT, link TEXT, title TEXT NOT NULL, summary TEXT NOT NULL,
        published TEXT NOT NULL, published_source TEXT NOT NULL, fetched TEXT NOT NULL, hash TEXT NOT NULL,
        label TEXT, score DOUBLE PRECISION, polarity DOUBLE PRECISION, adapter TEXT, entities TEXT
    );
    CREATE INDEX sentiment_items_published ON sentiment_items (published);
    CREATE INDEX sentiment_items_feed ON sentiment_items (feed);
    CREATE TABLE sentiment_item_keys (
        key TEXT PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES sentiment_items (id) ON DELETE CASCADE
    );
    CREATE TABLE sentiment_item_topics (
        item_id INTEGER NOT NULL REFERENCES sentiment_items (id) ON DELETE CASCADE,
        topic TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (item_id, topic)
    );
    CREATE INDEX sentiment_item_topics_topic ON sentiment_item_topics (topic);
    CREATE TABLE sentiment_watchlist (topic TEXT PRIMARY KEY, aliases TEXT NOT NULL, updated TEXT NOT NULL);
    CREATE TABLE sentiment_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated TEXT NOT NULL)
    """,
    """
    CREATE TABLE sentiment_alerts (
        id {pk}, topic TEXT NOT NULL, kind TEXT NOT NULL, fired_at TEXT NOT NULL,
        window_start TEXT NOT NULL, window_end TEXT NOT NULL, severity TEXT NOT NULL,
        negative INTEGER NOT NULL, total INTEGER NOT NULL, baseline DOUBLE PRECISION NOT NULL,
        p_value DOUBLE PRECISION NOT NULL, peak_negative INTEGER NOT NULL, evidence TEXT NOT NULL,
        status TEXT NOT NULL, resolved_at TEXT, silenced_by INTEGER,
        acked_by TEXT, acked_at TEXT, ack_note TEXT, created TEXT NOT NULL,
        UNIQUE (topic, fired_at)
    );
    CREATE INDEX sentiment_alerts_status ON sentiment_alerts (status);
    CREATE TABLE sentiment_detector_state (topic TEXT PRIMARY KEY, state TEXT NOT NULL);
    CREATE TABLE sentiment_silences (
        id {pk}, topic TEXT NOT NULL, until TEXT NOT NULL, who TEXT NOT NULL, why TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE sentiment_outbox (
        id {pk}, alert_id INTEGER NOT NULL REFERENCES sentiment_alerts (id), event TEXT NOT NULL,
        channel TEXT NOT NULL, target TEXT NOT NULL, payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL, claimed_until TEXT, last_error TEXT, sent_at TEXT, created TEXT NOT NULL,
        UNIQUE (alert_id, event, channel)
    );
    CREATE INDEX sentiment_outbox_due ON sentiment_outbox (status, next_attempt)
    """,
]

def open_db(db: Database | str | None = None) -> Database:
    """``db`` (the context's Database, or the shared one for a URL, default the configured one),
    migrated for sentiment."""
    db = db if isinstance(db, Database) else shared_database(db)
    db.migrate("sentiment", MIGRATIONS)
    return db


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """The one timestamp shape stored everywhere (UTC, seconds)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def parse_iso(text: str) -> datetime:
    """Inverse of ``iso`` (accepts a trailing Z and naive values as UTC)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def get_setting(db: Database, key: str, default: Any = None) -> Any:
    raw = db.scalar("SELECT value FROM sentiment_settings WHERE key = :k", {"k": key})
    return default if raw is None else json.loads(raw)


def set_setting(db: Database, key: str, value: Any) -> None:
    with db.transaction() as tx:
        put_setting(tx, key, value)


def put_setting(tx: Any, key: str, value: Any) -> None:
    """Upsert one setting inside ``tx`` (replicas writing the same key at once do not collide)."""
    tx.execute("INSERT INTO sentiment_settings (key, value, updated) VALUES (:k, :v, :u) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
               {"k": key, "v": json.dumps(value), "u": iso(utcnow())})
