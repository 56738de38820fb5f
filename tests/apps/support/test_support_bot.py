"""The bot end to end on the real MiniLM: article answers, follow-ups, hand-over rules, degraded modes."""

from __future__ import annotations

import json
import shutil

import pytest
from support_kb import file_ctx, pinned_ctx

from apps.support.bot import SupportBot
from shared.errors import LorasuiteError


def test_confident_question_gets_the_article_answer_with_its_source(bot):
    reply = bot.ask("I lost my card")
    assert reply.intent == "lost_or_stolen_card" and not reply.escalate
    assert reply.reason == "article"
    assert "freeze it straight away" in reply.answer and "**Steps**" in reply.answer
    assert reply.sources[0]["title"] == "Lost or stolen card"
    assert reply.sources[0]["url"].startswith("/support/help/") and reply.sources[0]["url"].endswith("#answer")
    assert 0.0 < reply.confidence <= 1.0 and reply.margin is not None


def test_followup_uses_the_previous_turn(bot):
    first = bot.ask("I lost my card")
    second = bot.ask("and how long does that take?", first.conversation_id)
    assert second.reason == "followup" and not second.escalate
    assert second.intent == "lost_or_stolen_card"
    assert second.sources[0]["url"].endswith("#how-long-does-it-take")
    assert second.sources[0]["url"].split("#")[0] == first.sources[0]["url"].split("#")[0]  # the same article
    assert "3 to 5 working days" in second.answer
    third = bot.ask("how much is it?", first.conversation_id)  # a chain still points at the lost card
    assert third.intent == "lost_or_stolen_card"
    assert third.sources[0]["url"].endswith("#fees") and "£5" in third.answer


def test_same_words_without_context_are_not_a_followup(bot):
    reply = bot.ask("and how long does that take?")
    assert reply.reason != "followup"


def test_new_topic_after_a_followup_is_recognised(bot):
    first = bot.ask("I lost my card")
    bot.ask("how long does that take?", first.conversation_id)
    switched = bot.ask("what exchange rate do you use for euros", first.conversation_id)
    assert switched.intent == "exchange_rate" and switched.reason != "followup"


@pytest.mark.parametrize("text", ["can I talk to a real person", "agent please", "I don't want to talk to a bot"])
def test_asking_for_a_person_hands_over_and_opens_a_ticket(bot, text):
    reply = bot.ask(text)
    assert reply.escalate and reply.reason == "human" and reply.ticket_id
    assert "handing you over" in reply.answer and f"#{reply.ticket_id}" in reply.answer
    assert bot.store.conversation(reply.conversation_row)["status"] == "handed_over"
    assert [t["id"] for t in bot.store.tickets("open")] == [reply.ticket_id]


def test_out_of_scope_question_offers_the_hand_over_without_a_ticket(bot):
    reply = bot.ask("what's the weather going to be like in Madrid tomorrow?")
    assert reply.escalate and reply.reason == "out_of_scope" and reply.ticket_id is None
    assert "type *agent*" in reply.answer and bot.store.tickets("open") == []
    again = bot.ask("and in Rome?", reply.conversation_id)  # off-topic again: still no ticket flood
    taken = bot.ask("agent", reply.conversation_id)  # accepted: one ticket for the conversation
    assert again.ticket_id is None and taken.ticket_id and len(bot.store.tickets("open")) == 1


def test_low_confidence_hands_over(index_home, proto_intent):
    config = pinned_ctx(**{"unsure_similarity": 0.99, "handover_margin": 1.0, "similarity_threshold": 0.0})
    reply = SupportBot(config, adapter=str(proto_intent)).ask("is the fee for that high")
    assert reply.escalate and reply.reason == "low_confidence"


def test_middle_band_composes_from_passages(index_home, proto_intent):
    config = pinned_ctx(**{"handover_margin": 0.0, "confidence_threshold": 0.999, "similarity_threshold": 0.0})
    reply = SupportBot(config, adapter=str(proto_intent)).ask("I lost my card")
    assert reply.reason == "passages" and not reply.escalate
    assert reply.answer.startswith("Here is what I found") and len(reply.sources) == 2


def test_handed_over_conversation_waits_for_the_agent_then_resumes(bot):
    first = bot.ask("human please")
    waiting = bot.ask("I lost my card", first.conversation_id)
    assert waiting.reason == "waiting_for_agent" and waiting.ticket_id == first.ticket_id
    bot.store.agent_reply(first.ticket_id, "Hi, I've frozen your card.")
    bot.store.close_ticket(first.ticket_id)
    resumed = bot.ask("I lost my card", first.conversation_id)
    assert resumed.reason == "article" and not resumed.escalate
    roles = [m["role"] for m in bot.store.messages(first.conversation_row)]
    assert roles == ["user", "bot", "user", "bot", "agent", "user", "bot"]


def test_missing_adapter_still_answers_from_retrieval(index_home):
    reply = SupportBot(file_ctx(), adapter="no_such_adapter").ask("I lost my card")
    assert not reply.escalate and reply.reason == "passages" and reply.intent is None
    assert "intent model is unavailable" in reply.answer
    assert any(s["title"] == "Lost or stolen card" for s in reply.sources)


def test_damaged_adapter_still_answers(index_home, proto_intent, tmp_path):
    broken = tmp_path / "broken_intent"
    shutil.copytree(proto_intent, broken)
    (broken / "adapter_model.safetensors").write_bytes(b"not weights")
    reply = SupportBot(file_ctx(), adapter=str(broken)).ask("I lost my card")
    assert "intent model is unavailable" in reply.answer and reply.sources


def test_missing_index_says_so_and_hands_over(lorasuite_home, proto_intent):
    reply = SupportBot(file_ctx(), adapter=str(proto_intent)).ask("I lost my card")
    assert reply.escalate and reply.reason == "no_index"
    assert "lorasuite support ingest" in reply.answer


def test_damaged_index_says_so_and_ingest_rebuilds(index_home, proto_intent, kb_dir):
    (index_home / "chunks.jsonl").write_text("{broken")
    reply = SupportBot(file_ctx(), adapter=str(proto_intent)).ask("I lost my card")
    assert reply.reason == "no_index" and "damaged" in reply.answer
    from apps.support.ingest import ingest

    assert ingest([kb_dir]).rebuilt
    assert SupportBot(file_ctx(), adapter=str(proto_intent)).ask("I lost my card").reason == "article"


def test_a_running_bot_picks_up_a_reingest(index_home, proto_intent, kb_dir):
    bot = SupportBot(file_ctx(), adapter=str(proto_intent))
    bot.ask("I lost my card")
    assert not any("NW-9999" in c.text for c in bot.index()[0].chunks.values())
    shutil.rmtree(index_home)
    from apps.support.ingest import ingest

    (kb_dir / "policy_security.md").write_text("---\ntitle: Security\nintent: policy\n---\n## Codes\nCode "
                                              "NW-9999 means a blocked login; reset your passcode.\n")
    ingest([kb_dir])
    index, _ = bot.index()
    hits = index.search("NW-9999", bot.backbone.encode(["NW-9999"])[0], k=1)
    assert "NW-9999" in hits[0].chunk.text


def test_every_message_and_reply_is_stored_with_its_analysis(bot):
    reply = bot.ask("I lost my card")
    user, answer = bot.store.messages(reply.conversation_row)
    assert user["role"] == "user" and user["intent"] == "lost_or_stolen_card" and user["confidence"] > 0
    assert answer["role"] == "bot" and answer["sources"] == reply.sources and answer["id"] == reply.message_id
    assert json.loads(json.dumps(reply.to_json())) == reply.to_json()
    assert set(reply.to_json()) == {"text", "intent", "confidence", "answer", "sources", "escalate"}


def _stand_in_tagger(backbone, monkeypatch, bot):
    found = [{"text": "£20", "type": "AMOUNT", "start": 15, "end": 18, "score": 0.93}]
    monkeypatch.setattr(backbone, "tag", lambda texts, key: [found for _ in texts], raising=False)
    monkeypatch.setattr(bot.slots, "key", lambda: "support__slots")
    return found


def test_slots_always_mode_tags_every_message(index_home, proto_intent, minilm, monkeypatch):
    """Wiring with a stand-in tagger (the shipped one is exercised below when present)."""
    bot = SupportBot(pinned_ctx(**{"slots": "always"}), adapter=str(proto_intent))
    found = _stand_in_tagger(minilm, monkeypatch, bot)
    reply = bot.ask("I was charged £20 twice at Tesco")
    assert reply.slots == found and not reply.escalate
    assert bot.store.messages(reply.conversation_row)[0]["slots"] == found


def test_slots_handover_mode_tags_the_conversation_when_a_person_takes_over(slot_bot, minilm, monkeypatch):
    found = _stand_in_tagger(minilm, monkeypatch, slot_bot)
    first = slot_bot.ask("I was charged £20 twice at Tesco")
    assert first.slots is None and slot_bot.store.untagged(first.conversation_row)
    handed = slot_bot.ask("agent please", first.conversation_id)
    assert handed.escalate and handed.slots == found
    assert [m["slots"] for m in slot_bot.store.messages(first.conversation_row) if m["role"] == "user"] == [found] * 2
    assert slot_bot.store.untagged(first.conversation_row) == []


def test_no_tagger_means_no_slots(slot_bot, monkeypatch):
    """Hide the shipped support/slots adapter: the bot must answer without slots, not fail."""
    real_use = slot_bot.backbone.use

    def use(ref, app=None):
        if ref == "support/slots":
            raise LorasuiteError("no adapter support/slots")
        return real_use(ref, app)

    monkeypatch.setattr(slot_bot.backbone, "use", use)
    assert slot_bot.slots_key() is None and slot_bot.ask("agent please, I was charged £20 twice").slots is None


def test_shipped_slot_tagger_extracts_amounts_and_merchants(index_home, proto_intent, bot):
    tagging = SupportBot(pinned_ctx(**{"slots": "always"}), adapter=str(proto_intent))
    reply = tagging.ask("I was charged 20 euros twice at Tesco yesterday")
    found = {(s["type"], s["text"]) for s in reply.slots}
    assert {("AMOUNT", "20"), ("CURRENCY", "euros"), ("MERCHANT", "Tesco")} <= found
    assert tagging.store.messages(reply.conversation_row)[0]["slots"] == reply.slots
    assert bot.ask("I was charged 20 euros").slots is None  # [support] slots = "off"


def test_greetings_and_thanks_get_a_reply_not_a_ticket(bot):
    hello = bot.ask("Hello!")
    assert hello.reason == "smalltalk" and not hello.escalate and "What can I help you with" in hello.answer
    answer = bot.ask("I lost my card", hello.conversation_id)
    thanks = bot.ask("thanks, bye", hello.conversation_id)
    assert answer.reason == "article" and thanks.reason == "smalltalk" and not thanks.escalate
    assert bot.ask("and how long does that take?", hello.conversation_id).intent == "lost_or_stolen_card"
    assert bot.store.tickets("open") == []
