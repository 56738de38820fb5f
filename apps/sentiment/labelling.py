"""Analysts' labels for the sentiment adapter: relabel a headline, and what to label next.

The labelling queue is the latest unlabelled headlines ordered by the champion's margin (top
probability minus the runner-up), smallest first: the rows it is least sure about are the ones a
label teaches it most (uncertainty sampling). Labels go to ``shared.labels`` under
(sentiment, sentiment), with the analyst's login as who; ``lorasuite retrain sentiment`` learns
from them. No Gradio here: ``ui.py`` and ``learning_ui.py`` call these.

    relabel(ctx, "Boeing halts 737 MAX production", "negative", who="ana")
    queue(ctx, limit=20)   # [{"id", "published", "title", "label", "score", "margin"}], least sure first
"""

from __future__ import annotations

import logging
from typing import Any

from apps.learning import Learner, record_labels
from shared import labels as label_store

log = logging.getLogger(__name__)
APP = TASK = "sentiment"


def learner(ctx: Any) -> Learner:
    """The sentiment app's learning loop: the configured adapter, labels ``text,label``."""
    return Learner(APP, TASK, adapter=lambda c: c.settings(APP).adapter, label_col="label", live_texts=live_texts)


def live_texts(ctx: Any, since: str) -> list[str]:
    """What the adapter classified since ``since`` (ISO time): the texts of the items fetched since."""
    from apps.sentiment.store import open_db

    rows = open_db(ctx.db).query("SELECT title, summary FROM sentiment_items WHERE fetched >= :s ORDER BY id DESC "
                                 "LIMIT 5000", {"s": since})
    return [item_text(r) for r in rows]


def item_text(row: dict[str, Any]) -> str:
    """The text the adapter classifies for a stored item (its title, else the start of its summary)."""
    return row.get("title") or (row.get("summary") or "")[:300]


def relabel(ctx: Any, text: str, label: str, who: str, source: str = "dashboard") -> dict[str, int]:
    """Record an analyst's label for a headline (last label wins)."""
    return record_labels(ctx, APP, [(text, label)], source=source, who=who)


def queue(ctx: Any, limit: int = 25, pool: int = 300) -> list[dict[str, Any]]:
    """The ``limit`` least certain of the latest ``pool`` unlabelled headlines, by the serving champion."""
    from apps.sentiment.classify import load_model
    from apps.sentiment.store import open_db

    db = open_db(ctx.db)
    rows = db.query("SELECT id, published, title, summary FROM sentiment_items ORDER BY published DESC, id DESC "
                    "LIMIT :n", {"n": int(pool)})
    texts = {item_text(r) for r in rows}
    done = label_store.known(db, APP, TASK, list(texts))
    rows = [r for r in rows if item_text(r) and item_text(r) not in done]
    model = load_model(ctx.settings(APP).adapter, required=False)  # the backbone of its base model
    if model is None or not rows:
        return []
    labels, probs = model.backbone.classify_probs([item_text(r) for r in rows], model.ref)
    out = []
    for row, p in zip(rows, probs, strict=True):
        top = sorted(p, reverse=True)
        out.append({"id": row["id"], "published": row["published"], "title": item_text(row),
                    "label": labels[int(p.argmax())], "score": round(float(top[0]), 3),
                    "margin": round(float(top[0] - (top[1] if len(top) > 1 else 0.0)), 3)})
    out.sort(key=lambda r: (r["margin"], -r["id"]))
    return out[:limit]


def labelled(ctx: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The latest labels, newest first (who gave which label, from where)."""
    rows = label_store.labels(ctx.db, APP, TASK)[-limit:]
    return [{"created": r.created, "text": r.text, "label": r.label, "who": r.who, "source": r.source}
            for r in reversed(rows)]
