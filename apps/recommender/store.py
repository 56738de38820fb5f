"""The recommender's tables (recommender_items, recommender_interactions, recommender_imports).

Items are keyed by ``item_id`` and a content hash: re-importing the same item changes nothing,
a changed one is updated in place (its row id, which the faiss index uses, stays). Interactions
are keyed by a content hash of (user, item, value, kind, time), so re-importing a file adds
nothing. Likes and dislikes from the demo page are interactions with source ``feedback``.

    store = Store()
    store.add_items(items); store.add_interactions(rows, source="ratings.csv")
    snapshot = store.snapshot()
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from apps.recommender.catalog import Interaction, Item, ReadResult
from shared.storage import Database, content_hash, shared_database

VISITOR = "visitor:"  # user ids of anonymous page visitors (a random token each; apps/recommender/ui.py)
MIGRATIONS = [
    """CREATE TABLE recommend_items (id {pk}, item_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
        text TEXT NOT NULL, meta TEXT NOT NULL, hash TEXT NOT NULL, updated TEXT NOT NULL);
    CREATE TABLE recommend_interactions (id {pk}, user_id TEXT NOT NULL, item_id TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL,
        source TEXT NOT NULL, hash TEXT NOT NULL UNIQUE);
    CREATE INDEX recommend_interactions_user ON recommend_interactions (user_id);
    CREATE TABLE recommend_imports (id {pk}, kind TEXT NOT NULL, path TEXT NOT NULL, report TEXT NOT NULL,
        created TEXT NOT NULL)""",
    # one name for the app everywhere (package, CLI, URL, tables); the index keeps its old name
    """ALTER TABLE recommend_items RENAME TO recommender_items;
    ALTER TABLE recommend_interactions RENAME TO recommender_interactions;
    ALTER TABLE recommend_imports RENAME TO recommender_imports""",
]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def item_hash(item: Item) -> str:
    return content_hash(item.item_id, item.title, item.text, json.dumps(item.meta, sort_keys=True, default=str))


def interaction_hash(row: Interaction) -> str:
    return content_hash(row.user_id, row.item_id, repr(float(row.value)), row.kind, repr(float(row.ts)))


@dataclass
class Snapshot:
    """Everything the engine needs, read in one go: items (by row id) and interactions."""

    row_ids: np.ndarray  # int64 database ids, the faiss ids
    items: list[Item]
    interactions: list[Interaction] = field(default_factory=list)
    version: str = ""  # changes whenever an item changes (the key of cached item vectors)


class Store:
    """The recommender's tables in the shared database."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db or shared_database()  # the context's Database in the apps
        self.db.migrate("recommend", MIGRATIONS)

    def add_items(self, items: list[Item]) -> tuple[int, int, int]:
        """Insert new items, update changed ones; returns (added, updated, unchanged)."""
        existing = {r["item_id"]: r["hash"] for r in self.db.query("SELECT item_id, hash FROM recommender_items")}
        new, changed, unchanged = [], [], 0
        for item in items:
            row = {"item_id": item.item_id, "title": item.title, "text": item.text,
                   "meta": json.dumps(item.meta, ensure_ascii=False, default=str), "hash": item_hash(item),
                   "updated": _now()}
            if item.item_id not in existing:
                new.append(row)
            elif existing[item.item_id] != row["hash"]:
                changed.append(row)
            else:
                unchanged += 1
        with self.db.transaction() as tx:
            if new:
                tx.execute("INSERT INTO recommender_items (item_id, title, text, meta, hash, updated) VALUES "
                           "(:item_id, :title, :text, :meta, :hash, :updated) ON CONFLICT DO NOTHING", new)
            if changed:
                tx.execute("UPDATE recommender_items SET title = :title, text = :text, meta = :meta, hash = :hash, "
                           "updated = :updated WHERE item_id = :item_id", changed)
        return len(new), len(changed), unchanged

    def add_interactions(self, rows: list[Interaction], source: str = "import") -> tuple[int, int]:
        """Insert interactions not stored yet; returns (added, already there)."""
        if not rows:
            return 0, 0
        params = [{"user_id": r.user_id, "item_id": r.item_id, "value": float(r.value), "kind": r.kind,
                   "ts": float(r.ts), "source": source, "hash": interaction_hash(r)} for r in rows]
        with self.db.transaction() as tx:
            before = tx.scalar("SELECT count(*) FROM recommender_interactions")
            tx.execute("INSERT INTO recommender_interactions (user_id, item_id, value, kind, ts, source, hash) "
                       "VALUES (:user_id, :item_id, :value, :kind, :ts, :source, :hash) ON CONFLICT DO NOTHING",
                       params)
            added = tx.scalar("SELECT count(*) FROM recommender_interactions") - before
        return int(added), len(rows) - int(added)

    def add_feedback(self, user_id: str, item_id: str, value: float) -> Interaction:
        """Record a like (high rating) or dislike (low rating) from the page, now."""
        row = Interaction(user_id, item_id, float(value), "rating", time.time())
        self.add_interactions([row], source="feedback")
        return row

    def record_import(self, report: ReadResult) -> None:
        self.db.execute("INSERT INTO recommender_imports (kind, path, report, created) VALUES (:k, :p, :r, :c)",
                        {"k": report.kind, "p": report.path, "r": json.dumps(report.to_dict()), "c": _now()})

    def item_ids(self) -> set[str]:
        return {r["item_id"] for r in self.db.query("SELECT item_id FROM recommender_items")}

    def users(self) -> list[str]:
        """Every user id with an interaction, sorted."""
        return [r["user_id"] for r in self.db.query(
            "SELECT DISTINCT user_id FROM recommender_interactions ORDER BY user_id")]

    def count(self, table: str) -> int:
        assert table in ("items", "interactions", "imports")
        return int(self.db.scalar(f"SELECT count(*) FROM recommender_{table}"))

    def state(self) -> str:
        """Changes when items or imported interactions change (page feedback does not count:
        live engines fold it in themselves)."""
        items = self.db.query("SELECT count(*) AS n, max(id) AS m, max(updated) AS u FROM recommender_items")[0]
        inter = self.db.query("SELECT count(*) AS n, max(id) AS m FROM recommender_interactions "
                              "WHERE source <> 'feedback'")[0]
        return f"{items['n']}:{items['m']}:{items['u']}:{inter['n']}:{inter['m']}"

    def snapshot(self) -> Snapshot:
        """All items (ordered by row id) and interactions (ordered by time)."""
        rows = self.db.query("SELECT id, item_id, title, text, meta, hash FROM recommender_items ORDER BY id")
        items = [Item(r["item_id"], r["title"], r["text"], json.loads(r["meta"])) for r in rows]
        version = content_hash(*(f"{r['id']}:{r['hash']}" for r in rows))
        inter = [Interaction(r["user_id"], r["item_id"], r["value"], r["kind"], r["ts"]) for r in self.db.query(
            "SELECT user_id, item_id, value, kind, ts FROM recommender_interactions ORDER BY ts, id")]
        return Snapshot(np.array([r["id"] for r in rows], dtype=np.int64), items, inter, version)
