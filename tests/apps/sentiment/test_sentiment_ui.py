"""The dashboard: builds without loading models, refuses anonymous use, shows feed text as text."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sentiment_helpers import add_items, spike_rows

from apps.sentiment import alerts, dashboard, ui
from apps.ui_guard import logged_in, who
from shared.errors import LorasuiteError

START = datetime(2026, 10, 5, tzinfo=timezone.utc)
ANA = SimpleNamespace(username="ana")


@pytest.fixture
def svc(db, ctx):
    """The context's sentiment service (not started: no scheduler)."""
    from apps.sentiment.app import service_of

    return service_of(ctx)


@pytest.fixture
def stocked(db, svc):
    rows = spike_rows(START)
    rows.append(("Acme", START + timedelta(days=3), "negative", "<script>alert('x')</script> Acme <b>falls</b>"))
    add_items(db, rows)
    alerts.check(db, now=START + timedelta(days=15), settings={})
    return db


def test_build_makes_blocks_without_importing_torch():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, apps.sentiment.ui as u; from apps.context import AppContext; d = u.build(AppContext.create()); "
            "print(type(d).__name__, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.split()[-2:] == ["Blocks", "False"], out.stderr[-2000:]


def test_handlers_need_a_logged_in_user(stocked, svc):
    import inspect

    wrapped = logged_in(functools.partial(ui.alert_panel, svc), 3)
    assert list(inspect.signature(wrapped).parameters) == ["show_all", "request"]  # what Gradio inspects
    for anonymous in (None, SimpleNamespace(username=None)):
        skipped = wrapped(False, anonymous)
        assert all(type(s).__name__ != "DataFrame" for s in skipped)
    assert all(type(s).__name__ == "DataFrame" for s in wrapped(False, ANA))
    frame, csv_path = logged_in(functools.partial(ui.backtest, svc), 2)(ANA, *ui.rule_values(svc, request=ANA))
    assert type(frame).__name__ == "DataFrame" and csv_path.endswith("backtest.csv")
    with pytest.raises(LorasuiteError, match="log in"):
        who(None)


def test_overview_trend_and_headlines_for_a_user(stocked, svc):
    out = ui.overview(svc, None, 6, 28, False, request=ANA)
    assert "open alerts" in out[0] and out[1]["value"] == "Acme"
    fig = out[2]
    assert fig.axes and "Acme" in fig.axes[0].get_title()
    heads = ui.headlines(svc, "Acme", "negative", request=ANA)
    scary = heads[heads["title"].str.contains("script")]
    assert scary.iloc[0]["title"] == "<script>alert('x')</script> Acme <b>falls</b>"  # plain text, as stored
    assert set(heads["label"]) == {"negative"}


def test_acknowledge_silence_and_evidence_through_the_ui(stocked, svc):
    (alert,) = alerts.list_alerts(stocked, open_only=True)
    table, _, _ = ui.acknowledge(svc, alert["id"], "seen", False, request=ANA)
    assert table.empty
    assert alerts.list_alerts(stocked)[0]["acked_by"] == "ana"
    assert not ui.evidence(svc, alert["id"], request=ANA).empty
    _, silences, _ = ui.silence(svc, "Acme", "2d", "quiet week", True, request=ANA)
    assert list(silences["who"]) == ["ana"]


def test_watchlist_editor_and_thresholds(stocked, svc):
    with pytest.raises(LorasuiteError, match="line 3"):
        ui.save_watchlist_text(svc, "topic,aliases\nAcme,Acme|$ACME\n,oops\n", request=ANA)
    text = ui.save_watchlist_text(svc, "topic,aliases\nAcme Corp,Acme|$ACME\n", request=ANA)
    assert "Acme Corp" in text
    assert dashboard.topic_choices(stocked) == ["Acme Corp"]  # stored headlines re-tagged
    values = ui.rule_values(svc, request=ANA)
    values[ui.RULE_FIELDS.index("min_negative")] = 50
    assert ui.save_rules(svc, ANA, *values)[ui.RULE_FIELDS.index("min_negative")] == 50
    assert ui.backtest(svc, ANA, *values)[0].empty
    values[ui.RULE_FIELDS.index("min_negative")] = 3
    assert not ui.backtest(svc, ANA, *values)[0].empty
    timeline, alerts_csv = ui.alert_timeline(svc, request=ANA)
    assert set(timeline.columns) == {"fired_at", "topic", "severity", "negative"} and "Acme" in set(timeline["topic"])
    assert open(alerts_csv, encoding="utf-8-sig").readline().startswith("id,fired_at,severity,topic")
    assert "Acme" in open(ui.headlines_csv(svc, "", "", request=ANA), encoding="utf-8-sig").read()


def test_feed_editor(db, svc):
    table, _ = ui.add_feed(svc, "wire", "https://example.com/rss", 300, request=ANA)
    assert list(table["name"]) == ["wire"]
    with pytest.raises(LorasuiteError, match="url"):
        ui.add_feed(svc, "bad", "ftp://x", 300, request=ANA)
    table, _ = ui.remove_feed(svc, "wire", request=ANA)
    assert table.empty
