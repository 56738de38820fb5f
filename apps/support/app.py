"""The support app's ``AppSpec``: the chat page, ``lorasuite support``, ``POST /api/support/ask``.

``start(ctx)`` ingests the configured help centre (a no-op when up to date) and warms the bot;
the bot lives in the context (``bot(ctx)``), so the page, the API and the CLI of one process
share it. Entry point: ``support = "apps.support.app:spec"`` in pyproject.toml.
"""

from __future__ import annotations

import logging
from typing import Any

from apps.spec import AppSpec, lazy

log = logging.getLogger(__name__)


def bot(ctx, adapter: str | None = None):
    """The context's support bot (one per intent adapter reference)."""
    from apps.support.bot import SupportBot

    return ctx.service(f"support.bot:{adapter or ''}", lambda: SupportBot(ctx, adapter))


class SupportApp:
    """Start, stop and health of the support app in a served process."""

    def __init__(self) -> None:
        self.ctx: Any = None
        self.notices: list[str] = []

    def start(self, ctx) -> list[str]:
        from apps.support import kb_paths
        from apps.support.ingest import ensure_ingested
        from shared.errors import LorasuiteError

        self.ctx, notices = ctx, []
        try:
            report = ensure_ingested(kb_paths(ctx.settings("support")))
            log.info("support help centre: %s", report.summary())
        except LorasuiteError as err:
            notices.append(str(err))
        notices += bot(ctx).warm()
        for notice in notices:
            log.warning("support: %s", notice)
        self.notices = notices
        from apps.learning_scheduler import attach

        attach(ctx, "support")
        return notices

    def stop(self) -> None:
        if self.ctx is not None:
            from apps.learning_scheduler import detach

            detach(self.ctx, "support")  # the learning jobs are the support app's only background work
        self.ctx = None

    def health(self) -> bool:
        return self.ctx is not None and bot(self.ctx).index()[0] is not None

    def details(self) -> dict[str, Any]:
        return {"notices": self.notices}


def metrics(ctx):
    """Stored messages and open tickets (counted at most every 30 s)."""
    from apps.suite_metrics import table_counts

    yield from table_counts(ctx, "lorasuite_support", {
        "messages": ("Support messages stored", "SELECT count(*) FROM support_messages"),
        "open_tickets": ("Open support tickets", "SELECT count(*) FROM support_tickets WHERE status = 'open'")})
    from apps.drift import drift_metrics

    yield from drift_metrics(ctx, "support")


def _spec() -> AppSpec:
    from apps.support.settings import SupportSettings

    app = SupportApp()
    return AppSpec(name="support", title="Customer support", order=10, login=False,
                   blurb="Chat with the bank's help centre; hand-over to a person; agent inbox.",
                   build_ui=lazy("apps.support.ui:build"), admin_ui=lazy("apps.support.admin_ui:build"),
                   register_cli=lazy("apps.support.cli:register"), start=app.start, stop=app.stop,
                   health=app.health, details=app.details, routes=lazy("apps.support.api:add_routes"), metrics=metrics,
                   settings=SupportSettings, learning=lazy("apps.support.learning:learner"))


spec = _spec()
