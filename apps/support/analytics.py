"""Support analytics from the store: containment, hand-overs, feedback, top intents, unanswered.

Containment rate = conversations with at least one customer question that were never handed
over / all such conversations. "Unanswered" = customer questions the bot handed over for
anything but an explicit request for a person, plus those whose answer got a thumbs down.

    numbers = summary(SupportStore())
"""

from __future__ import annotations

from typing import Any

from apps.support.store import SupportStore

NOT_ANSWERED = ("out_of_scope", "low_confidence", "language", "no_index", "error")


def summary(store: SupportStore, top: int = 10, recent: int = 20) -> dict[str, Any]:
    """Every figure the analytics tab shows."""
    db = store.db
    asked = db.scalar("SELECT COUNT(DISTINCT conversation_id) FROM support_messages WHERE role = 'user' "
                      "AND reason NOT IN ('empty', 'smalltalk')") or 0
    # handed over = the bot gave it to a person or offered to (out of scope, unsure): not contained
    handed = db.scalar("SELECT COUNT(DISTINCT conversation_id) FROM support_messages WHERE role = 'bot' "
                       "AND escalate = 1") or 0
    reasons = db.query("SELECT reason, COUNT(DISTINCT conversation_id) AS n FROM support_messages WHERE role = 'bot' "
                       "AND escalate = 1 AND reason <> 'waiting_for_agent' GROUP BY reason ORDER BY n DESC, reason")
    votes = {r["rating"]: r["n"] for r in db.query("SELECT rating, COUNT(*) AS n FROM support_feedback "
                                                   "GROUP BY rating")}
    intents = db.query("SELECT intent, COUNT(*) AS n FROM support_messages WHERE role = 'user' AND intent IS "
                       "NOT NULL GROUP BY intent ORDER BY n DESC, intent LIMIT :k", {"k": top})
    marks = ", ".join(f"'{r}'" for r in NOT_ANSWERED)
    unanswered = db.query(
        "SELECT u.id, u.created, u.text, u.intent, u.confidence, u.reason FROM support_messages u "
        f"WHERE u.role = 'user' AND (u.reason IN ({marks}) OR EXISTS (SELECT 1 FROM support_feedback f "
        "JOIN support_messages b ON b.id = f.message_id WHERE f.rating = -1 AND b.conversation_id = "
        "u.conversation_id AND b.id = (SELECT MIN(id) FROM support_messages x WHERE x.conversation_id = "
        "u.conversation_id AND x.id > u.id AND x.role = 'bot'))) ORDER BY u.id DESC LIMIT :k", {"k": recent})
    open_tickets = db.scalar("SELECT COUNT(*) FROM support_tickets WHERE status = 'open'") or 0
    return {"conversations": int(asked), "handed_over": int(handed),
            "containment": (1 - handed / asked) if asked else None, "open_tickets": int(open_tickets),
            "handover_reasons": reasons, "thumbs_up": int(votes.get(1, 0)), "thumbs_down": int(votes.get(-1, 0)),
            "top_intents": intents, "unanswered": unanswered}


def timeline(store: SupportStore, days: int = 30) -> list[dict[str, Any]]:
    """Per day (newest ``days``): conversations, hand-overs (offered or opened) and containment."""
    rows = store.db.query(
        "SELECT substr(m.created, 1, 10) AS day, COUNT(DISTINCT m.conversation_id) AS conversations, "
        "COUNT(DISTINCT CASE WHEN b.escalate = 1 THEN m.conversation_id END) AS handed_over "
        "FROM support_messages m LEFT JOIN support_messages b ON b.conversation_id = m.conversation_id "
        "AND b.role = 'bot' WHERE m.role = 'user' AND m.reason NOT IN ('empty', 'smalltalk') "
        "GROUP BY substr(m.created, 1, 10) ORDER BY day DESC LIMIT :d", {"d": days})
    out = []
    for row in reversed(rows):
        n, handed = int(row["conversations"]), int(row["handed_over"])
        out.append({"day": row["day"], "conversations": n, "handed_over": handed,
                    "containment": round(1 - handed / n, 4) if n else None})
    return out


def tickets_rows(store: SupportStore) -> list[list[Any]]:
    """Every ticket, newest first: id, status, reason, opened, closed, summary."""
    return [[t["id"], t["status"], t["reason"], t["created"], t["closed"] or "", t["summary"]]
            for t in store.db.query("SELECT * FROM support_tickets ORDER BY id DESC")]
