"""The finance team's dashboard (Gradio): trends, headlines, alerts, feeds, watchlist, thresholds,
and the learning loop (relabel a headline, the labelling queue, the Model tab: ``learning_ui.py``).

Login is required: the launcher mounts ``build(ctx)`` behind the suite's admin login
(``apps.auth.Guard``). Every handler also refuses to run without a logged-in user
(``request.username``), which is who acknowledges or silences. Errors show as a warning, never
a traceback; feed text is shown as plain text. Served by ``lorasuite serve``.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
from dataclasses import fields
from html import escape
from typing import Any

import gradio as gr

from apps.sentiment import alerts, dashboard, feeds, learning_ui
from apps.sentiment.detector import Rules
from apps.sentiment.topics import Watch, save_watchlist
from apps.ui_guard import logged_in, who
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
RULE_FIELDS = [f.name for f in fields(Rules)]


def _frame(rows: list[list], cols: list[str]):
    import pandas as pd

    return pd.DataFrame(rows, columns=cols)


def overview(svc, topic: str | None, bucket: float, days: float, show_all: bool, request: gr.Request = None) -> tuple:
    """Everything the page shows, refreshed together."""
    db = svc.db
    choices = dashboard.topic_choices(db)
    topic = topic if topic in choices else (choices[0] if choices else None)
    return (dashboard.status_text(db), gr.update(choices=choices, value=topic),
            dashboard.trend_figure(db, topic, float(bucket or 6), float(days or 28)),
            _frame(dashboard.topic_rows(db), ["topic", "kind", "items", "negative", "negative share", "mean score"]),
            gr.update(choices=[""] + choices), *alert_panel(svc, show_all), _frame(dashboard.feed_rows(db), dashboard.FEED_COLS),
            gr.update(choices=[f["name"] for f in feeds.list_feeds(db)]), watchlist_text(svc))


def trend(svc, topic: str | None, bucket: float, days: float, request: gr.Request = None):
    return dashboard.trend_figure(svc.db, topic, float(bucket or 6), float(days or 28))


def headlines(svc, topic: str | None, label: str | None, request: gr.Request = None):
    rows = dashboard.headline_rows(svc.db, topic or None, label or None)
    return _frame(rows, dashboard.HEADLINE_COLS)


def headlines_csv(svc, topic: str | None, label: str | None, request: gr.Request = None) -> str:
    """The headlines shown, as a CSV file."""
    from apps.exports import csv_file

    return csv_file("headlines", dashboard.HEADLINE_COLS, dashboard.headline_rows(svc.db, topic or None, label or None,
                                                                                  limit=5000))


def alert_timeline(svc, request: gr.Request = None):
    """Every alert on one time axis, one row per topic, coloured by severity; and the CSV of all alerts."""
    from apps.exports import csv_file

    rows = dashboard.alert_rows(svc.db, open_only=False)
    frame = _frame([[r[1], r[3], r[2], r[4]] for r in rows], ["fired_at", "topic", "severity", "negative"])
    if not frame.empty:
        frame["fired_at"] = frame["fired_at"].astype("datetime64[ns, UTC]")
    return frame, csv_file("alerts", dashboard.ALERT_COLS, rows)


def alert_panel(svc, show_all: bool, request: gr.Request = None) -> tuple:
    db = svc.db
    return (_frame(dashboard.alert_rows(db, open_only=not show_all), dashboard.ALERT_COLS),
            _frame(dashboard.silence_rows(db), ["id", "topic", "until", "who", "why"]),
            _frame(dashboard.outbox_rows(db), ["id", "topic", "channel", "event", "attempts", "last error", "next attempt"]))


def evidence(svc, alert_id: float | None, request: gr.Request = None):
    return _frame(dashboard.evidence_rows(svc.db, int(alert_id) if alert_id else None), dashboard.EVIDENCE_COLS)


def acknowledge(svc, alert_id: float | None, note: str, show_all: bool, request: gr.Request = None) -> tuple:
    if not alert_id:
        raise LorasuiteError("enter the alert number to acknowledge")
    done = alerts.acknowledge(svc.db, int(alert_id), who(request), note)
    gr.Info(f"Alert #{done['id']} acknowledged.")
    return alert_panel(svc, show_all)


def silence(svc, topic: str, until: str, why: str, show_all: bool, request: gr.Request = None) -> tuple:
    done = alerts.silence(svc.db, topic, until, who(request), why)
    gr.Info(escape(f"{done['topic']} silenced until {done['until']}."))
    return alert_panel(svc, show_all)


def add_feed(svc, name: str, url: str, interval: float, request: gr.Request = None):
    monitor = svc.monitor
    if monitor is not None:
        monitor.add_feed(name, url, int(interval or 900))
    else:
        feeds.add_feed(svc.db, name, url, int(interval or 900), allow_hosts=svc.settings.allow_hosts,
                       file_roots=svc.settings.file_roots)
    gr.Info(escape(f"Feed {name} saved{' and scheduled' if monitor else ''}."))
    return feed_panel(svc)


def remove_feed(svc, name: str | None, request: gr.Request = None):
    if not name:
        raise LorasuiteError("pick a feed to remove")
    monitor = svc.monitor
    removed = monitor.remove_feed(name) if monitor else feeds.remove_feed(svc.db, name)
    if not removed:
        raise LorasuiteError(f"no feed named {name!r}")
    gr.Info(escape(f"Feed {name} removed (its headlines stay)."))
    return feed_panel(svc)


def poll_feed(svc, name: str | None, request: gr.Request = None):
    if not name:
        raise LorasuiteError("pick a feed to poll")
    monitor = svc.monitor
    if monitor is None:
        raise LorasuiteError("the monitor is not running (start the suite with lorasuite serve)")
    result = monitor.poll(name, force=True)
    gr.Info(escape(f"{name}: {result.get('status')}, {result.get('new', 0)} new"))
    return feed_panel(svc)


def feed_panel(svc) -> tuple:
    db = svc.db
    return (_frame(dashboard.feed_rows(db), dashboard.FEED_COLS),
            gr.update(choices=[f["name"] for f in feeds.list_feeds(db)], value=None))


def watchlist_text(svc, request: gr.Request = None) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([["topic", "aliases"]] + dashboard.watchlist_rows(svc.db))
    return out.getvalue()


def save_watchlist_text(svc, text: str, request: gr.Request = None) -> str:
    """Parse the edited CSV (errors name the line), save it and re-tag stored headlines."""
    from apps.sentiment.ingest import retag
    from apps.sentiment.topics import parse_aliases

    rows = list(csv.reader(io.StringIO(text or "")))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["topic", "aliases"]:
        raise LorasuiteError("line 1 must be the header: topic,aliases")
    watches = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != 2 or not row[0].strip():
            raise LorasuiteError(f"line {number}: expected 'topic,alias1|alias2', got {','.join(row)!r}")
        watches.append(Watch(row[0].strip(), parse_aliases(row[1]) or [row[0].strip()]))
    db = svc.db
    save_watchlist(db, watches)
    tagged = retag(db, settings=svc.settings)
    if svc.monitor is not None:
        svc.monitor.reload_topics()
    gr.Info(f"Watchlist saved: {len(watches)} topics; {tagged} headlines re-tagged.")
    return watchlist_text(svc)


def rule_values(svc, request: gr.Request = None) -> list:
    values = alerts.load_rules(svc.db, svc.settings).to_dict()
    return [values[name] for name in RULE_FIELDS]


def save_rules(svc, request: gr.Request, *values: Any) -> list:
    rules = alerts.save_rules(svc.db, dict(zip(RULE_FIELDS, values, strict=True)))
    gr.Info("Thresholds saved; the detector uses them from its next check.")
    return [rules.to_dict()[name] for name in RULE_FIELDS]


def backtest(svc, request: gr.Request, *values: Any):
    try:
        rules = Rules.from_dict(dict(zip(RULE_FIELDS, values, strict=True)))
    except (ValueError, TypeError) as err:
        raise LorasuiteError(f"bad thresholds: {err}") from err
    rows = dashboard.backtest_rows(svc.db, rules)
    gr.Info(f"{len(rows)} alert(s) would have fired over the stored headlines with these thresholds.")
    from apps.exports import csv_file

    header = ["topic", "fired_at", "severity", "negative", "baseline", "resolved_at"]
    return _frame(rows, header), csv_file("backtest", header, rows)


def _alerts_tab(svc, show_all: gr.Checkbox) -> tuple:
    timeline = gr.ScatterPlot(x="fired_at", y="topic", color="severity", title="Alerts over time, by topic",
                              height=260, tooltip=["topic", "fired_at", "severity", "negative"])
    table = gr.Dataframe(headers=dashboard.ALERT_COLS, interactive=False, label="Alerts (newest first)", wrap=True)
    download = gr.DownloadButton("Download all alerts (CSV)", size="sm")
    with gr.Row():
        alert_id = gr.Number(label="Alert #", precision=0, scale=1)
        note = gr.Textbox(label="Note (optional)", scale=3)
        ack = gr.Button("Acknowledge", variant="primary", scale=1)
    shown = gr.Dataframe(headers=dashboard.EVIDENCE_COLS, interactive=False, wrap=True,
                         label="Evidence: the most negative headlines of the alert's window")
    with gr.Row():
        s_topic = gr.Textbox(label="Silence topic (* = all)", scale=2)
        s_until = gr.Textbox(label="Until (4h, 2d or ISO time)", value="1d", scale=1)
        s_why = gr.Textbox(label="Why", scale=3)
        s_go = gr.Button("Silence", scale=1)
    silences = gr.Dataframe(headers=["id", "topic", "until", "who", "why"], interactive=False, label="Active silences")
    pending = gr.Dataframe(headers=["id", "topic", "channel", "event", "attempts", "last error", "next attempt"],
                           interactive=False, label="Notifications not delivered yet (retried with backoff)")
    panel = [table, silences, pending]
    alert_id.change(logged_in(functools.partial(evidence, svc), 1), [alert_id], [shown])
    ack.click(logged_in(functools.partial(acknowledge, svc), 3), [alert_id, note, show_all], panel)
    s_go.click(logged_in(functools.partial(silence, svc), 3), [s_topic, s_until, s_why, show_all], panel)
    show_all.change(logged_in(functools.partial(alert_panel, svc), 3), [show_all], panel)
    for control in (table, show_all):
        control.change(logged_in(functools.partial(alert_timeline, svc), 2), None, [timeline, download])
    return tuple(panel)


def _feeds_tab(svc) -> tuple:
    table = gr.Dataframe(headers=dashboard.FEED_COLS, interactive=False, label="Feed health", wrap=True)
    with gr.Row():
        name = gr.Textbox(label="Name", scale=1)
        url = gr.Textbox(label="URL or local path", scale=3)
        every = gr.Number(label="Poll every (s)", value=900, precision=0, scale=1)
        add = gr.Button("Add / update feed", variant="primary", scale=1)
    with gr.Row():
        pick = gr.Dropdown(label="Feed", choices=[], scale=3, allow_custom_value=True)
        poll = gr.Button("Poll now", scale=1)
        remove = gr.Button("Remove feed", variant="stop", scale=1)
    add.click(logged_in(functools.partial(add_feed, svc), 2), [name, url, every], [table, pick])
    remove.click(logged_in(functools.partial(remove_feed, svc), 2), [pick], [table, pick])
    poll.click(logged_in(functools.partial(poll_feed, svc), 2), [pick], [table, pick])
    return table, pick


def _settings_tabs(svc) -> gr.Textbox:
    with gr.Tab("Watchlist"):
        gr.Markdown("One topic per line: `topic,aliases` with aliases separated by `|`. `$TICKER` is a cashtag; "
                    "1-2 letter tickers match only as cashtags; names match as whole words.")
        text = gr.Textbox(lines=18, label="watchlist.csv", show_label=True)
        save = gr.Button("Save watchlist and re-tag headlines", variant="primary")
        save.click(logged_in(functools.partial(save_watchlist_text, svc), 1), [text], [text])
    with gr.Tab("Thresholds"):
        gr.Markdown("The alert rule and what each threshold means: see apps/sentiment/README.md. "
                    "**Backtest** shows what these values would have fired over the stored headlines.")
        inputs = []
        defaults = Rules().to_dict()
        with gr.Row():
            for i, name in enumerate(RULE_FIELDS):
                inputs.append(gr.Number(label=name, value=defaults[name], min_width=140,
                                        precision=0 if isinstance(defaults[name], int) else None))
                if i % 5 == 4 and i + 1 < len(RULE_FIELDS):
                    gr.HTML("<div style='flex-basis:100%'></div>")
        with gr.Row():
            save_rules_btn = gr.Button("Save thresholds", variant="primary")
            test = gr.Button("Backtest")
        result = gr.Dataframe(headers=["topic", "fired_at", "severity", "negative", "baseline", "resolved_at"],
                              interactive=False, label="Backtest")
        result_csv = gr.DownloadButton("Download the backtest (CSV)", size="sm")
        save_rules_btn.click(logged_in(functools.partial(save_rules, svc), len(inputs)), inputs, inputs)
        test.click(logged_in(functools.partial(backtest, svc), 2), inputs, [result, result_csv])
    return text, inputs


def build(ctx) -> gr.Blocks:
    """The dashboard; nothing is loaded until the first request (login required to see anything)."""
    from apps.sentiment.app import service_of

    svc = service_of(ctx)
    with gr.Blocks(title="lorasuite - financial news monitor") as demo:
        gr.Markdown("## Financial news monitor")
        with gr.Row():
            header = gr.Markdown()
            refresh = gr.Button("Refresh", scale=0, min_width=120)
        with gr.Tab("Trends"):
            with gr.Row():
                topic = gr.Dropdown(label="Topic", choices=[], scale=2, allow_custom_value=True)
                bucket = gr.Dropdown(label="Bucket", choices=[("1 hour", 1), ("6 hours", 6), ("1 day", 24)], value=6)
                days = gr.Slider(3, 90, value=28, step=1, label="Days shown (up to the newest headline)")
            plot = gr.Plot(label="Sentiment trend, baseline and alerts")
            topics = gr.Dataframe(interactive=False, label="Topics")
        with gr.Tab("Headlines"):
            with gr.Row():
                h_topic = gr.Dropdown(label="Topic", choices=[""], value="", allow_custom_value=True)
                h_label = gr.Dropdown(label="Label", choices=["", "negative", "neutral", "positive"], value="")
            heads = gr.Dataframe(headers=dashboard.HEADLINE_COLS, interactive=False, wrap=True, label="Latest headlines")
            heads_csv = gr.DownloadButton("Download these headlines (CSV)", size="sm")
            heads.change(logged_in(functools.partial(headlines_csv, svc), 1), [h_topic, h_label], [heads_csv])
            learning_ui.label_controls(ctx, logged_in, heads)
        with gr.Tab("Label queue"):
            learning_ui.queue_tab(ctx, logged_in)
        with gr.Tab("Alerts"):
            show_all = gr.Checkbox(label="Include acknowledged and silenced alerts", value=False)
            alert_outputs = _alerts_tab(svc, show_all)
        with gr.Tab("Feeds"):
            feed_table, pick = _feeds_tab(svc)
        wl_text, rule_inputs = _settings_tabs(svc)
        with gr.Tab("Model"):
            learning_ui.model_tab(ctx, demo)
        everything = [header, topic, plot, topics, h_topic, *alert_outputs, feed_table, pick, wl_text]
        for trigger in (demo.load, refresh.click):
            trigger(logged_in(functools.partial(overview, svc), len(everything)), [topic, bucket, days, show_all], everything)
        demo.load(logged_in(functools.partial(rule_values, svc), len(rule_inputs)), None, rule_inputs)
        for control in (topic, bucket, days):
            control.change(logged_in(functools.partial(trend, svc), 1), [topic, bucket, days], [plot])
        for control in (h_topic, h_label):
            control.change(logged_in(functools.partial(headlines, svc), 1), [h_topic, h_label], [heads])
        demo.load(logged_in(functools.partial(headlines, svc), 1), [h_topic, h_label], [heads])
    return demo
