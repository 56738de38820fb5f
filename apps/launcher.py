"""One process, one base model, three apps: ``lorasuite serve``.

    lorasuite serve [--host 127.0.0.1] [--port 7860] [--apps support,sentiment,recommender] [--demo]

Mounts each app's Gradio UI on one FastAPI server (``/support``, ``/sentiment``,
``/recommend``) with a landing page at ``/``, ``/healthz`` (model loaded, database reachable,
scheduler alive) and ``/metrics`` (Prometheus text). The base model is loaded once, before any
app starts, and every app asks the shared backbone for its adapters. Each app's ``start(config)``
runs at boot (ingest the shipped data when needed, start the feed scheduler) and ``stop()`` at
shutdown: uvicorn turns SIGTERM into a clean lifespan shutdown. The finance dashboard needs the
admin login (``apps.auth``); the customer chat does not.
"""

from __future__ import annotations

import importlib
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html import escape
from typing import Any

from apps.config import Config, load_config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppSpec:
    """Where an app lives and how it is mounted."""

    name: str
    package: str
    path: str
    title: str
    blurb: str
    login: bool


APPS = {
    "support": AppSpec("support", "apps.support", "/support", "Customer support",
                       "Chat with the bank's help centre; hand-over to a person; agent inbox.", False),
    "sentiment": AppSpec("sentiment", "apps.sentiment", "/sentiment", "Financial news monitor",
                         "Feeds scored by sentiment, trends per company, spike alerts.", True),
    "recommender": AppSpec("recommender", "apps.recommender", "/recommend", "Book recommender",
                           "Recommendations from what you read or what you type.", False),
}


@dataclass
class SuiteState:
    """What /healthz reports and /metrics counts."""

    apps: list[str] = field(default_factory=list)
    started: dict[str, bool] = field(default_factory=dict)
    notices: dict[str, list[str]] = field(default_factory=dict)
    model_loaded: bool = False
    boot_seconds: float = 0.0


def parse_apps(value: str) -> list[str]:
    """The ``--apps`` list, checked against the known apps."""
    from shared.errors import LorasuiteError

    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in APPS]
    if unknown or not names:
        raise LorasuiteError(f"--apps: unknown app(s) {unknown}; choose from {', '.join(APPS)}")
    return names


def _hook(spec: AppSpec, name: str):
    """``start`` / ``stop`` / ``scheduler_alive`` from the app package, else from its ``service`` module."""
    for module_name in (spec.package, f"{spec.package}.service"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        if hasattr(module, name):
            return getattr(module, name)
    return None


def boot(state: SuiteState, config: Config) -> None:
    """Load the base model once, then start every app (a failing app is reported, not fatal)."""
    from shared.backbone import get_backbone

    start = time.perf_counter()
    get_backbone(config.section("model").get("base", "minilm"))
    state.model_loaded = True
    for name in state.apps:
        hook = _hook(APPS[name], "start")
        try:
            result = hook(config) if hook else None
            state.started[name] = True
            if isinstance(result, list):
                state.notices[name] = [str(n) for n in result]
        except Exception as err:  # noqa: BLE001 - one broken app must not take the suite down
            log.exception("app %s failed to start", name)
            state.started[name] = False
            state.notices[name] = [f"failed to start: {err}"]
    state.boot_seconds = time.perf_counter() - start
    log.info("suite ready in %.1f s: %s", state.boot_seconds, ", ".join(state.apps))


def shutdown(state: SuiteState) -> None:
    for name in state.apps:
        hook = _hook(APPS[name], "stop")
        try:
            if hook:
                hook()
        except Exception:  # noqa: BLE001 - keep stopping the others
            log.exception("app %s failed to stop", name)


def landing_page(state: SuiteState) -> str:
    cards = "".join(
        f'<li><a href="{APPS[n].path}/">{escape(APPS[n].title)}</a>'
        f'{" (login)" if APPS[n].login else ""}<br><small>{escape(APPS[n].blurb)}</small></li>'
        for n in state.apps)
    return (f"<!doctype html><html><head><title>lorasuite</title></head><body style='font-family:sans-serif;"
            f"max-width:40em;margin:3em auto'><h1>lorasuite</h1><p>One LoRA-tuned MiniLM, three apps.</p>"
            f"<ul style='line-height:2'>{cards}</ul><p><a href='/healthz'>health</a> · "
            f"<a href='/metrics'>metrics</a></p></body></html>")


def create_app(apps: list[str], config: Config | None = None, mount_ui: bool = True):
    """The FastAPI application with every requested app mounted."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

    from apps import suite_metrics
    from apps.auth import check, credentials

    config = config or load_config()
    state = SuiteState(apps=list(apps))
    if any(APPS[n].login for n in apps):
        credentials(config)  # production without a password fails here, before serving

    @asynccontextmanager
    async def lifespan(_app: Any):
        boot(state, config)
        yield
        shutdown(state)

    app = FastAPI(title="lorasuite", lifespan=lifespan)
    suite_metrics.instrument(app)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return landing_page(state)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        body = health(state)
        return JSONResponse(body, status_code=200 if body["ok"] else 503)

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        text, content_type = suite_metrics.render()
        return PlainTextResponse(text, media_type=content_type)

    if "support" in apps:
        _support_api(app, config)
    if mount_ui:
        import gradio as gr

        for name in apps:
            spec = APPS[name]
            ui = importlib.import_module(f"{spec.package}.ui")
            auth = (lambda user, password: check(user, password, config)) if spec.login else None
            gr.mount_gradio_app(app, ui.build(), path=spec.path, auth=auth, show_error=False,
                                auth_message="lorasuite admin login" if spec.login else None)
    app.state.suite = state
    return app


def _support_api(app: Any, config: Config) -> None:
    """``POST /api/support/ask`` {"text", "conversation_id"?} -> the reply as JSON (no login: it is the
    customer's channel, like the chat window). Used by integrations and the load test."""
    from fastapi import Body
    from starlette.concurrency import run_in_threadpool

    @app.post("/api/support/ask")
    async def ask(payload: dict = Body(...)) -> dict:  # noqa: B008 - FastAPI's idiom
        from apps.support.bot import get_bot

        conversation = payload.get("conversation_id")
        conversation = int(conversation) if str(conversation or "").isdigit() else None
        reply = await run_in_threadpool(get_bot(config).ask, payload.get("text", ""), conversation, "api")
        return dict(reply.to_json(), conversation_id=reply.conversation_id)


def health(state: SuiteState) -> dict[str, Any]:
    """Model loaded, database reachable, scheduler alive (when the sentiment app runs)."""
    from shared.storage import shared_database

    database = shared_database().ping()
    body: dict[str, Any] = {"model_loaded": state.model_loaded, "database": database, "apps": state.started,
                            "notices": state.notices}
    if "sentiment" in state.apps:
        alive = _hook(APPS["sentiment"], "scheduler_alive")
        body["scheduler"] = bool(alive()) if alive else None
    body["ok"] = bool(state.model_loaded and database and all(state.started.get(n) for n in state.apps)
                      and body.get("scheduler", True) is not False)
    return body


def _serve(args: Any) -> int:
    import uvicorn

    config = load_config()
    suite = config.section("suite")
    apps = parse_apps(args.apps or ",".join(suite.get("apps", list(APPS))))
    host = args.host or suite.get("host", "127.0.0.1")
    port = int(args.port or suite.get("port", 7860))
    app = create_app(apps, config)
    log.info("serving %s on http://%s:%d/", ", ".join(apps), host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=10)
    return 0


def register(commands: Any) -> None:
    serve = commands.top.add_parser("serve", help="run the whole suite in one process")
    serve.add_argument("--host", help="bind address (default 127.0.0.1, or [suite] host)")
    serve.add_argument("--port", type=int, help="port (default 7860, or [suite] port)")
    serve.add_argument("--apps", help="comma-separated: support,sentiment,recommender (default all)")
    serve.add_argument("--demo", action="store_true", help="the demo: shipped data, default adapters (the default)")
    serve.set_defaults(func=_serve)
