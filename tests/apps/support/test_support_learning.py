"""Support labels: a resolved hand-over labels its question, thumbs-down answers wait in a review queue."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from apps.support import learning, learning_ui
from apps.support.store import SupportStore
from shared import labels
from shared.errors import LorasuiteError


def _turn(store: SupportStore, question: str, margin: float, down: bool = False, handover: bool = False) -> int:
    cid = store.new_conversation("web")
    store.add_message(cid, "user", question, intent="card_arrival", confidence=0.5, margin=margin, reason="answered")
    bot_id = store.add_message(cid, "bot", "an answer", escalate=handover)
    if down:
        store.feedback(bot_id, -1)
    if handover:
        with store.db.transaction() as tx:
            return store.open_ticket(tx, cid, "low_confidence", question)
    return cid


def test_resolving_a_ticket_labels_its_question_and_closes_it(ctx):
    store = SupportStore(ctx.db)
    ticket = _turn(store, "my card never came", 0.1, handover=True)
    done = learning.resolve_ticket(ctx, store, ticket, "card_arrival", who="agent7")
    assert done["text"] == "my card never came" and store.ticket(ticket)["status"] == "closed"
    (row,) = labels.labels(ctx.db, "support", "intent")
    assert (row.text, row.label, row.who, row.source) == ("my card never came", "card_arrival", "agent7", "inbox")
    other = _turn(store, "what's the weather", 0.1, handover=True)
    learning.resolve_ticket(ctx, store, other, learning.OUT_OF_SCOPE, who="agent7")
    with pytest.raises(LorasuiteError, match="not one of"):
        learning.resolve_ticket(ctx, store, _turn(store, "x y z", 0.1, handover=True), "no_such_intent", who="a")


def test_review_queue_is_thumbs_down_unlabelled_least_certain_first(ctx):
    store = SupportStore(ctx.db)
    _turn(store, "sure but wrong", 0.9, down=True)
    _turn(store, "very unsure", 0.05, down=True)
    _turn(store, "liked answer", 0.01)
    _turn(store, "middling", 0.4, down=True)
    assert [r["text"] for r in learning.review_queue(ctx, store)] == ["very unsure", "middling", "sure but wrong"]
    learning.review(ctx, "very unsure", "card_arrival", who="rev")
    assert [r["text"] for r in learning.review_queue(ctx, store)] == ["middling", "sure but wrong"]


def test_admin_handlers_need_a_login_and_refresh(ctx):
    from apps.support.app import bot as bot_of

    bot = bot_of(ctx)
    _turn(bot.store, "hm?", 0.2, down=True)
    with pytest.raises(LorasuiteError, match="log in"):
        learning_ui.save_review(ctx, bot, "hm?", "card_arrival", request=None)
    frame = learning_ui.save_review(ctx, bot, "hm?", "card_arrival", request=SimpleNamespace(username="ana"))
    assert list(frame.columns) == learning_ui.REVIEW_COLS and len(frame) == 0
    assert "out_of_scope" in learning_ui.intent_choices(ctx) and "card_arrival" in learning_ui.intent_choices(ctx)
