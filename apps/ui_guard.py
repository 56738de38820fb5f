"""The one guard for Gradio handlers of logged-in pages: who is calling, and what a failure shows.

    from apps.ui_guard import logged_in, who
    button.click(logged_in(functools.partial(save, svc), outputs=2), inputs, outputs)
    ...
    def save(svc, text, request: gr.Request = None): store(text, who(request))

``logged_in`` refuses anonymous calls, shows a ``LorasuiteError`` as a warning toast (escaped:
toasts render HTML and the message may quote what a user typed), logs anything else and shows a
short notice, so no traceback reaches the page; on failure the outputs are left as they were.
"""

from __future__ import annotations

import functools
import inspect
import logging
from html import escape
from typing import Any

import gradio as gr

from shared.errors import LorasuiteError

log = logging.getLogger(__name__)


def who(request: gr.Request | None) -> str:
    """The logged-in user of a request; a LorasuiteError when there is none."""
    user = getattr(request, "username", None) if request is not None else None
    if not user:
        raise LorasuiteError("log in first")
    return str(user)


def logged_in(fn, outputs: int = 1):
    """``fn`` for logged-in users only, failures shown as above. ``fn`` takes a ``request``
    parameter; the wrapper keeps its signature (it may be a partial, with no hints of its own) and
    annotates ``request`` so that Gradio passes the request there."""
    at = list(inspect.signature(fn).parameters).index("request")

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        request = kwargs.get("request", args[at] if len(args) > at else None)
        try:
            who(request)
            return fn(*args, **kwargs)
        except LorasuiteError as err:
            gr.Warning(escape(str(err)))
        except Exception:  # noqa: BLE001 - logged; the page gets a notice, not a traceback
            log.exception("handler %s failed", getattr(fn, "__name__", fn))
            gr.Warning("Something went wrong; it has been logged.")
        return gr.skip() if outputs == 1 else tuple(gr.skip() for _ in range(outputs))
    wrapper.__annotations__ = {"request": gr.Request}
    return wrapper
