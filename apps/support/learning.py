"""Labels for the intent adapter from the support desk: resolved hand-overs and reviewed answers.

- An agent resolving a hand-over picks the intent the customer really had (or ``out_of_scope``):
  the ticket's question is labelled and the ticket closed (``resolve_ticket``).
- Answers the customer gave a thumbs down wait in a review queue (``review_queue``), least
  certain first (smallest intent margin), so each review teaches the model most; a reviewer
  picks the right intent (``review``).
- ``lorasuite support relabel --input CSV`` (``text,intent``) records a file the same way.

Labels go to ``shared.labels`` under (support, intent). ``out_of_scope`` is stored (it tells which
questions the bot should hand over) but is not a class of the intent adapter, so retraining the
classifier skips it. This module only reads the support tables.
"""

from __future__ import annotations

from typing import Any

from apps.learning import Learner, record_labels
from shared import labels as label_store

APP, TASK = "support", "intent"
OUT_OF_SCOPE = "out_of_scope"


def learner(ctx: Any) -> Learner:
    """The support app's learning loop: ``[support] intent_adapter``, labels ``text,intent``."""
    return Learner(APP, TASK, adapter=lambda c: c.settings(APP).intent_adapter, label_col="intent",
                   extra_labels=(OUT_OF_SCOPE,), live_texts=live_texts)


def live_texts(ctx: Any, since: str) -> list[str]:
    """The customer questions the intent adapter read since ``since`` (ISO time)."""
    from apps.support.store import SupportStore

    rows = SupportStore(ctx.db).db.query(
        "SELECT text FROM support_messages WHERE role = 'user' AND created >= :s AND reason NOT IN "
        "('empty', 'smalltalk') ORDER BY id DESC LIMIT 5000", {"s": since})
    return [r["text"] for r in rows]


def ticket_question(store: Any, ticket_id: int) -> str:
    """The customer's question a ticket is about: the last customer message before it opened, else its summary."""
    ticket = store.ticket(int(ticket_id))
    rows = store.db.query("SELECT text FROM support_messages WHERE conversation_id = :c AND role = 'user' AND "
                          "created <= :t AND reason NOT IN ('empty', 'smalltalk', 'human') ORDER BY id DESC LIMIT 1",
                          {"c": ticket["conversation_id"], "t": ticket["created"]})
    return (rows[0]["text"] if rows else "") or ticket["summary"]


def resolve_ticket(ctx: Any, store: Any, ticket_id: int, intent: str, who: str) -> dict[str, Any]:
    """Label the ticket's question with ``intent`` (or out_of_scope) and close the ticket."""
    from shared.errors import LorasuiteError

    text = ticket_question(store, ticket_id)
    if not text.strip():
        raise LorasuiteError(f"ticket #{ticket_id} has no customer question to label")
    result = record_labels(ctx, APP, [(text, intent)], source="inbox", who=who)
    store.close_ticket(int(ticket_id))
    return dict(result, ticket=int(ticket_id), text=text, intent=intent)


def review_queue(ctx: Any, store: Any, limit: int = 50) -> list[dict[str, Any]]:
    """Customer questions whose answer got a thumbs down and that nobody labelled yet, least certain first."""
    rows = store.db.query(
        "SELECT u.id, u.created, u.text, u.intent, u.confidence, u.margin FROM support_feedback f "
        "JOIN support_messages b ON b.id = f.message_id JOIN support_messages u ON u.conversation_id = "
        "b.conversation_id AND u.role = 'user' AND u.id = (SELECT MAX(id) FROM support_messages x WHERE "
        "x.conversation_id = b.conversation_id AND x.role = 'user' AND x.id < b.id) WHERE f.rating = -1 "
        "ORDER BY u.id DESC LIMIT 1000")
    done = label_store.known(ctx.db, APP, TASK, [r["text"] for r in rows])
    rows = [r for r in rows if r["text"] not in done]
    rows.sort(key=lambda r: (r["margin"] if r["margin"] is not None else 1.0, -r["id"]))
    return rows[:limit]


def review(ctx: Any, text: str, intent: str, who: str) -> dict[str, int]:
    """A reviewer's intent for a customer question (from the review queue)."""
    return record_labels(ctx, APP, [(text, intent)], source="review", who=who)
