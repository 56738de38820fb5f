"""The support app's web UI (Gradio): customer chat, agent inbox, analytics.

- Chat: the conversation with the sources under each answer, thumbs up/down on bot answers,
  and a banner when the conversation has been handed to a person (agent replies appear here,
  polled every few seconds). Customer and agent text is HTML-escaped: a ``<script>`` shows as text.
- Agent inbox (log in with the admin credentials, ``apps.auth``): open tickets with the whole
  conversation and the extracted slots, a reply box that posts into the customer's chat, close.
- Analytics (same login): containment rate, hand-overs by reason, feedback, top intents,
  questions the bot could not answer.

Models load on first use, not at import. Run alone with ``python -m apps.support.ui``.
"""

from __future__ import annotations

import functools
import html
import logging

import gradio as gr

from apps import auth
from apps.support import analytics
from apps.support.bot import get_bot
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
HANDED = "> **Handed to a human**: ticket #{ticket} is open; an agent will reply in this chat."
PRIVATE = "private"  # agent-side and UI-plumbing events are not callable through the Gradio API
CLOSED = "> Ticket closed by an agent. Ask me anything else."


def _esc(text: str) -> str:
    """Customer/agent text shown as text: ``<script>`` becomes ``&lt;script&gt;``."""
    return html.escape(text, quote=False)


def _safe(fn, outputs: int = 1):
    """Run a UI handler: user errors become a warning toast, bugs are logged, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except LorasuiteError as err:
            gr.Warning(str(err))
        except Exception:  # noqa: BLE001 - nothing may reach the browser as a traceback
            log.exception("support UI handler %s failed", fn.__name__)
            gr.Warning("Something went wrong; it has been logged. Please try again.")
        return None if outputs == 0 else gr.skip() if outputs == 1 else tuple(gr.skip() for _ in range(outputs))
    return wrapper


def _bot_content(text: str, sources: list[dict]) -> str:
    cited = "\n".join(f"- {_esc(s['title'])} › {_esc(s['section'])} `{s['url']}`" for s in sources)
    return text + (f"\n\n**Sources**\n{cited}" if cited else "")


def history_of(conversation_id: int) -> tuple[list[dict], list[int | None], str]:
    """The chat (messages format), the bot message id per row (for feedback) and the banner."""
    store = get_bot().store
    chat, ids = [], []
    for m in store.messages(conversation_id):
        if m["role"] == "user":
            chat.append({"role": "user", "content": _esc(m["text"]) or "_(empty message)_"})
        elif m["role"] == "agent":
            chat.append({"role": "assistant", "content": f"**Agent:** {_esc(m['text'])}"})
        else:
            chat.append({"role": "assistant", "content": _bot_content(m["text"], m["sources"])})
        ids.append(m["id"] if m["role"] == "bot" else None)
    return chat, ids, _banner(conversation_id)


def _banner(conversation_id: int | None) -> str:
    if conversation_id is None:
        return ""
    store = get_bot().store
    status = store.conversation(conversation_id)["status"]
    if status == "handed_over":
        tickets = [t for t in store.tickets("open") if t["conversation_id"] == conversation_id]
        return HANDED.format(ticket=tickets[0]["id"] if tickets else "?")
    return CLOSED if status == "closed" else ""


def respond(message: str, conversation_id: int | None):
    """Answer one message; streams the generator's words when it is on."""
    bot = get_bot()
    reply = bot.ask(message, conversation_id, channel="web", generate=False)
    chat, ids, banner = history_of(reply.conversation_id)
    yield "", chat, reply.conversation_id, ids, banner
    if bot.generator.applies(reply):
        text = ""
        for text in bot.generator.stream(reply.text, reply.grounding):
            chat[-1] = {"role": "assistant", "content": _bot_content(text, reply.sources)}
            yield "", chat, reply.conversation_id, ids, banner
        if text.strip() and "HANDOVER" not in text:
            bot.store.update_text(reply.message_id, text.strip())
        chat, ids, banner = history_of(reply.conversation_id)
        yield "", chat, reply.conversation_id, ids, banner


def rate(ids: list, data: gr.LikeData) -> None:
    index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
    message_id = ids[index] if 0 <= index < len(ids) else None
    if message_id is None:
        gr.Info("Only the bot's answers can be rated.")
        return
    get_bot().store.feedback(message_id, 1 if data.liked in (True, "Like") else -1)
    gr.Info("Thanks for the feedback.")


def poll(conversation_id: int | None, ids: list):
    """Pick up agent replies while a conversation is with a person."""
    if conversation_id is None or get_bot().store.conversation(conversation_id)["status"] == "bot":
        return gr.skip(), gr.skip(), gr.skip()
    chat, new_ids, banner = history_of(conversation_id)
    return (chat, new_ids, banner) if len(new_ids) != len(ids) else (gr.skip(), gr.skip(), banner)


def _chat_tab() -> None:
    banner = gr.Markdown()
    chat = gr.Chatbot(label="Northwind Bank support", height=460, feedback_options=("Like", "Dislike"),
                      value=[{"role": "assistant", "content": "Hi! Ask me about your cards, payments, "
                              "transfers or account. Type *agent* at any time to reach a person."}])
    with gr.Row():
        box = gr.Textbox(placeholder="e.g. I lost my card", show_label=False, scale=5, max_length=100_000)
        send = gr.Button("Send", variant="primary", scale=1)
    new = gr.Button("New conversation", size="sm")
    conversation, ids = gr.State(None), gr.State([None])
    outputs = [box, chat, conversation, ids, banner]
    handler = _safe_stream(respond)
    box.submit(handler, [box, conversation], outputs)
    send.click(handler, [box, conversation], outputs, api_visibility=PRIVATE)
    chat.like(_safe(rate, 0), [ids], None, api_visibility=PRIVATE)
    new.click(lambda: ("", [], None, [], ""), None, outputs, api_visibility=PRIVATE)
    gr.Timer(4).tick(_safe(poll, 3), [conversation, ids], [chat, ids, banner], api_visibility=PRIVATE)


def _safe_stream(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        try:
            yield from fn(*args)
        except Exception:  # noqa: BLE001 - bot.ask never raises; this guards the UI plumbing
            log.exception("support chat failed")
            gr.Warning("Something went wrong; it has been logged. Please try again.")
    return wrapper


# --- agent side ---------------------------------------------------------------------------------
def login(user: str, password: str):
    ok = auth.check(user, password)
    if not ok:
        gr.Warning("Wrong user name or password.")
    return ok, gr.update(visible=ok), gr.update(visible=ok), gr.update(visible=not ok), ""


def _need(agent: bool) -> None:
    if not agent:
        raise LorasuiteError("log in first (Agent inbox tab)")


def ticket_choices(agent: bool):
    _need(agent)
    tickets = get_bot().store.tickets("open")
    choices = [(f"#{t['id']} · {t['reason']} · {t['summary'][:60]}", t["id"]) for t in tickets]
    return gr.update(choices=choices, value=choices[0][1] if choices else None)


def show_ticket(agent: bool, ticket_id: int | None):
    _need(agent)
    if ticket_id is None:
        return [], [], "No ticket selected."
    store = get_bot().store
    ticket = store.ticket(int(ticket_id))
    chat, _, _ = history_of(ticket["conversation_id"])
    slots = [[m["id"], s.get("type", ""), s.get("text", ""), round(float(s.get("score", 0)), 2)]
             for m in store.messages(ticket["conversation_id"]) if m["role"] == "user" for s in m["slots"]]
    info = (f"Ticket #{ticket['id']} ({ticket['status']}), reason **{ticket['reason']}**, opened "
            f"{ticket['created']}, conversation #{ticket['conversation_id']}")
    return chat, slots, info


def agent_send(agent: bool, ticket_id: int | None, text: str):
    _need(agent)
    if ticket_id is None:
        raise LorasuiteError("pick a ticket first")
    get_bot().store.agent_reply(int(ticket_id), text)
    return ("",) + show_ticket(agent, ticket_id)


def agent_close(agent: bool, ticket_id: int | None):
    _need(agent)
    if ticket_id is None:
        raise LorasuiteError("pick a ticket first")
    get_bot().store.close_ticket(int(ticket_id))
    gr.Info(f"Ticket #{ticket_id} closed.")
    return ticket_choices(agent)


def _inbox_tab(agent: gr.State) -> list:
    with gr.Column() as login_box:
        gr.Markdown("Agents only: log in with the admin account.")
        user, password = gr.Textbox(label="User"), gr.Textbox(label="Password", type="password")
        go = gr.Button("Log in", variant="primary")
    with gr.Column(visible=False) as inbox:
        with gr.Row():
            tickets = gr.Dropdown(label="Open tickets", choices=[], scale=4)
            refresh = gr.Button("Refresh", scale=1)
        info = gr.Markdown()
        convo = gr.Chatbot(label="Conversation", height=360)
        slots = gr.Dataframe(headers=["message", "slot", "value", "score"], label="Extracted slots",
                             interactive=False)
        reply = gr.Textbox(label="Reply to the customer", lines=2)
        with gr.Row():
            send, close = gr.Button("Send reply", variant="primary"), gr.Button("Close ticket", variant="stop")
    refresh.click(_safe(ticket_choices), [agent], [tickets], api_visibility=PRIVATE)
    tickets.change(_safe(show_ticket, 3), [agent, tickets], [convo, slots, info], api_visibility=PRIVATE)
    send.click(_safe(agent_send, 4), [agent, tickets, reply], [reply, convo, slots, info], api_visibility=PRIVATE)
    close.click(_safe(agent_close), [agent, tickets], [tickets], api_visibility=PRIVATE)
    return [user, password, go, inbox, login_box, tickets]


def analytics_view(agent: bool):
    _need(agent)
    import pandas as pd

    s = analytics.summary(get_bot().store)
    rate_text = "n/a" if s["containment"] is None else f"{s['containment']:.0%}"
    reasons = ", ".join(f"{r['reason']} {r['n']}" for r in s["handover_reasons"]) or "none"
    text = (f"**Containment** {rate_text} of {s['conversations']} conversations · **Hand-overs** "
            f"{s['handed_over']} ({reasons}) · **Open tickets** {s['open_tickets']} · **Feedback** "
            f"{s['thumbs_up']} up, {s['thumbs_down']} down")
    intents = pd.DataFrame(s["top_intents"] or [], columns=["intent", "n"])
    unanswered = [[u["created"], u["text"][:200], u["intent"] or "", u["reason"]] for u in s["unanswered"]]
    return text, intents, unanswered


def _analytics_tab(agent: gr.State) -> list:
    with gr.Column(visible=False) as panel:
        refresh = gr.Button("Refresh")
        numbers = gr.Markdown()
        intents = gr.BarPlot(x="intent", y="n", title="Top intents", x_label_angle=-35, height=320, y_lim=[0, None])
        unanswered = gr.Dataframe(headers=["when", "question", "intent guess", "why"], interactive=False,
                                  label="Unanswered questions (handed over or thumbs down)")
    note = gr.Markdown("Log in on the Agent inbox tab to see the analytics.")
    refresh.click(_safe(analytics_view, 3), [agent], [numbers, intents, unanswered], api_visibility=PRIVATE)
    return [panel, note, refresh, numbers, intents, unanswered]


def _quiet(fn, outputs: int):
    """Run ``fn`` only for a logged-in agent (no warning otherwise: the login already said why)."""
    safe = _safe(fn, outputs)

    def wrapper(agent: bool):
        return safe(agent) if agent else (gr.skip() if outputs == 1 else tuple(gr.skip() for _ in range(outputs)))
    return wrapper


def build() -> gr.Blocks:
    """The support UI; nothing is loaded until the first request."""
    with gr.Blocks(title="Northwind Bank support") as demo:
        agent = gr.State(False)
        with gr.Tab("Chat"):
            _chat_tab()
        with gr.Tab("Agent inbox"):
            user, password, go, inbox, login_box, tickets = _inbox_tab(agent)
        with gr.Tab("Analytics"):
            panel, note, _, numbers, intents, unanswered = _analytics_tab(agent)
        go.click(_safe(login, 5), [user, password], [agent, inbox, panel, login_box, password],
                 api_visibility=PRIVATE).then(_quiet(ticket_choices, 1), [agent], [tickets], api_visibility=PRIVATE).then(
            _quiet(analytics_view, 3), [agent], [numbers, intents, unanswered], api_visibility=PRIVATE)
        agent.change(lambda ok: gr.update(visible=not ok), [agent], [note], api_visibility=PRIVATE)
    return demo


if __name__ == "__main__":
    from apps.config import load_config
    from apps.support import start

    start(load_config())
    build().launch()
