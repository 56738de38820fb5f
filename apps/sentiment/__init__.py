"""The financial news sentiment monitor: RSS in, sentiment and topics, spike alerts, dashboard.

Modules: feeds (fetch + registry + health), items (entries -> items, dedupe keys), ingest,
classify (LoRA sentiment + optional entities), topics, aggregates, detector (the alert rule),
alerts (live alerts, ack, silence), outbox (webhook/SMTP delivery), replay (backtest),
scheduler (apscheduler monitor), feedserver (local demo endpoint), service (start/stop for the
launcher), store (tables), train, cli, ui. See apps/sentiment/README.md.
"""

from __future__ import annotations

from typing import Any


def start(config: Any = None) -> Any:
    """Start the sentiment service (see ``apps.sentiment.service.start``)."""
    from apps.sentiment import service

    return service.start(config)


def stop() -> None:
    """Stop the sentiment service."""
    from apps.sentiment import service

    service.stop()


def scheduler_alive() -> bool | None:
    """Whether the feed scheduler is alive (for the launcher's /healthz); None when not started."""
    from apps.sentiment import service

    return service.scheduler_alive()
