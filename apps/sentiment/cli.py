"""``lorasuite sentiment ...``: ingest, classify, train, replay, alerts, feeds, monitor.

    lorasuite sentiment ingest URL_OR_PATH...          -> {"files","entries","new","duplicates","failed"}
    lorasuite sentiment classify --input F --output F.jsonl [--adapter NAME]
    lorasuite sentiment train --data CSV --name NAME [--dev CSV] [--teacher mpnet] [--unlabeled CSV]
    lorasuite sentiment relabel --input CSV [--who NAME]  (text,label)  -> {"labels": N, "new": M}
    lorasuite sentiment replay PATH... [--watchlist CSV] [--set key=value] --output F.jsonl
    lorasuite sentiment alerts [--json] [--ack ID --who W [--note N]] [--silence TOPIC --until 2d --who W --why Y]
    lorasuite sentiment feeds [list | add NAME URL [--interval S] | remove NAME]
    lorasuite sentiment monitor                          (run the scheduler in the foreground)
Nothing here imports torch until a verb runs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(group: Any) -> None:
    """Add the verbs of ``lorasuite sentiment`` to its parser."""
    from apps.cli import add_settings_args, add_teacher_args

    sub = group.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("ingest", help="ingest feed URLs, files or directories once")
    p.add_argument("sources", nargs="+", metavar="URL_OR_PATH")
    p.add_argument("--adapter", help="sentiment adapter: APP/NAME[@VERSION], NAME or a folder "
                                     "(default: [sentiment] adapter, sentiment/finance)")
    p.set_defaults(func=_ingest)
    p = sub.add_parser("classify", help="label headlines in a CSV (text column) or JSONL file")
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--adapter", help="APP/NAME[@VERSION], NAME or a folder (default: [sentiment] adapter)")
    p.set_defaults(func=_classify)
    p = sub.add_parser("train", help="train a sentiment adapter (CSV text,label) (= lorasuite train classify "
                                     "--app sentiment)")
    p.add_argument("--data", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--dev")
    add_settings_args(p)
    add_teacher_args(p)
    p.set_defaults(func=_train)
    p = sub.add_parser("relabel", help="record labels for the learning loop from a CSV (text,label); "
                                       "`lorasuite retrain sentiment` learns from them")
    p.add_argument("--input", required=True, help="CSV with text and label columns")
    p.add_argument("--who", help="who labelled them (default: $USER)")
    p.set_defaults(func=_relabel)
    p = sub.add_parser("replay", help="backtest the alert detector over feed files")
    p.add_argument("sources", nargs="+", metavar="PATH")
    p.add_argument("--watchlist", help="CSV topic,aliases (aliases split by |) replacing the configured one")
    p.add_argument("--output", required=True)
    p.add_argument("--adapter")
    p.add_argument("--set", action="append", default=[], metavar="RULE=VALUE", help="override an alert rule")
    p.set_defaults(func=_replay)
    _register_alerts(sub)
    p = sub.add_parser("feeds", help="list, add or remove polled feeds")
    p.add_argument("action", nargs="?", default="list", choices=["list", "add", "remove"])
    p.add_argument("name", nargs="?")
    p.add_argument("url", nargs="?")
    p.add_argument("--interval", type=int, default=900, help="seconds between polls (default 900)")
    p.set_defaults(func=_feeds)
    p = sub.add_parser("monitor", help="poll the configured feeds and check alerts until Ctrl-C")
    p.add_argument("--no-demo", action="store_true", help="do not serve and poll the shipped demo feeds")
    p.set_defaults(func=_monitor)


def _register_alerts(sub: Any) -> None:
    p = sub.add_parser("alerts", help="check and list alerts; acknowledge or silence")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--all", action="store_true", help="include acknowledged and silenced alerts")
    p.add_argument("--no-check", action="store_true", help="list only; do not run the detector first")
    p.add_argument("--deliver", action="store_true", help="also send due webhook/email notifications")
    p.add_argument("--ack", type=int, metavar="ID")
    p.add_argument("--silence", metavar="TOPIC", help="topic to silence ('*' = all)")
    p.add_argument("--until", default="1d", help="silence end: 4h, 2d or an ISO time (default 1d)")
    p.add_argument("--who")
    p.add_argument("--why", default="")
    p.add_argument("--note", default="")
    p.set_defaults(func=_alerts)


def _ingest(args: argparse.Namespace) -> int:
    from apps.sentiment.ingest import Pipeline, ingest_sources
    from apps.sentiment.store import open_db

    db, settings = open_db(args.ctx.db), args.ctx.settings("sentiment")
    pipeline = Pipeline.from_config(db, settings, adapter=args.adapter, backbone=args.ctx.backbone)
    stats = ingest_sources(args.sources, db, pipeline, progress=True, fetch_timeout=settings.fetch_timeout,
                           allow_hosts=settings.allow_hosts)
    print(json.dumps(stats.summary()))
    return 0


def _classify(args: argparse.Namespace) -> int:
    from apps.sentiment.classify import classify_file

    n = classify_file(args.input, args.output, args.adapter or args.ctx.settings("sentiment").adapter)
    print(json.dumps({"output": args.output, "lines": n}))
    return 0


def _train(args: argparse.Namespace) -> int:
    from apps.cli import settings_from_args
    from apps.sentiment.train import train

    path = train(args.data, args.name, dev=args.dev, settings=settings_from_args(args), model=args.model,
                 teacher=args.teacher, unlabeled=args.unlabeled)
    print(json.dumps({"adapter": f"sentiment/{args.name}", "path": str(path)}))
    return 0


def _relabel(args: argparse.Namespace) -> int:
    import os

    from apps.learning import relabel_file

    who = args.who or os.environ.get("USER") or "cli"
    print(json.dumps(relabel_file(args.ctx, "sentiment", args.input, who=who)))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from apps.sentiment.alerts import load_rules
    from apps.sentiment.detector import Rules
    from apps.sentiment.replay import replay
    from apps.sentiment.store import open_db
    from shared.errors import LorasuiteError

    db, settings = open_db(args.ctx.db), args.ctx.settings("sentiment")
    values = load_rules(db, settings).to_dict()
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in values:
            raise LorasuiteError(f"--set {item!r}: use RULE=VALUE with RULE one of {sorted(values)}")
        values[key.strip()] = value.strip()
    try:
        rules = Rules.from_dict(values)
    except ValueError as err:
        raise LorasuiteError(f"bad alert rule: {err}") from err
    print(json.dumps(replay(args.sources, args.output, args.watchlist, rules, args.adapter, db=db, settings=settings)))
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from apps.sentiment import alerts, outbox
    from apps.sentiment.store import open_db
    from shared.errors import LorasuiteError

    db, settings = open_db(args.ctx.db), args.ctx.settings("sentiment")
    if args.ack is not None or args.silence:
        if not args.who:
            raise LorasuiteError("--ack and --silence need --who")
        done = (alerts.acknowledge(db, args.ack, args.who, args.note) if args.ack is not None
                else alerts.silence(db, args.silence, args.until, args.who, args.why))
        print(json.dumps(done, default=str))
        return 0
    if not args.no_check:
        alerts.check(db, settings=settings)
    if args.deliver:
        outbox.deliver_due(db, settings)
    for alert in alerts.list_alerts(db, open_only=not args.all):
        if args.json:
            print(json.dumps(alert, default=str))
        else:
            state = "silenced" if alert["silenced_by"] else ("acked by " + alert["acked_by"]) if alert["acked_by"] else "open"
            print(f"#{alert['id']}\t{alert['fired_at']}\t{alert['severity']}\t{alert['topic']}\t{alert['negative']} neg "
                  f"vs {alert['baseline']:.1f}\t{alert['status']}\t{state}")
    return 0


def _feeds(args: argparse.Namespace) -> int:
    from apps.sentiment import feeds
    from apps.sentiment.store import open_db
    from shared.errors import LorasuiteError

    db = open_db(args.ctx.db)
    if args.action == "add":
        if not args.name or not args.url:
            raise LorasuiteError("feeds add needs NAME and URL")
        settings = args.ctx.settings("sentiment")
        print(json.dumps(feeds.add_feed(db, args.name, args.url, args.interval, allow_hosts=settings.allow_hosts,
                                        file_roots=settings.file_roots)))
    elif args.action == "remove":
        if not feeds.remove_feed(db, args.name or ""):
            raise LorasuiteError(f"no feed named {args.name!r}")
        print(json.dumps({"removed": args.name}))
    else:
        for feed in feeds.list_feeds(db):
            print(json.dumps({k: feed[k] for k in ("name", "url", "interval_s", "last_success", "last_error",
                                                  "failures", "next_attempt", "last_status")}))
    return 0


def _monitor(args: argparse.Namespace) -> int:
    import time

    from apps.sentiment.app import service_of

    if args.no_demo:
        args.ctx.settings("sentiment").demo_feeds = False
    service = service_of(args.ctx)
    service.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        service.stop()
