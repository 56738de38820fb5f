"""``lorasuite retrain APP [--name NAME] [--report PATH]``: one champion/challenger round.
``lorasuite drift [APP ...]``: today's drift statistics of the apps' classifiers (JSON lines).

Prints the plan and an estimated time to stderr, shows a progress bar while training, then
writes the report (JSON: app, name, champion and challenger {version, old_dev, new_dev},
promoted, reason) to PATH and stdout. Exit 0 whether or not the challenger was promoted (also
when the label gate refused the labels: no challenger is trained then); exit 2 with no new labels
or bad data. It trains at low priority with ``[learning] threads`` threads; a run killed midway
leaves no version and no changed champion (versions are written whole, then recorded).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _retrain(args: argparse.Namespace) -> int:
    from apps.learning import learner_of, lower_priority, retrain
    from shared.atomic import write_text
    from shared.retrain import public

    ctx = args.ctx
    learner = learner_of(ctx, args.app)  # fails fast, before torch is imported
    lower_priority(ctx.config.learning.threads)
    report = retrain(ctx, learner.app, args.name, progress=lambda text: print(text, file=sys.stderr, flush=True))
    text = json.dumps(public(report), indent=2)
    if args.report:
        write_text(args.report, text + "\n")
    print(text)
    return 0


def _drift(args: argparse.Namespace) -> int:
    from apps.drift import measure
    from apps.learning import lower_priority

    ctx = args.ctx
    apps = args.apps or [s.name for s in ctx.specs if s.learning is not None]
    lower_priority(ctx.config.learning.threads)
    for app in apps:
        row = measure(ctx, app, hours=args.hours)
        print(json.dumps(row if row is not None else {"app": app, "drift": None}))
    return 0


def register(commands: Any) -> None:
    p = commands.top.add_parser("retrain", help="train a challenger on the collected labels; promote it only if it "
                                                "wins on new data without losing on old data")
    p.add_argument("app", help="sentiment, support or recommender (any app with a learning loop)")
    p.add_argument("--name", help="adapter name (default: the app's configured adapter, e.g. finance, intent, "
                                  "next-item)")
    p.add_argument("--report", help="also write the JSON report to this file")
    p.set_defaults(func=_retrain)
    d = commands.top.add_parser("drift", help="measure today's drift of the apps' classifiers against their "
                                              "training data (the scheduler does it daily)")
    d.add_argument("apps", nargs="*", help="apps (default: every app with a learning loop)")
    d.add_argument("--hours", type=float, default=24.0, help="live inputs of the last HOURS (default 24)")
    d.set_defaults(func=_drift)
