"""The dashboard's learning controls: relabel a headline, the labelling queue, the Model tab.

- Headlines tab: pick a row, choose the right label, save (``relabel_row``); the analyst's login is who.
- Label queue tab: unlabelled headlines the champion is least sure about first (``labelling.queue``).
- Model tab: versions, curve, last retrain report, drift, promote / roll back (``apps.adapters_ui``).
"""

from __future__ import annotations

import functools
from typing import Any

import gradio as gr

from apps.sentiment import dashboard, labelling
from shared.errors import LorasuiteError

QUEUE_COLS = ["margin", "score", "model says", "headline", "published"]
LABELS = ["negative", "neutral", "positive"]


def picked(evt: gr.SelectData) -> str:
    """The headline text of the clicked row (Headlines or queue table)."""
    row = list(getattr(evt, "row_value", None) or [])
    if not row:
        return ""
    col = dashboard.HEADLINE_COLS.index("title") if len(row) == len(dashboard.HEADLINE_COLS) else QUEUE_COLS.index("headline")
    return str(row[col])


def relabel_row(ctx: Any, text: str, label: str | None, request: gr.Request = None) -> str:
    """Save the analyst's label for the picked headline; returns the status line."""
    who = getattr(request, "username", None) if request is not None else None
    if not who:
        raise LorasuiteError("log in first")
    if not (text or "").strip():
        raise LorasuiteError("pick a headline first (click its row)")
    if not label:
        raise LorasuiteError("choose the right label")
    done = labelling.relabel(ctx, text, label, who=str(who))
    from apps.learning import pending

    waiting = pending(ctx, "sentiment")
    state = "new" if done["new"] else ("changed" if done["changed"] else "unchanged")
    return f"Saved **{label}** ({state}); {waiting} label(s) wait for the next retrain."


def queue_frame(ctx: Any, request: gr.Request = None):
    import pandas as pd

    rows = labelling.queue(ctx)
    return pd.DataFrame([[r["margin"], r["score"], r["label"], r["title"], r["published"]] for r in rows],
                        columns=QUEUE_COLS)


def label_controls(ctx: Any, safe: Any, table: Any) -> None:
    """Under a headline table: the picked text, a label choice and Save (``safe`` wraps the handler)."""
    with gr.Row():
        text = gr.Textbox(label="Picked headline (click a row)", interactive=False, scale=4)
        label = gr.Dropdown(label="Right label", choices=LABELS, value=None, scale=1)
        save = gr.Button("Save label", variant="primary", scale=1)
    status = gr.Markdown()
    table.select(picked, None, [text])
    save.click(safe(functools.partial(relabel_row, ctx), 1), [text, label], [status])


def queue_tab(ctx: Any, safe: Any) -> None:
    gr.Markdown("Headlines the model is least sure about come first (smallest margin between its top two labels): "
                "a label here teaches it most. Click a row, choose the right label, save.")
    refresh = gr.Button("Refresh queue")
    table = gr.Dataframe(headers=QUEUE_COLS, interactive=False, wrap=True, label="Labelling queue")
    label_controls(ctx, safe, table)
    refresh.click(safe(functools.partial(queue_frame, ctx), 1), None, [table])


def model_tab(ctx: Any, demo: Any) -> None:
    from apps.adapters_ui import model_tab as component

    component(ctx, "sentiment", load_on=demo.load)
