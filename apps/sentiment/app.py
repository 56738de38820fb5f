"""The sentiment app's ``AppSpec``: the finance dashboard (login), ``lorasuite sentiment``.

``start(ctx)`` seeds the watchlist and feeds and starts the monitor where this process should run
scheduled work (``service.py``); ``health()`` is false when the scheduler should run and does not.
Entry point: ``sentiment = "apps.sentiment.app:spec"`` in pyproject.toml.
"""

from __future__ import annotations

from typing import Any

from apps.spec import AppSpec, lazy


def service_of(ctx):
    """The context's sentiment service (feeds, monitor, election)."""
    from apps.sentiment.service import SentimentService

    return ctx.service("sentiment.service", lambda: SentimentService(ctx))


class SentimentApp:
    def __init__(self) -> None:
        self.ctx: Any = None

    def start(self, ctx) -> list[str]:
        from apps.learning_scheduler import attach

        self.ctx = ctx
        service_of(ctx).start()
        attach(ctx, "sentiment")
        return []

    def stop(self) -> None:
        if self.ctx is not None:
            from apps.learning_scheduler import detach

            detach(self.ctx, "sentiment")
            service = self.ctx.drop("sentiment.service")
            if service is not None:
                service.stop()
        self.ctx = None

    def health(self) -> bool:
        return self.ctx is not None and service_of(self.ctx).alive()

    def details(self) -> dict[str, Any]:
        if self.ctx is None:
            return {}
        service = service_of(self.ctx)
        leader = service.leader
        return {"scheduler_mode": self.ctx.config.suite.scheduler,
                "leader": None if leader is None else leader.is_leader,
                "jobs": len(service.monitor.jobs()) if service.monitor else 0}


def metrics(ctx):
    """Stored items and raised alerts (counted at most every 30 s)."""
    from apps.suite_metrics import table_counts

    yield from table_counts(ctx, "lorasuite_sentiment", {
        "items": ("Feed items stored", "SELECT count(*) FROM sentiment_items"),
        "alerts": ("Alerts raised", "SELECT count(*) FROM sentiment_alerts")})
    from apps.drift import drift_metrics

    yield from drift_metrics(ctx, "sentiment")


def _spec() -> AppSpec:
    from apps.sentiment.settings import SentimentSettings

    app = SentimentApp()
    return AppSpec(name="sentiment", title="Financial news monitor", order=20, login=True,
                   blurb="Feeds scored by sentiment, trends per company, spike alerts.",
                   build_ui=lazy("apps.sentiment.ui:build"), register_cli=lazy("apps.sentiment.cli:register"),
                   start=app.start, stop=app.stop,
                   health=app.health, details=app.details, metrics=metrics, settings=SentimentSettings,
                   learning=lazy("apps.sentiment.labelling:learner"))


spec = _spec()
