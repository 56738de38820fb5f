"""One process, one base model, every installed app: ``lorasuite serve``.

    lorasuite serve [--host 127.0.0.1] [--port 7860] [--apps support,sentiment,recommender]

Mounts each app's Gradio page at ``/<name>/`` (and its admin page, when it has one, at
``/<name>/admin/`` behind the admin login) on one FastAPI server, with a landing page at ``/``,
``/healthz`` (public: ok and each app's state; with the admin login: the details) and
``/metrics`` (Prometheus text; behind a bearer token when ``[suite] metrics_token`` is set).
The base model is loaded once, before any app starts. Each app's ``start(ctx)`` runs at boot and
``stop()`` at shutdown: uvicorn turns SIGTERM into a clean lifespan shutdown. Apps come from
``apps.spec.discover()``; nothing here names one. Browser-facing protections (CORS, origin
checks, login throttling, cookies, uploads) are ``apps.websecurity``.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html import escape
from typing import Any

from shared.errors import LorasuiteError

log = logging.getLogger(__name__)


@dataclass
class SuiteState:
    """What /healthz reports."""

    apps: list[str] = field(default_factory=list)
    started: dict[str, bool] = field(default_factory=dict)
    notices: dict[str, list[str]] = field(default_factory=dict)
    model_loaded: bool = False
    boot_seconds: float = 0.0


def parse_apps(value: str, specs: list) -> list[str]:
    """The ``--apps`` list (names or aliases), checked against the installed apps."""
    from apps.spec import by_name

    names = [n.strip() for n in value.split(",") if n.strip()]
    found = [by_name(specs, n) for n in names]
    unknown = [n for n, spec in zip(names, found) if spec is None]
    if unknown or not names:
        raise LorasuiteError(f"--apps: unknown app(s) {unknown}; choose from {', '.join(s.name for s in specs)}")
    return list(dict.fromkeys(spec.name for spec in found))


def boot(state: SuiteState, ctx: Any) -> None:
    """Load the base model once, then start every app (a failing app is reported, not fatal)."""
    start = time.perf_counter()
    _ = ctx.backbone
    state.model_loaded = True
    for name in state.apps:
        spec = ctx.spec(name)
        try:
            result = spec.start(ctx) if spec.start else None
            state.started[name] = True
            if isinstance(result, list):
                state.notices[name] = [str(n) for n in result]
        except Exception as err:  # noqa: BLE001 - one broken app must not take the suite down
            log.exception("app %s failed to start", name)
            state.started[name] = False
            state.notices[name] = [f"failed to start: {err}"]
    state.boot_seconds = time.perf_counter() - start
    log.info("suite ready in %.1f s: %s", state.boot_seconds, ", ".join(state.apps))


def shutdown(state: SuiteState, ctx: Any) -> None:
    for name in state.apps:
        spec = ctx.spec(name)
        try:
            if spec.stop:
                spec.stop()
        except Exception:  # noqa: BLE001 - keep stopping the others
            log.exception("app %s failed to stop", name)


def landing_page(state: SuiteState, ctx: Any) -> str:
    cards = "".join(
        f'<li><a href="{spec.path}/">{escape(spec.title)}</a>{" (login)" if spec.login else ""}'
        f'<br><small>{escape(spec.blurb)}</small></li>' for spec in map(ctx.spec, state.apps))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>lorasuite</title></head><body "
            f"style='font-family:sans-serif;max-width:40em;margin:3em auto'><h1>lorasuite</h1><p>One LoRA-tuned "
            f"MiniLM, {len(state.apps)} apps.</p><ul style='line-height:2'>{cards}</ul>"
            f"<p><a href='/healthz'>health</a></p></body></html>")


def health(state: SuiteState, ctx: Any, details: bool = False) -> dict[str, Any]:
    """Public: ok and each app's state. With ``details``: model, database, notices, app details."""
    apps = {}
    for name in state.apps:
        spec = ctx.spec(name)
        alive = state.started.get(name)
        if alive and spec.health is not None:
            alive = _healthy(spec)
        apps[name] = "ok" if alive else ("starting" if name not in state.started else "failing")
    database = ctx.db.ping()
    body: dict[str, Any] = {"ok": bool(state.model_loaded and database and all(v == "ok" for v in apps.values())),
                            "apps": apps}
    if details:
        body.update(model_loaded=state.model_loaded, database=database, notices=state.notices,
                    boot_seconds=round(state.boot_seconds, 1),
                    details={n: ctx.spec(n).details() for n in state.apps if ctx.spec(n).details})
    return body


def _healthy(spec: Any) -> bool:
    try:
        return bool(spec.health())
    except Exception:  # noqa: BLE001 - a failing health check is an unhealthy app
        log.exception("health check of %s failed", spec.name)
        return False


def create_app(ctx: Any, names: list[str] | None = None, mount_ui: bool = True):
    """The FastAPI application with the requested apps (default: ``[suite] apps`` or all) mounted."""
    from fastapi import FastAPI

    from apps import auth, suite_metrics, websecurity
    from apps.routes import core_routes

    names = names or parse_apps(",".join(ctx.config.suite.apps or [s.name for s in ctx.specs]), ctx.specs)
    state = SuiteState(apps=list(names))
    guard = auth.Guard(ctx.config)  # production without a good password fails here, before serving

    @asynccontextmanager
    async def lifespan(_app: Any):
        boot(state, ctx)
        yield
        shutdown(state, ctx)

    app = FastAPI(title="lorasuite", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    core_routes(app, state, ctx, guard)
    for name in names:
        spec = ctx.spec(name)
        if spec.routes is not None:
            spec.routes(app, ctx)
    uploads = _mount_pages(app, ctx, names, guard) if mount_ui else {}
    suite_metrics.instrument(app, ctx.specs)
    websecurity.protect(app, ctx.config, guard, uploads)
    app.state.suite = state
    return app


def _mount_pages(app: Any, ctx: Any, names: list[str], guard: Any) -> dict[str, bool]:
    """Mount each page (admin pages first: ``/x/admin`` must not be swallowed by ``/x``); returns
    path -> whether that page has a file-upload component."""
    import gradio as gr

    from apps.websecurity import accepts_uploads

    limit = int(ctx.config.suite.max_upload_mb * 1024 * 1024)
    pages: list[tuple[str, Any, bool]] = []
    for name in names:
        spec = ctx.spec(name)
        if spec.admin_ui is not None:
            pages.append((f"{spec.path}/admin", spec.admin_ui(ctx), True))
        pages.append((spec.path, spec.build_ui(ctx), spec.login))
    uploads = {}
    for path, blocks, login in pages:
        gr.mount_gradio_app(app, blocks, path=path, auth=guard.gradio_auth if login else None, show_error=False,
                            auth_message="lorasuite admin login" if login else None, max_file_size=limit)
        uploads[path] = accepts_uploads(blocks)
    return uploads


def _serve(args: Any) -> int:
    import uvicorn

    ctx = args.ctx
    suite = ctx.config.suite
    names = parse_apps(args.apps or ",".join(suite.apps or [s.name for s in ctx.specs]), ctx.specs)
    host = args.host or suite.host
    port = int(args.port or suite.port)
    if args.host:
        ctx.config.suite.host = host  # the demo login is allowed only when bound to loopback
    app = create_app(ctx, names)
    log.info("serving %s on http://%s:%d/", ", ".join(names), host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=10,
                proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    return 0


def register(commands: Any) -> None:
    serve = commands.top.add_parser("serve", help="run the suite (every installed app) in one process")
    serve.add_argument("--host", help="bind address (default [suite] host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default [suite] port, 7860)")
    serve.add_argument("--apps", help="comma-separated app names (default [suite] apps, or every installed app)")
    serve.add_argument("--demo", action="store_true",
                       help="kept for old scripts: the demo (shipped data, default adapters) is what runs "
                            "without a config file")
    serve.set_defaults(func=_serve)
