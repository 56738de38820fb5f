"""The ``lorasuite`` command: shared verbs here, each app adds its own.

    lorasuite adapters list | show APP NAME | delete APP NAME
    lorasuite train classify --data CSV --name NAME [--dev CSV] [--epochs N] ...
    lorasuite eval classify --name NAME --data CSV
    lorasuite <app> <verb> ...        (support, sentiment, recommend, ner, serve)

A user error (bad file, unknown adapter) prints one line and exits 2; no traceback.
Importing this module does not import torch: each verb imports what it needs when run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from dataclasses import dataclass
from typing import Any

from shared.errors import LorasuiteError

log = logging.getLogger("lorasuite")
APP_CLIS = ["apps.support.cli", "apps.sentiment.cli", "apps.recommender.cli", "apps.ner_cli", "apps.launcher",
            "apps.models_cli"]


@dataclass
class Commands:
    """The parser groups an app's ``register`` adds verbs to."""

    top: Any  # lorasuite <verb>
    train: Any  # lorasuite train <task>
    eval: Any  # lorasuite eval <task>


def add_settings_args(parser: argparse.ArgumentParser) -> None:
    """The LoraSettings flags every training verb accepts (defaults: the dataclass's)."""
    parser.add_argument("--model", default="minilm", help="base model: minilm (default), a path or a HF id")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--max-length", type=int)
    parser.add_argument("--r", type=int, help="LoRA rank")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--class-weighting", action="store_true", default=None)
    parser.add_argument("--max-minutes", type=float, help="time budget: stop early, keep the best weights")
    parser.add_argument("--max-grad-norm", type=float, help="gradient clipping norm (default 1.0; 0 = off)")


def add_teacher_args(parser: argparse.ArgumentParser) -> None:
    """Distillation flags: a teacher whose softened outputs train the MiniLM student (shared.distill)."""
    parser.add_argument("--teacher", help="adapter APP/NAME or a base model (mpnet: trained on this data first, "
                                          "cached); the student keeps the default base")
    parser.add_argument("--unlabeled", help="CSV (text column) or JSONL (text) for the teacher to label as extra data")
    parser.add_argument("--distill-temperature", type=float, help="softmax temperature T (default 2)")
    parser.add_argument("--distill-alpha", type=float, help="weight of the teacher's KL vs the labels (default 0.5)")


def settings_from_args(args: argparse.Namespace, **defaults: Any):
    """LoraSettings from the flags given (ValueError becomes a user error)."""
    from shared.settings import LoraSettings

    given = {k: getattr(args, k, None) for k in ("epochs", "lr", "batch_size", "max_length", "r", "seed",
                                                 "class_weighting", "max_minutes", "max_grad_norm",
                                                 "distill_temperature", "distill_alpha")}
    values = dict(defaults, **{k: v for k, v in given.items() if v is not None})
    try:
        return LoraSettings(**values)
    except ValueError as err:
        raise LorasuiteError(f"bad training setting: {err}") from err


def _train_classify(args: argparse.Namespace) -> int:
    from shared.tasks import train_classify_files

    path = train_classify_files(args.data, args.name, app=args.app, dev=args.dev, text_col=args.text_col,
                                label_col=args.label_col, settings=settings_from_args(args), model=args.model,
                                teacher=args.teacher, unlabeled=args.unlabeled)
    print(json.dumps({"adapter": f"{args.app}/{args.name}", "path": str(path)}))
    return 0


def _eval_classify(args: argparse.Namespace) -> int:
    from shared.tasks import eval_classify_file

    text, png = eval_classify_file(args.data, args.name, app=args.app, text_col=args.text_col,
                                   label_col=args.label_col, png=args.png)
    print(text)
    print(f"confusion matrix: {png}")
    return 0


def _adapters(args: argparse.Namespace) -> int:
    from shared import adapters

    if args.action == "list":
        rows = adapters.list_adapters(args.app)
        for row in rows:
            metric = ", ".join(f"{k}={v:.3f}" for k, v in row["metrics"].items() if isinstance(v, float))
            print(f"{row['app']}/{row['name']}\t{row['task']}\t{row['source']}\t{row['created']}\t{metric}")
        if not rows:
            print("no adapters")
    elif args.action == "show":
        path = adapters.find(args.app, args.name)
        meta = adapters.read_meta(path)
        print(json.dumps(dict(meta, path=str(path), weights_bytes=adapters.size_bytes(path)), indent=2))
    else:
        print(f"deleted {adapters.delete(args.app, args.name)}")
    return 0


def _register_core(commands: Commands) -> None:
    ad = commands.top.add_parser("adapters", help="list, show or delete adapters")
    ad_sub = ad.add_subparsers(dest="action", required=True)
    ls = ad_sub.add_parser("list", help="every adapter (yours and the shipped defaults)")
    ls.add_argument("app", nargs="?")
    for verb in ("show", "delete"):
        p = ad_sub.add_parser(verb, help=f"{verb} one adapter")
        p.add_argument("app")
        p.add_argument("name")
    ad.set_defaults(func=_adapters)

    tc = commands.train.add_parser("classify", help="train a LoRA text classifier from a CSV")
    ec = commands.eval.add_parser("classify", help="evaluate a classifier on a labelled CSV")
    for p in (tc, ec):
        p.add_argument("--data", required=True, help="CSV with a text and a label column")
        p.add_argument("--name", required=True, help="adapter name")
        p.add_argument("--app", default="core", help="registry namespace (default: core)")
        p.add_argument("--text-col", default="text")
        p.add_argument("--label-col", default="label")
    tc.add_argument("--dev", help="dev CSV for early stopping, calibration and metrics")
    add_settings_args(tc)
    add_teacher_args(tc)
    tc.set_defaults(func=_train_classify)
    ec.add_argument("--png", help="where to write the confusion matrix (default: under $LORASUITE_HOME/reports)")
    ec.set_defaults(func=_eval_classify)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lorasuite", description="LoRA-tuned domain apps on one shared core.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = top.add_parser("train", help="train an adapter").add_subparsers(dest="task", required=True)
    evaluate = top.add_parser("eval", help="evaluate an adapter").add_subparsers(dest="task", required=True)
    commands = Commands(top, train, evaluate)
    _register_core(commands)
    for name in APP_CLIS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if not (err.name and name.startswith(err.name)):
                raise
            continue
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "urllib3", "matplotlib", "sentence_transformers", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except LorasuiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
