"""Support persistence through shared.storage: conversations, messages, feedback, tickets.

Every customer message is stored with what the bot made of it (intent, confidence, margin,
slots as JSON) and every bot reply with its sources (JSON) and whether it handed over. A
hand-over opens one ticket per conversation (reused while open); agent replies are messages
of role ``agent`` in the customer's conversation. All SQL is portable (SQLite / PostgreSQL).

    store = SupportStore()                 # migrates on first use
    cid = store.new_conversation("web")
    store.add_message(cid, "user", "I lost my card", intent="lost_or_stolen_card", confidence=0.97)
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timezone
from typing import Any

from shared.errors import LorasuiteError
from shared.storage import Database, shared_database

MIGRATIONS = [
    """
    CREATE TABLE IF NOT EXISTS support_conversations (
        id {pk}, channel TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'bot');
    CREATE TABLE IF NOT EXISTS support_messages (
        id {pk}, conversation_id INTEGER NOT NULL REFERENCES support_conversations(id),
        created TEXT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL,
        intent TEXT, confidence DOUBLE PRECISION, margin DOUBLE PRECISION,
        sources TEXT NOT NULL DEFAULT '[]', slots TEXT NOT NULL DEFAULT '[]',
        escalate INTEGER NOT NULL DEFAULT 0, reason TEXT, notice TEXT);
    CREATE INDEX IF NOT EXISTS support_messages_conv ON support_messages (conversation_id, id);
    CREATE TABLE IF NOT EXISTS support_feedback (
        id {pk}, message_id INTEGER NOT NULL UNIQUE REFERENCES support_messages(id),
        created TEXT NOT NULL, rating INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS support_tickets (
        id {pk}, conversation_id INTEGER NOT NULL REFERENCES support_conversations(id),
        created TEXT NOT NULL, closed TEXT, status TEXT NOT NULL DEFAULT 'open',
        reason TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '');
    CREATE INDEX IF NOT EXISTS support_tickets_status ON support_tickets (status, id)
    """,
    # slots may be extracted at hand-over time: 0 = not tagged yet (slots '[]' then means "unknown")
    "ALTER TABLE support_messages ADD COLUMN slots_tagged INTEGER NOT NULL DEFAULT 0",
    # what a customer holds: an unguessable token (the row id stays internal)
    """ALTER TABLE support_conversations ADD COLUMN token TEXT;
    CREATE UNIQUE INDEX IF NOT EXISTS support_conversations_token ON support_conversations (token)""",
]
ROLES = ("user", "bot", "agent", "system")


TOKEN_BYTES = 24  # 192 bits, URL-safe base64
TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")


class ConversationNotFound(LorasuiteError):
    """A conversation token that names no conversation."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SupportStore:
    """The support tables, migrated on construction."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db or shared_database()
        self.db.migrate("support", MIGRATIONS)

    # --- conversations and messages ---------------------------------------------------------------
    def new_conversation(self, channel: str = "web") -> int:
        """A new conversation's internal id (its customer-facing token: ``token_of``)."""
        stamp = now()
        rows = self.db.execute("INSERT INTO support_conversations (channel, created, updated, token) "
                               "VALUES (:c, :t, :t, :k) RETURNING id",
                               {"c": channel, "t": stamp, "k": secrets.token_urlsafe(TOKEN_BYTES)})
        return int(rows[0][0])

    def token_of(self, conversation_id: int) -> str:
        return str(self.conversation(conversation_id)["token"])

    def by_token(self, token: object) -> int:
        """The internal id of the conversation a customer's token names; ConversationNotFound otherwise
        (an unknown, malformed or guessed token: nobody writes into someone else's chat)."""
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            raise ConversationNotFound("no such conversation")
        found = self.db.scalar("SELECT id FROM support_conversations WHERE token = :k", {"k": token})
        if found is None:
            raise ConversationNotFound("no such conversation")
        return int(found)

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        rows = self.db.query("SELECT * FROM support_conversations WHERE id = :i", {"i": conversation_id})
        if not rows:
            raise LorasuiteError(f"no support conversation #{conversation_id}")
        return rows[0]

    def add_message(self, conversation_id: int, role: str, text: str, *, tx=None, **fields: Any) -> int:
        """Store one message (fields: intent, confidence, margin, sources, slots, escalate, reason, notice)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        params = {"c": conversation_id, "t": now(), "r": role, "x": text,
                  "intent": fields.get("intent"), "conf": fields.get("confidence"), "margin": fields.get("margin"),
                  "sources": json.dumps(fields.get("sources") or [], ensure_ascii=False),
                  "slots": json.dumps(fields.get("slots") or [], ensure_ascii=False),
                  "tagged": int(fields.get("slots") is not None),
                  "esc": int(bool(fields.get("escalate"))), "reason": fields.get("reason"),
                  "notice": fields.get("notice")}
        sql = ("INSERT INTO support_messages (conversation_id, created, role, text, intent, confidence, margin, "
               "sources, slots, slots_tagged, escalate, reason, notice) VALUES (:c, :t, :r, :x, :intent, :conf, "
               ":margin, :sources, :slots, :tagged, :esc, :reason, :notice) RETURNING id")
        if tx is not None:
            return self._insert(tx, sql, params)
        with self.db.transaction() as own:
            return self._insert(own, sql, params)

    @staticmethod
    def _insert(tx, sql: str, params: dict) -> int:
        message_id = int(tx.execute(sql, params).scalar())
        tx.execute("UPDATE support_conversations SET updated = :t WHERE id = :c", params)
        return message_id

    def untagged(self, conversation_id: int) -> list[dict[str, Any]]:
        """Customer messages of a conversation whose slots were not extracted yet."""
        return self.db.query("SELECT id, text FROM support_messages WHERE conversation_id = :c AND role = 'user' "
                             "AND slots_tagged = 0 AND reason NOT IN ('empty', 'smalltalk') ORDER BY id",
                             {"c": conversation_id})

    @staticmethod
    def set_slots(tx, message_id: int, slots: list[dict[str, Any]]) -> None:
        tx.execute("UPDATE support_messages SET slots = :s, slots_tagged = 1 WHERE id = :i",
                   {"s": json.dumps(slots, ensure_ascii=False), "i": message_id})

    def update_text(self, message_id: int, text: str) -> None:
        """Replace a bot message's text (a streamed generator answer, once complete)."""
        self.db.execute("UPDATE support_messages SET text = :x WHERE id = :i AND role = 'bot'",
                        {"x": text, "i": message_id})

    def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM support_messages WHERE conversation_id = :c ORDER BY id",
                             {"c": conversation_id})
        for row in rows:
            row["sources"], row["slots"] = json.loads(row["sources"]), json.loads(row["slots"])
        return rows

    def previous_turn(self, conversation_id: int) -> dict[str, Any] | None:
        """What a follow-up refers to: the topic-setting question, its intent, and what was cited since.

        A chain of follow-ups keeps pointing at the question that set the topic, so "and how
        much is it?" after "how long does that take?" still reads the original question.
        """
        rows = self.db.query("SELECT id, role, text, intent, reason, sources FROM support_messages "
                             "WHERE conversation_id = :c ORDER BY id DESC LIMIT 12", {"c": conversation_id})
        users = [r for r in rows if r["role"] == "user" and r["reason"] not in ("empty", "smalltalk")]
        if not users or users[0]["reason"] in ("human", "language"):
            return None
        topic = next((r for r in users if r["reason"] != "followup"), users[-1])
        cited = [s.get("url") for r in rows if r["role"] == "bot" and r["id"] > topic["id"]
                 for s in json.loads(r["sources"])]
        return {"text": topic["text"], "intent": users[0]["intent"], "cited": cited}

    # --- tickets --------------------------------------------------------------------------------
    def open_ticket(self, tx, conversation_id: int, reason: str, summary: str) -> int:
        """The conversation's open ticket, or a new one (inside the caller's transaction)."""
        existing = tx.scalar("SELECT id FROM support_tickets WHERE conversation_id = :c AND status = 'open' "
                             "ORDER BY id LIMIT 1", {"c": conversation_id})
        if existing is not None:
            return int(existing)
        ticket = tx.execute("INSERT INTO support_tickets (conversation_id, created, reason, summary) "
                            "VALUES (:c, :t, :r, :s) RETURNING id",
                            {"c": conversation_id, "t": now(), "r": reason, "s": summary[:300]}).scalar()
        tx.execute("UPDATE support_conversations SET status = 'handed_over' WHERE id = :c", {"c": conversation_id})
        return int(ticket)

    def tickets(self, status: str = "open") -> list[dict[str, Any]]:
        return self.db.query("SELECT t.*, c.channel FROM support_tickets t JOIN support_conversations c "
                             "ON c.id = t.conversation_id WHERE t.status = :s ORDER BY t.id DESC", {"s": status})

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        rows = self.db.query("SELECT * FROM support_tickets WHERE id = :i", {"i": ticket_id})
        if not rows:
            raise LorasuiteError(f"no ticket #{ticket_id}")
        return rows[0]

    def agent_reply(self, ticket_id: int, text: str) -> int:
        """Post an agent's reply into the ticket's conversation."""
        text = (text or "").strip()
        if not text:
            raise LorasuiteError("the reply is empty: type a message for the customer")
        return self.add_message(self.ticket(ticket_id)["conversation_id"], "agent", text)

    def close_ticket(self, ticket_id: int) -> None:
        ticket = self.ticket(ticket_id)
        with self.db.transaction() as tx:
            tx.execute("UPDATE support_tickets SET status = 'closed', closed = :t WHERE id = :i",
                       {"t": now(), "i": ticket_id})
            tx.execute("UPDATE support_conversations SET status = 'closed' WHERE id = :c",
                       {"c": ticket["conversation_id"]})

    # --- feedback -------------------------------------------------------------------------------
    def feedback(self, message_id: int, rating: int) -> None:
        """Thumbs up (+1) or down (-1) on a bot message; a second vote replaces the first."""
        if rating not in (1, -1):
            raise ValueError(f"rating must be 1 or -1, got {rating}")
        rows = self.db.query("SELECT role FROM support_messages WHERE id = :i", {"i": message_id})
        if not rows:
            raise LorasuiteError(f"no message #{message_id} to rate")
        self.db.execute("INSERT INTO support_feedback (message_id, created, rating) VALUES (:m, :t, :r) "
                        "ON CONFLICT (message_id) DO UPDATE SET rating = excluded.rating, created = excluded.created",
                        {"m": message_id, "t": now(), "r": rating})
