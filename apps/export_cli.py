"""``lorasuite adapters export`` / ``adapters push``: adapters as standard, shareable artefacts.

    lorasuite adapters export support intent ./intent-adapter        # PEFT files + head + README card
    lorasuite adapters export support intent@1 ./intent-adapter      # a version (the registry's numbering)
    LORASUITE_ONLINE=1 HF_TOKEN=... lorasuite adapters push support intent me/northwind-intent

The exported folder loads with plain ``PeftModel.from_pretrained(AutoModel.from_pretrained(base),
DIR)``; its README.md says how to apply the head. ``push`` exports to a temp folder and uploads
it to a Hugging Face model repo (created if needed; the token comes from ``HF_TOKEN`` or
``hf auth login``). Wire it in with ``register_adapter_verbs(adapters_subparsers)`` on the
``lorasuite adapters`` sub-command group. Importing this module does not import torch.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shared.errors import LorasuiteError


def parse_spec(spec: str) -> tuple[str, int | None]:
    """``NAME`` or ``NAME@VERSION`` -> (name, version or None)."""
    name, at, version = spec.partition("@")
    if not at:
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise LorasuiteError(f"bad adapter version in {spec!r}: use NAME@N with N = 1, 2, ...")
    return name, int(version)


def locate(app: str, spec: str) -> Path:
    """The directory of ``APP NAME[@VERSION]`` in the registry (no version: the champion)."""
    from shared import registry

    name, version = parse_spec(spec)
    return registry.resolve(registry.Ref(app, registry.check_name("adapter", name), version)).path


def _export(args: argparse.Namespace) -> int:
    from shared.export import export_adapter

    out = export_adapter(locate(args.app, args.name), args.dir, base_model=args.base_model, repo_id=args.repo_id,
                         overwrite=args.overwrite)
    print(json.dumps({"adapter": f"{args.app}/{args.name}", "exported": str(out),
                      "files": sorted(p.name for p in out.iterdir())}))
    return 0


def _push(args: argparse.Namespace) -> int:
    from shared.export import push_adapter

    url = push_adapter(locate(args.app, args.name), args.repo, private=args.private, base_model=args.base_model)
    print(json.dumps({"adapter": f"{args.app}/{args.name}", "pushed": url}))
    return 0


def register_adapter_verbs(adapters_subparsers) -> None:
    """Add ``export`` and ``push`` to the ``lorasuite adapters`` sub-command group."""
    base_help = "base model id to name in adapter_config.json and the card (default: the adapter's, as a public id)"
    ex = adapters_subparsers.add_parser(
        "export", help="write an adapter as a standard PEFT folder with a model card",
        description="Writes adapter_config.json (the public base model id) + adapter_model.safetensors, the head "
                    "(head.safetensors, head_config.json, labels.json) and a README.md model card. The folder loads "
                    "with PeftModel.from_pretrained(AutoModel.from_pretrained(BASE), DIR).")
    ex.add_argument("app")
    ex.add_argument("name", metavar="NAME[@VERSION]")
    ex.add_argument("dir", help="folder to write (must be new or empty unless --overwrite)")
    ex.add_argument("--repo-id", help="Hub repo id to name in the card's usage snippet")
    ex.add_argument("--overwrite", action="store_true", help="replace a non-empty DIR")
    ex.add_argument("--base-model", help=base_help)
    ex.set_defaults(func=_export)
    push = adapters_subparsers.add_parser("push", help="upload an adapter to the Hugging Face Hub (LORASUITE_ONLINE=1)",
                                          description="Needs LORASUITE_ONLINE=1 and a token (HF_TOKEN or `hf auth login`).")
    push.add_argument("app")
    push.add_argument("name", metavar="NAME[@VERSION]")
    push.add_argument("repo", help="Hugging Face model repo id, OWNER/NAME (created if missing)")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--base-model", help=base_help)
    push.set_defaults(func=_push)
