"""The support bot: one customer message in, one reply out (stored, with a ticket on hand-over).

Per message: clean it (``inputs``), detect a request for a person, classify the intent with
the LoRA adapter ``[support] intent_adapter`` refers to (calibrated confidence and margin),
decide whether it follows up on the previous turn, retrieve passages (hybrid search, with the
earlier question folded in for follow-ups), then answer from the intent's article, from the
one article section that fits a follow-up, or from a digest of passages, or hand over
(``policy.decide``). A missing/damaged adapter or index gives a notice and the bot answers
from what is left; no exception ever reaches the caller of ``ask``.

    bot = SupportBot(ctx)                         # ctx: apps.context.AppContext
    reply = bot.ask("I lost my card")             # new conversation
    bot.ask("how much does that cost?", reply.conversation_id)   # the conversation's token
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from apps.support import answers
from apps.support.answers import Reply
from apps.support.batching import MicroBatcher
from apps.support.inputs import (
    asks_for_human,
    clean,
    is_followup,
    looks_empty,
    mostly_unsupported_script,
    smalltalk,
)
from apps.support.policy import Thresholds, confident, decide, load_thresholds
from apps.support.search import HybridIndex, stamp
from apps.support.slots import SlotTagger
from apps.support.store import SupportStore
from shared.errors import LorasuiteError
from shared.registry import parse_ref

log = logging.getLogger(__name__)


class RateLimited(LorasuiteError):
    """A client sent more messages than ``[support] rate_limit_per_minute`` allows."""


FOLLOWUP_KEEP = 0.2  # a cue-word follow-up keeps the earlier topic while it has this probability in context


class SupportBot:
    """Answers customer messages with the context's backbone, the help-centre index and the store."""

    def __init__(self, ctx, adapter: str | None = None, store: SupportStore | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings("support")
        self.adapter = _canonical(adapter or self.settings.intent_adapter)
        self.thresholds: Thresholds = load_thresholds(self.settings, _adapter_name(self.adapter))
        self._store = store
        self._lock = threading.Lock()
        self._index: HybridIndex | None = None
        self._index_stamp, self._index_error = -1.0, None
        self._batchers: dict[str, MicroBatcher] = {}
        self.slots = SlotTagger(self.settings, lambda: self.backbone, self._batched)
        from apps.support.generator import Generator

        self.generator = Generator(self.settings)

    # --- resources (loaded on first use; failures become notices) ---------------------------------
    @property
    def store(self) -> SupportStore:
        if self._store is None:
            self._store = SupportStore(self.ctx.db)
        return self._store

    @property
    def backbone(self):
        return self.ctx.backbone

    def intent_key(self) -> tuple[str | None, str | None]:
        """The intent adapter's reference once it loads (the backbone follows its champion), or
        (None, why not)."""
        try:
            return self.backbone.use(self.adapter), None
        except LorasuiteError as err:
            log.warning("support intent adapter unavailable: %s", err)
            return None, str(err)

    def index(self) -> tuple[HybridIndex | None, str | None]:
        """The help-centre index (reloaded when a re-ingest rewrote it), or (None, why not)."""
        with self._lock:
            current = stamp()
            if current != self._index_stamp:
                try:
                    self._index, self._index_error = HybridIndex.load(), None
                    self._index.prepare()  # BM25 now, not on some customer's first question
                except LorasuiteError as err:
                    self._index, self._index_error = None, str(err)
                    log.warning("support index unavailable: %s", err)
                self._index_stamp = current
            return self._index, self._index_error

    @property
    def limiter(self):
        """Messages per client address per minute (``[support] rate_limit_per_minute``), one per context."""
        from shared.ratelimit import RateLimiter

        return self.ctx.service("support.ratelimit", lambda: RateLimiter(self.settings.rate_limit_per_minute))

    def check_rate(self, address: str) -> None:
        """RateLimited when ``address`` has sent too many messages this minute."""
        if not self.limiter.allow(address):
            raise RateLimited(f"too many messages; try again in {int(self.limiter.retry_after(address)) + 1} s")

    def slots_key(self) -> str | None:
        """The slot tagger's reference when the core can tag and the slots adapter exists."""
        return self.slots.key()

    def _batched(self, kind: str, key: str | None = None) -> MicroBatcher:
        """One micro-batcher per backbone call, so concurrent conversations share forward passes."""
        name = f"{kind}:{key}"
        with self._lock:
            if name not in self._batchers:
                backbone = self.backbone
                fn = {"classify": lambda texts: backbone.classify(texts, key),
                      "tag": lambda texts: backbone.tag(texts, key)}.get(kind, backbone.encode)
                self._batchers[name] = MicroBatcher(fn)
            return self._batchers[name]

    def warm(self) -> list[str]:
        """Load everything now (the launcher calls this); returns the notices, if any."""
        notes = [self.index()[1], self.intent_key()[1]]
        self.slots_key()
        return [n for n in notes if n]

    # --- answering ------------------------------------------------------------------------------
    def analyse(self, text: object, previous: dict[str, Any] | None = None) -> Reply:
        """Work out the reply to one message (nothing stored). ``previous`` = store.previous_turn.

        The intent classifier runs on every non-empty message, also when the policy hands over at
        once (a request for a person, an unsupported script), so every reply carries its intent
        and confidence."""
        cleaned, notices = clean(text)
        reply = Reply(text=cleaned, notices=notices)
        if looks_empty(cleaned):
            reply.reason, reply.answer, reply.confidence = "empty", answers.EMPTY, 0.0
            return reply
        key, why = self.intent_key()
        if why:
            reply.notices.append(answers.NO_MODEL_NOTICE.format(why=why))
        topic = f"{previous['text']} {cleaned}" if previous else None
        preds = self._batched("classify", key)([cleaned] + ([topic] if topic else [])) if key else []
        if preds:
            reply.intent, reply.confidence, reply.margin = preds[0].label, preds[0].score, preds[0].margin
        if smalltalk(cleaned):
            reply.reason, reply.answer = "smalltalk", answers.SMALLTALK[smalltalk(cleaned)]
            return reply
        reply.slots = self.slots.on_arrival(cleaned)
        if asks_for_human(cleaned):
            return self._handover(reply, "human")
        if mostly_unsupported_script(cleaned):
            return self._handover(reply, "language")
        index, why = self.index()
        if index is None:
            reply.notices.append(why)
            return self._handover(reply, "no_index")
        vector = self._batched("encode")([cleaned])[0]
        similarity = float(index.similarity(vector)[0])
        if self._is_followup(cleaned, previous, preds, similarity):
            return self._followup(reply, index, topic, vector, previous, preds)
        hits = index.search(cleaned, vector, k=5)
        mode = decide(self.thresholds, reply.confidence, reply.margin, similarity if hits else None)
        if mode == "article" and index.by_intent(reply.intent):
            text, used = answers.article_answer(index.by_intent(reply.intent))
            return self._answered(reply, "article", text, used)
        if mode in ("article", "passages"):
            text, used = answers.passages_answer(hits)
            return self._answered(reply, "passages", text, used)
        return self._handover(reply, mode)

    def _is_followup(self, text: str, previous: dict[str, Any] | None, preds: list, similarity: float) -> bool:
        """Leans on the previous turn: cue words ("that", "and ..."), or a short question that is
        unsure alone, on-topic for the help centre, and classified as the previous topic in context."""
        if not previous:
            return False
        if not preds or not previous.get("intent"):
            return is_followup(text)
        alone, together = preds[0], preds[-1]
        sure_alone = confident(self.thresholds, alone.score, alone.margin)
        if is_followup(text):  # "that"/"it"/"and ...": the earlier topic, unless it has become implausible
            return (together.label == previous["intent"] or not sure_alone
                    or together.probs.get(previous["intent"], 0.0) >= FOLLOWUP_KEEP)
        return (len(text.split()) <= 12 and not sure_alone and together.label == previous["intent"]
                and similarity >= self.thresholds.min_similarity)

    def _followup(self, reply: Reply, index: HybridIndex, topic: str, vector, previous: dict[str, Any],
                  preds: list) -> Reply:
        """Answer from the section of the topic's article that fits the follow-up best; without an
        article for the topic, from the passages the question finds together with the earlier one."""
        reply.intent = previous.get("intent")
        if preds:
            reply.confidence = preds[-1].probs.get(reply.intent, preds[-1].score)
            reply.margin = preds[-1].margin
        article = index.by_intent(reply.intent) if reply.intent else []
        if not article:
            hits = index.search(topic, self.backbone.encode([topic])[0], k=5)
            text, used = answers.passages_answer(hits)
            return self._answered(reply, "followup", text, used)
        hits = index.search(reply.text, vector, k=len(article), within={c.id for c in article})
        fresh = [h for h in hits if h.chunk.url not in set(previous.get("cited") or [])]
        best = (fresh or hits)[0].chunk
        return self._answered(reply, "followup", answers.followup_answer(best), [best])

    def _answered(self, reply: Reply, reason: str, text: str, used: list) -> Reply:
        reply.reason, reply.answer = reason, answers.with_notices(text, reply.notices)
        reply.sources, reply.grounding = [answers.source(c) for c in used], list(used)
        return reply

    def _handover(self, reply: Reply, reason: str) -> Reply:
        reply.reason, reply.escalate = reason, True
        reply.answer = answers.with_notices(answers.handover(reason), reply.notices)
        return reply

    # --- the conversation -----------------------------------------------------------------------
    def ask(self, text: object, conversation: str | None = None, channel: str = "web",
            generate: bool = True) -> Reply:
        """Answer and store one customer message; never raises for any input, except
        ``ConversationNotFound`` for a ``conversation`` token that names no conversation.

        With the generator on (and ``generate``), composed and follow-up answers are written by
        the grounded LM from the passages; the UI passes ``generate=False`` and streams instead.
        """
        store = self.store
        conversation_id = store.new_conversation(channel) if conversation is None else store.by_token(conversation)
        row = store.conversation(conversation_id)
        status = row["status"]
        try:
            reply = self.analyse(text, store.previous_turn(conversation_id) if status == "bot" else None)
            generated = self.generator.answer(reply.text, reply.grounding) if (
                generate and self.generator.applies(reply)) else ""
            if generated:
                reply.answer = answers.with_notices(generated, reply.notices)
        except Exception as err:  # noqa: BLE001 - a bug must not lose the customer's message
            log.exception("support bot failed on a message")
            reply = self._handover(Reply(text=clean(text)[0], confidence=0.0), "error")
            reply.notices.append(f"internal error: {type(err).__name__}")
        reply.conversation_id, reply.conversation_row = row["token"], conversation_id
        self._store_reply(reply, status, self.slots.for_agent(self.store, reply, status))
        return reply

    def _store_reply(self, reply: Reply, status: str, backfill: list[tuple[int, list]]) -> None:
        store, cid = self.store, reply.conversation_row
        with store.db.transaction() as tx:
            for message_id, slots in backfill:
                store.set_slots(tx, message_id, slots)
            if status == "closed":
                tx.execute("UPDATE support_conversations SET status = 'bot' WHERE id = :c", {"c": cid})
            if status == "handed_over":
                reply.ticket_id = store.open_ticket(tx, cid, "human", reply.text)
                reply.escalate, reply.reason = True, "waiting_for_agent"
                reply.answer, reply.sources = answers.WAITING.format(ticket=reply.ticket_id), []
            elif reply.escalate and reply.reason not in answers.OFFERED:  # offers open no ticket
                reply.ticket_id = store.open_ticket(tx, cid, reply.reason, reply.text)
                reply.answer = answers.with_notices(answers.handover(reply.reason, reply.ticket_id), reply.notices)
            store.add_message(cid, "user", reply.text, tx=tx, intent=reply.intent, confidence=reply.confidence,
                              margin=reply.margin, slots=reply.slots, reason=reply.reason)
            reply.message_id = store.add_message(cid, "bot", reply.answer, tx=tx, sources=reply.sources,
                                                 escalate=reply.escalate, reason=reply.reason,
                                                 notice=" ".join(reply.notices) or None)


def _canonical(ref: str) -> str:
    """``intent`` -> ``support/intent``; a reference that cannot be parsed is kept (its error is a notice)."""
    try:
        return str(parse_ref(ref, app="support"))
    except LorasuiteError:
        return ref


def _adapter_name(ref: str) -> str:
    """The name thresholds are calibrated under: ``support/intent@2`` -> ``intent``; a folder -> its name."""
    try:
        parsed = parse_ref(ref, app="support")
    except LorasuiteError:
        return Path(ref).name
    return parsed.path.name if parsed.path is not None else parsed.name
