"""``POST /api/support/ask``: the customer channel for integrations (no login, like the chat page).

    {"text": "I lost my card", "conversation_id"?: "..."}  ->  the reply as JSON (+ conversation_id)
"""

from __future__ import annotations

from typing import Any


def add_routes(app: Any, ctx: Any) -> None:
    from fastapi import Body
    from starlette.concurrency import run_in_threadpool

    from apps.support.app import bot

    @app.post("/api/support/ask")
    async def ask(payload: dict = Body(...)) -> dict:  # noqa: B008 - FastAPI's idiom
        conversation = payload.get("conversation_id")
        conversation = int(conversation) if str(conversation or "").isdigit() else None
        reply = await run_in_threadpool(bot(ctx).ask, payload.get("text", ""), conversation, "api")
        return dict(reply.to_json(), conversation_id=reply.conversation_id)
