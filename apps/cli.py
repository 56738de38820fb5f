"""The ``lorasuite`` command: the core verbs here, one ``lorasuite <app>`` group per installed app.

    lorasuite --version
    lorasuite config show | check [--file F]
    lorasuite adapters list [APP] | show APP NAME[@V] | history APP NAME | promote APP NAME V | rollback APP NAME
    lorasuite train classify|ner|biencoder --data FILE --name NAME [--app APP] ...
    lorasuite eval classify|ner --name NAME --data FILE
    lorasuite retrain APP [--name NAME] [--report PATH]   |   lorasuite drift [APP ...]
    lorasuite serve [--host H] [--port P] [--apps a,b]
    lorasuite <app> <verb> ...        (support, sentiment, recommender, and any plugin app)

Apps are found through the ``lorasuite.apps`` entry points (``apps.spec``); each handler gets
the process's ``AppContext`` as ``args.ctx``. Machine-readable output (JSON, JSON lines) goes
to stdout, notes and progress to stderr. A user error prints one line and exits 2.
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
CORE_CLIS = ["apps.adapters_cli", "apps.ner_cli", "apps.learning_cli", "apps.launcher", "apps.models_cli"]


@dataclass
class Commands:
    """The parser groups a core module's ``register`` adds verbs to."""

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
    print(f"confusion matrix: {png}", file=sys.stderr)
    return 0


def _train_biencoder(args: argparse.Namespace) -> int:
    from shared.tasks import train_biencoder_files

    path = train_biencoder_files(args.data, args.name, app=args.app, dev=args.dev, query_col=args.query_col,
                                 positive_col=args.positive_col, model=args.model,
                                 settings=settings_from_args(args, lr=5e-4, epochs=1))
    print(json.dumps({"adapter": f"{args.app}/{args.name}", "path": str(path)}))
    return 0


def _register_train(commands: Commands) -> None:
    tc = commands.train.add_parser("classify", help="train a LoRA text classifier from a CSV")
    ec = commands.eval.add_parser("classify", help="evaluate a classifier on a labelled CSV")
    for p in (tc, ec):
        p.add_argument("--data", required=True, help="CSV with a text and a label column")
        p.add_argument("--name", required=True, help="adapter name (NAME[@VERSION] for eval)")
        p.add_argument("--app", default="core", help="registry namespace (default: core)")
        p.add_argument("--text-col", default="text")
        p.add_argument("--label-col", default="label")
    tc.add_argument("--dev", help="dev CSV for early stopping, calibration and metrics")
    add_settings_args(tc)
    add_teacher_args(tc)
    tc.set_defaults(func=_train_classify)
    ec.add_argument("--png", help="where to write the confusion matrix (default: under $LORASUITE_HOME/reports)")
    ec.set_defaults(func=_eval_classify)
    tb = commands.train.add_parser("biencoder", help="train a LoRA bi-encoder from (query, positive) pairs")
    tb.add_argument("--data", required=True, help="CSV with a query and a positive column")
    tb.add_argument("--dev", help="dev pairs CSV for early stopping on Recall@10")
    tb.add_argument("--name", required=True)
    tb.add_argument("--app", default="core", help="registry namespace (default: core)")
    tb.add_argument("--query-col", default="query")
    tb.add_argument("--positive-col", default="positive")
    add_settings_args(tb)
    tb.set_defaults(func=_train_biencoder)


def _config(args: argparse.Namespace) -> int:
    from apps.config import defaults, load_config, to_toml
    from apps.spec import discover

    specs = discover()
    if args.action == "show":
        print(to_toml(defaults(specs).as_dict()), end="")
        return 0
    config = load_config(args.file, specs)
    print(f"# {config.path or 'no config file: defaults and environment'}: ok", file=sys.stderr)
    print(to_toml(config.as_dict(masked=True)), end="")
    return 0


def _register_config(commands: Commands) -> None:
    cfg = commands.top.add_parser("config", help="show the defaults or check a configuration file")
    sub = cfg.add_subparsers(dest="action", required=True)
    sub.add_parser("show", help="every key with its default, as TOML")
    check = sub.add_parser("check", help="validate a file ($LORASUITE_CONFIG or --file) and print the "
                                         "effective configuration, secrets masked; exit 2 on an error")
    check.add_argument("--file", help="the TOML file (default: $LORASUITE_CONFIG or $LORASUITE_HOME/config.toml)")
    cfg.set_defaults(func=_config, no_ctx=True)


def build_parser(specs: list | None = None) -> argparse.ArgumentParser:
    from shared import __version__

    parser = argparse.ArgumentParser(prog="lorasuite", description="LoRA-tuned domain apps on one shared core.")
    parser.add_argument("--version", action="version", version=f"lorasuite {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = top.add_parser("train", help="train an adapter").add_subparsers(dest="task", required=True)
    evaluate = top.add_parser("eval", help="evaluate an adapter").add_subparsers(dest="task", required=True)
    commands = Commands(top, train, evaluate)
    _register_config(commands)
    _register_train(commands)
    for name in CORE_CLIS:
        importlib.import_module(name).register(commands)
    for spec in specs or []:
        group = top.add_parser(spec.name, aliases=list(spec.aliases), help=spec.title)
        if spec.register_cli is not None:
            spec.register_cli(group)
    return parser


def main(argv: list[str] | None = None) -> int:
    from apps.spec import discover

    specs = discover()
    args = build_parser(specs).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "urllib3", "matplotlib", "sentence_transformers", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not hasattr(args, "func"):
        print(f"error: give a verb: lorasuite {args.command} --help", file=sys.stderr)
        return 2
    try:
        if not getattr(args, "no_ctx", False):
            from apps.context import AppContext

            args.ctx = AppContext.create(specs=specs)
        return int(args.func(args) or 0)
    except LorasuiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
