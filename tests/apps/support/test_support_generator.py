"""The optional grounded generator, on the tiny random causal LM (wiring, not answer quality)."""

from __future__ import annotations

import pytest
from support_kb import pinned_ctx

from apps.support.bot import SupportBot
from apps.support.generator import REFUSAL, Generator, build_prompt, train_generator, training_pairs
from apps.support.search import HybridIndex
from shared import adapters
from shared.settings import LoraSettings


def _settings(**values):
    from apps.support.settings import SupportSettings

    return SupportSettings(**values)


def test_modes():
    from pydantic import ValidationError

    assert Generator(_settings(generator="off")).enabled is False
    assert Generator(_settings(generator="on")).enabled is True
    with pytest.raises(ValidationError, match="generator"):
        _settings(generator="sometimes")


def test_generated_text_is_sanitised():
    from apps.support.generator import sanitize

    out = sanitize("See [our page](http://evil.example) ![x](http://t.example/p.png) <img src=x onerror=1> "
                   "<javascript:alert(1)> ok")
    assert "http" not in out and "<img" not in out and "&lt;img" in out and "our page" in out


def test_training_pairs_are_grounded_in_the_article(index_home):
    index = HybridIndex.load()
    pairs = training_pairs(index, {"card_arrival": ["where is my card?"]}, per_intent=1, refusals=1.0)
    grounded = [(p, c) for p, c in pairs if c != REFUSAL]
    refusals = [(p, c) for p, c in pairs if c == REFUSAL]
    assert len(grounded) == len(index.intents()) and len(refusals) == len(grounded)
    prompt, completion = next((p, c) for p, c in grounded if "where is my card?" in p)
    assert completion.startswith("Cards are posted within one working day")
    assert "My card hasn't arrived › Answer" in prompt and prompt.endswith("Question: where is my card?")


def test_train_generator_on_tiny_causal_and_generate(index_home, tiny_causal):
    settings = LoraSettings(target_modules="all-linear", epochs=1, max_length=128, batch_size=4,
                            early_stopping_patience=0)
    path = train_generator("gen_test", model=tiny_causal, per_intent=1, settings=settings, limit=4)
    meta = adapters.read_meta(path)
    assert meta["task"] == "causal" and meta["pairs"] == 4
    gen = Generator(_settings(generator="on", generator_model=tiny_causal, generator_adapter="support/gen_test",
                              generator_max_tokens=8))
    assert gen.load() == "support/gen_test"
    chunks = HybridIndex.load().by_intent("card_arrival")[:1]
    assert isinstance(gen.answer("where is my card?", chunks, fallback="fallback"), str)  # never raises
    pieces = list(gen.stream("where is my card?", chunks))
    assert pieces and all(isinstance(p, str) for p in pieces)


def test_bot_with_generator_on_still_stores_an_answer(index_home, proto_intent, tiny_causal):
    config = pinned_ctx(**{"generator": "on", "generator_model": tiny_causal, "generator_max_tokens": 6,
                                 "handover_margin": 0.0, "confidence_threshold": 0.999})
    bot = SupportBot(config, adapter=str(proto_intent))
    reply = bot.ask("I lost my card")
    assert reply.reason == "passages" and reply.answer.strip() and reply.sources
    assert bot.store.messages(reply.conversation_row)[1]["text"] == reply.answer


def test_prompt_lists_numbered_passages(index_home):
    chunks = HybridIndex.load().by_intent("lost_or_stolen_card")[:2]
    prompt = build_prompt("q?", chunks)
    assert prompt.startswith("Passages:\n[1] Lost or stolen card › Answer: ") and "\n[2] " in prompt
