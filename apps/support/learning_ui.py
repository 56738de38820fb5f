"""The support admin page's learning controls: resolve a hand-over with its intent, review, Model tab.

- Agent inbox: "Resolve with intent" labels the ticket's question with the intent the customer
  really had (or out_of_scope) and closes the ticket (``learning.resolve_ticket``).
- Review tab: questions whose answer got a thumbs down, least certain first; pick the intent, save.
- Model tab: versions, curve, last retrain report, drift, promote / roll back (``apps.adapters_ui``).
Every action needs the logged-in agent (``request.username``), recorded as who.
"""

from __future__ import annotations

import functools
from typing import Any

import gradio as gr

from apps.adapters_ui import PRIVATE
from apps.support import learning
from apps.ui_guard import logged_in, who
from shared.errors import LorasuiteError

REVIEW_COLS = ["message", "when", "question", "bot's intent", "confidence", "margin"]


def intent_choices(ctx: Any) -> list[str]:
    from apps.learning import allowed_labels, learner_of

    try:
        return allowed_labels(ctx, learner_of(ctx, "support"))
    except LorasuiteError:
        return [learning.OUT_OF_SCOPE]


def resolve(ctx: Any, bot: Any, ticket_id: int | None, intent: str | None, request: gr.Request = None):
    """Label the ticket's question and close the ticket; returns the refreshed ticket choices."""
    from apps.support.admin_ui import ticket_choices

    if ticket_id is None:
        raise LorasuiteError("pick a ticket first")
    if not intent:
        raise LorasuiteError("choose the intent the customer had (or out_of_scope)")
    done = learning.resolve_ticket(ctx, bot.store, int(ticket_id), intent, who(request))
    gr.Info(f"Ticket #{done['ticket']} resolved as {intent} and closed.")
    return ticket_choices(bot)


def review_frame(ctx: Any, bot: Any, request: gr.Request = None):
    import pandas as pd

    rows = learning.review_queue(ctx, bot.store)
    return pd.DataFrame([[r["id"], r["created"], r["text"], r["intent"] or "", _num(r["confidence"]), _num(r["margin"])]
                         for r in rows], columns=REVIEW_COLS)


def _num(value: Any) -> Any:
    return round(float(value), 3) if value is not None else ""


def picked(evt: gr.SelectData) -> str:
    row = list(getattr(evt, "row_value", None) or [])
    return str(row[REVIEW_COLS.index("question")]) if len(row) == len(REVIEW_COLS) else ""


def save_review(ctx: Any, bot: Any, text: str, intent: str | None, request: gr.Request = None):
    if not (text or "").strip():
        raise LorasuiteError("pick a question first (click its row)")
    if not intent:
        raise LorasuiteError("choose the right intent")
    learning.review(ctx, text, intent, who(request))
    gr.Info(f"Saved as {intent}.")
    return review_frame(ctx, bot, request)


def resolve_controls(ctx: Any, bot: Any, tickets: Any) -> None:
    """Below the inbox: the intent the customer really had, and Resolve (label + close)."""
    with gr.Row():
        intent = gr.Dropdown(label="The customer's intent (for the learning loop)", choices=intent_choices(ctx),
                             value=None, scale=4, allow_custom_value=False)
        go = gr.Button("Resolve with intent and close", scale=1)
    go.click(logged_in(functools.partial(resolve, ctx, bot), 1), [tickets, intent], [tickets], api_visibility=PRIVATE)


def review_tab(ctx: Any, bot: Any) -> None:
    gr.Markdown("Questions whose answer got a thumbs down and that nobody labelled yet; the least certain first.")
    refresh = gr.Button("Refresh")
    table = gr.Dataframe(headers=REVIEW_COLS, interactive=False, wrap=True, label="Review queue")
    with gr.Row():
        text = gr.Textbox(label="Picked question (click a row)", interactive=False, scale=4)
        intent = gr.Dropdown(label="Right intent", choices=intent_choices(ctx), value=None, scale=2)
        save = gr.Button("Save", variant="primary", scale=1)
    table.select(picked, None, [text], api_visibility=PRIVATE)
    refresh.click(logged_in(functools.partial(review_frame, ctx, bot), 1), None, [table], api_visibility=PRIVATE)
    save.click(logged_in(functools.partial(save_review, ctx, bot), 1), [text, intent], [table], api_visibility=PRIVATE)


def model_tab(ctx: Any, demo: Any) -> None:
    from apps.adapters_ui import model_tab as component

    component(ctx, "support", load_on=demo.load)
