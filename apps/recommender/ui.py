"""The recommender's page (Gradio): your own profile, typed interests; like, dislike, more like this.

Every visitor has a profile of their own: a random id (128 bits) kept in the browser's local
storage, under which likes and dislikes are stored (they are interactions like any other, so they
also feed the next retraining). A visitor sees and changes only that profile. In demo mode
(``[recommender] demo_readers``; unset = on unless production) the shipped demo readers can be
picked too, to show what a long history does. The first load shows popular picks. Cards show
title, a snippet and why the item is there; every text shown is HTML-escaped. Models load on the
first request, not at import. Served by ``lorasuite serve`` at ``/recommender/``.
"""

from __future__ import annotations

import functools
import html
import logging
import secrets
from datetime import datetime, timezone

import gradio as gr

from apps.recommender.store import VISITOR
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
SLOTS = 8
YOU = "(you: your own likes)"
EXAMPLE = "slow-burn space opera with a strong heroine"
CARD = ("<div style='border:1px solid #d0d7de;border-radius:8px;padding:10px;min-height:150px'>"
        "<div style='font-weight:600'>{title}</div><div style='color:#57606a;font-size:0.85em'>{byline}</div>"
        "<div style='margin:6px 0;font-size:0.9em'>{snippet}</div>"
        "<div style='color:#0969da;font-size:0.85em'>{reason}</div></div>")


def card_html(card) -> str:
    """One card; every field escaped (item text is data, never markup)."""
    byline = " · ".join(str(card.meta[k]) for k in ("author", "year") if card.meta.get(k))
    return CARD.format(title=html.escape(card.title), byline=html.escape(byline), snippet=html.escape(card.snippet),
                       reason=html.escape(card.reason))


def visitor_id(token: str | None) -> str:
    """The profile id of a browser (a fresh one when the browser has none or a malformed one)."""
    token = token if isinstance(token, str) and 20 <= len(token) <= 64 and token.replace("-", "").replace(
        "_", "").isalnum() else secrets.token_urlsafe(16)
    return token


def who(svc, reader: str | None, token: str) -> str:
    """The user the page acts for: a demo reader (demo mode only) or this browser's own profile."""
    if reader and reader != YOU:
        if not svc.demo_readers:
            raise LorasuiteError("demo readers are off here: recommendations come from your own likes")
        if reader.startswith(VISITOR) or reader not in svc.engine().histories:
            raise LorasuiteError(f"no demo reader {reader!r}")
        return reader
    return VISITOR + token


def history_html(svc, user: str) -> str:
    """The user's recent history, newest first."""
    engine, lines = svc.engine(), []
    for _, title, value, ts in engine.user_events(user)[:12]:
        day = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")
        mark = f"{value:g}★" if not user.startswith(VISITOR) else ("👍" if value > 2.5 else "👎")
        lines.append(f"{mark} {html.escape(title)} <small>{day}</small>")
    return "<br>".join(lines) or "<i>No history yet: popular picks, or type what you like.</i>"


def _outputs(svc, heading: str, status: str, cards: list, user: str) -> list:
    from apps.exports import csv_file

    shown = [c.item_id for c in cards]
    slots = [card_html(cards[i]) if i < len(cards) else "" for i in range(SLOTS)]
    groups = [gr.update(visible=i < len(cards)) for i in range(SLOTS)]
    listing = csv_file("recommendations", ["rank", "item_id", "title", "score", "why"],
                       [[n, c.item_id, c.title, round(c.score, 4), c.reason] for n, c in enumerate(cards, start=1)])
    return [heading, status, history_html(svc, user), shown, *slots, *groups, listing]


OUTPUTS = 5 + 2 * SLOTS


def _guard(fn, outputs: int = OUTPUTS):
    """Run a handler; user errors become a warning, anything else a short notice (logged)."""
    @functools.wraps(fn)
    def run(*args):
        try:
            return fn(*args)
        except LorasuiteError as err:
            gr.Warning(html.escape(str(err)))
        except Exception:  # noqa: BLE001 - no traceback reaches the page
            log.exception("recommender page error")
            gr.Warning("Something went wrong on our side; the error is logged.")
        return gr.update() if outputs == 1 else [gr.update()] * outputs
    return run


def recommend(svc, reader: str | None, interest: str, token: str) -> list:
    """Recommendations for the profile and/or the typed interests (popular picks without either)."""
    user = who(svc, reader, token)
    cards = svc.engine().for_user(user, SLOTS, interest=interest)
    mine = user.startswith(VISITOR)
    heading = f"### Recommended for {'you' if mine else '**' + html.escape(user) + '**'}" + (
        f" · interests: *{html.escape(interest.strip())}*" if (interest or "").strip() else "")
    return _outputs(svc, heading, "", cards, user)


def feedback(svc, slot: int, liked: bool, reader: str | None, interest: str, token: str, shown: list) -> list:
    """Like / dislike the card in ``slot`` (stored under the profile), then redraw."""
    if slot >= len(shown or []):
        raise LorasuiteError("that card is empty")
    user = who(svc, reader, token)
    if not user.startswith(VISITOR):
        raise LorasuiteError("demo readers' histories are read-only: pick 'you' to like or dislike")
    item_id = shown[slot]
    svc.record_feedback(user, item_id, liked)
    out = recommend(svc, reader, interest, token)
    engine = svc.engine()
    out[1] = f"{'Liked' if liked else 'Disliked'} *{html.escape(engine.items[engine.positions[item_id]].title)}*."
    return out


def more_like(svc, slot: int, reader: str | None, token: str, shown: list) -> list:
    """Items like the card in ``slot`` (the profile's seen items left out)."""
    if slot >= len(shown or []):
        raise LorasuiteError("that card is empty")
    engine, item_id, user = svc.engine(), shown[slot], who(svc, reader, token)
    seen = [engine.items[i].item_id for i in engine.history(user).items]
    cards = engine.more_like(item_id, SLOTS, exclude=seen)
    title = engine.items[engine.positions[item_id]].title
    return _outputs(svc, f"### More like *{html.escape(title)}*", "", cards, user)


def first_load(svc, token: str | None) -> list:
    """This browser's id (kept in its local storage), the reader choices, popular picks."""
    token = visitor_id(token)
    readers = [YOU] + ([u for u in svc.store.users() if not u.startswith(VISITOR)] if svc.demo_readers else [])
    return [token, gr.update(choices=readers, value=YOU, visible=svc.demo_readers),
            *recommend(svc, YOU, "", token)]


def _cards() -> tuple[list, list, list]:
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
    return slots, groups, buttons


def build(ctx) -> gr.Blocks:
    """The page; models load on the first request."""
    from apps.recommender.app import service_of

    svc = service_of(ctx)
    bind = functools.partial
    with gr.Blocks(title="lorasuite recommender") as demo:
        gr.Markdown("## Book recommender\nType what you like, or like and dislike books: 👍 / 👎 change the "
                    "list at once; *more like this* explores from one book.")
        token, shown = gr.BrowserState(None, storage_key="lorasuite-recommender-visitor"), gr.State([])
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                reader = gr.Dropdown([YOU], value=YOU, label="Profile (demo readers in demo mode)",
                                     visible=False)
                interest = gr.Textbox(label="Interests", placeholder=EXAMPLE, lines=2)
                go = gr.Button("Recommend", variant="primary")
                status = gr.Markdown()
                gr.Markdown("#### History")
                history = gr.HTML()
            with gr.Column(scale=3):
                heading = gr.Markdown("### Recommendations")
                slots, groups, buttons = _cards()
                listing = gr.DownloadButton("Download this list (CSV)", size="sm")
        outputs = [heading, status, history, shown, *slots, *groups, listing]
        for trigger in (go.click, interest.submit):
            trigger(_guard(bind(recommend, svc)), [reader, interest, token], outputs)
        reader.change(_guard(bind(recommend, svc)), [reader, interest, token], outputs)
        for i, (up, down, more) in enumerate(buttons):
            up.click(_guard(bind(feedback, svc, i, True)), [reader, interest, token, shown], outputs)
            down.click(_guard(bind(feedback, svc, i, False)), [reader, interest, token, shown], outputs)
            more.click(_guard(bind(more_like, svc, i)), [reader, token, shown], outputs)
        demo.load(_guard(bind(first_load, svc), 2 + len(outputs)), [token], [token, reader, *outputs])
    return demo
