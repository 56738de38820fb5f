"""``lorasuite adapters ...``: the registry from the command line.

    lorasuite adapters list [APP]                 one line per APP/NAME: champion version, task, metrics
    lorasuite adapters show APP NAME[@VERSION]    meta.json of the champion (or that version), as JSON
    lorasuite adapters history APP NAME           every version with status, parent, metrics (JSON lines)
    lorasuite adapters promote APP NAME VERSION   make VERSION the champion (running suites follow)
    lorasuite adapters rollback APP NAME          give the title back to the previous champion
    lorasuite adapters delete APP NAME            delete the versions trained here (shipped ones stay)
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def _list(args: argparse.Namespace) -> int:
    from shared import adapters

    rows = adapters.list_adapters(args.app)
    for row in rows:
        metric = ", ".join(f"{k}={v:.3f}" for k, v in row["metrics"].items() if isinstance(v, float))
        print(f"{row['app']}/{row['name']}\tv{row['version']} of {row['versions']}\t{row['task']}\t{row['source']}"
              f"\t{row['created']}\t{metric}")
    if not rows:
        print("no adapters")
    return 0


def _show(args: argparse.Namespace) -> int:
    from shared import adapters, registry

    version = registry.resolve(registry.parse_ref(args.name, args.app))
    meta = adapters.read_meta(version.path)
    print(json.dumps(dict(meta, path=str(version.path), version=version.version, status=version.status,
                          weights_bytes=adapters.size_bytes(version.path)), indent=2))
    return 0


def _history(args: argparse.Namespace) -> int:
    from shared import registry

    for row in registry.history(args.app, args.name):
        print(json.dumps(row))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from shared import registry

    version = registry.promote(args.app, args.name, args.version, reason=args.reason)
    print(json.dumps({"adapter": f"{args.app}/{args.name}", "champion": version.version, "path": str(version.path)}))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from shared import registry

    version = registry.rollback(args.app, args.name)
    print(json.dumps({"adapter": f"{args.app}/{args.name}", "champion": version.version, "path": str(version.path)}))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from shared import adapters

    print(json.dumps({"deleted": str(adapters.delete(args.app, args.name))}))
    return 0


def register(commands: Any) -> None:
    ad = commands.top.add_parser("adapters", help="list, show, version and export adapters")
    sub = ad.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("list", help="every adapter (yours and the shipped defaults) with its champion")
    ls.add_argument("app", nargs="?")
    ls.set_defaults(func=_list)
    verbs = {"show": (_show, "meta.json of the champion, or of NAME@VERSION"),
             "history": (_history, "every version: status, parent, metrics, reason (JSON lines)"),
             "rollback": (_rollback, "make the previous champion the champion again"),
             "delete": (_delete, "delete the versions trained here (shipped ones are read-only)")}
    for verb, (func, help_text) in verbs.items():
        p = sub.add_parser(verb, help=help_text)
        p.add_argument("app")
        p.add_argument("name")
        p.set_defaults(func=func)
    pr = sub.add_parser("promote", help="make VERSION the champion (running processes follow)")
    pr.add_argument("app")
    pr.add_argument("name")
    pr.add_argument("version", type=int)
    pr.add_argument("--reason", default="promoted by hand")
    pr.set_defaults(func=_promote)
    try:
        from apps.export_cli import register_adapter_verbs
    except ImportError:
        return
    register_adapter_verbs(sub)
