"""Progress bars for long jobs, tied to the log level (the sentence-transformers convention).

A bar shows when library logging is at INFO or below (the ``lorasuite`` CLI's default) and stderr
is a terminal (tqdm's ``disable=None``). ``LORASUITE_PROGRESS=0`` turns bars off, ``=1`` forces
them on (e.g. in a CI log). Bars go to stderr and never to a log file.

    with progress("embedding passages"):   # every shared.inference.run_batched call inside shows a bar
        backbone.encode(texts)
    for row in bar(rows, desc="classify", unit="text"):
        ...
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

_DESC: ContextVar[str | None] = ContextVar("lorasuite_progress", default=None)
_OFF, _ON = ("0", "false", "no", "off"), ("1", "true", "yes", "on")


def disable() -> bool | None:
    """tqdm's ``disable``: True (no bar), False (forced on) or None (a bar only on a terminal)."""
    flag = os.environ.get("LORASUITE_PROGRESS", "").strip().lower()
    if flag in _OFF:
        return True
    if flag in _ON:
        return False
    return None if logging.getLogger("shared").isEnabledFor(logging.INFO) else True


def off() -> bool:
    """``disable()`` resolved to a bool, for libraries that take one (transformers' ``disable_tqdm``)."""
    value = disable()
    return (not sys.stderr.isatty()) if value is None else value


def bar(iterable: Iterable | None = None, **kwargs: Any):
    """A tqdm bar (``desc``, ``total``, ``unit`` ...) that follows ``disable()``; a no-op when off."""
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", disable())
    kwargs.setdefault("mininterval", 1.0)
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)


@contextlib.contextmanager
def progress(desc: str) -> Iterator[None]:
    """Within the block, batched inference (``run_batched``) shows a bar labelled ``desc``."""
    token = _DESC.set(desc)
    try:
        yield
    finally:
        _DESC.reset(token)


def current() -> str | None:
    """The label set by the innermost ``progress`` block, if any."""
    return _DESC.get()


def scoped_bar(total: int, unit: str = "text", desc: str | None = None):
    """A bar labelled ``desc`` or by the enclosing ``progress`` block; a no-op outside both."""
    label = desc or current()
    return bar(total=total, desc=label, unit=unit, **({"disable": True} if label is None else {}))
