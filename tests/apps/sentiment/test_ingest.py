"""Ingest reliability: real feed corpora, dedupe, conditional GET, health/backoff, limits, SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest
from sentiment_helpers import rss, write_feeds

from apps.sentiment import feeds
from apps.sentiment.feedserver import FeedServer
from apps.sentiment.ingest import Pipeline, ingest_sources, poll_feed, score_pending
from apps.sentiment.items import from_entry
from apps.sentiment.store import utcnow
from apps.sentiment.topics import TopicMatcher
from shared.storage import Database

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "data" / "feeds_sample"
SHARED_FEEDS = REPO.parent / "shared" / "data" / "feeds"


def _assert_every_entry_stored_once(db, paths: list[Path]) -> int:
    """Each entry feedparser finds has its identity in the database, on exactly one item."""
    stored = {r["key"] for r in db.query("SELECT key FROM sentiment_item_keys")}
    total = 0
    for path in paths:
        name = str(path.resolve())
        for entry in feedparser.parse(path.read_bytes()).entries:
            item = from_entry(entry, name, utcnow())
            assert stored & set(item.keys), f"{path}: entry {item.title or item.guid!r} was not stored"
            total += 1
    return total


def _ingest_twice(db, paths: list[Path]) -> dict:
    first = ingest_sources([str(p) for p in paths], db)
    assert first.failed == 0, first.errors
    assert first.new + first.duplicates == first.entries
    assert db.scalar("SELECT COUNT(*) FROM sentiment_items") == first.new
    again = ingest_sources([str(p) for p in paths], db)
    assert (again.entries, again.new, again.duplicates) == (first.entries, 0, first.entries)
    return first.summary()


def test_shipped_feed_sample_every_entry_stored_once(tiny_sentiment, db):
    expected = json.loads((SAMPLE / "expected_counts.json").read_text())
    paths = [SAMPLE / rel for rel in sorted(expected)]
    summary = _ingest_twice(db, paths)
    assert summary["files"] == len(paths) and summary["entries"] == sum(expected.values())
    assert _assert_every_entry_stored_once(db, paths) == summary["entries"]
    # stored once: no guid or link appears on two items
    for col in ("guid", "link"):
        assert db.scalar(f"SELECT COUNT(*) - COUNT(DISTINCT {col}) FROM sentiment_items WHERE {col} IS NOT NULL") == 0
    scored = db.scalar("SELECT COUNT(*) FROM sentiment_items WHERE label IS NOT NULL")
    assert scored == db.scalar("SELECT COUNT(*) FROM sentiment_items WHERE title <> '' OR summary <> ''")


@pytest.mark.skipif(not SHARED_FEEDS.is_dir(), reason="needs ../shared/data/feeds")
def test_shared_feed_corpus_every_file(tiny_sentiment, db):
    paths = sorted(p for p in SHARED_FEEDS.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert len(paths) > 1000
    summary = _ingest_twice(db, paths)
    assert summary["files"] == len(paths)
    assert _assert_every_entry_stored_once(db, paths) == summary["entries"]


def test_conditional_get_health_and_backoff(tiny_sentiment, db, tmp_path, home_settings):
    folder = tmp_path / "served"
    write_feeds(folder, 1, 4)
    server = FeedServer(folder).start()
    try:
        pipeline = Pipeline.from_config(db, home_settings())
        local = {"allow_hosts": ["127.0.0.1"]}  # the test's own endpoint
        feeds.add_feed(db, "local", server.url("feed0000.xml"), 60, **local)
        feeds.add_feed(db, "down", "http://127.0.0.1:9/none.xml", 60, **local)
        assert poll_feed(db, "local", pipeline, **local)["new"] == 4
        assert poll_feed(db, "local", pipeline, **local)["status"] == "not modified"  # ETag -> 304
        (folder / "feed0000.xml").write_text(rss([{"title": "Fresh story", "guid": "new-1"}]))
        assert poll_feed(db, "local", pipeline, **local)["new"] == 1
        assert poll_feed(db, "down", pipeline, **local)["status"] == "error"
        down = feeds.get_feed(db, "down")
        assert down["failures"] == 1 and down["last_error"] and down["next_attempt"] > down["last_error_at"]
        assert poll_feed(db, "down", pipeline)["status"] == "backing off"
        assert poll_feed(db, "down", pipeline, force=True, **local)["status"] == "error"
        assert feeds.get_feed(db, "down")["failures"] == 2
        local = feeds.get_feed(db, "local")
        assert local["failures"] == 0 and local["last_success"] and local["etag"]
    finally:
        server.stop()
    assert feeds.backoff_seconds(1, 60) < feeds.backoff_seconds(4, 60) <= feeds.MAX_BACKOFF_S


def test_fetch_limits_and_bad_sources(tmp_path, db):
    big = tmp_path / "big.xml"
    big.write_bytes(b"<rss>" + b" " * 5000 + b"</rss>")
    with pytest.raises(feeds.FetchError, match="limit"):
        feeds.fetch(str(big), max_bytes=1000, file_roots=[tmp_path])
    with pytest.raises(feeds.FetchError, match="only http"):
        feeds.fetch("ftp://example.com/feed")
    stats = ingest_sources([str(tmp_path / "missing.xml"), str(big)], db,
                           Pipeline(None, TopicMatcher([])))
    assert (stats.files, stats.failed, stats.entries) == (2, 1, 0) and "missing.xml" in stats.errors[0]


def test_slow_server_hits_the_timeout():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)  # accepts the connection but never answers
    try:
        start = time.monotonic()
        with pytest.raises(feeds.FetchError):
            feeds.fetch(f"http://127.0.0.1:{sock.getsockname()[1]}/feed.xml", timeout=1.0, allow_hosts=["127.0.0.1"])
        assert time.monotonic() - start < 5
    finally:
        sock.close()


def test_items_without_an_adapter_are_scored_later(tiny_sentiment, db, tmp_path, home_settings):
    write_feeds(tmp_path / "f", 1, 3)
    stats = ingest_sources([str(tmp_path / "f")], db, Pipeline(None, TopicMatcher([])))
    assert stats.new == 3 and db.scalar("SELECT COUNT(*) FROM sentiment_items WHERE label IS NULL") == 3
    assert score_pending(db, Pipeline.from_config(db, home_settings())) == 3
    assert db.scalar("SELECT COUNT(*) FROM sentiment_items WHERE label IS NULL") == 0


CHILD = """
import sys, time
import apps.sentiment.ingest as ingest
from apps.sentiment.topics import TopicMatcher
real_commit = ingest.commit
def slow_commit(*args, **kwargs):  # slow the child down so the parent can kill it mid-way
    out = real_commit(*args, **kwargs)
    time.sleep(0.05)
    return out
ingest.commit = slow_commit
# no sentiment model in the child: the transactions are the same, and it starts without torch
ingest.ingest_sources([sys.argv[1]], pipeline=ingest.Pipeline(None, TopicMatcher([])))
"""


def test_sigkill_mid_ingest_loses_no_committed_item(tiny_sentiment, db, tmp_path, lorasuite_home):
    total = write_feeds(tmp_path / "many", 120, 3)
    env = dict(os.environ, LORASUITE_HOME=str(lorasuite_home))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "many")], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watcher = Database(db.url)
    try:
        deadline = time.monotonic() + 120
        count = 0
        while time.monotonic() < deadline and count < 30:
            time.sleep(0.05)
            count = watcher.scalar("SELECT COUNT(*) FROM sentiment_items")
        committed = {r["guid"] for r in watcher.query("SELECT guid FROM sentiment_items")}
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert 30 <= len(committed) < total, "the child was not killed mid-ingest"
    after = {r["guid"] for r in watcher.query("SELECT guid FROM sentiment_items")}
    assert committed <= after
    assert watcher.scalar("PRAGMA integrity_check") == "ok"
    orphans = "SELECT COUNT(*) FROM sentiment_items i WHERE NOT EXISTS (SELECT 1 FROM sentiment_item_keys k WHERE k.item_id = i.id)"
    assert watcher.scalar(orphans) == 0
    rerun = ingest_sources([str(tmp_path / "many")], db)
    assert rerun.new == total - len(after) and db.scalar("SELECT COUNT(*) FROM sentiment_items") == total
    watcher.close()
