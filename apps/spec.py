"""The app contract: what an app hands the suite, and how the suite finds apps.

An app is one package that exposes an ``AppSpec`` through the entry-point group
``lorasuite.apps`` in its ``pyproject.toml`` (the three built-in apps do it the same way)::

    [project.entry-points."lorasuite.apps"]
    notes = "notes_app:spec"

The launcher, the CLI, the landing page, ``/healthz`` and ``/metrics`` iterate over the specs
``discover()`` returns and never name an app. Every callable gets the ``AppContext`` (typed
config, database, backbone, adapter registry) made once per process by the CLI or launcher.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
GROUP = "lorasuite.apps"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


@dataclass(kw_only=True)
class AppSpec:
    """Everything the suite needs to serve, run and check one app.

    - ``build_ui(ctx) -> gr.Blocks``: the page, mounted at ``/<name>/``;
    - ``register_cli(parser)``: add verbs to the ``lorasuite <name>`` parser (subparsers whose
      handlers are set with ``set_defaults(func=f)``; ``f(args) -> int`` finds the context in
      ``args.ctx``);
    - ``start(ctx)`` at boot (may return notices), ``stop()`` at shutdown, ``health() -> bool``;
    - ``login``: the page needs the admin login; ``admin_ui(ctx)``: an optional admin page, mounted
      at ``/<name>/admin/`` behind the admin login (agent inbox, model versions, ...);
    - optional: ``settings`` (a pydantic model of the app's ``[<name>]`` config table),
      ``routes(app, ctx)`` (extra HTTP routes on the FastAPI app), ``metrics(ctx)`` (Prometheus
      metric families, read at scrape time), ``aliases`` (other spellings of the name),
      ``details()`` (health details shown to the admin), ``learning(ctx) -> apps.learning.Learner``
      (the app's learning loop: which adapter ``lorasuite retrain APP`` and the scheduler retrain,
      from which labels).
    """

    name: str
    title: str
    build_ui: Callable[[Any], Any]
    admin_ui: Callable[[Any], Any] | None = None
    register_cli: Callable[[Any], None] | None = None
    start: Callable[[Any], Any] | None = None
    stop: Callable[[], None] | None = None
    health: Callable[[], bool] | None = None
    login: bool = False
    blurb: str = ""
    settings: type | None = None
    routes: Callable[[Any, Any], None] | None = None
    metrics: Callable[[Any], Iterable[Any]] | None = None
    details: Callable[[], dict[str, Any]] | None = None
    learning: Callable[[Any], Any] | None = None
    aliases: tuple[str, ...] = ()
    order: int = 100
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name or ""):
            raise ValueError(f"AppSpec name must be a lowercase slug (letters, digits, - or _), got {self.name!r}")
        if not callable(self.build_ui):
            raise ValueError(f"AppSpec {self.name}: build_ui must be callable")
        for alias in self.aliases:
            if not _NAME.match(alias):
                raise ValueError(f"AppSpec {self.name}: alias {alias!r} is not a slug")

    @property
    def path(self) -> str:
        return f"/{self.name}"


def lazy(target: str) -> Callable[..., Any]:
    """A hook that imports ``"package.module:function"`` on its first call, so that reading an app's
    spec stays cheap (no gradio, torch or faiss until a page is built or a verb runs)::

        AppSpec(name="notes", title="Notes", build_ui=lazy("notes_app.ui:build"))
    """
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"lazy hook must be 'module:function', got {target!r}")

    def hook(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    hook.__name__ = hook.__qualname__ = name
    hook.__doc__ = f"{target} (imported on first use)"
    return hook


def discover() -> list[AppSpec]:
    """Every installed app (entry points of ``lorasuite.apps``), built-ins first; a broken one is
    logged and left out rather than taking the CLI down."""
    from importlib.metadata import entry_points

    specs: dict[str, AppSpec] = {}
    for point in entry_points(group=GROUP):
        try:
            spec = point.load()
            spec = spec() if callable(spec) and not isinstance(spec, AppSpec) else spec
            if not isinstance(spec, AppSpec):
                raise TypeError(f"{point.value} is a {type(spec).__name__}, not an AppSpec")
        except Exception as err:  # noqa: BLE001 - one broken plugin must not break the suite
            log.error("app plugin %s (%s) cannot be loaded: %s", point.name, point.value, err)
            continue
        if spec.name in specs:
            log.error("two apps are named %r; keeping %s", spec.name, specs[spec.name].title)
            continue
        specs[spec.name] = spec
    return sorted(specs.values(), key=lambda s: (s.order, s.name))


def by_name(specs: list[AppSpec], name: str) -> AppSpec | None:
    """The spec called ``name`` or one of its aliases."""
    return next((s for s in specs if name == s.name or name in s.aliases), None)
