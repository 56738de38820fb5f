"""When and how customer messages are tagged with slots (issue 7): amounts, currencies, dates,
card types, merchants, for the agent who takes over a conversation.

``[support] slots``: ``"handover"`` (default) tags a conversation's messages when a ticket is opened
(and every message while it is open), keeping the contained path at two forward passes; ``"always"``
tags every message as it arrives; ``"off"`` never. The tagger is used only when the core can tag
(``Backbone.tag``) and an adapter ``support/slots`` exists; otherwise messages keep no slots.
Entities scored below ``[support] slots_min_score`` (default 0.5) are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared.errors import LorasuiteError

log = logging.getLogger(__name__)


class SlotTagger:
    """The slot adapter (``[support] slots_adapter``) on the shared backbone, through a micro-batcher."""

    def __init__(self, settings, backbone: Callable[[], Any], batched: Callable[[str, str], Any]) -> None:
        self.mode, self.min_score, self.adapter = settings.slots, float(settings.slots_min_score), settings.slots_adapter
        self._backbone, self._batched = backbone, batched

    def key(self) -> str | None:
        """The tagger's reference, or None when tagging is off or impossible (checked per call: the
        adapter may appear, or be promoted, while the suite runs)."""
        backbone = self._backbone()
        if self.mode == "off" or not hasattr(backbone, "tag"):
            return None
        try:
            return backbone.use(self.adapter, app="support")
        except LorasuiteError as err:
            log.debug("no slot tagger: %s", err)
            return None

    def tag(self, texts: list[str]) -> list[list[dict[str, Any]] | None]:
        """Slots per text, or None per text when there is no tagger or it failed."""
        key = self.key()
        if key is None or not texts:
            return [None] * len(texts)
        try:
            return [[e for e in found if float(e.get("score", 1.0)) >= self.min_score]
                    for found in self._batched("tag", key)(texts)]
        except Exception:  # noqa: BLE001 - slots are a bonus; never lose the message over them
            log.exception("slot tagging failed")
            return [None] * len(texts)

    def on_arrival(self, text: str) -> list[dict[str, Any]] | None:
        return self.tag([text])[0] if self.mode == "always" else None

    def for_agent(self, store, reply, status: str) -> list[tuple[int, list]]:
        """In ``handover`` mode, once a person will read the conversation: tag this message (in
        place) and the earlier untagged ones; returns their (message id, slots) to store."""
        if self.mode != "handover" or not (reply.escalate or status == "handed_over"):
            return []
        if reply.slots is None:
            reply.slots = self.tag([reply.text])[0]
        earlier = store.untagged(reply.conversation_row)
        found = self.tag([m["text"] for m in earlier])
        return [(m["id"], slots) for m, slots in zip(earlier, found, strict=True) if slots is not None]
