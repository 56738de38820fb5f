"""The logged-in handler guard (apps/ui_guard.py): strangers get nothing done, messages stay text."""

import types

import gradio as gr
import pytest

from apps.ui_guard import logged_in, who
from shared.errors import LorasuiteError

ANA = types.SimpleNamespace(username="ana")


def test_an_anonymous_or_forged_request_runs_nothing():
    calls = []
    wrapped = logged_in(lambda x, request=None: calls.append(x) or "done", 1)
    for request in (None, types.SimpleNamespace(username=""), types.SimpleNamespace()):
        with pytest.warns(UserWarning, match="log in first"):
            assert isinstance(wrapped("x", request=request), type(gr.skip()))
    assert calls == []
    assert wrapped("x", request=ANA) == "done" and calls == ["x"] and who(ANA) == "ana"


def test_error_text_is_escaped_and_bugs_show_no_traceback(caplog):
    def bad_label(request=None):
        raise LorasuiteError("label '<img src=x onerror=alert(1)>' is not allowed")

    with pytest.warns(UserWarning) as shown:
        out = logged_in(bad_label, 2)(request=ANA)
    assert len(out) == 2 and "<img" not in str(shown[0].message) and "&lt;img" in str(shown[0].message)

    def bug(request=None):
        raise KeyError("secret internals")

    with pytest.warns(UserWarning) as shown:
        logged_in(bug)(request=ANA)
    assert "secret" not in str(shown[0].message) and "secret internals" in caplog.text
