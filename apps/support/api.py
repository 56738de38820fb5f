"""``POST /api/support/ask``: the customer channel for integrations (no login, like the chat page);
``GET /support/help/<page>``: the help-centre article a source links to (``helpcentre.py``).

    {"text": "I lost my card", "conversation_id"?: "<token>"}  ->  the reply as JSON + "conversation_id"

Imported only by the support spec's ``routes`` hook (FastAPI is not imported by the CLI). A
conversation is named by the unguessable token the first reply returned; an unknown or
malformed one answers 404 (nobody posts into another customer's chat). Each client address may
send ``[support] rate_limit_per_minute`` messages a minute (429 with ``Retry-After`` beyond).
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

MAX_TEXT = 20_000  # characters; the bot itself truncates long messages further


def add_routes(app: Any, ctx: Any) -> None:
    from apps.support.app import bot
    from apps.support.bot import RateLimited
    from apps.support.store import ConversationNotFound

    @app.get("/support/help/{page}", response_class=HTMLResponse)
    def help_page(page: str) -> HTMLResponse:
        from apps.support.helpcentre import render

        index, _ = bot(ctx).index()
        html = render(index, page) if index is not None else None
        return HTMLResponse(html or "<!doctype html><p>No such help page.</p>", status_code=200 if html else 404)

    @app.post("/api/support/ask")
    async def ask(request: Request, payload: Any = Body(...)) -> Any:  # noqa: B008 - FastAPI's idiom
        text, conversation = _fields(payload)
        if text is None:
            return JSONResponse({"error": 'send {"text": "...", "conversation_id"?: "..."}'}, status_code=422)
        support = bot(ctx)
        address = request.client.host if request.client else "unknown"
        try:
            support.check_rate(address)
            reply = await run_in_threadpool(support.ask, text, conversation, "api")
        except RateLimited as err:
            wait = int(support.limiter.retry_after(address)) + 1
            return JSONResponse({"error": str(err)}, status_code=429, headers={"Retry-After": str(wait)})
        except ConversationNotFound:
            return JSONResponse({"error": "no such conversation"}, status_code=404)
        return dict(reply.to_json(), conversation_id=reply.conversation_id)


def _fields(payload: Any) -> tuple[str | None, str | None]:
    """(text, conversation token) from the JSON body, or (None, None) when it is not that shape."""
    if not isinstance(payload, dict) or not isinstance(payload.get("text", ""), str):
        return None, None
    conversation = payload.get("conversation_id")
    if conversation is not None and not isinstance(conversation, str):
        conversation = "invalid"  # a number or an object is no token: 404 below
    return str(payload.get("text", ""))[:MAX_TEXT], conversation
