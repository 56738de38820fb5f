"""``lorasuite recommender ...``: import catalogues, train the adapter, get recommendations.

    lorasuite recommender import --items items.csv --interactions ratings.csv   (or --demo)
    lorasuite recommender import-movielens ../shared/data/recommender --out var/movielens [--import]
    lorasuite recommender train --items items.csv --interactions ratings.csv --name next-item
    lorasuite recommender for-user u001 --k 10 [--interest "cosy mysteries"] [--adapter NAME|none] [--json]
    lorasuite recommender query "slow-burn space opera with a strong heroine" --k 10
    lorasuite recommender more-like b001 --k 5
    lorasuite recommender batch --users users.txt --k 10 --output recs.jsonl [--adapter NAME]

Nothing heavy is imported until a verb runs.
"""

from __future__ import annotations

import argparse
import json
import sys

from shared.errors import LorasuiteError


def _rating_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH (e.g. 0,5), got {text!r}") from err
    if low >= high:
        raise argparse.ArgumentTypeError(f"LOW must be below HIGH, got {text!r}")
    return low, high


def _import(args: argparse.Namespace) -> int:
    from apps.recommender.app import service_of
    from apps.recommender.catalog import import_files

    if not (args.items or args.interactions or args.demo):
        raise LorasuiteError("give --items and/or --interactions, or --demo for the shipped books")
    service = service_of(args.ctx)
    reports = service.load_catalogue(force=True) if args.demo else []
    reports += import_files(args.items, args.interactions, rating_range=args.rating_range, store=service.store)
    for report in reports:
        print(report.summary(show=args.show))
    return 0


def _movielens(args: argparse.Namespace) -> int:
    from apps.recommender.movielens import convert
    from shared.home import state_dir

    out = args.out or state_dir("movielens")
    items, interactions, n_items, n_rows = convert(args.directory, out, args.max_tags)
    print(f"wrote {items} ({n_items} items) and {interactions} ({n_rows} interactions)", file=sys.stderr)
    if args.load:
        from apps.recommender.app import service_of
        from apps.recommender.catalog import import_files

        for report in import_files(items, interactions, store=service_of(args.ctx).store):
            print(report.summary())
    return 0


def _train(args: argparse.Namespace) -> int:
    from apps.cli import settings_from_args
    from apps.recommender.profiles import preference
    from apps.recommender.train import PAIR_SETTINGS, train_from_files

    settings = settings_from_args(args, **PAIR_SETTINGS)
    min_pref = preference(args.min_rating, "rating", args.rating_range)
    path, meta = train_from_files(args.items, args.interactions, args.name, settings, model=args.model,
                                  max_pairs=args.max_pairs, min_pref=min_pref, rating_range=args.rating_range)
    print(json.dumps({"adapter": f"recommender/{args.name}", "path": str(path), "pairs": meta["pairs"],
                      "metrics": meta.get("metrics", {}), "train_seconds": meta.get("train_seconds")}))
    return 0


def _print(cards: list, as_json: bool) -> None:
    for rank, card in enumerate(cards, start=1):
        if as_json:
            print(json.dumps(card.to_dict(), ensure_ascii=False))
        else:
            print(f"{rank:2d}. {card.title} [{card.item_id}]  {card.score:+.2f}  ({card.reason})")
    if not cards:
        print("no recommendations (the catalogue is empty or everything is seen)", file=sys.stderr)


def _engine(args: argparse.Namespace):
    from apps.recommender.app import service_of

    return service_of(args.ctx).engine(args.adapter)


def _for_user(args: argparse.Namespace) -> int:
    engine = _engine(args)
    if args.user_id not in engine.histories and not args.interest:
        print(f"note: unknown user {args.user_id!r}: popular items", file=sys.stderr)
    _print(engine.for_user(args.user_id, args.k, interest=args.interest), args.json)
    return 0


def _query(args: argparse.Namespace) -> int:
    if not args.text.strip():
        raise LorasuiteError("the query text is empty")
    _print(_engine(args).query(args.text, args.k), args.json)
    return 0


def _more_like(args: argparse.Namespace) -> int:
    _print(_engine(args).more_like(args.item_id, args.k), args.json)
    return 0


def _batch(args: argparse.Namespace) -> int:
    from shared.atomic import write_jsonl
    from shared.errors import DataError

    try:
        lines = open(args.users, encoding="utf-8-sig").read().split("\n")  # not splitlines(): U+2028 is data
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(args.users, f"cannot read the users file ({err})", fix="one user id per line, UTF-8") from err
    users = [line.strip() for line in lines if line.strip()]
    if not users:
        raise DataError(args.users, "no user ids", fix="one user id per line")
    engine = _engine(args)
    results = engine.for_users(users, args.k)
    count = write_jsonl(args.output, ({"user_id": u, "items": items} for u, items in zip(users, results, strict=True)))
    unknown = sum(1 for u in users if u not in engine.histories)
    print(json.dumps({"output": args.output, "lines": count, "unknown_users": unknown}))
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def register(group) -> None:
    """Add the verbs of ``lorasuite recommender`` (alias ``recommend``) to its parser."""
    from apps.cli import add_settings_args

    verbs = group.add_subparsers(dest="verb", required=True, metavar="VERB")

    imp = verbs.add_parser("import", help="import items and/or interactions (CSV or JSONL); bad rows are reported")
    imp.add_argument("--items", help="item_id,title,text[,extra columns kept as metadata]")
    imp.add_argument("--interactions", help="user_id,item_id,rating|weight,timestamp")
    imp.add_argument("--demo", action="store_true", help="import the shipped demo books")
    imp.add_argument("--show", type=int, default=10, help="how many problem rows to print per file")
    imp.set_defaults(func=_import)

    ml = verbs.add_parser("import-movielens", help="convert MovieLens (movies/ratings/tags.csv) to our files")
    ml.add_argument("directory")
    ml.add_argument("--out", help="output folder (default: $LORASUITE_HOME/movielens)")
    ml.add_argument("--max-tags", type=int, default=10, help="user tags folded into each item text")
    ml.add_argument("--import", dest="load", action="store_true", help="also import the files into the catalogue")
    ml.set_defaults(func=_movielens)

    tr = verbs.add_parser("train", help="train the next-item LoRA bi-encoder from time-ordered histories")
    tr.add_argument("--items", required=True)
    tr.add_argument("--interactions", required=True)
    tr.add_argument("--name", required=True, help="adapter name (recommender/NAME)")
    tr.add_argument("--max-pairs", type=int, default=4000,
                    help="train on at most this many sampled next-item pairs (default 4000: minutes on a laptop; "
                         "0 = every pair, the full run)")
    tr.add_argument("--min-rating", type=float, default=3.5, help="ratings at or above count as liked")
    add_settings_args(tr)
    tr.set_defaults(func=_train)

    for verb, helptext, func in (("for-user", "recommendations for a user (unknown: popular items)", _for_user),
                                 ("query", "recommendations for a typed interest", _query),
                                 ("more-like", "items like one item", _more_like)):
        p = verbs.add_parser(verb, help=helptext)
        p.add_argument({"for-user": "user_id", "query": "text", "more-like": "item_id"}[verb])
        p.add_argument("--k", type=_positive_int, default=10)
        p.add_argument("--json", action="store_true", help="one JSON object per line")
        p.set_defaults(func=func)
    verbs.choices["for-user"].add_argument("--interest", help="typed interests mixed with the history")

    batch = verbs.add_parser("batch", help='recommendations for many users -> JSONL {"user_id", "items"}')
    batch.add_argument("--users", required=True, help="one user id per line")
    batch.add_argument("--k", type=_positive_int, default=10)
    batch.add_argument("--output", required=True, help="JSONL file to write (atomically)")
    batch.set_defaults(func=_batch)

    for p in (*(verbs.choices[v] for v in ("for-user", "query", "more-like")), batch):
        p.add_argument("--adapter", help="APP/NAME[@VERSION], NAME or a folder (default: [recommender] adapter); "
                                         "'none' for the frozen MiniLM")
    for p in (imp, tr):
        p.add_argument("--rating-range", type=_rating_range, default=(0.0, 5.0), help="LOW,HIGH (default 0,5)")
