"""The customer-support app: help-centre retrieval, LoRA intent, hand-over to people, agent inbox.

Modules: ``kb`` (read and chunk files), ``ingest`` (idempotent indexing), ``search`` (the help-centre
``shared.retrieval.HybridIndex``: faiss + BM25 fused by reciprocal rank), ``inputs`` (message checks), ``policy`` / ``calibrate``
(thresholds), ``answers`` (reply texts), ``bot`` (one message -> one stored reply), ``store``
(SQLite/PostgreSQL tables), ``analytics``, ``generator`` (optional SmolLM2), ``cli``, ``ui``.

The launcher calls ``start(config)`` once at boot: it ingests the configured help centre
(``[support] kb_paths``, default the shipped ``data/support/kb``; a no-op when up to date) and
loads the intent adapter, so ``make demo`` has a working bot without any user step.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def kb_paths(config=None) -> list[Path]:
    """The help-centre files/folders: ``[support] kb_paths`` or the shipped ``data/support/kb``."""
    from shared.home import data_dir

    configured = (config.section("support").get("kb_paths") if config is not None else None) or []
    if isinstance(configured, str):
        configured = [configured]
    paths = [Path(p) for p in configured if Path(p).exists()]
    missing = [str(p) for p in configured if not Path(p).exists()]
    if missing:
        log.warning("support kb_paths not found (skipped): %s", ", ".join(missing))
    return paths or [data_dir("support", "kb")]


def start(config=None) -> list[str]:
    """Ingest the help centre if needed and warm the bot; returns notices (never raises)."""
    from apps.support.bot import get_bot
    from apps.support.ingest import ensure_ingested
    from shared.errors import LorasuiteError

    notices = []
    try:
        report = ensure_ingested(kb_paths(config))
        log.info("support help centre: %s", report.summary())
    except LorasuiteError as err:
        notices.append(str(err))
    notices += get_bot(config).warm()
    for notice in notices:
        log.warning("support: %s", notice)
    return notices


def stop() -> None:
    """Nothing to stop: the support app runs no background work."""
