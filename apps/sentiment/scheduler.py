"""The live monitor: one apscheduler job per feed, plus one job for alerts and delivery.

Each feed job polls its feed (``ingest.poll_feed``): conditional GET, store, health. Jobs run
with ``max_instances=1`` (a slow feed never overlaps itself), ``coalesce=True`` (missed runs
collapse into one) and a misfire grace time. A job never raises: a failing feed records its
error and backs off, and the other feeds carry on. Feeds can be added and removed while the
scheduler runs. The ``alerts`` job advances the detector, sends due notifications (retrying
failed ones) and scores items stored before an adapter existed.

    monitor = Monitor(); monitor.start()
    monitor.add_feed("reuters", "https://example.com/rss", interval_s=300)
    monitor.stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from apps.sentiment import alerts, feeds, outbox
from apps.sentiment.ingest import Pipeline, poll_feed, score_pending
from apps.sentiment.settings import settings_of
from apps.sentiment.store import open_db
from shared.storage import Database

log = logging.getLogger(__name__)
ALERTS_JOB = "sentiment-alerts"


class Monitor:
    """Feeds polled on their intervals and alerts checked every ``alerts_interval_s``."""

    def __init__(self, db: Database | None = None, settings: Any = None, pipeline: Pipeline | None = None,
                 alerts_interval_s: int | None = None, backbone: Any = None,
                 allow_hosts: Iterable[str] | None = None) -> None:
        """Fetches and deliveries follow ``[sentiment] fetch_timeout`` / ``allow_hosts`` / ``file_roots``;
        ``allow_hosts`` adds hosts (the demo feed server's own address)."""
        self.db = open_db(db)
        self.settings = settings_of(settings)
        self._pipeline, self._backbone = pipeline, backbone
        self.fetch_timeout = float(self.settings.fetch_timeout)
        self.allow_hosts = tuple(self.settings.allow_hosts) + tuple(allow_hosts or ())
        self.file_roots = tuple(self.settings.file_roots)
        self._lock = threading.Lock()
        self.alerts_interval_s = int(alerts_interval_s or self.settings.alerts_interval)
        self.scheduler: Any = None

    def pipeline(self) -> Pipeline:
        """The enrichment pipeline, built on first use (loads the model once)."""
        with self._lock:
            if self._pipeline is None or self._pipeline.model is None:
                self._pipeline = Pipeline.from_config(self.db, self.settings, backbone=self._backbone)
            return self._pipeline

    def reload_topics(self) -> None:
        """Pick up watchlist edits for items ingested from now on."""
        with self._lock:
            self._pipeline = None

    @property
    def running(self) -> bool:
        return bool(self.scheduler and self.scheduler.running)

    def start(self, poll_now: bool = True) -> Monitor:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.scheduler = BackgroundScheduler(timezone=timezone.utc,
                                             job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 60})
        self.scheduler.start()
        for feed in feeds.list_feeds(self.db):
            if feed["enabled"]:
                self._schedule(feed["name"], int(feed["interval_s"]), poll_now)
        first = datetime.now(timezone.utc) + timedelta(seconds=1 if poll_now else self.alerts_interval_s)
        self.scheduler.add_job(self.run_alerts, "interval", seconds=self.alerts_interval_s, id=ALERTS_JOB,
                               replace_existing=True, next_run_time=first)
        log.info("sentiment monitor started: %d feed job(s)", len(self.scheduler.get_jobs()) - 1)
        return self

    def stop(self, wait: bool = True) -> None:
        if self.running:
            self.scheduler.shutdown(wait=wait)

    def _schedule(self, name: str, interval_s: int, now: bool = True) -> None:
        if not self.running:
            return
        first = datetime.now(timezone.utc) if now else None
        kwargs = {"next_run_time": first} if first else {}
        self.scheduler.add_job(self.poll, "interval", args=[name], seconds=interval_s, id=f"feed:{name}",
                               replace_existing=True, misfire_grace_time=max(30, interval_s // 2), **kwargs)

    def add_feed(self, name: str, url: str, interval_s: int = 900) -> dict:
        """Register (or update) a feed and schedule it right away."""
        feed = feeds.add_feed(self.db, name, url, interval_s, allow_hosts=self.allow_hosts, file_roots=self.file_roots)
        self._schedule(feed["name"], int(feed["interval_s"]))
        return feed

    def remove_feed(self, name: str) -> bool:
        """Unschedule and forget a feed (its stored items stay)."""
        if self.running and self.scheduler.get_job(f"feed:{name}"):
            self.scheduler.remove_job(f"feed:{name}")
        return feeds.remove_feed(self.db, name)

    def poll(self, name: str, force: bool = False) -> dict:
        """One poll of one feed; never raises (an unexpected error is recorded as the feed's failure)."""
        try:
            result = poll_feed(self.db, name, self.pipeline(), force=force, fetch_timeout=self.fetch_timeout,
                               allow_hosts=self.allow_hosts, file_roots=self.file_roots)
        except Exception as err:  # noqa: BLE001 - one feed's bug must not stop the scheduler or other feeds
            log.exception("feed %s: unexpected error", name)
            feeds.record_failure(self.db, name, f"{err.__class__.__name__}: {err}")
            return {"feed": name, "status": "error", "error": str(err)}
        if result.get("status") == "ok":
            log.info("feed %s: %s new of %s", name, result.get("new"), result.get("entries"))
        return result

    def poll_all(self) -> list[dict]:
        return [self.poll(feed["name"], force=True) for feed in feeds.list_feeds(self.db) if feed["enabled"]]

    def run_alerts(self) -> dict:
        """Score pending items, advance the detector, deliver due notifications; never raises."""
        out: dict[str, Any] = {}
        try:
            out["scored"] = score_pending(self.db, self.pipeline())
            out.update(alerts.check(self.db, settings=self.settings))
        except Exception:  # noqa: BLE001 - keep the job alive; the error is in the log
            log.exception("alert check failed")
        try:
            out.update(outbox.deliver_due(self.db, self.settings, allow_hosts=self.allow_hosts))
        except Exception:  # noqa: BLE001
            log.exception("alert delivery failed")
        return out

    def jobs(self) -> list[dict]:
        if not self.running:
            return []
        return [{"id": job.id, "next_run": job.next_run_time.isoformat() if job.next_run_time else None}
                for job in self.scheduler.get_jobs()]

