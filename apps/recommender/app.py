"""The recommender app's ``AppSpec``: the book page, ``lorasuite recommender`` (alias ``recommend``).

``start(ctx)`` imports the configured catalogue (or the demo books into an empty database) and
builds the item index. Entry point: ``recommender = "apps.recommender.app:spec"`` in pyproject.toml.
"""

from __future__ import annotations

from typing import Any

from apps.spec import AppSpec


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


def build_ui(ctx):
    from apps.recommender.ui import build

    return build(ctx)


def build_admin_ui(ctx):
    from apps.recommender.admin_ui import build

    return build(ctx)


def learning(ctx):
    from apps.recommender.learning import learner

    return learner(ctx)


def register_cli(parser) -> None:
    from apps.recommender.cli import register

    register(parser)


def _spec() -> AppSpec:
    from apps.recommender.settings import RecommenderSettings

    app = RecommenderApp()
    return AppSpec(name="recommender", title="Book recommender", order=30, login=False, aliases=("recommend",),
                   blurb="Recommendations from what you like or what you type.", build_ui=build_ui,
                   admin_ui=build_admin_ui, register_cli=register_cli, start=app.start, stop=app.stop,
                   health=app.health, details=app.details, settings=RecommenderSettings, learning=learning)


spec = _spec()
