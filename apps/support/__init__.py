"""The customer-support app: help-centre retrieval, LoRA intent, hand-over to people, agent inbox.

Modules: ``kb`` (read and chunk files), ``ingest`` (idempotent indexing), ``search`` (the help-centre
``shared.retrieval.HybridIndex``: faiss + BM25 fused by reciprocal rank), ``inputs`` (message checks), ``policy`` / ``calibrate``
(thresholds), ``answers`` (reply texts), ``bot`` (one message -> one stored reply), ``store``
(SQLite/PostgreSQL tables), ``analytics``, ``generator`` (optional SmolLM2), ``cli``, ``ui``.

``app.py`` holds the app's ``AppSpec``; its ``start(ctx)`` runs once at boot: it ingests the
configured help centre (``[support] kb_paths``, default the shipped ``data/support/kb``; a no-op
when up to date) and loads the intent adapter, so ``make demo`` has a working bot at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def kb_paths(settings) -> list[Path]:
    """The help-centre files/folders: ``[support] kb_paths`` or the shipped ``data/support/kb``."""
    from shared.home import data_dir

    configured = list(settings.kb_paths) if settings is not None else []
    paths = [Path(p) for p in configured if Path(p).exists()]
    missing = [str(p) for p in configured if not Path(p).exists()]
    if missing:
        log.warning("support kb_paths not found (skipped): %s", ", ".join(missing))
    return paths or [data_dir("support", "kb")]
