"""Prometheus metrics for the suite (prometheus_client): requests, latencies, logins, app gauges.

HTTP requests and latencies are counted by a middleware, labelled by the app a path belongs to
(so Gradio's many internal routes do not explode the label set). Apps add their own metric
families through ``AppSpec.metrics(ctx)``, read at scrape time and kept cheap by the app (no table
scans per scrape). ``/metrics`` can be put behind a bearer token (``[suite] metrics_token``).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()
REQUESTS = Counter("lorasuite_http_requests_total", "HTTP requests", ["app", "status"], registry=REGISTRY)
LATENCY = Histogram("lorasuite_http_request_seconds", "HTTP request latency", ["app"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LOGIN_FAILURES = Counter("lorasuite_login_failures_total", "Failed admin logins", registry=REGISTRY)
LOGIN_LOCKOUTS = Counter("lorasuite_login_lockouts_total", "Client addresses locked out after failed logins",
                         registry=REGISTRY)
CORE_LABELS = ("healthz", "metrics", "api")


def app_label(path: str, names: set[str]) -> str:
    """The app a request path belongs to (``landing`` for /, ``other`` for the rest)."""
    parts = path.strip("/").split("/")
    head = parts[0]
    if head == "api" and len(parts) > 1 and parts[1] in names:
        return parts[1]
    if head in names or head in CORE_LABELS:
        return head
    return "landing" if not head else "other"


def instrument(app: Any, specs: list) -> None:
    """Count and time every request, by app."""
    names = {s.name for s in specs} | {alias for s in specs for alias in s.aliases}

    @app.middleware("http")
    async def measure(request, call_next):
        start = time.perf_counter()
        label = app_label(request.url.path, names)
        status = "500"
        try:
            response = await call_next(request)
            status = str(response.status_code)
            return response
        finally:
            REQUESTS.labels(label, status).inc()
            LATENCY.labels(label).observe(time.perf_counter() - start)


def render(ctx: Any = None, names: list[str] = ()) -> tuple[str, str]:
    """The exposition text (the suite's registry plus each served app's families) and its type."""
    text = generate_latest(REGISTRY).decode("utf-8")
    if ctx is not None:
        registry = CollectorRegistry()
        registry.register(_Apps(ctx, names))
        text += generate_latest(registry).decode("utf-8")
    return text, CONTENT_TYPE_LATEST


class _Apps:
    """A collector over the apps' ``metrics(ctx)`` hooks."""

    def __init__(self, ctx: Any, names: list[str]) -> None:
        self.ctx, self.names = ctx, names

    def collect(self):
        for name in self.names:
            spec = self.ctx.spec(name)
            if spec is not None and spec.metrics is not None:
                yield from spec.metrics(self.ctx)


def table_counts(ctx: Any, prefix: str, queries: dict[str, tuple[str, str]], every: float = 30.0):
    """Gauges ``<prefix>_<name>`` from ``SELECT count(*) ...`` queries, run at most every ``every``
    seconds per context (a scrape never pays for table scans); a missing table is left out.

    ``queries``: name -> (help text, SQL)."""
    from prometheus_client.core import GaugeMetricFamily

    cache = ctx.service(f"metrics.{prefix}", lambda: {"at": -1e9, "values": {}})
    if time.monotonic() - cache["at"] > every:
        values = {}
        for name, (_, sql) in queries.items():
            try:
                values[name] = ctx.db.scalar(sql)
            except Exception:  # noqa: BLE001 - the app's tables are not created yet
                continue
        cache.update(at=time.monotonic(), values=values)
    for name, value in cache["values"].items():
        family = GaugeMetricFamily(f"{prefix}_{name}", queries[name][0])
        family.add_metric([], float(value or 0))
        yield family
