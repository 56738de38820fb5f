"""The suite's own routes: ``/`` (landing page), ``/healthz``, ``/metrics``, and redirects from app
aliases (``/recommend/`` -> ``/recommender/``). Imported by ``launcher.create_app`` only, so the
CLI never pays for FastAPI.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse

from apps import auth, suite_metrics


def core_routes(app: Any, state: Any, ctx: Any, guard: Any) -> None:
    from apps.launcher import health, landing_page

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return landing_page(state, ctx)

    @app.get("/healthz")
    def healthz(request: Request) -> JSONResponse:
        body = health(state, ctx, details=guard.basic_ok(request))
        return JSONResponse(body, status_code=200 if body["ok"] else 503)

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics(request: Request) -> PlainTextResponse:
        token = ctx.config.suite.metrics_token.get_secret_value()
        if token and not auth.same_secret(request.headers.get("authorization", ""), f"Bearer {token}"):
            return PlainTextResponse("metrics need Authorization: Bearer <[suite] metrics_token>", status_code=401)
        text, content_type = suite_metrics.render(ctx, state.apps)
        return PlainTextResponse(text, media_type=content_type)

    for name in state.apps:
        for alias in ctx.spec(name).aliases:
            app.add_api_route(f"/{alias}", _redirect(f"/{name}/", RedirectResponse), include_in_schema=False)
            app.add_api_route(f"/{alias}/", _redirect(f"/{name}/", RedirectResponse), include_in_schema=False)


def _redirect(target: str, response_class: Any):
    def go() -> Any:
        return response_class(target, status_code=308)
    return go
