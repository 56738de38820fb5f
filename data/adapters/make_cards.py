"""Make the shipped adapters standard artefacts in place (weights and meta.json untouched).

For every ``data/adapters/<app>/<name>/``: ``adapter_config.json`` names the public base model id
(``sentence-transformers/all-MiniLM-L6-v2``) instead of a developer's local path, a head gets
``head_config.json`` + ``labels.json``, and ``README.md`` becomes a model card generated from
``meta.json`` and ``training_data.json`` (shared.export.standardize: what ``lorasuite adapters
export`` and every newly saved adapter get too). Idempotent; run from the repository root:

    .venv/bin/python data/adapters/make_cards.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parents[1]))


def weights_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.safetensors")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def main() -> int:
    from shared.export import standardize

    for meta_file in sorted(ROOT.glob("*/*/meta.json")):
        folder = meta_file.parent
        before = weights_digest(folder), meta_file.read_bytes()
        standardize(folder, json.loads(meta_file.read_text()))
        if (weights_digest(folder), meta_file.read_bytes()) != before:
            raise SystemExit(f"{folder}: weights or meta.json changed")
        print(f"{folder.relative_to(ROOT)}: card, config and head files written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
