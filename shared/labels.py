"""Labels people give the apps (relabels, ticket resolutions, reviews): one table for every app.

A label is (app, task, text, label) with where it came from (``source``: dashboard, cli, inbox,
review...), who gave it and when. Texts are keyed by a hash of their whitespace-normalised
text: labelling a text again replaces its label (last label wins) and gives the row a new id,
so "labels newer than what the champion trained on" is ``id > labels_through`` of its meta.json.
Recording the same label again changes nothing.

Held-back labels are fixed per text: ``held_back(hash)`` is a seeded function of the text hash,
so a label held back to judge one challenger is never trained on by a later one either.

    db = open_labels(ctx.db)
    record(db, "sentiment", "sentiment", [("Profit up 5%", "positive")], source="cli", who="ana")
    rows = labels(db, "sentiment", "sentiment")             # oldest first, one per text
    train, held = split(rows, share=0.2)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.storage import Database, content_hash

log = logging.getLogger(__name__)
MIGRATIONS = [
    """
    CREATE TABLE learning_labels (
        id {pk}, app TEXT NOT NULL, task TEXT NOT NULL, text_hash TEXT NOT NULL, text TEXT NOT NULL,
        label TEXT NOT NULL, source TEXT NOT NULL, who TEXT NOT NULL, created TEXT NOT NULL,
        UNIQUE (app, task, text_hash)
    );
    CREATE INDEX learning_labels_app ON learning_labels (app, task, id)
    """,
]
HOLDOUT_SEED = 42


@dataclass(frozen=True)
class Label:
    """One stored label."""

    id: int
    text: str
    label: str
    source: str
    who: str
    created: str
    text_hash: str


def open_labels(db: Database) -> Database:
    """``db`` migrated for the labels table."""
    db.migrate("learning", MIGRATIONS)
    return db


def normalise(text: str) -> str:
    """The text as it is hashed: whitespace collapsed, ends stripped."""
    return " ".join(str(text or "").split())


def text_hash(text: str) -> str:
    return content_hash(normalise(text))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record(db: Database, app: str, task: str, rows: Iterable[tuple[str, str]], source: str, who: str) -> dict[str, int]:
    """Store labels (last wins, also within ``rows``); returns {"labels": rows given, "new": texts not labelled before,
    "changed": texts whose label changed}."""
    latest: dict[str, tuple[str, str]] = {}
    given = 0
    for text, label in rows:
        given += 1
        clean = normalise(text)
        if clean and str(label).strip():
            latest[text_hash(clean)] = (clean, str(label).strip())
    new = changed = 0
    with open_labels(db).transaction() as tx:
        for digest, (text, label) in latest.items():
            old = tx.query("SELECT label FROM learning_labels WHERE app = :a AND task = :t AND text_hash = :h",
                           {"a": app, "t": task, "h": digest})
            if old and old[0]["label"] == label:
                continue
            if old:
                tx.execute("DELETE FROM learning_labels WHERE app = :a AND task = :t AND text_hash = :h",
                           {"a": app, "t": task, "h": digest})
                changed += 1
            else:
                new += 1
            tx.execute("INSERT INTO learning_labels (app, task, text_hash, text, label, source, who, created) "
                       "VALUES (:a, :t, :h, :x, :l, :s, :w, :c)",
                       {"a": app, "t": task, "h": digest, "x": text, "l": label, "s": source, "w": who, "c": _now()})
    log.info("%s/%s labels from %s by %s: %d given, %d new, %d changed", app, task, source, who, given, new, changed)
    return {"labels": given, "new": new, "changed": changed}


def labels(db: Database, app: str, task: str, since: int = 0) -> list[Label]:
    """Every current label of ``app/task`` with an id above ``since``, oldest first."""
    rows = open_labels(db).query("SELECT * FROM learning_labels WHERE app = :a AND task = :t AND id > :s ORDER BY id",
                                 {"a": app, "t": task, "s": int(since)})
    return [Label(r["id"], r["text"], r["label"], r["source"], r["who"], r["created"], r["text_hash"]) for r in rows]


def count(db: Database, app: str, task: str, since: int = 0) -> int:
    return int(open_labels(db).scalar("SELECT count(*) FROM learning_labels WHERE app = :a AND task = :t AND id > :s",
                                      {"a": app, "t": task, "s": int(since)}) or 0)


def last_id(db: Database, app: str, task: str) -> int:
    return int(open_labels(db).scalar("SELECT max(id) FROM learning_labels WHERE app = :a AND task = :t",
                                      {"a": app, "t": task}) or 0)


def known(db: Database, app: str, task: str, texts: Sequence[str]) -> dict[str, str]:
    """text -> its current label, for those of ``texts`` that have one."""
    hashes = {text_hash(t): t for t in texts}
    found: dict[str, str] = {}
    keys = list(hashes)
    for start in range(0, len(keys), 500):
        chunk = {f"h{i}": h for i, h in enumerate(keys[start:start + 500])}
        sql = (f"SELECT text_hash, label FROM learning_labels WHERE app = :a AND task = :t AND text_hash IN "
               f"({', '.join(':' + k for k in chunk)})")
        for row in open_labels(db).query(sql, {"a": app, "t": task, **chunk}):
            found[hashes[row["text_hash"]]] = row["label"]
    return found


def held_back(digest: str, share: float = 0.2, seed: int = HOLDOUT_SEED) -> bool:
    """Whether the label of the text with hash ``digest`` is held back for evaluation (fixed per text)."""
    value = int.from_bytes(hashlib.sha256(f"{seed}:{digest}".encode()).digest()[:8], "big")
    return value / 2**64 < share


def split(rows: Sequence[Label], share: float = 0.2, seed: int = HOLDOUT_SEED) -> tuple[list[Label], list[Label]]:
    """(to train on, held back): a fixed, seeded ``share`` of the texts is only ever used for evaluation."""
    train, held = [], []
    for row in rows:
        (held if held_back(row.text_hash, share, seed) else train).append(row)
    return train, held
