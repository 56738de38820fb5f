"""Prometheus metrics for the suite (prometheus_client): requests, latencies, alerts, items.

HTTP requests and latencies are counted by a FastAPI middleware, grouped by app prefix (so
Gradio's many internal routes do not explode the label set). Alert and item totals are read
from the database at scrape time, so they are right across restarts and replicas.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()
REQUESTS = Counter("lorasuite_http_requests_total", "HTTP requests", ["app", "status"], registry=REGISTRY)
LATENCY = Histogram("lorasuite_http_request_seconds", "HTTP request latency", ["app"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
_PREFIXES = ("support", "sentiment", "recommend", "healthz", "metrics")
_DB_GAUGES = [
    ("lorasuite_sentiment_items", "Feed items stored", "SELECT count(*) FROM sentiment_items"),
    ("lorasuite_sentiment_alerts", "Alerts raised", "SELECT count(*) FROM sentiment_alerts"),
    ("lorasuite_support_messages", "Support messages stored", "SELECT count(*) FROM support_messages"),
    ("lorasuite_support_open_tickets", "Open support tickets",
     "SELECT count(*) FROM support_tickets WHERE status = 'open'"),
]


def app_label(path: str) -> str:
    """The app a request path belongs to (``other`` for the rest)."""
    head = path.strip("/").split("/", 1)[0]
    return head if head in _PREFIXES else ("landing" if not head else "other")


class DatabaseCollector:
    """Totals read from the database at scrape time (a missing table reads as absent)."""

    def collect(self):
        from shared.storage import shared_database

        db = shared_database()  # one engine per URL for the process, not one per scrape
        for name, help_text, sql in _DB_GAUGES:
            try:
                value = db.scalar(sql)
            except Exception:  # noqa: BLE001 - the app is not running / table not created
                continue
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], float(value or 0))
            yield family


REGISTRY.register(DatabaseCollector())


def instrument(app: Any) -> None:
    """Count and time every request."""

    @app.middleware("http")
    async def measure(request, call_next):
        start = time.perf_counter()
        label = app_label(request.url.path)
        status = "500"
        try:
            response = await call_next(request)
            status = str(response.status_code)
            return response
        finally:
            REQUESTS.labels(label, status).inc()
            LATENCY.labels(label).observe(time.perf_counter() - start)


def render() -> tuple[str, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY).decode("utf-8"), CONTENT_TYPE_LATEST
