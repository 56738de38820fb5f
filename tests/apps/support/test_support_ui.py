"""The chat page and the agents' admin page: build without models; chat, feedback, inbox, analytics."""

from __future__ import annotations

import gradio as gr
import pytest

from apps.support import admin_ui, ui


def test_build_loads_no_model(ctx, monkeypatch):
    from apps.support.bot import SupportBot

    monkeypatch.setattr(SupportBot, "intent_key", lambda *a: pytest.fail("model loaded at build time"))
    assert isinstance(ui.build(ctx), gr.Blocks) and isinstance(admin_ui.build(ctx), gr.Blocks)


def _chat(bot, text, conversation_id=None):
    *_, last = ui.respond(bot, text, conversation_id)
    return last  # ("", chat, conversation_id, ids, banner)


def test_chat_shows_customer_text_as_plain_text_with_sources_and_hands_over(bot):
    _, chat, cid, ids, banner = _chat(bot, "<script>alert(1)</script> [click](http://evil.example) I lost my card")
    assert chat[0]["content"].startswith("&lt;script&gt;alert\\(1\\)&lt;/script&gt; \\[click\\]\\(http://evil")
    assert "**Sources**" in chat[1]["content"] and "Lost or stolen card › Answer" in chat[1]["content"]
    assert ids[0] is None and isinstance(ids[1], int) and banner == ""
    _, chat, cid2, ids, banner = _chat(bot, "get me a human", cid)
    assert cid2 == cid and "Handed to a human" in banner and "handing you over" in chat[-1]["content"]


def test_feedback_from_the_like_event(bot):
    _, chat, cid, ids, _ = _chat(bot, "I lost my card")
    ui.rate(bot, ids, gr.LikeData(None, {"index": 1, "value": chat[1]["content"], "liked": False}))
    assert bot.store.db.query("SELECT rating FROM support_feedback") == [{"rating": -1}]
    ui.rate(bot, ids, gr.LikeData(None, {"index": 0, "value": chat[0]["content"], "liked": True}))  # user row: ignored
    assert bot.store.db.scalar("SELECT COUNT(*) FROM support_feedback") == 1


def test_agent_inbox_replies_and_closes(bot):
    _, _, cid, ids, _ = _chat(bot, "I want to speak to someone about my refund of 20 euros")
    ticket = admin_ui.ticket_choices(bot)["value"]
    chat, slots, info = admin_ui.show_ticket(bot, ticket)
    assert "reason **human**" in info and "refund" in chat[0]["content"]
    assert isinstance(slots, list)
    cleared, chat, *_ = admin_ui.agent_send(bot, ticket, "<b>Hi</b>, I'm looking at it.")
    assert cleared == "" and chat[-1]["content"] == "**Agent:** &lt;b&gt;Hi&lt;/b&gt;, I'm looking at it\\."
    polled_chat, polled_ids, banner = ui.poll(bot, cid, ids)
    assert polled_chat[-1]["content"].startswith("**Agent:**") and "Handed to a human" in banner
    admin_ui.agent_close(bot, ticket)
    assert bot.store.tickets("open") == [] and ui._banner(bot, bot.store.by_token(cid)) == ui.CLOSED


def test_analytics_view(bot):
    _chat(bot, "I lost my card")
    _chat(bot, "what's the weather like in Rome?")
    text, intents, unanswered, timeline, unanswered_csv, tickets_csv = admin_ui.analytics_view(bot)
    assert "**Containment** 50% of 2 conversations" in text and "out_of_scope 1" in text
    assert list(intents.columns) == ["intent", "n"] and len(intents) >= 1
    assert unanswered[0][1] == "what's the weather like in Rome?"
    assert set(timeline["what"]) == {"all", "handed over"} and timeline["conversations"].max() == 2
    assert "what's the weather like in Rome?" in open(unanswered_csv, encoding="utf-8-sig").read()
    assert open(tickets_csv, encoding="utf-8-sig").read().startswith("ticket,status,reason")


def test_exports_neutralise_spreadsheet_formulas(tmp_path):
    import csv

    from apps.exports import csv_file

    path = csv_file("x", ["text"], [["=HYPERLINK(\"http://evil\")"], ["+1"], ["fine"]])
    rows = list(csv.reader(open(path, encoding="utf-8-sig", newline="")))
    assert rows == [["text"], ["'=HYPERLINK(\"http://evil\")"], ["'+1"], ["fine"]]


def test_inbox_lists_the_slots_of_the_conversation(slot_bot):
    assert slot_bot.slots_key() == "support/slots"  # data/adapters/support/slots is shipped
    _chat(slot_bot, "I want to speak to someone about my refund of 20 euros from Tesco")
    _, slots, _ = admin_ui.show_ticket(slot_bot, admin_ui.ticket_choices(slot_bot)["value"])
    assert ["AMOUNT", "20"] in [row[1:3] for row in slots] and ["MERCHANT", "Tesco"] in [row[1:3] for row in slots]
