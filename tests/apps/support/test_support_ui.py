"""The Gradio UI: builds without models; chat, feedback, inbox and analytics handlers work end to end."""

from __future__ import annotations

import gradio as gr
import pytest

from apps.support import bot as bot_module
from apps.support import ui


@pytest.fixture
def ui_bot(bot, monkeypatch):
    monkeypatch.setattr(ui, "get_bot", lambda: bot)
    return bot


def test_build_loads_no_model():
    bot_module._BOTS.clear()
    demo = ui.build()
    assert isinstance(demo, gr.Blocks) and bot_module._BOTS == {}


def _chat(text, conversation_id=None):
    *_, last = ui.respond(text, conversation_id)
    return last  # ("", chat, conversation_id, ids, banner)


def test_chat_escapes_html_shows_sources_and_hands_over(ui_bot):
    _, chat, cid, ids, banner = _chat("<script>alert(1)</script> I lost my card")
    assert chat[0]["content"].startswith("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert "**Sources**" in chat[1]["content"] and "Lost or stolen card › Answer" in chat[1]["content"]
    assert ids[0] is None and isinstance(ids[1], int) and banner == ""
    _, chat, cid2, ids, banner = _chat("get me a human", cid)
    assert cid2 == cid and "Handed to a human" in banner and "handing you over" in chat[-1]["content"]


def test_feedback_from_the_like_event(ui_bot):
    _, chat, cid, ids, _ = _chat("I lost my card")
    ui.rate(ids, gr.LikeData(None, {"index": 1, "value": chat[1]["content"], "liked": False}))
    assert ui_bot.store.db.query("SELECT rating FROM support_feedback") == [{"rating": -1}]
    ui.rate(ids, gr.LikeData(None, {"index": 0, "value": chat[0]["content"], "liked": True}))  # user row: ignored
    assert ui_bot.store.db.scalar("SELECT COUNT(*) FROM support_feedback") == 1


def test_agent_inbox_needs_login_then_replies_and_closes(ui_bot):
    _, _, cid, ids, _ = _chat("I want to speak to someone about my refund of 20 euros")
    ok, *_ = ui.login("admin", "wrong")
    assert ok is False
    assert ui._safe(ui.ticket_choices)(False) is not None  # refused: a warning, no data
    ok, inbox, *_ = ui.login("admin", "admin")
    assert ok is True and inbox["visible"] is True
    choices = ui.ticket_choices(True)
    ticket = choices["value"]
    chat, slots, info = ui.show_ticket(True, ticket)
    assert "reason **human**" in info and "refund" in chat[0]["content"]
    assert isinstance(slots, list)

    cleared, chat, *_ = ui.agent_send(True, ticket, "<b>Hi</b>, I'm looking at it.")
    assert cleared == "" and chat[-1]["content"] == "**Agent:** &lt;b&gt;Hi&lt;/b&gt;, I'm looking at it."
    polled_chat, polled_ids, banner = ui.poll(cid, ids)
    assert polled_chat[-1]["content"].startswith("**Agent:**") and "Handed to a human" in banner
    ui.agent_close(True, ticket)
    assert ui_bot.store.tickets("open") == [] and ui._banner(cid) == ui.CLOSED


def test_analytics_view(ui_bot):
    _chat("I lost my card")
    _chat("what's the weather like in Rome?")
    text, intents, unanswered = ui.analytics_view(True)
    assert "**Containment** 50% of 2 conversations" in text and "out_of_scope 1" in text
    assert list(intents.columns) == ["intent", "n"] and len(intents) >= 1
    assert unanswered[0][1] == "what's the weather like in Rome?"


def test_inbox_lists_the_slots_of_the_conversation(slot_bot, monkeypatch):
    assert slot_bot.slots_key() == "support__slots"  # data/adapters/support/slots is shipped
    monkeypatch.setattr(ui, "get_bot", lambda: slot_bot)
    _chat("I want to speak to someone about my refund of 20 euros from Tesco")
    _, slots, _ = ui.show_ticket(True, ui.ticket_choices(True)["value"])
    assert ["AMOUNT", "20"] in [row[1:3] for row in slots] and ["MERCHANT", "Tesco"] in [row[1:3] for row in slots]
