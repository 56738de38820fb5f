"""``lorasuite support ...``: ingest the help centre, train/calibrate the intent adapter, ask.

    lorasuite support ingest data/support/kb [more files or folders]
    lorasuite support train --data train.csv --name intent2 [--dev dev.csv]     (columns text,category)
    lorasuite support calibrate [--adapter NAME] [--dev CSV] [--oos CSV]
    lorasuite support relabel --input CSV [--who NAME]        (text,intent) -> {"labels": N, "new": M}
    lorasuite support ask "I lost my card"
    lorasuite support ask --input questions.csv --output answers.jsonl [--adapter NAME]
    lorasuite support train-generator [--data banking77_train.csv] [--model smollm2]
    lorasuite support status

Nothing heavy is imported until a verb runs.
"""

from __future__ import annotations

import argparse
import json
import sys

from shared.errors import LorasuiteError


def _ingest(args: argparse.Namespace) -> int:
    from apps.support.ingest import ingest

    report = ingest(args.paths, prune=not args.no_prune)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(report.summary())
    return 0


def _train(args: argparse.Namespace) -> int:
    from apps.cli import settings_from_args
    from apps.support.train import train_intent

    result = train_intent(args.ctx, args.data, args.name, dev=args.dev, settings=settings_from_args(args),
                          model=args.model, text_col=args.text_col, label_col=args.label_col,
                          calibrate=not args.no_calibrate, teacher=args.teacher, unlabeled=args.unlabeled)
    print(json.dumps(result, indent=2))
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from apps.support.train import calibrate_adapter

    adapter = args.adapter or args.ctx.settings("support").intent_adapter
    result = calibrate_adapter(args.ctx, adapter, args.dev, args.oos, text_col=args.text_col, label_col=args.label_col)
    print(json.dumps(result, indent=2))
    return 0


def _relabel(args: argparse.Namespace) -> int:
    import os

    from apps.learning import relabel_file

    who = args.who or os.environ.get("USER") or "cli"
    print(json.dumps(relabel_file(args.ctx, "support", args.input, who=who)))
    return 0


def _bot(args: argparse.Namespace):
    from apps.support.train import ready_bot

    return ready_bot(args.ctx, getattr(args, "adapter", None))


def _ask(args: argparse.Namespace) -> int:
    if bool(args.input) != bool(args.output):
        raise LorasuiteError("batch mode needs both --input FILE and --output FILE.jsonl")
    if args.input and args.question:
        raise LorasuiteError("give either a question or --input/--output, not both")
    if not args.input and args.question is None:
        raise LorasuiteError('give a question, e.g. lorasuite support ask "I lost my card"')
    if args.input:
        return _ask_batch(args)
    reply = _bot(args).ask(args.question, channel="cli")
    if args.json:
        print(json.dumps(reply.to_json(), ensure_ascii=False))
        return 0
    print(reply.answer)
    for src in reply.sources:
        print(f"  source: {src['title']} › {src['section']} ({src['url']})")
    if reply.escalate:
        print(f"  handed over: ticket #{reply.ticket_id} ({reply.reason})")
    return 0


def _ask_batch(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from shared.atomic import write_jsonl
    from shared.datasets import read_texts

    texts = read_texts(args.input, "text")  # validates the whole file before any answering
    bot = _bot(args)
    rows = (bot.ask(text, channel="batch").to_json() for text in tqdm(texts, desc="answering", unit="q"))
    count = write_jsonl(args.output, rows)
    print(json.dumps({"answered": count, "output": args.output}))
    return 0


def _train_generator(args: argparse.Namespace) -> int:
    from apps.cli import settings_from_args
    from apps.support.train import train_generator

    settings = settings_from_args(args, target_modules="all-linear", lr=2e-4, max_length=512, batch_size=4,
                                  epochs=2, early_stopping_patience=0)
    path = train_generator(args.name, args.data, args.model, args.per_intent, settings, args.limit)
    print(json.dumps({"adapter": f"support/{args.name}", "path": str(path)}))
    return 0


def _status(args: argparse.Namespace) -> int:
    from apps.support.bot import SupportBot

    bot = SupportBot(args.ctx, adapter=args.adapter)
    index, why = bot.index()
    print(json.dumps({"index": {"passages": len(index), "documents": len(index.docs)} if index else why,
                      "intent_adapter": bot.adapter, "thresholds": bot.thresholds.to_dict(),
                      "generator": {"mode": bot.generator.mode, "model": bot.generator.model}}, indent=2))
    return 0


def register(support) -> None:
    """Add the verbs of ``lorasuite support`` to its parser."""
    from apps.cli import add_settings_args, add_teacher_args

    verbs = support.add_subparsers(dest="verb", required=True, metavar="VERB")

    ing = verbs.add_parser("ingest", help="add Markdown/TXT/CSV(question,answer)/JSONL files to the help centre")
    ing.add_argument("paths", nargs="+", help="files or folders")
    ing.add_argument("--no-prune", action="store_true", help="keep passages of files gone from the folders given")
    ing.set_defaults(func=_ingest)

    tr = verbs.add_parser("train", help="train a LoRA intent adapter from a text,category CSV (= lorasuite train "
                          "classify --app support --label-col category, then calibrate)")
    tr.add_argument("--data", required=True)
    tr.add_argument("--name", required=True)
    tr.add_argument("--dev", help="dev CSV: early stopping, confidence calibration, then threshold calibration")
    tr.add_argument("--no-calibrate", action="store_true", help="skip the threshold calibration after training")
    add_settings_args(tr)
    add_teacher_args(tr)

    cal = verbs.add_parser("calibrate", help="fit the answer/hand-over thresholds for an intent adapter")
    cal.add_argument("--adapter", help="intent adapter: APP/NAME[@VERSION], NAME or a folder (default: [support] intent_adapter)")
    cal.add_argument("--dev", help="text,category CSV (default: the 20%% dev split of BANKING77 train)")
    cal.add_argument("--oos", help="text,kind CSV of out-of-scope questions (default: data/support/out_of_scope.csv)")
    for p in (tr, cal):
        p.add_argument("--text-col", default="text")
        p.add_argument("--label-col", default="category")
    tr.set_defaults(func=_train)
    cal.set_defaults(func=_calibrate)
    rl = verbs.add_parser("relabel", help="record intents for the learning loop from a CSV (text,intent; an intent "
                                          "of the adapter or out_of_scope); `lorasuite retrain support` learns")
    rl.add_argument("--input", required=True, help="CSV with text and intent columns")
    rl.add_argument("--who", help="who labelled them (default: $USER)")
    rl.set_defaults(func=_relabel)

    _register_ask(verbs)


def _register_ask(verbs) -> None:
    """ask, train-generator and status."""
    from apps.cli import add_settings_args

    ask = verbs.add_parser("ask", help="answer a question, or a CSV/JSONL file of them (--input/--output)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--input", help="CSV with a text column, or JSONL with text")
    ask.add_argument("--output", help="JSONL: one {text,intent,confidence,answer,sources,escalate} per input")
    ask.add_argument("--adapter", help="intent adapter: APP/NAME[@VERSION], NAME or a folder (default: [support] intent_adapter)")
    ask.add_argument("--json", action="store_true", help="print the reply as one JSON line")
    ask.set_defaults(func=_ask)

    gen = verbs.add_parser("train-generator", help="LoRA-tune the grounded answer generator (SmolLM2)")
    gen.add_argument("--name", default="generator")
    gen.add_argument("--data", help="text,category CSV whose questions are paired with the articles")
    gen.add_argument("--per-intent", type=int, default=4, help="questions per article (default 4)")
    gen.add_argument("--limit", type=int, help="use at most this many pairs (quick runs)")
    add_settings_args(gen)
    gen.set_defaults(func=_train_generator, model="smollm2")

    st = verbs.add_parser("status", help="index size, adapter, thresholds, generator mode")
    st.add_argument("--adapter")
    st.set_defaults(func=_status)
