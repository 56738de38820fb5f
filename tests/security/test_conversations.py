"""Customers' conversations as an attacker sees them: ids that cannot be guessed or forged, a rate
limit per client, and no ticket flood from off-topic messages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apps.launcher import create_app

HOST = "http://127.0.0.1"


@pytest.fixture
def api(make_ctx, minilm, request):
    limit = getattr(request, "param", 100)
    ctx = make_ctx(support={"rate_limit_per_minute": limit, "slots": "off"})
    with TestClient(create_app(ctx, ["support"], mount_ui=False), base_url=HOST) as client:
        yield client


def test_conversation_ids_are_unguessable_and_forged_ones_get_404(api):
    first = api.post("/api/support/ask", json={"text": "I lost my card"}).json()
    token = first["conversation_id"]
    assert isinstance(token, str) and len(token) >= 22 and not token.isdigit()  # >= 128 bits, URL-safe
    for forged in ("1", 1, token[:-1] + ("A" if token[-1] != "A" else "B"), "../../etc", {"$ne": None}, "x" * 5000):
        answer = api.post("/api/support/ask", json={"text": "hello", "conversation_id": forged})
        assert answer.status_code == 404 and answer.json() == {"error": "no such conversation"}
    same = api.post("/api/support/ask", json={"text": "how long does that take?", "conversation_id": token})
    assert same.status_code == 200 and same.json()["conversation_id"] == token


@pytest.mark.parametrize("api", [6], indirect=True)
def test_rate_limit_per_client_and_bad_bodies(api):
    for body in ([], "text", {"text": 5}, {"text": ["a"]}):
        assert api.post("/api/support/ask", json=body).status_code == 422  # not 500
    codes = [api.post("/api/support/ask", json={"text": f"question {i}"}).status_code for i in range(8)]
    assert codes[:6] == [200] * 6 and codes[6:] == [429, 429]
    limited = api.post("/api/support/ask", json={"text": "again"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_off_topic_messages_do_not_flood_the_inbox(api, make_ctx):
    from apps.support.store import SupportStore

    tokens = [api.post("/api/support/ask", json={"text": "what's the weather in Madrid tomorrow?"}).json()
              for _ in range(3)]
    assert all(t["escalate"] and "*agent*" in t["answer"] for t in tokens)
    store = SupportStore(make_ctx().db)
    assert store.tickets("open") == []  # offered, not opened
    api.post("/api/support/ask", json={"text": "agent", "conversation_id": tokens[0]["conversation_id"]})
    api.post("/api/support/ask", json={"text": "agent!!", "conversation_id": tokens[0]["conversation_id"]})
    assert len(store.tickets("open")) == 1  # at most one open ticket per conversation
