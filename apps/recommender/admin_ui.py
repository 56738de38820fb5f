"""The recommender's admin page (behind the suite's admin login): the next-item adapter's versions.

Version history with Recall@10 on old and new data, the training curve, the last retrain report,
Promote and Roll back (``apps.adapters_ui``). Likes, dislikes and reads on the public page are
the new data ``lorasuite retrain recommender`` learns from. Mounted at ``/recommender/admin/``.
"""

from __future__ import annotations

import gradio as gr


def build(ctx) -> gr.Blocks:
    from apps.adapters_ui import model_tab

    with gr.Blocks(title="lorasuite - recommender admin") as demo:
        gr.Markdown("## Book recommender: model")
        with gr.Tab("Model"):
            model_tab(ctx, "recommender", load_on=demo.load)
    return demo
