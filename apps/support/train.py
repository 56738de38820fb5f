"""Training for the support app: the LoRA intent adapter (+ threshold calibration), and the generator.

    lorasuite support train --data train.csv --name intent2 --dev dev.csv    (columns text,category)
    lorasuite support train-generator [--data banking77_train.csv]

``train_intent`` validates both files before training (shared.tasks), saves the adapter as
``support/<name>``, and with a dev file fits the bot's answer/hand-over thresholds for it on that
dev file and the out-of-scope set (``calibrate.py``), saved under ``$LORASUITE_HOME/support``.
The shipped default ``support/intent`` is trained by the project lead on the BANKING77 80/20
split (see data/adapters/README.md); ``train_generator`` lives in ``generator.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from apps.support.generator import train_generator
from shared.settings import LoraSettings

log = logging.getLogger(__name__)
__all__ = ["train_intent", "calibrate_adapter", "train_generator"]


def train_intent(ctx, data: str | Path, name: str, dev: str | Path | None = None,
                 settings: LoraSettings | None = None, model: str = "minilm", text_col: str = "text",
                 label_col: str = "category", calibrate: bool = True, teacher: str | None = None,
                 unlabeled: str | Path | None = None) -> dict[str, Any]:
    """Train ``support/<name>`` on a text,category CSV; returns its path and, with dev, its thresholds.

    ``teacher`` (e.g. ``mpnet``) distils into the MiniLM student, also on ``unlabeled`` questions.
    """
    from shared.tasks import train_classify_files

    path = train_classify_files(data, name, app="support", dev=dev, text_col=text_col, label_col=label_col,
                                settings=settings, model=model, teacher=teacher, unlabeled=unlabeled)
    result: dict[str, Any] = {"adapter": f"support/{name}", "path": str(path)}
    if dev and calibrate:
        result.update(calibrate_adapter(ctx, f"support/{name}", dev, text_col=text_col, label_col=label_col))
    return result


def ready_bot(ctx, adapter: str | None = None):
    """A bot for command-line use: the help centre is ingested first when there is no index yet."""
    import sys

    from apps.support import kb_paths
    from apps.support.bot import SupportBot
    from apps.support.ingest import ensure_ingested
    from apps.support.search import index_dir

    if not (index_dir() / "meta.json").exists():
        print("note: no help-centre index yet; ingesting the configured help centre", file=sys.stderr)
        ensure_ingested(kb_paths(ctx.settings("support")))
    return SupportBot(ctx, adapter=adapter)


def calibrate_adapter(ctx, adapter: str, dev: str | Path | None = None, oos: str | Path | None = None,
                      text_col: str = "text", label_col: str = "category") -> dict[str, Any]:
    """Fit and save the thresholds for an intent adapter (reference or folder); returns them and a report."""
    from apps.support.bot import _adapter_name
    from apps.support.calibrate import calibrate
    from apps.support.policy import save_thresholds
    from shared.datasets import read_labeled_csv

    bot = ready_bot(ctx, adapter)
    dev_rows = read_labeled_csv(dev, text_col, label_col) if dev else None
    thresholds, report = calibrate(bot, dev_rows, oos)
    saved = save_thresholds(_adapter_name(bot.adapter), thresholds, {"report": report})
    log.info("calibrated %s: %s", adapter, thresholds)
    return {"thresholds": thresholds.to_dict(), "report": report, "saved": str(saved)}
