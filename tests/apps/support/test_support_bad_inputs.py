"""Every bad input the issue lists: a sensible reply or a hand-over, never an exception, always stored."""

from __future__ import annotations

import pytest

from apps.support.inputs import asks_for_human, clean, is_followup, mostly_unsupported_script

BAD = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "huge": "I lost my card. " + "blah " * 20_000,
    "control": "I lost\x00 my\x07 card\x1b[31m\u200b",
    "html": "<script>alert('x')</script><b>I lost my card</b>",
    "chinese": "我的银行卡丢了，怎么办？",
    "russian": "Я потерял карту, что делать?",
    "spanish": "¿Dónde está mi tarjeta nueva? No ha llegado.",
    "sql": "'; DROP TABLE support_messages; -- SELECT * FROM users WHERE 1=1",
    "emoji": "💳❓😡",
    "none": None,
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_gets_a_reply_and_is_stored(bot, kind):
    reply = bot.ask(BAD[kind])
    assert reply.answer.strip() and reply.message_id
    stored = bot.store.messages(reply.conversation_row)
    assert [m["role"] for m in stored] == ["user", "bot"]
    assert stored[0]["text"] == reply.text and stored[1]["text"] == reply.answer
    if reply.escalate and reply.reason in ("out_of_scope", "low_confidence"):  # offered, no ticket
        assert reply.ticket_id is None and "*agent*" in reply.answer
    elif reply.escalate:
        assert reply.ticket_id and "handing you over" in reply.answer


def test_empty_messages_ask_for_a_question_without_a_ticket(bot):
    for text in ("", "   ", "\x00\x01", "?!"):
        reply = bot.ask(text)
        assert reply.reason == "empty" and not reply.escalate and "didn't catch" in reply.answer


def test_huge_message_is_truncated_with_a_notice(bot):
    reply = bot.ask(BAD["huge"])
    assert len(reply.text) <= 2000 and "very long" in reply.answer
    assert reply.intent == "lost_or_stolen_card"


def test_control_characters_are_removed_and_the_question_still_answered(bot):
    reply = bot.ask(BAD["control"])
    assert "\x00" not in reply.text and "\x1b" not in reply.text and "\u200b" not in reply.text
    assert reply.intent == "lost_or_stolen_card" and "control characters" in reply.answer


def test_html_is_kept_as_text_and_never_echoed(bot):
    reply = bot.ask(BAD["html"])
    assert reply.text == BAD["html"]  # stored verbatim (the UI escapes it)
    assert "<script>" not in reply.answer


def test_other_scripts_are_handed_over_with_an_english_only_note(bot):
    for kind in ("chinese", "russian"):
        reply = bot.ask(BAD[kind])
        assert reply.escalate and reply.reason == "language" and "English" in reply.answer


def test_sql_looking_text_is_just_text(bot):
    reply = bot.ask(BAD["sql"])
    assert bot.store.messages(reply.conversation_row)[0]["text"] == BAD["sql"]
    assert bot.store.db.scalar("SELECT COUNT(*) FROM support_messages") == 2


def test_bot_failure_becomes_a_handover_not_an_exception(bot, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(bot, "analyse", boom)
    reply = bot.ask("I lost my card")
    assert reply.escalate and reply.reason == "error" and reply.ticket_id
    assert bot.store.messages(reply.conversation_row)[0]["text"] == "I lost my card"


def test_input_helpers():
    assert clean("a\x00b")[0] == "a b" and clean(None)[0] == ""
    assert clean("x" * 50, max_chars=10) == ("x" * 10, [clean("x" * 50, max_chars=10)[1][0]])
    assert asks_for_human("Can I speak to somebody about my account?")
    assert not asks_for_human("Do I need to speak to a representative to change my pin?")
    assert not asks_for_human("How do I transfer money to another person?")
    assert is_followup("and how long does that take?") and is_followup("is it free?")
    assert not is_followup("I would like to know how to order a new physical card for my son please today")
    assert mostly_unsupported_script("我的卡丢了") and not mostly_unsupported_script("Où est ma carte ?")
