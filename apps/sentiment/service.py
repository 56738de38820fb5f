"""The sentiment service a served process runs: feeds, the local demo endpoint, the monitor.

``SentimentService(ctx).start()``:
1. seeds the watchlist (``[sentiment] watchlist`` or the shipped CSV) and the configured feeds;
2. with demo feeds on (``[sentiment] demo_feeds``; unset = on unless production), serves
   ``data/sentiment/feeds`` on a local HTTP endpoint and registers those feeds (``demo-markets``, ...);
3. runs the scheduled work where this process should (``[suite] scheduler`` /
   ``LORASUITE_SCHEDULER``): ``1`` always, ``0`` never, ``auto`` only while it holds the leader
   lock (``shared.leader``: a PostgreSQL advisory lock, so among replicas exactly one polls the
   feeds and another takes over when it dies). The leader first polls every feed once and runs the
   first alert check in a background thread, then starts the scheduler.
``stop()`` stops the scheduler, the election and the endpoint. Both are safe to call twice.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from apps.sentiment import feeds, topics
from apps.sentiment.feedserver import FeedServer
from apps.sentiment.scheduler import Monitor
from apps.sentiment.store import open_db
from shared.home import data_dir

log = logging.getLogger(__name__)


class SentimentService:
    """Feeds, demo endpoint, monitor and leadership of one context."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.settings = ctx.settings("sentiment")
        self.db = open_db(ctx.db)
        self.monitor: Monitor | None = None
        self.server: FeedServer | None = None
        self.leader: Any = None
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def demo_feeds(self) -> bool:
        configured = self.settings.demo_feeds
        return (not self.ctx.config.production) if configured is None else configured

    def start(self) -> Monitor | None:
        """Seed and start (idempotent); returns the monitor, or None when ``enabled = false``."""
        if not self.settings.enabled:
            return None
        with self._lock:
            if self.monitor is not None:
                return self.monitor
            topics.watchlist(self.db, self.settings)
            feeds.sync_config_feeds(self.db, self.settings.feeds, self.settings.allow_hosts, self.settings.file_roots)
            own: list[str] = []
            if self.demo_feeds:
                self.server = FeedServer(self.settings.demo_feeds_dir or data_dir("sentiment", "feeds")).start()
                own.append(f"127.0.0.1:{self.server.port}")  # our own endpoint: that port only, not all of loopback
                for stem, url in self.server.feeds().items():
                    feeds.add_feed(self.db, f"demo-{stem}", url, self.settings.demo_interval, source="demo",
                                   allow_hosts=[*self.settings.allow_hosts, *own])
            self.monitor = Monitor(self.db, self.settings, backbone=self.ctx.backbone, allow_hosts=own)
        self._elect()
        return self.monitor

    def _elect(self) -> None:
        mode = self.ctx.config.suite.scheduler
        if mode == "0":
            log.info("sentiment: this process runs no scheduled work ([suite] scheduler = 0)")
            self.ready.set()
        elif mode == "1":
            self._lead()
        else:
            from shared.leader import Leadership

            self.leader = Leadership(self.db, "sentiment-scheduler", on_elected=self._lead,
                                     on_deposed=self._step_down).start()

    def _lead(self) -> None:
        monitor = self.monitor
        if monitor is None:
            return
        self.ready.clear()
        self._thread = threading.Thread(target=self._first_run, args=(monitor,), name="sentiment-first-run",
                                        daemon=True)
        self._thread.start()

    def _step_down(self) -> None:
        if self.monitor is not None:
            self.monitor.stop(wait=True)

    def _first_run(self, monitor: Monitor) -> None:
        try:
            results = monitor.poll_all()
            log.info("sentiment: first poll of %d feed(s): %d new item(s)", len(results),
                     sum(int(r.get("new") or 0) for r in results))
            log.info("sentiment: first alert check %s", monitor.run_alerts())
        except Exception:  # noqa: BLE001 - the scheduler still starts; the error is in the log
            log.exception("sentiment: first run failed")
        finally:
            if self.monitor is monitor:
                monitor.start(poll_now=False)
            self.ready.set()

    def alive(self) -> bool:
        """For /healthz: the scheduler runs where it should (or is doing its first poll)."""
        if self.monitor is None:
            return not self.settings.enabled
        if self.ctx.config.suite.scheduler == "0" or (self.leader is not None and not self.leader.is_leader):
            return self.leader is None or self.leader.alive
        return bool(self.monitor.running or (self._thread is not None and self._thread.is_alive()))

    def stop(self) -> None:
        """Stop the election, the scheduler and the local endpoint (idempotent)."""
        with self._lock:
            monitor, server, thread, leader = self.monitor, self.server, self._thread, self.leader
            self.monitor = self.server = self._thread = self.leader = None
        if leader is not None:
            leader.stop()
        if thread is not None:
            thread.join(timeout=60)
        if monitor is not None:
            monitor.stop(wait=True)
        if server is not None:
            server.stop()
