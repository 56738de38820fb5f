"""Optional grounded answer generation with SmolLM2-135M-Instruct (+ a LoRA adapter), and its training.

``[support] generator = "auto" | "on" | "off"`` (default ``auto``: on when CUDA is present,
off on CPU where the extractive answers are instant). When on, composed and follow-up answers
are written by the causal LM from the retrieved passages only; if it answers ``HANDOVER``,
nothing, or fails, the extractive answer is kept. ``generator_model`` (default ``smollm2``)
and ``generator_adapter`` (default ``support/generator``, used when it exists) pick the model. ``lorasuite support train-generator`` builds (question, passages) -> answer pairs
from the help centre (questions: BANKING77 rows of each article's intent, or its title) plus
refusal pairs (a question with unrelated passages -> HANDOVER) and LoRA-tunes the model on them.
"""

from __future__ import annotations

import html
import logging
import random
import re
from collections.abc import Iterator
from pathlib import Path

from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
REFUSAL = "HANDOVER"
SYSTEM = ("You are Northwind Bank's support assistant. Answer the customer's question briefly, using only "
          f"the help-centre passages given. If they do not answer it, reply exactly: {REFUSAL}")


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<(?:https?|mailto|javascript|data):[^>]*>", re.IGNORECASE)


def sanitize(text: str) -> str:
    """Generated text as safe Markdown: no HTML, no links or images (a model can be steered into
    writing them by a passage or a question); the words of a link stay."""
    text = _AUTOLINK.sub("", _LINK.sub(r"\1", text))
    return html.escape(text, quote=False)


def build_prompt(question: str, passages: list) -> str:
    """The user turn the LM sees: numbered passages, then the question."""
    body = "\n".join(f"[{i}] {p.label}: {p.text}" for i, p in enumerate(passages, start=1))
    return f"Passages:\n{body}\n\nQuestion: {question}"


class Generator:
    """Lazily loaded grounded generator; ``applies(reply)`` says whether it writes that reply."""

    def __init__(self, settings) -> None:
        self.mode, self.model = settings.generator, settings.generator_model
        self.adapter = settings.generator_adapter
        self.max_new_tokens = settings.generator_max_tokens

    @property
    def enabled(self) -> bool:
        if self.mode == "auto":
            import torch

            return torch.cuda.is_available()
        return self.mode == "on"

    def applies(self, reply) -> bool:
        return self.enabled and reply.reason in ("passages", "followup") and bool(reply.grounding)

    def _backbone(self):
        from shared.backbone import get_backbone

        return get_backbone(self.model, causal=True)

    def load(self) -> str | None:
        """Load the model (and the adapter when there is one); returns the adapter reference or None."""
        backbone = self._backbone()
        try:
            return backbone.use(self.adapter, app="support")
        except LorasuiteError as err:
            log.debug("generator runs without a LoRA adapter: %s", err)
            return None

    def stream(self, question: str, passages: list) -> Iterator[str]:
        """The answer as it grows (each item is the text so far)."""
        key = self.load()
        text = ""
        for piece in self._backbone().stream(build_prompt(question, passages), key, self.max_new_tokens, SYSTEM):
            text += piece
            yield sanitize(text)

    def answer(self, question: str, passages: list, fallback: str = "") -> str:
        """The generated answer, or ``fallback`` when it refuses, is empty or fails."""
        try:
            text = ""
            for text in self.stream(question, passages):  # noqa: B007 - keep the last (complete) text
                continue
        except Exception:  # noqa: BLE001 - generation is optional; keep the extractive answer
            log.exception("generator failed")
            return fallback
        text = text.strip()
        return fallback if not text or REFUSAL in text else text


def training_pairs(index, questions: dict[str, list[str]], per_intent: int = 4, seed: int = 42,
                   refusals: float = 0.2) -> list[tuple[str, str]]:
    """(prompt, completion) pairs: grounded answers from each article, plus refusals."""
    from apps.support import answers
    from shared.backbone import get_backbone

    rng, pairs = random.Random(seed), []
    intents = sorted(index.intents())
    for intent in intents:
        article = index.by_intent(intent)
        asked = (questions.get(intent) or [f"{article[0].title}?"])[:per_intent]
        gold, _ = answers.article_answer(article)
        gold = gold.split("\n\n**Steps**")[0]
        vectors = get_backbone().encode(asked)
        for question, vector in zip(asked, vectors, strict=True):
            found = [h.chunk for h in index.search(question, vector, k=3)]
            passages = ([c for c in article if c.anchor == "answer"] + [c for c in found if c.intent != intent])[:3]
            rng.shuffle(passages)
            pairs.append((build_prompt(question, passages), gold))
            if rng.random() < refusals:
                other = index.by_intent(rng.choice([i for i in intents if i != intent]))
                pairs.append((build_prompt(question, other[:2]), REFUSAL))
    return pairs


def banking_questions(path: str | Path | None) -> dict[str, list[str]]:
    """Questions per intent from a text,category CSV (BANKING77 layout), or none."""
    if not path:
        return {}
    from shared.datasets import read_labeled_csv

    texts, labels = read_labeled_csv(path, "text", "category")
    out: dict[str, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        out.setdefault(label, []).append(text)
    return out


def train_generator(name: str = "generator", data: str | Path | None = None, model: str = "smollm2",
                    per_intent: int = 4, settings=None, limit: int | None = None) -> Path:
    """Build the pairs from the ingested help centre, LoRA-tune the causal LM, save support/<name>."""
    from apps.support.search import HybridIndex
    from shared import adapters
    from shared.causal import train_causal
    from shared.settings import LoraSettings
    from shared.storage import content_hash

    index = HybridIndex.load()
    if not index.intents():
        raise LorasuiteError("the help-centre index has no articles with an 'intent' in their front matter")
    pairs = training_pairs(index, banking_questions(data), per_intent)[: limit or None]
    settings = settings or LoraSettings(target_modules="all-linear", lr=2e-4, max_length=512, batch_size=4,
                                        epochs=2, early_stopping_patience=0)
    log.info("training the generator on %d pairs", len(pairs))
    trained = train_causal(pairs, settings, model=model, system=SYSTEM,
                           data_hash=content_hash(*(p + c for p, c in pairs)))
    trained.meta["pairs"] = len(pairs)
    return adapters.save("support", name, trained)
