"""Ingest: fetch -> parse -> items -> dedupe -> sentiment, entities, topics -> one transaction per feed.

Everything about one feed (or one file) commits together: its new items, their dedupe keys,
topics and scores, and the feed's health and validators. A process killed mid-ingest loses
only the feed it was in the middle of; everything committed before stays, and re-running
stores exactly what is missing (dedupe by key, enforced by the database).

Scoring happens before the transaction, in batches. Without a sentiment adapter items are
stored unscored and ``score_pending`` scores them once one exists.

    lorasuite sentiment ingest data/sentiment/feeds https://example.com/rss
    -> {"files": 6, "entries": 600, "new": 600, "duplicates": 0, "failed": 0}
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from apps.sentiment import feeds
from apps.sentiment.classify import EntityTagger, SentimentModel, load_model
from apps.sentiment.items import Item, from_entry, unique_in_batch
from apps.sentiment.settings import settings_of
from apps.sentiment.store import iso, open_db, utcnow
from apps.sentiment.topics import TopicMatcher, sectors_from, watchlist
from shared.errors import LorasuiteError
from shared.storage import Database

log = logging.getLogger(__name__)
BATCH = 256
TOPICS_LOCK = "sentiment_item_topics"  # taken by every transaction that writes item topics


@dataclass
class IngestStats:
    """The one JSON line ``ingest`` prints."""

    files: int = 0
    entries: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "errors"}


class Pipeline:
    """What enriches an item: the sentiment model, the optional tagger and the topic matcher."""

    def __init__(self, model: SentimentModel | None, matcher: TopicMatcher, tagger: EntityTagger | None = None):
        self.model, self.matcher, self.tagger = model, matcher, tagger

    @classmethod
    def from_config(cls, db: Database, settings: Any = None, adapter: str | None = None,
                    require_model: bool = False, backbone: Any = None) -> Pipeline:
        """The pipeline ``[sentiment]`` describes (``adapter`` overrides its adapter)."""
        settings = settings_of(settings)
        model = load_model(adapter or settings.adapter, required=require_model, backbone=backbone)
        tagger = EntityTagger.maybe(settings.ner_adapter, backbone)
        return cls(model, TopicMatcher(watchlist(db, settings), sectors_from(settings)), tagger)

    def enrich(self, items: list[Item]) -> list[dict[str, Any]]:
        """Scores, entities and topics for items (batched); one dict per item."""
        texts = [item.text for item in items]
        scored: list[Any] = [None] * len(items)
        if self.model:
            filled = [i for i, text in enumerate(texts) if text.strip()]
            for i, score in zip(filled, self.model.predict([texts[i] for i in filled]), strict=True):
                scored[i] = score
        entities = self.tagger.tag(texts) if self.tagger else [None] * len(items)
        out = []
        for item, score, ents in zip(items, scored, entities, strict=True):
            topics = self.matcher.match(f"{item.title} {item.summary[:300]}", ents)
            out.append({"score": score, "entities": ents, "topics": topics})
        return out


def _taken(tx: Any, keys: list[str]) -> bool:
    params = {f"k{i}": k for i, k in enumerate(keys)}
    sql = f"SELECT 1 FROM sentiment_item_keys WHERE key IN ({', '.join(':' + p for p in params)}) LIMIT 1"
    return tx.scalar(sql, params) is not None


def _insert(tx: Any, item: Item, extra: dict[str, Any], adapter: str | None) -> int:
    score = extra["score"]
    row = {**{k: getattr(item, k) for k in ("feed", "guid", "link", "title", "summary", "published",
                                            "published_source", "fetched", "hash")},
           "label": score.label if score else None, "score": score.score if score else None,
           "polarity": score.polarity if score else None, "adapter": adapter if score or not item.text else None,
           "entities": json.dumps(extra["entities"]) if extra["entities"] is not None else None}
    item_id = tx.scalar("INSERT INTO sentiment_items (feed, guid, link, title, summary, published, published_source, "
                        "fetched, hash, label, score, polarity, adapter, entities) VALUES (:feed, :guid, :link, :title, "
                        ":summary, :published, :published_source, :fetched, :hash, :label, :score, :polarity, "
                        ":adapter, :entities) RETURNING id", row)
    tx.execute("INSERT INTO sentiment_item_keys (key, item_id) VALUES (:k, :i)",
               [{"k": k, "i": item_id} for k in item.keys])
    if extra["topics"]:
        tx.execute("INSERT INTO sentiment_item_topics (item_id, topic, kind) VALUES (:i, :t, :k)",
                   [{"i": item_id, "t": t, "k": kind} for t, kind in extra["topics"]])
    return int(item_id)


def _known(db: Database, items: list[Item]) -> set[str]:
    """Keys among the items' that the database already has (read outside the write transaction)."""
    keys = [k for item in items for k in item.keys]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = {f"k{i}": k for i, k in enumerate(keys[start : start + 500])}
        sql = f"SELECT key FROM sentiment_item_keys WHERE key IN ({', '.join(':' + p for p in chunk)})"
        known.update(r["key"] for r in db.query(sql, chunk))
    return known


def prepare(db: Database, items: list[Item]) -> list[Item]:
    """The items worth scoring: not a duplicate within the batch nor of a stored item."""
    fresh, _ = unique_in_batch(items)
    known = _known(db, fresh) if fresh else set()
    return [item for item in fresh if known.isdisjoint(item.keys)]


def commit(db: Database, entries: int, candidates: list[Item], extras: list[dict], pipeline: Pipeline,
           on_commit: Any = None) -> tuple[int, int]:
    """Store the scored candidates in ONE transaction; returns (new, duplicates of ``entries``).

    ``on_commit(tx, new)`` runs inside the same transaction (the feed's health update)."""
    adapter = pipeline.model.name if pipeline.model else None
    new = 0
    with db.transaction() as tx:
        tx.lock(TOPICS_LOCK)  # a retag rewrites every item's topics: not while new ones go in
        for item, extra in zip(candidates, extras, strict=True):
            if _taken(tx, item.keys):  # stored since we looked (an earlier file, a concurrent ingest)
                continue
            _insert(tx, item, extra, adapter)
            new += 1
        if on_commit:
            on_commit(tx, new)
    return new, entries - new


def enrich_all(pipeline: Pipeline, items: list[Item]) -> list[dict]:
    extras: list[dict] = []
    for start in range(0, len(items), BATCH):
        extras.extend(pipeline.enrich(items[start : start + BATCH]))
    return extras


def store_items(db: Database, items: list[Item], pipeline: Pipeline, on_commit: Any = None) -> tuple[int, int]:
    """Score and store one feed's items (one transaction); returns (new, duplicates)."""
    candidates = prepare(db, items)
    return commit(db, len(items), candidates, enrich_all(pipeline, candidates), pipeline, on_commit)


def read_source(source: str, feed: str | None = None, *, fetch_timeout: float = feeds.TIMEOUT_S,
                allow_hosts: feeds.HostList = (), file_roots: feeds.Roots = None) -> list[Item]:
    """Fetch and parse one URL or file into items (raises FetchError).

    URLs go through the network policy (``allow_hosts``); local paths are read wherever they
    are unless ``file_roots`` is given (these are paths an operator named, not a stored feed)."""
    result = feeds.fetch(source, timeout=fetch_timeout, allow_hosts=allow_hosts, file_roots=file_roots)
    parsed = feeds.parse(result)
    name = feed or (source if feeds.is_url(source) else str(Path(source).resolve()))
    if parsed.get("bozo"):
        log.debug("%s is ill-formed (parsed anyway): %s", source, parsed.get("bozo_exception"))
    fetched = utcnow()
    return [from_entry(entry, name, fetched) for entry in feeds.entries(parsed, source)]


def poll_feed(db: Database, name: str, pipeline: Pipeline, force: bool = False, *,
              fetch_timeout: float = feeds.TIMEOUT_S, allow_hosts: feeds.HostList = (),
              file_roots: feeds.Roots = ()) -> dict[str, Any]:
    """Poll one registered feed (conditional GET, health, backoff); never raises for feed problems.

    The stored URL is checked again against the policy (``allow_hosts``, ``file_roots``) and the
    fetch has ``fetch_timeout`` seconds in all."""
    feed = feeds.get_feed(db, name)
    if feed is None:
        return {"feed": name, "status": "unknown feed"}
    if not force and not feeds.is_due(feed, iso(utcnow())):
        return {"feed": name, "status": "backing off", "next_attempt": feed["next_attempt"]}
    try:
        result = feeds.fetch(feed["url"], feed.get("etag"), feed.get("modified"), timeout=fetch_timeout,
                             allow_hosts=allow_hosts, file_roots=file_roots)
        parsed = feeds.parse(result) if not result.not_modified else None
    except LorasuiteError as err:
        feeds.record_failure(db, name, str(err))
        return {"feed": name, "status": "error", "error": str(err)}
    entries = feeds.entries(parsed, name)
    bozo = str(parsed.get("bozo_exception"))[:300] if parsed is not None and parsed.get("bozo") else None
    fetched = utcnow()
    items = [from_entry(entry, name, fetched) for entry in entries]
    new, dups = store_items(db, items, pipeline,
                            on_commit=lambda tx, n: feeds.record_success(tx, name, result, bozo, len(items), n))
    return {"feed": name, "status": "not modified" if result.not_modified else "ok", "entries": len(items),
            "new": new, "duplicates": dups, "bozo": bozo}


def ingest_sources(sources: list[str], db: Database | None = None, pipeline: Pipeline | None = None,
                   progress: bool = False, *, fetch_timeout: float = feeds.TIMEOUT_S,
                   allow_hosts: feeds.HostList = (), file_roots: feeds.Roots = None) -> IngestStats:
    """Ingest URLs, files and directories; a bad file or URL is counted in ``failed``, never fatal.

    Files are read in groups so the model scores many small files in one batch, then each
    file commits in its own transaction, in order. Each URL has ``fetch_timeout`` seconds."""
    from tqdm import tqdm

    db = db or open_db()
    pipeline = pipeline or Pipeline.from_config(db)
    stats = IngestStats()
    paths = feeds.expand(sources)
    group: list[tuple[list[Item], list[Item]]] = []
    for source in tqdm(paths, desc="ingest", unit="file", disable=not progress or len(paths) < 20):
        stats.files += 1
        try:
            items = read_source(source, fetch_timeout=fetch_timeout, allow_hosts=allow_hosts, file_roots=file_roots)
        except LorasuiteError as err:
            stats.failed += 1
            stats.errors.append(str(err))
            log.warning("%s", err)
            continue
        group.append((items, prepare(db, items)))
        if sum(len(c) for _, c in group) >= BATCH or len(group) >= 64:
            _flush(db, group, pipeline, stats)
    _flush(db, group, pipeline, stats)
    return stats


def _flush(db: Database, group: list[tuple[list[Item], list[Item]]], pipeline: Pipeline, stats: IngestStats) -> None:
    extras = iter(enrich_all(pipeline, [c for _, candidates in group for c in candidates]))
    for items, candidates in group:
        new, dups = commit(db, len(items), candidates, [next(extras) for _ in candidates], pipeline)
        stats.entries += len(items)
        stats.new += new
        stats.duplicates += dups
    group.clear()


def score_pending(db: Database, pipeline: Pipeline, limit: int = 5000) -> int:
    """Score items stored before a sentiment adapter existed; returns how many were scored."""
    if pipeline.model is None:
        return 0
    rows = db.query("SELECT id, title, summary FROM sentiment_items WHERE adapter IS NULL AND (title <> '' OR "
                    "summary <> '') ORDER BY id LIMIT :n", {"n": limit})
    if not rows:
        return 0
    texts = [r["title"] or r["summary"][:300] for r in rows]
    scored = []
    for start in range(0, len(texts), BATCH):
        scored.extend(pipeline.model.predict(texts[start : start + BATCH]))
    with db.transaction() as tx:
        tx.execute("UPDATE sentiment_items SET label = :l, score = :s, polarity = :p, adapter = :a WHERE id = :i",
                   [{"l": s.label, "s": s.score, "p": s.polarity, "a": pipeline.model.name, "i": r["id"]}
                    for r, s in zip(rows, scored, strict=True)])
    return len(rows)


def retag(db: Database, matcher: TopicMatcher | None = None, settings: Any = None) -> int:
    """Recompute every item's topics (after a watchlist edit); returns how many items have topics.

    Read, match and rewrite happen in one transaction under ``TOPICS_LOCK``, which ingest takes too:
    two retags (an admin edit on one replica, the leader on another) run one after the other instead
    of colliding on the primary key, and an item stored meanwhile keeps the topics it came with."""
    if matcher is None:
        matcher = TopicMatcher(watchlist(db, settings), sectors_from(settings))
    with db.transaction() as tx:
        tx.lock(TOPICS_LOCK)
        pairs = []
        for row in tx.query("SELECT id, title, summary, entities FROM sentiment_items"):
            entities = json.loads(row["entities"]) if row["entities"] else None
            pairs.extend({"i": row["id"], "t": t, "k": k}
                         for t, k in matcher.match(f"{row['title']} {row['summary'][:300]}", entities))
        tx.execute("DELETE FROM sentiment_item_topics")
        if pairs:
            tx.execute("INSERT INTO sentiment_item_topics (item_id, topic, kind) VALUES (:i, :t, :k)", pairs)
    return len({p["i"] for p in pairs})
