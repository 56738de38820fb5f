"""The bot's replies: the ``Reply`` record and its words (article answers, passage digests, hand-overs).

Replies are plain text with light Markdown (the UI escapes customer text separately; nothing
from the customer is ever echoed here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.support.kb import Chunk
from apps.support.search import Hit


@dataclass
class Reply:
    """What the bot made of one message (and, once stored, where it lives)."""

    text: str
    answer: str = ""
    intent: str | None = None
    confidence: float | None = None
    margin: float | None = None
    sources: list[dict[str, str]] = field(default_factory=list)
    escalate: bool = False
    reason: str = ""
    notices: list[str] = field(default_factory=list)
    slots: list[dict[str, Any]] | None = None  # None: not tagged (no tagger, or left for a hand-over)
    conversation_id: str | None = None  # the customer's token
    conversation_row: int | None = field(default=None, repr=False)  # the internal id
    message_id: int | None = None
    ticket_id: int | None = None
    grounding: list = field(default_factory=list, repr=False)  # the passages a generator may use

    def to_json(self) -> dict[str, Any]:
        """The batch-CLI contract: exactly these six keys."""
        return {"text": self.text, "intent": self.intent,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "answer": self.answer, "sources": self.sources, "escalate": self.escalate}


PASSAGE_CHARS = 420
EMPTY = "I didn't catch a question there. Tell me what you need help with, for example \"I lost my card\"."
HANDOVER = {
    "human": "Of course: I'm handing you over to a colleague.",
    "out_of_scope": ("That's outside what I can help with here (I answer questions about your Northwind "
                     "account, cards, payments and transfers), so I'm handing you over to a colleague."),
    "low_confidence": "I'm not sure I've understood that correctly, so I'm handing you over to a colleague.",
    "language": ("I can only answer in English for now, so I'm handing you over to a colleague "
                 "who can help."),
    "no_index": ("I can't look anything up in our help centre right now, so I'm handing you over to a "
                 "colleague."),
    "error": "Something went wrong on my side, so I'm handing you over to a colleague.",
}
SMALLTALK = {
    "greeting": "Hello! What can I help you with today? You can ask about cards, payments, transfers or your account.",
    "thanks": "You're welcome! Is there anything else I can help with?",
    "goodbye": "Thanks for chatting with Northwind Bank. Goodbye!",
}
WAITING = "Thanks, I've added this to your ticket #{ticket}. A colleague will reply here."
NO_MODEL_NOTICE = "The intent model is unavailable ({why}); answering from help-centre search only."


def source(chunk: Chunk) -> dict[str, str]:
    """How a passage is cited in replies and in the batch output."""
    from apps.support.helpcentre import public_url

    return {"title": chunk.title, "section": chunk.section, "url": public_url(chunk)}


def _section(chunks: list[Chunk], anchor: str) -> list[Chunk]:
    return [c for c in chunks if c.anchor == anchor or c.anchor.startswith(anchor + "-")]


def article_answer(article: list[Chunk]) -> tuple[str, list[Chunk]]:
    """The article's direct answer plus its steps (or its first section when it has neither)."""
    answer, steps = _section(article, "answer"), _section(article, "steps")
    used = (answer + steps) or article[:1]
    parts = [c.text for c in answer] or [used[0].text]
    if steps:
        parts.append("**Steps**\n" + "\n".join(c.text for c in steps))
    return "\n\n".join(parts), used


def followup_answer(best: Chunk) -> str:
    """A follow-up is answered by the one section of the topic's article that fits it."""
    return f"About **{best.title}** ({best.section.lower()}):\n\n{best.text}"


def trim(text: str, limit: int = PASSAGE_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def passages_answer(hits: list[Hit], count: int = 2) -> tuple[str, list[Chunk]]:
    """A digest of the best passages (used when the intent is not certain enough)."""
    chosen = [h.chunk for h in hits[:count]]
    body = "\n\n".join(f"**{c.label}**: {trim(c.text)}" for c in chosen)
    return f"Here is what I found in our help centre:\n\n{body}", chosen


OFFERED = ("out_of_scope", "low_confidence")  # hand-overs offered, not opened: the customer says "agent"
OFFER = {
    "out_of_scope": ("That's outside what I can help with here (I answer questions about your Northwind account, "
                     "cards, payments and transfers). If you'd like a colleague to look at it, type *agent*."),
    "low_confidence": ("I'm not sure I've understood that correctly. Could you rephrase it? Or type *agent* and "
                       "I'll hand you over to a colleague."),
}


def handover(reason: str, ticket: int | None = None) -> str:
    """The reply to a hand-over: an offer (no ticket) or the hand-over itself (with the ticket number)."""
    if ticket is None and reason in OFFER:
        return OFFER[reason]
    text = HANDOVER.get(reason, HANDOVER["low_confidence"])
    if ticket is not None:
        text += f" Your ticket number is #{ticket}; they will reply in this conversation."
    return text


def with_notices(answer: str, notices: list[str]) -> str:
    """Notices (truncation, missing model) go above the answer in italics."""
    return "\n\n".join([f"_{n}_" for n in notices] + [answer]) if notices else answer
