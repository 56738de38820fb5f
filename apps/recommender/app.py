"""The recommender app's ``AppSpec``: the book page, ``lorasuite recommender`` (alias ``recommend``).

``start(ctx)`` imports the configured catalogue (or the demo books into an empty database) and
builds the item index. Entry point: ``recommender = "apps.recommender.app:spec"`` in pyproject.toml.
"""

from __future__ import annotations

from typing import Any

from apps.spec import AppSpec, lazy


def service_of(ctx):
    """The context's recommender service (engines, store, settings)."""
    from apps.recommender.service import RecommenderService

    return ctx.service("recommender.service", lambda: RecommenderService(ctx))


class RecommenderApp:
    def __init__(self) -> None:
        self.ctx: Any = None
        self.notices: list[str] = []

    def start(self, ctx) -> list[str]:
        from apps.learning_scheduler import attach

        self.ctx = ctx
        self.notices = service_of(ctx).start()
        attach(ctx, "recommender")
        return self.notices

    def stop(self) -> None:
        if self.ctx is not None:
            from apps.learning_scheduler import detach

            detach(self.ctx, "recommender")
            service = self.ctx.drop("recommender.service")
            if service is not None:
                service.stop()
        self.ctx = None

    def health(self) -> bool:
        return self.ctx is not None and bool(service_of(self.ctx).engine().items)

    def details(self) -> dict[str, Any]:
        return {"notices": self.notices}


def _spec() -> AppSpec:
    from apps.recommender.settings import RecommenderSettings

    app = RecommenderApp()
    return AppSpec(name="recommender", title="Book recommender", order=30, login=False, aliases=("recommend",),
                   blurb="Recommendations from what you like or what you type.", build_ui=lazy("apps.recommender.ui:build"),
                   admin_ui=lazy("apps.recommender.admin_ui:build"),
                   register_cli=lazy("apps.recommender.cli:register"), start=app.start, stop=app.stop,
                   health=app.health, details=app.details, settings=RecommenderSettings,
                   learning=lazy("apps.recommender.learning:learner"))


spec = _spec()
