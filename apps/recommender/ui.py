"""The recommender's demo page (Gradio): pick a user or type interests; like, dislike, more like this.

Cards show title, a snippet and why the item is there. A like or dislike is folded in at once
(stored as feedback for a picked user, kept for the session otherwise) and the list is redrawn;
"more like this" shows the items closest to one card. Models load on the first request, not at
import. Every text shown is HTML-escaped.

    python -m apps.recommender.ui          # this page alone on http://127.0.0.1:7860
    lorasuite serve                        # the whole suite, this page at /recommend
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timezone

import gradio as gr

from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
SLOTS = 8
NOBODY = "(nobody: typed interests only)"
EXAMPLE = "slow-burn space opera with a strong heroine"
CARD = ("<div style='border:1px solid #d0d7de;border-radius:8px;padding:10px;min-height:150px'>"
        "<div style='font-weight:600'>{title}</div><div style='color:#57606a;font-size:0.85em'>{byline}</div>"
        "<div style='margin:6px 0;font-size:0.9em'>{snippet}</div>"
        "<div style='color:#0969da;font-size:0.85em'>{reason}</div></div>")


def _engine():
    from apps.recommender.service import get_engine

    return get_engine()


def card_html(card) -> str:
    """One card; every field escaped (item text is data, never markup)."""
    byline = " · ".join(str(card.meta[k]) for k in ("author", "year") if card.meta.get(k))
    return CARD.format(title=html.escape(card.title), byline=html.escape(byline), snippet=html.escape(card.snippet),
                       reason=html.escape(card.reason))


def history_html(user: str | None, session: list) -> str:
    """The picked user's recent history (and this session's likes), newest first."""
    if not user and not session:
        return "<i>No history: recommendations come from the typed interests, or popular items.</i>"
    engine, lines = _engine(), []
    for item_id, pref in reversed(session):
        title = engine.items[engine.positions[item_id]].title if item_id in engine.positions else item_id
        lines.append(f"{'👍' if pref > 0 else '👎'} {html.escape(title)} <small>(this session)</small>")
    for _, title, value, ts in engine.user_events(user)[:12] if user else []:
        day = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")
        lines.append(f"{value:g}★ {html.escape(title)} <small>{day}</small>")
    return "<br>".join(lines) or "<i>This user has no history yet.</i>"


def _outputs(heading: str, status: str, cards: list, user: str | None, session: list) -> list:
    shown = [c.item_id for c in cards]
    slots = [card_html(cards[i]) if i < len(cards) else "" for i in range(SLOTS)]
    groups = [gr.update(visible=i < len(cards)) for i in range(SLOTS)]
    return [heading, status, history_html(user, session), shown, session, *slots, *groups]


def _guard(fn, outputs: int = 5 + 2 * SLOTS):
    """Run a handler; user errors become a warning, anything else a short notice (logged)."""
    def run(*args):
        try:
            return fn(*args)
        except LorasuiteError as err:
            gr.Warning(str(err))
        except Exception:  # noqa: BLE001 - no traceback reaches the page
            log.exception("recommender page error")
            gr.Warning("Something went wrong on our side; the error is logged.")
        return gr.update() if outputs == 1 else [gr.update()] * outputs
    return run


def recommend(user: str | None, interest: str, session: list) -> list:
    """Recommendations for the picked user and/or the typed interests."""
    user = None if user in (None, "", NOBODY) else user
    session = list(session or [])
    cards = _engine().for_user(user, SLOTS, interest=interest, session=session)
    who = f"**{html.escape(user)}**" if user else "you"
    heading = f"### Recommended for {who}" + (f" · interests: *{html.escape(interest.strip())}*"
                                              if (interest or "").strip() else "")
    return _outputs(heading, "", cards, user, session)


def feedback(slot: int, liked: bool, user: str | None, interest: str, session: list, shown: list) -> list:
    """Like / dislike the card in ``slot``: stored for a user, kept in the session otherwise; redraw."""
    from apps.recommender.service import record_feedback

    if slot >= len(shown or []):
        raise LorasuiteError("that card is empty")
    item_id, session = shown[slot], list(session or [])
    user = None if user in (None, "", NOBODY) else user
    if user:
        record_feedback(user, item_id, liked)
    else:
        session = [s for s in session if s[0] != item_id] + [(item_id, 1.0 if liked else -1.0)]
    out = recommend(user, interest, session)
    engine = _engine()
    out[1] = f"{'Liked' if liked else 'Disliked'} *{html.escape(engine.items[engine.positions[item_id]].title)}*."
    return out


def more_like(slot: int, user: str | None, session: list, shown: list) -> list:
    """Items like the card in ``slot`` (the user's seen items left out)."""
    if slot >= len(shown or []):
        raise LorasuiteError("that card is empty")
    engine, item_id = _engine(), shown[slot]
    user = None if user in (None, "", NOBODY) else user
    seen = [engine.items[i].item_id for i in engine.history(user, list(session or [])).items]
    cards = engine.more_like(item_id, SLOTS, exclude=seen)
    title = engine.items[engine.positions[item_id]].title
    return _outputs(f"### More like *{html.escape(title)}*", "", cards, user, list(session or []))


def user_choices() -> dict:
    """The dropdown's users (read from the database, no model needed)."""
    from apps.recommender.store import Store

    return gr.update(choices=[NOBODY, *Store().users()])


def build() -> gr.Blocks:
    """The page; models load on the first request."""
    with gr.Blocks(title="lorasuite recommender") as demo:
        gr.Markdown("## Book recommender\nPick a reader to see their history, or type what you like. "
                    "👍 / 👎 change the list at once; *more like this* explores from one book.")
        shown, session = gr.State([]), gr.State([])
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                user = gr.Dropdown([NOBODY], value=NOBODY, label="Reader", allow_custom_value=True)
                interest = gr.Textbox(label="Interests", placeholder=EXAMPLE, lines=2)
                go = gr.Button("Recommend", variant="primary")
                status = gr.Markdown()
                gr.Markdown("#### History")
                history = gr.HTML()
            with gr.Column(scale=3):
                heading = gr.Markdown("### Recommendations")
                slots, groups, buttons = [], [], []
                for _row in range(SLOTS // 2):
                    with gr.Row():
                        for _col in range(2):
                            with gr.Column(visible=False) as group:
                                slots.append(gr.HTML())
                                with gr.Row(equal_height=True):
                                    buttons.append((gr.Button("👍 like", size="sm", min_width=70),
                                                    gr.Button("👎 dislike", size="sm", min_width=70),
                                                    gr.Button("more like this", size="sm", min_width=110)))
                            groups.append(group)
        outputs = [heading, status, history, shown, session, *slots, *groups]
        for trigger in (go.click, interest.submit):
            trigger(_guard(recommend), [user, interest, session], outputs)
        user.change(_guard(lambda u, t: recommend(u, t, [])), [user, interest], outputs)  # new reader: new session
        for i, (up, down, more) in enumerate(buttons):
            up.click(_guard(lambda u, t, s, sh, i=i: feedback(i, True, u, t, s, sh)),
                     [user, interest, session, shown], outputs)
            down.click(_guard(lambda u, t, s, sh, i=i: feedback(i, False, u, t, s, sh)),
                       [user, interest, session, shown], outputs)
            more.click(_guard(lambda u, s, sh, i=i: more_like(i, u, s, sh)), [user, session, shown], outputs)
        demo.load(_guard(user_choices, 1), None, [user])
    return demo


if __name__ == "__main__":
    from apps.recommender.service import start

    start()
    build().launch()
