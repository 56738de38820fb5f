"""The support app's admin page (behind the suite's admin login): agent inbox, analytics, model.

- Agent inbox: open tickets with the whole conversation and the extracted slots, a reply box that
  posts into the customer's chat, close; resolving a ticket records the intent the customer
  really had (or "out of scope") as a label for the learning loop.
- Analytics: containment rate, hand-overs by reason, feedback, top intents, unanswered questions.
- Review: answers with a thumbs down, least certain first, to label; Model: the intent adapter's
  versions, last retrain, drift, promote / roll back (``learning_ui.py``, ``apps.adapters_ui``).

Mounted by the launcher at ``/support/admin/`` with the same login as the finance dashboard.
"""

from __future__ import annotations

import functools

import gradio as gr

from apps.support import analytics, learning_ui
from apps.support.ui import PRIVATE, _safe, history_of
from shared.errors import LorasuiteError


def ticket_choices(bot):
    tickets = bot.store.tickets("open")
    choices = [(f"#{t['id']} · {t['reason']} · {t['summary'][:60]}", t["id"]) for t in tickets]
    return gr.update(choices=choices, value=choices[0][1] if choices else None)


def show_ticket(bot, ticket_id: int | None):
    if ticket_id is None:
        return [], [], "No ticket selected."
    store = bot.store
    ticket = store.ticket(int(ticket_id))
    chat, _, _ = history_of(bot, ticket["conversation_id"])
    slots = [[m["id"], s.get("type", ""), s.get("text", ""), round(float(s.get("score", 0)), 2)]
             for m in store.messages(ticket["conversation_id"]) if m["role"] == "user" for s in m["slots"]]
    info = (f"Ticket #{ticket['id']} ({ticket['status']}), reason **{ticket['reason']}**, opened "
            f"{ticket['created']}, conversation #{ticket['conversation_id']}")
    return chat, slots, info


def agent_send(bot, ticket_id: int | None, text: str):
    if ticket_id is None:
        raise LorasuiteError("pick a ticket first")
    bot.store.agent_reply(int(ticket_id), text)
    return ("",) + show_ticket(bot, ticket_id)


def agent_close(bot, ticket_id: int | None):
    if ticket_id is None:
        raise LorasuiteError("pick a ticket first")
    bot.store.close_ticket(int(ticket_id))
    gr.Info(f"Ticket #{ticket_id} closed.")
    return ticket_choices(bot)


def _inbox_tab(bot) -> list:
    with gr.Row():
        tickets = gr.Dropdown(label="Open tickets", choices=[], scale=4)
        refresh = gr.Button("Refresh", scale=1)
    info = gr.Markdown()
    convo = gr.Chatbot(label="Conversation", height=360)
    slots = gr.Dataframe(headers=["message", "slot", "value", "score"], label="Extracted slots", interactive=False)
    reply = gr.Textbox(label="Reply to the customer", lines=2)
    with gr.Row():
        send, close = gr.Button("Send reply", variant="primary"), gr.Button("Close ticket", variant="stop")
    bind = functools.partial
    refresh.click(_safe(bind(ticket_choices, bot)), None, [tickets], api_visibility=PRIVATE)
    tickets.change(_safe(bind(show_ticket, bot), 3), [tickets], [convo, slots, info], api_visibility=PRIVATE)
    send.click(_safe(bind(agent_send, bot), 4), [tickets, reply], [reply, convo, slots, info], api_visibility=PRIVATE)
    close.click(_safe(bind(agent_close, bot)), [tickets], [tickets], api_visibility=PRIVATE)
    return [tickets]


def analytics_view(bot):
    """The numbers, the intents, the unanswered questions, the daily timeline and two CSV files."""
    import pandas as pd

    from apps.exports import csv_file

    s = analytics.summary(bot.store)
    rate_text = "n/a" if s["containment"] is None else f"{s['containment']:.0%}"
    reasons = ", ".join(f"{r['reason']} {r['n']}" for r in s["handover_reasons"]) or "none"
    text = (f"**Containment** {rate_text} of {s['conversations']} conversations · **Hand-overs** "
            f"{s['handed_over']} ({reasons}) · **Open tickets** {s['open_tickets']} · **Feedback** "
            f"{s['thumbs_up']} up, {s['thumbs_down']} down")
    intents = pd.DataFrame(s["top_intents"] or [], columns=["intent", "n"])
    unanswered = [[u["created"], u["text"][:200], u["intent"] or "", u["reason"]] for u in s["unanswered"]]
    days = analytics.timeline(bot.store)
    timeline = pd.DataFrame([{"day": d["day"], "what": what, "conversations": d[key]} for d in days
                             for what, key in (("all", "conversations"), ("handed over", "handed_over"))],
                            columns=["day", "what", "conversations"])
    unanswered_csv = csv_file("unanswered", UNANSWERED, [[u["created"], u["text"], u["intent"] or "", u["reason"]]
                                                         for u in s["unanswered"]])
    tickets_csv = csv_file("tickets", TICKETS, analytics.tickets_rows(bot.store))
    return text, intents, unanswered, timeline, unanswered_csv, tickets_csv


UNANSWERED = ["when", "question", "intent guess", "why"]
TICKETS = ["ticket", "status", "reason", "opened", "closed", "summary"]


def _analytics_tab(bot) -> list:
    refresh = gr.Button("Refresh")
    numbers = gr.Markdown()
    timeline = gr.LinePlot(x="day", y="conversations", color="what", title="Conversations and hand-overs per day",
                           height=280, y_lim=[0, None])
    intents = gr.BarPlot(x="intent", y="n", title="Top intents", x_label_angle=-35, height=320, y_lim=[0, None])
    unanswered = gr.Dataframe(headers=UNANSWERED, interactive=False,
                              label="Unanswered questions (handed over or thumbs down)")
    with gr.Row():
        unanswered_csv = gr.DownloadButton("Download unanswered questions (CSV)", size="sm")
        tickets_csv = gr.DownloadButton("Download all tickets (CSV)", size="sm")
    outputs = [numbers, intents, unanswered, timeline, unanswered_csv, tickets_csv]
    refresh.click(_safe(functools.partial(analytics_view, bot), len(outputs)), None, outputs, api_visibility=PRIVATE)
    return outputs


def build(ctx) -> gr.Blocks:
    """The admin page; the launcher puts it behind the admin login."""
    from apps.support.app import bot as bot_of

    bot = bot_of(ctx)
    with gr.Blocks(title="Northwind Bank support: agents") as demo:
        with gr.Tab("Agent inbox"):
            (tickets,) = _inbox_tab(bot)
            learning_ui.resolve_controls(ctx, bot, tickets)
        with gr.Tab("Review"):
            learning_ui.review_tab(ctx, bot)
        with gr.Tab("Analytics"):
            outputs = _analytics_tab(bot)
        with gr.Tab("Model"):
            learning_ui.model_tab(ctx, demo)
        demo.load(_safe(functools.partial(ticket_choices, bot)), None, [tickets], api_visibility=PRIVATE)
        demo.load(_safe(functools.partial(analytics_view, bot), len(outputs)), None, outputs, api_visibility=PRIVATE)
    return demo
