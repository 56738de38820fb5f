"""The recommender of one context: its engines, the demo catalogue and what ``start`` does.

``RecommenderService(ctx).engine(adapter)`` builds an Engine from the database once and reuses
it until an import changes the catalogue or the adapter's champion changes (likes from the page
are folded into the live engine instead). ``adapter=None`` means ``[recommender] adapter``
(default ``recommender/next-item``, the shipped one, else the frozen MiniLM); ``"none"`` is the
frozen MiniLM. ``start()`` imports ``[recommender] items``/``interactions`` when configured, else
the shipped demo books into an empty database, and builds the item index.

    service = RecommenderService(ctx)
    service.engine().for_user("u001", k=5)
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from apps.recommender.engine import APP, Engine
from apps.recommender.store import Store
from shared import registry
from shared.errors import AdapterNotFoundError, LorasuiteError
from shared.home import data_dir

log = logging.getLogger(__name__)


class RecommenderService:
    """Engines keyed by (catalogue state, adapter version), the store and the settings."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.settings = ctx.settings("recommender")
        self.store = Store(ctx.db)
        self._engines: dict[tuple, Engine] = {}
        self._lock = threading.RLock()

    @property
    def demo_readers(self) -> bool:
        configured = self.settings.demo_readers
        return (not self.ctx.config.production) if configured is None else configured

    def adapter(self, adapter: str | None = None) -> str | None:
        """The adapter reference to use now (None = frozen MiniLM); a named one must exist."""
        if adapter in ("none", "") or (adapter is None and self.settings.adapter in ("", "none")):
            return None
        if adapter is not None:
            return registry.resolve(adapter, app=APP).ref  # raises with what exists
        try:
            return registry.resolve(self.settings.adapter, app=APP).ref
        except AdapterNotFoundError:
            log.info("no %s adapter: using the frozen MiniLM", self.settings.adapter)
            return None

    def engine(self, adapter: str | None = None) -> Engine:
        """The engine for the current catalogue and adapter version (built on first use)."""
        ref = self.adapter(adapter)
        with self._lock:
            key = (self.store.state(), ref)
            engine = self._engines.get(key)
            if engine is None:
                snapshot = self.store.snapshot()
                if not snapshot.items:
                    raise LorasuiteError("no items imported yet: run `lorasuite recommender import --items FILE "
                                         "[--interactions FILE]` or `lorasuite recommender import --demo`")
                engine = Engine(snapshot, adapter=ref, settings=self.settings.blend, backbone=self.ctx.backbone)
                self._engines = {key: engine}  # older catalogue states and versions are dropped
            return engine

    def record_feedback(self, user_id: str, item_id: str, liked: bool) -> None:
        """Store a like/dislike (top/bottom of the rating scale) and fold it into the live engines."""
        with self._lock:
            live = list(self._engines.values())
        low, high = live[0].rating_range if live else (0.0, 5.0)
        row = self.store.add_feedback(user_id, item_id, high if liked else low)
        with self._lock:
            for engine in live:
                engine.record(row)

    def load_catalogue(self, force: bool = False) -> list:
        """Import the configured catalogue, or the shipped demo books into an empty one."""
        from pathlib import Path

        from apps.recommender.catalog import import_files

        if self.settings.items:
            interactions = self.settings.interactions or None
            return import_files(items=Path(self.settings.items), interactions=interactions and Path(interactions),
                                store=self.store)
        if self.store.count("items") and not force:
            return []
        items, interactions = demo_files()
        if not items.exists():
            raise LorasuiteError(f"the demo catalogue is missing: {items}")
        return import_files(items=items, interactions=interactions if interactions.exists() else None,
                            store=self.store)

    def start(self) -> list[str]:
        """The catalogue on a fresh home, then the engine (item index) built; returns notices."""
        notices = []
        for report in self.load_catalogue():
            log.info("%s", report.summary())
            if report.problems:
                notices.append(report.summary(show=3))
        if self.engine().key is None:
            notices.append("no recommender adapter found: ranking with the frozen MiniLM")
        return notices

    def stop(self) -> None:
        with self._lock:
            self._engines.clear()


def demo_files() -> tuple[Any, Any]:
    return data_dir("recommender", "items.csv"), data_dir("recommender", "interactions.csv")
