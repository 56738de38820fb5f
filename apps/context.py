"""AppContext: what every app is handed, made once per process by the CLI or the launcher.

    ctx = AppContext.create()                # discovers the apps, loads and validates the config
    ctx.config.suite.port, ctx.settings("support").intent_adapter
    ctx.db.query(...)                        # one Database (engine) for the process
    ctx.backbone.classify(texts, "support/intent")   # the base model, loaded on first use
    ctx.registry.history("sentiment", "finance")     # adapter versions
    bot = ctx.service("support.bot", lambda: SupportBot(ctx))   # per-context app objects

Apps keep their long-lived objects in ``ctx.service`` instead of module globals, so two
contexts (two tests, two homes) never share a bot, an engine or a scheduler.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.config import Config, load_config
from apps.spec import AppSpec, by_name, discover


@dataclass
class AppContext:
    """Typed config, database, backbone and adapter registry for one process (or one test)."""

    config: Config
    specs: list[AppSpec] = field(default_factory=list)
    _services: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def create(cls, config_file: str | Path | None = None, specs: list[AppSpec] | None = None,
               config: Config | None = None) -> AppContext:
        specs = discover() if specs is None else specs
        config = config or load_config(config_file, specs)
        config.apply_paths()
        return cls(config, specs)

    def spec(self, name: str) -> AppSpec | None:
        return by_name(self.specs, name)

    def settings(self, app: str) -> Any:
        """The typed ``[app]`` section."""
        return self.config.app(app)

    @property
    def db(self):
        from shared.storage import shared_database

        return shared_database(self.config.db_url())

    @property
    def backbone(self):
        """The process's base model (loaded on first use; one per model name per process)."""
        from shared.backbone import get_backbone

        return get_backbone(self.config.model.base)

    @property
    def registry(self):
        from shared import registry

        return registry

    def service(self, key: str, factory: Callable[[], Any]) -> Any:
        """The context's object under ``key``, made by ``factory`` on first use (thread-safe)."""
        with self._lock:
            if key not in self._services:
                self._services[key] = factory()
            return self._services[key]

    def drop(self, key: str) -> Any:
        """Forget (and return) a service object, e.g. at stop."""
        with self._lock:
            return self._services.pop(key, None)
