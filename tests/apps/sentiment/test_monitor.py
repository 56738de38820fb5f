"""The scheduler path: feeds polled over local HTTP, runtime add/remove, a failing feed, start/stop."""

from __future__ import annotations

import time

from sentiment_helpers import write_feeds

from apps.sentiment import feeds
from apps.sentiment.feedserver import FeedServer
from apps.sentiment.scheduler import Monitor


def _wait(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_monitor_polls_feeds_and_survives_a_failing_one(tiny_sentiment, db, tmp_path):
    write_feeds(tmp_path / "served", 3, 2)
    server = FeedServer(tmp_path / "served").start()
    local = {"allow_hosts": ["127.0.0.1"], "file_roots": [str(tmp_path)]}  # the test's own endpoints
    feeds.add_feed(db, "one", server.url("feed0000.xml"), 3600, **local)
    feeds.add_feed(db, "broken", "http://127.0.0.1:9/feed.xml", 3600, **local)
    feeds.add_feed(db, "garbage", str(tmp_path / "served" / "nope.xml"), 3600, **local)
    monitor = Monitor(db, settings=local, alerts_interval_s=3600).start()
    try:
        job = monitor.scheduler.get_job("feed:one")
        assert (job.max_instances, job.coalesce) == (1, True)
        assert _wait(lambda: feeds.get_feed(db, "one")["last_success"] is not None)
        assert _wait(lambda: feeds.get_feed(db, "broken")["failures"] >= 1)
        assert _wait(lambda: feeds.get_feed(db, "garbage")["failures"] >= 1)
        monitor.add_feed("two", server.url("feed0001.xml"), 3600)  # added while running: polled at once
        assert _wait(lambda: feeds.get_feed(db, "two")["last_success"] is not None)
        assert db.scalar("SELECT COUNT(*) FROM sentiment_items") == 4
        assert monitor.remove_feed("two") and monitor.scheduler.get_job("feed:two") is None
        assert "feed:one" in {j["id"] for j in monitor.jobs()}
        assert monitor.poll("one")["status"] == "not modified"
    finally:
        monitor.stop()
        server.stop()
    assert not monitor.running


def test_service_start_ingests_demo_feeds_over_local_http(tiny_sentiment, db, make_ctx):
    from apps.sentiment.app import service_of, spec

    ctx = make_ctx(sentiment={"adapter": "tiny", "demo_interval": 3600})
    spec.start(ctx)
    service = service_of(ctx)
    monitor = service.monitor
    try:
        assert service.ready.wait(120)
        assert monitor.running and service.start() is monitor and spec.health() is True
        demo = [f for f in feeds.list_feeds(db) if f["name"].startswith("demo-")]
        assert len(demo) == 5 and all(f["last_success"] and f["url"].startswith("http://127.0.0.1:") for f in demo)
        assert db.scalar("SELECT COUNT(*) FROM sentiment_items") == 600
        assert db.scalar("SELECT COUNT(*) FROM sentiment_watchlist") == 16
        assert db.scalar("SELECT value FROM sentiment_settings WHERE key = 'detector_clock'")
    finally:
        spec.stop()
    assert service.monitor is None and not monitor.running and spec.health() is False
    service.stop()  # idempotent
