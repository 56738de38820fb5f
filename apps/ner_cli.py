"""``lorasuite train ner`` / ``eval ner`` / ``ner tag``: token-tagging adapters from the command line.

    lorasuite train ner --data train.conll --name orgs [--dev dev.conll] [--app ner]
                                  [--teacher mpnet] [--unlabeled texts.csv] [--no-word-shape]
    lorasuite eval ner --name orgs --data test.conll          # entity-level P/R/F1 per type
    lorasuite ner tag --input headlines.csv --output entities.jsonl [--adapter ner/orgs]
    lorasuite ner tag --input test.conll --output test.pred.conll   # tag appended as last column

Training and eval files are CoNLL columns (token first, tag last) or JSONL
``{"tokens": [...], "tags": [...]}``. ``ner tag`` reads a CSV ``text`` column or JSONL ``text``
(one output line per input, entities with character offsets), or a CoNLL file. Everything is
validated before training or writing; a bad file writes nothing. Importing this module does
not import torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shared.errors import DataError, LorasuiteError

DEFAULT_APP, DEFAULT_ADAPTER = "ner", "orgs"


def train_files(data: str | Path, name: str, app: str = DEFAULT_APP, dev: str | Path | None = None,
                settings=None, model: str = "minilm", teacher: str | None = None,
                unlabeled: str | Path | None = None) -> Path:
    """Validate the files, train a LoRA tagger, save it as ``app/name``; returns its path.

    ``teacher`` (adapter ``app/name`` or a base such as ``mpnet``) distils into the student, also on
    the raw texts of ``unlabeled`` (CSV text column or JSONL text).
    """
    from shared import adapters
    from shared.conll import check_tags, read_tagged, types_of
    from shared.datasets import file_hash
    from shared.entities import tag_set

    adapters.check_name("app", app)
    adapters.check_name("adapter", name)
    train = read_tagged(data)
    types = types_of(train)
    if not types:
        raise DataError(data, "every tag is O: no entities to learn", fix="tag entities as B-TYPE / I-TYPE")
    dev_sentences = None
    if dev:
        dev_sentences = read_tagged(dev)
        check_tags(dev_sentences, tag_set(types), dev)
    from shared.tagging import train_tagger
    from shared.tasks import teacher_inputs

    extra = teacher_inputs(teacher, unlabeled)
    trained = train_tagger(train, settings, model=model, dev=dev_sentences,
                           data_hash=file_hash(data, dev) if dev else file_hash(data), teacher=teacher, unlabeled=extra)
    return adapters.save(app, name, trained)


def _tagger(app: str, name: str) -> tuple[Any, str, dict]:
    """(backbone, adapter key, meta) of a tag adapter, loaded into the shared backbone."""
    from shared import adapters
    from shared.backbone import get_backbone

    path = adapters.find(app, name)
    meta = adapters.read_meta(path)
    if meta.get("task") != "tag":
        raise LorasuiteError(f"adapter {app}/{name} is a {meta.get('task')} adapter, not a token tagger")
    backbone = get_backbone(meta["base_model"])
    return backbone, backbone.use(f"{app}/{name}"), meta


def predict_sentences(backbone, key: str, token_lists: list[list[str]]) -> list[list[str]]:
    """Decoded BIO tags for pre-split sentences."""
    from shared.progress import progress
    from shared.tagging import decode_tags

    with progress("tagging"):
        labels, probs = backbone.tag_probs(token_lists, key)
    return [decode_tags(p, labels)[0] for p in probs]


def eval_file(data: str | Path, name: str, app: str = DEFAULT_APP) -> tuple[str, dict]:
    """Entity-level report of ``app/name`` on a tagged file: (printable table, report dict)."""
    from shared.conll import check_tags, read_tagged
    from shared.entities import entity_report, format_entity_report

    sentences = read_tagged(data)
    backbone, key, meta = _tagger(app, name)
    check_tags(sentences, meta["labels"], data)
    predicted = predict_sentences(backbone, key, [s.tokens for s in sentences])
    report = entity_report([s.tags for s in sentences], predicted)
    return format_entity_report(report), report


def tag_file(source: str | Path, output: str | Path, name: str = DEFAULT_ADAPTER, app: str = DEFAULT_APP) -> int:
    """Tag a CSV/JSONL of texts (-> JSONL of entities) or a CoNLL file (-> tag column appended)."""
    from shared.atomic import write_jsonl
    from shared.conll import is_jsonl, read_conll, write_conll_predictions
    from shared.datasets import read_texts

    source = Path(source)
    if source.suffix.lower() == ".csv" or is_jsonl(source):
        texts = read_texts(source, "text")
        from shared.progress import progress

        backbone, key, _ = _tagger(app, name)
        with progress("tagging"):
            entities = backbone.tag(texts, key)
        return write_jsonl(output, ({"text": t, "entities": e} for t, e in zip(texts, entities, strict=True)))
    sentences = read_conll(source, tagged=False)
    if not sentences:
        raise DataError(source, "no tokens found", fix="give a CSV/JSONL with a text column or a CoNLL file")
    backbone, key, _ = _tagger(app, name)
    return write_conll_predictions(source, output, predict_sentences(backbone, key, [s.tokens for s in sentences]))


def _app_name(args: argparse.Namespace) -> tuple[str, str]:
    """``--adapter APP/NAME`` or ``--adapter NAME --app APP``."""
    if "/" in args.adapter:
        app, _, name = args.adapter.partition("/")
        return app, name
    return args.app, args.adapter


def _train(args: argparse.Namespace) -> int:
    from apps.cli import settings_from_args
    from shared.tagging import TAG_DEFAULTS

    settings = settings_from_args(args, **dict(TAG_DEFAULTS, word_shape=not args.no_word_shape))
    path = train_files(args.data, args.name, app=args.app, dev=args.dev, settings=settings, model=args.model,
                       teacher=args.teacher, unlabeled=args.unlabeled)
    from shared.adapters import read_meta

    metrics = {k: v for k, v in read_meta(path)["metrics"].items() if not isinstance(v, dict)}
    print(json.dumps({"adapter": f"{args.app}/{args.name}", "path": str(path), "metrics": metrics}))
    return 0


def _eval(args: argparse.Namespace) -> int:
    text, report = eval_file(args.data, args.name, app=args.app)
    print(text)
    if args.json:
        from shared.atomic import write_text

        write_text(args.json, json.dumps(report, indent=2))
        print(f"report: {args.json}", file=sys.stderr)
    return 0


def _tag(args: argparse.Namespace) -> int:
    app, name = _app_name(args)
    lines = tag_file(args.input, args.output, name=name, app=app)
    print(json.dumps({"output": args.output, "lines": lines}))
    return 0


def register(commands) -> None:
    """Add ``train ner``, ``eval ner`` and ``ner tag`` to the ``lorasuite`` command."""
    from apps.cli import add_settings_args, add_teacher_args

    files = "CoNLL columns (token first, tag last) or JSONL {tokens, tags}"
    tr = commands.train.add_parser("ner", help="train a LoRA token tagger (BIO tags)",
                                   epilog="Defaults hold at every data size: runs over 500 steps lower the "
                                          "peak lr towards 3e-4 (bench/results/ner.md).")
    tr.add_argument("--data", required=True, help=f"training file: {files}")
    tr.add_argument("--dev", help="dev file for early stopping on entity F1 and metrics")
    ev = commands.eval.add_parser("ner", help="entity-level precision/recall/F1 of a token tagger")
    ev.add_argument("--data", required=True, help=f"tagged file: {files}")
    ev.add_argument("--json", help="also write the report as JSON here")
    for p in (tr, ev):
        p.add_argument("--name", required=True, help="adapter name")
        p.add_argument("--app", default=DEFAULT_APP, help=f"registry namespace (default: {DEFAULT_APP})")
    add_settings_args(tr)
    add_teacher_args(tr)
    tr.add_argument("--no-word-shape", action="store_true", help="no word-shape feature (caps/title/...) in the head")
    tr.set_defaults(func=_train)
    ev.set_defaults(func=_eval)

    ner = commands.top.add_parser("ner", help="tag entities in texts or CoNLL files")
    sub = ner.add_subparsers(dest="action", required=True)
    tg = sub.add_parser("tag", help="entities with character offsets (JSONL), or a CoNLL tag column")
    tg.add_argument("--input", required=True, help="CSV (text column), JSONL (text) or a CoNLL column file")
    tg.add_argument("--output", required=True, help="JSONL of entities per input (CoNLL in: CoNLL out)")
    tg.add_argument("--adapter", default=DEFAULT_ADAPTER, help="adapter NAME or APP/NAME (default: ner/orgs)")
    tg.add_argument("--app", default=DEFAULT_APP, help="app of --adapter when it has no APP/ part")
    tg.set_defaults(func=_tag)
