"""The admin views' Model tab: it builds, shows versions, and promotes / rolls back for a logged-in user."""

from __future__ import annotations

import json
from types import SimpleNamespace

import gradio as gr
import pytest

from apps import adapters_ui
from apps.ui_guard import logged_in
from shared import adapters, registry
from tests.retrain_helpers import make_champion


@pytest.fixture
def tiny_ctx(tiny_bert, tmp_path, make_ctx):
    """sentiment/tiny with v1 (champion) and v2 (a rejected challenger), configured as the sentiment adapter."""
    v1 = make_champion(tiny_bert, tmp_path)
    trained = adapters.TrainedAdapter(_peft(v1), _head(v1), dict(json.loads((v1 / "meta.json").read_text()),
                                      metrics={"old_dev_macro_f1": 0.5, "new_dev_macro_f1": 0.7}))
    adapters.save("sentiment", "tiny", trained, status="rejected", parent=1, reason="rejected: not significant")
    return make_ctx(sentiment={"adapter": "sentiment/tiny", "demo_feeds": False})


def _peft(path):
    from shared.continual import load_classifier

    return load_classifier(path, trainable=False)[0].encoder


def _head(path):
    from safetensors.torch import load_file

    return load_file(str(path / "head.safetensors"))


def test_the_component_builds_inside_any_admin_page(ctx):
    with gr.Blocks() as demo:
        with gr.Tab("Model"):
            outputs = adapters_ui.model_tab(ctx, "sentiment", load_on=demo.load)
    assert len(outputs) == 5


def test_view_shows_versions_curve_report_and_drift(tiny_ctx):
    header, rows, curve, report, drift_rows = adapters_ui.view(tiny_ctx, "sentiment")
    assert "sentiment/tiny" in header and "champion **v1**" in header and "Drift: not measured" in header
    assert [(r[0], r[1]) for r in rows] == [(2, "rejected"), (1, "champion")]
    assert rows[0][4] == 0.5 and rows[0][5] == 0.7 and "not significant" in rows[0][6]
    assert curve is None or curve.endswith("training_curve.png")
    assert report == "no retrain yet" and drift_rows == []


def test_promote_and_roll_back_from_the_handlers(tiny_ctx):
    who = SimpleNamespace(username="ana")
    header, rows, *_ = adapters_ui._promote(tiny_ctx, "sentiment", 2.0, request=who)
    assert registry.resolve("sentiment/tiny").version == 2 and "champion **v2**" in header
    assert registry.history("sentiment", "tiny")[-1]["reason"] == "promoted by ana in the admin page"
    header, *_ = adapters_ui._rollback(tiny_ctx, "sentiment", request=who)
    assert registry.resolve("sentiment/tiny").version == 1 and "champion **v1**" in header


def test_handlers_refuse_anonymous_calls(tiny_ctx):
    wrapped = logged_in(lambda version=None, request=None: adapters_ui.promote(tiny_ctx, "sentiment", version, "x"), 5)
    with pytest.warns(UserWarning):
        out = wrapped(2.0, request=None)
    assert len(out) == 5 and registry.resolve("sentiment/tiny").version == 1
