"""The process-wide recommender: the engine cache, the demo catalogue and ``start(config)``.

``get_engine(adapter)`` builds an Engine from the database once and reuses it until an import
changes the catalogue (likes from the page are folded into the live engine instead).
``adapter="default"`` means the ``[recommender] adapter`` config key, else the shipped
``next-item`` adapter when it exists, else the frozen MiniLM. ``start(config)`` (called by the
launcher) loads the shipped demo books into an empty database and builds the item index.

    from apps.recommender.service import get_engine
    get_engine().for_user("u001", k=5)
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from apps.recommender.engine import APP, Engine
from apps.recommender.ranker import Blend
from apps.recommender.store import Store
from shared.errors import AdapterNotFoundError, LorasuiteError
from shared.home import data_dir

log = logging.getLogger(__name__)
DEFAULT_ADAPTER = "next-item"
_ENGINES: dict[tuple[str, str, str | None], Engine] = {}
_LOCK = threading.RLock()
_CONFIG: list = []  # the Config the launcher gave start(), else the config file is read


def _config() -> dict[str, Any]:
    if _CONFIG:
        return _CONFIG[0].section("recommender")
    from apps.config import load_config

    return load_config().section("recommender")


def resolve_adapter(adapter: str | None = "default") -> str | None:
    """The adapter name to use (None = frozen MiniLM); a named one must exist."""
    from shared import adapters

    if adapter in (None, "", "none"):
        return None
    if adapter != "default":
        adapters.find(APP, adapter)  # raises with the list of known adapters
        return adapter
    name = _config().get("adapter", DEFAULT_ADAPTER)
    if name in (None, "", "none"):
        return None
    try:
        adapters.find(APP, name)
        return name
    except AdapterNotFoundError:
        log.info("no %s/%s adapter: using the frozen MiniLM", APP, name)
        return None


def blend_settings() -> Blend:
    """Blend weights, overridable in the ``[recommender]`` config section."""
    values = {k: v for k, v in _config().items() if k in Blend.__dataclass_fields__}
    try:
        return Blend(**values)
    except (TypeError, ValueError) as err:
        raise LorasuiteError(f"bad [recommender] setting: {err}") from err


def get_engine(adapter: str | None = "default", store: Store | None = None) -> Engine:
    """The engine for the current catalogue and adapter (built on first use)."""
    name = resolve_adapter(adapter)
    store = store or Store()
    with _LOCK:
        key = (store.db.url, store.state(), name)
        engine = _ENGINES.get(key)
        if engine is None:
            snapshot = store.snapshot()
            if not snapshot.items:
                raise LorasuiteError("no items imported yet: run `lorasuite recommend import --items FILE "
                                     "[--interactions FILE]` or `lorasuite recommend import --demo`")
            engine = Engine(snapshot, adapter=name, settings=blend_settings())
            for stale in [k for k in _ENGINES if k[0] == key[0] and k[2] == name]:
                del _ENGINES[stale]
            _ENGINES[key] = engine
        return engine


def record_feedback(user_id: str, item_id: str, liked: bool, store: Store | None = None) -> None:
    """Store a like/dislike (top/bottom of the rating scale) and fold it into the live engines."""
    store = store or Store()
    with _LOCK:
        live = [engine for key, engine in _ENGINES.items() if key[0] == store.db.url]
    low, high = live[0].rating_range if live else (0.0, 5.0)
    row = store.add_feedback(user_id, item_id, high if liked else low)
    with _LOCK:
        for engine in live:
            engine.record(row)


def demo_files() -> tuple[Any, Any]:
    return data_dir("recommender", "items.csv"), data_dir("recommender", "interactions.csv")


def load_demo(store: Store | None = None, force: bool = False) -> list:
    """Import the shipped demo books into an empty catalogue (or always, with ``force``)."""
    from apps.recommender.catalog import import_files

    store = store or Store()
    if store.count("items") and not force:
        return []
    items, interactions = demo_files()
    if not items.exists():
        raise LorasuiteError(f"the demo catalogue is missing: {items}")
    return import_files(items=items, interactions=interactions if interactions.exists() else None, store=store)


def start(config: Any = None) -> list[str]:
    """Launcher hook: demo books on a fresh home, then the engine (item index) built and cached.
    Returns notices for the landing page (import problems, a missing adapter)."""
    _CONFIG[:] = [config] if config is not None and hasattr(config, "section") else []
    store, notices = Store(), []
    for report in load_demo(store):
        log.info("%s", report.summary())
        if report.problems:
            notices.append(report.summary(show=3))
    engine = get_engine(store=store)
    if engine.key is None:
        notices.append("no recommender adapter found: ranking with the frozen MiniLM")
    return notices


def stop() -> None:
    """Launcher hook: drop the cached engines."""
    with _LOCK:
        _ENGINES.clear()
