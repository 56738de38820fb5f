"""The support app's customer page (Gradio): the chat.

The conversation with the sources under each answer, thumbs up/down on bot answers, and a banner
when the conversation has been handed to a person (agent replies appear here, polled every few
seconds). Customer and agent text is shown as plain text (``plain``): no HTML, no Markdown links
or images. The agent inbox and analytics are the admin page (``admin_ui.py``).

Models load on first use, not at import; the page is served by ``lorasuite serve``.
"""

from __future__ import annotations

import functools
import html
import logging
import re

import gradio as gr

from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
HANDED = "> **Handed to a human**: ticket #{ticket} is open; an agent will reply in this chat."
PRIVATE = "private"  # agent-side and UI-plumbing events are not callable through the Gradio API
CLOSED = "> Ticket closed by an agent. Ask me anything else."


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def plain(text: str) -> str:
    """Customer/agent text shown as typed: HTML escaped (``<script>`` is text) and Markdown
    metacharacters backslash-escaped (no links, images, headings or emphasis)."""
    return _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))


def _safe(fn, outputs: int = 1):
    """Run a UI handler: user errors become a warning toast, bugs are logged, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except LorasuiteError as err:
            gr.Warning(str(err))
        except Exception:  # noqa: BLE001 - nothing may reach the browser as a traceback
            log.exception("support UI handler %s failed", getattr(fn, "__name__", fn))
            gr.Warning("Something went wrong; it has been logged. Please try again.")
        return None if outputs == 0 else gr.skip() if outputs == 1 else tuple(gr.skip() for _ in range(outputs))
    return wrapper


def _bot_content(text: str, sources: list[dict]) -> str:
    cited = "\n".join(f"- [{plain(s['title'])} › {plain(s['section'])}]({_link(s['url'])})" for s in sources)
    return text + (f"\n\n**Sources**\n{cited}" if cited else "")


def _link(url: str) -> str:
    """A source link that can only go to our help centre or a public web page (never javascript:)."""
    return url if url.startswith(("/support/help/", "https://", "http://")) and " " not in url and ")" not in url \
        else "/support/"


def history_of(bot, conversation_id: int) -> tuple[list[dict], list[int | None], str]:
    """The chat (messages format), the bot message id per row (for feedback) and the banner."""
    store = bot.store
    chat, ids = [], []
    for m in store.messages(conversation_id):
        if m["role"] == "user":
            chat.append({"role": "user", "content": plain(m["text"]) or "_(empty message)_"})
        elif m["role"] == "agent":
            chat.append({"role": "assistant", "content": f"**Agent:** {plain(m['text'])}"})
        else:
            chat.append({"role": "assistant", "content": _bot_content(m["text"], m["sources"])})
        ids.append(m["id"] if m["role"] == "bot" else None)
    return chat, ids, _banner(bot, conversation_id)


def _banner(bot, conversation_id: int | None) -> str:
    if conversation_id is None:
        return ""
    store = bot.store
    status = store.conversation(conversation_id)["status"]
    if status == "handed_over":
        tickets = [t for t in store.tickets("open") if t["conversation_id"] == conversation_id]
        return HANDED.format(ticket=tickets[0]["id"] if tickets else "?")
    return CLOSED if status == "closed" else ""


def respond(bot, message: str, conversation: str | None, request: gr.Request = None):
    """Answer one message (the conversation is the customer's token, kept server-side in the
    session); streams the generator's words when it is on. Rate-limited per client address."""
    bot.check_rate(_address(request))
    reply = bot.ask(message, conversation, channel="web", generate=False)
    chat, ids, banner = history_of(bot, reply.conversation_row)
    yield "", chat, reply.conversation_id, ids, banner
    if bot.generator.applies(reply):
        text = ""
        for text in bot.generator.stream(reply.text, reply.grounding):
            chat[-1] = {"role": "assistant", "content": _bot_content(text, reply.sources)}
            yield "", chat, reply.conversation_id, ids, banner
        if text.strip() and "HANDOVER" not in text:
            bot.store.update_text(reply.message_id, text.strip())
        chat, ids, banner = history_of(bot, reply.conversation_row)
        yield "", chat, reply.conversation_id, ids, banner


def _address(request: gr.Request | None) -> str:
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


def rate(bot, ids: list, data: gr.LikeData) -> None:
    index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
    message_id = ids[index] if 0 <= index < len(ids) else None
    if message_id is None:
        gr.Info("Only the bot's answers can be rated.")
        return
    bot.store.feedback(message_id, 1 if data.liked in (True, "Like") else -1)
    gr.Info("Thanks for the feedback.")


def poll(bot, conversation: str | None, ids: list):
    """Pick up agent replies while a conversation is with a person."""
    conversation_id = bot.store.by_token(conversation) if conversation else None
    if conversation_id is None or bot.store.conversation(conversation_id)["status"] == "bot":
        return gr.skip(), gr.skip(), gr.skip()
    chat, new_ids, banner = history_of(bot, conversation_id)
    return (chat, new_ids, banner) if len(new_ids) != len(ids) else (gr.skip(), gr.skip(), banner)


def _chat_tab(bot) -> None:
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
    handler = _safe_stream(functools.partial(respond, bot))
    limit = bot.settings.chat_concurrency  # conversations answered at once (the micro-batcher groups them)
    box.submit(handler, [box, conversation], outputs, concurrency_limit=limit, concurrency_id="chat", api_name="respond")
    send.click(handler, [box, conversation], outputs, api_visibility=PRIVATE, concurrency_id="chat")
    chat.like(_safe(functools.partial(rate, bot), 0), [ids], None, api_visibility=PRIVATE)
    new.click(lambda: ("", [], None, [], ""), None, outputs, api_visibility=PRIVATE)
    gr.Timer(4).tick(_safe(functools.partial(poll, bot), 3), [conversation, ids], [chat, ids, banner],
                     api_visibility=PRIVATE, concurrency_limit=limit)


def _safe_stream(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        try:
            yield from fn(*args)
        except LorasuiteError as err:  # too many messages, a conversation that is gone
            gr.Warning(html.escape(str(err)))
        except Exception:  # noqa: BLE001 - bot.ask never raises; this guards the UI plumbing
            log.exception("support chat failed")
            gr.Warning("Something went wrong; it has been logged. Please try again.")
    wrapper.__annotations__ = {"request": gr.Request}  # Gradio finds the request by its type hint
    return wrapper


def build(ctx) -> gr.Blocks:
    """The customer chat; nothing is loaded until the first message. The agent inbox and the
    analytics are the admin page (``admin_ui.py``, behind the admin login)."""
    from apps.support.app import bot

    with gr.Blocks(title="Northwind Bank support") as demo:
        _chat_tab(bot(ctx))
    return demo
