"""The sentiment service the launcher starts and stops: feeds, the local demo endpoint, the monitor.

``start(config)``:
1. seeds the watchlist (``[sentiment] watchlist`` or the shipped CSV) and the configured feeds;
2. unless ``[sentiment] demo_feeds = false``, serves ``data/sentiment/feeds`` on a local HTTP
   endpoint and registers those feeds (``demo-markets``, ...), so the scheduler polls real URLs;
3. in a background thread: polls every feed once, runs the first alert check (so a fresh
   ``LORASUITE_HOME`` shows the demo's trends and its alert), then starts the scheduler.
``stop()`` stops the scheduler and the endpoint. Both are safe to call twice.

    from apps.sentiment import service
    service.start(load_config()); ...; service.stop()
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
_STATE: dict[str, Any] = {"monitor": None, "server": None, "thread": None, "ready": threading.Event()}


def start(config: Any = None) -> Monitor | None:
    """Start the monitor (idempotent); returns it, or None when ``[sentiment] enabled = false``."""
    if _STATE["monitor"] is not None:
        return _STATE["monitor"]
    if config is None:
        from apps.config import load_config

        config = load_config()
    section = config.section("sentiment")
    if section.get("enabled", True) is False:
        return None
    db = open_db()
    topics.watchlist(db, section)
    feeds.sync_config_feeds(db, section)
    allow_hosts = list(section.get("allow_hosts") or [])
    if section.get("demo_feeds", True):
        server = FeedServer(section.get("demo_feeds_dir") or data_dir("sentiment", "feeds")).start()
        _STATE["server"] = server
        allow_hosts.append(f"127.0.0.1:{server.port}")  # our own endpoint: that port only, not all of loopback
        for stem, url in server.feeds().items():
            feeds.add_feed(db, f"demo-{stem}", url, int(section.get("demo_interval", 300)), source="demo",
                           allow_hosts=allow_hosts)
    monitor = Monitor(db, section, allow_hosts=allow_hosts)
    _STATE["monitor"] = monitor
    _STATE["ready"].clear()
    thread = threading.Thread(target=_first_run, args=(monitor,), name="sentiment-first-run", daemon=True)
    _STATE["thread"] = thread
    thread.start()
    return monitor


def _first_run(monitor: Monitor) -> None:
    try:
        results = monitor.poll_all()
        log.info("sentiment: first poll of %d feed(s): %d new item(s)", len(results),
                 sum(int(r.get("new") or 0) for r in results))
        log.info("sentiment: first alert check %s", monitor.run_alerts())
    except Exception:  # noqa: BLE001 - the scheduler still starts; the error is in the log
        log.exception("sentiment: first run failed")
    finally:
        if _STATE["monitor"] is monitor:
            monitor.start(poll_now=False)
        _STATE["ready"].set()


def wait_ready(timeout: float | None = None) -> bool:
    """Block until the first poll and alert check are done (tests, scripts)."""
    return _STATE["ready"].wait(timeout)


def monitor() -> Monitor | None:
    """The running monitor (for the dashboard's feed editor), if any."""
    return _STATE["monitor"]


def scheduler_alive() -> bool | None:
    """For /healthz: True while the monitor runs (or is doing its first poll); None when not started."""
    mon, thread = _STATE["monitor"], _STATE["thread"]
    if mon is None:
        return None
    return bool(mon.running or (thread is not None and thread.is_alive()))


def stop() -> None:
    """Stop the scheduler and the local endpoint (idempotent)."""
    mon, server, thread = _STATE["monitor"], _STATE["server"], _STATE["thread"]
    _STATE.update(monitor=None, server=None, thread=None)
    if thread is not None:
        thread.join(timeout=60)
    if mon is not None:
        mon.stop(wait=True)
    if server is not None:
        server.stop()
