"""When the bot answers from the article, composes from passages, or hands over: the thresholds.

Five numbers, all calibrated by ``calibrate.py`` (``lorasuite support calibrate``) on a dev
split of labelled questions plus the project's out-of-scope questions:

- ``answer_confidence`` / ``answer_margin``: the intent's article answer is given only when the
  calibrated top probability and its margin over the runner-up are both at least these
  (chosen as the loosest pair whose article answers are >= 95% correct on dev);
- ``min_similarity``: when the best help-centre passage has a lower cosine than this, the
  question is out of scope: hand over;
- ``unsure_similarity`` / ``handover_margin``: when the best passage is only moderately close
  (below ``unsure_similarity``) AND the intent margin is below ``handover_margin``, the bot is
  unsure: hand over (low confidence). The three hand-over numbers are chosen together to
  maximise Youden's J (out-of-scope recall minus in-scope hand-over rate) with at most 10% of
  in-scope questions handed over.
Everything else gets a reply composed from the retrieved passages.

Precedence: ``[support]`` config keys > ``$LORASUITE_HOME/support/thresholds.json`` (written
by calibrate, per adapter name) > ``data/adapters/support/thresholds.json`` (shipped) > the
defaults below (the values calibrated for the shipped intent adapter).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from shared.atomic import write_text
from shared.home import data_dir, state_dir

log = logging.getLogger(__name__)
CONFIG_KEYS = {"confidence_threshold": "answer_confidence", "margin_threshold": "answer_margin",
               "similarity_threshold": "min_similarity", "unsure_similarity": "unsure_similarity",
               "handover_margin": "handover_margin"}
NUMBERS = ("answer_confidence", "answer_margin", "min_similarity", "unsure_similarity", "handover_margin")


@dataclass
class Thresholds:
    """The four decision thresholds (see the module docstring)."""

    answer_confidence: float = 0.2
    answer_margin: float = 0.5
    min_similarity: float = 0.33
    unsure_similarity: float = 0.46
    handover_margin: float = 0.55
    source: str = "defaults"

    def __post_init__(self) -> None:
        for name in NUMBERS:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not -1.0 <= float(value) <= 1.0:
                raise ValueError(f"threshold {name} must be a number in [-1, 1], got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def files() -> list[Path]:
    """Calibration files in lookup order: the user's, then the shipped one."""
    return [state_dir("support") / "thresholds.json", data_dir("adapters", "support", "thresholds.json")]


def _from_file(path: Path, adapter: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(path.read_text()).get(adapter)
    except (OSError, ValueError, AttributeError):
        return None
    return entry if isinstance(entry, dict) else None


def load_thresholds(settings: Any, adapter: str) -> Thresholds:
    """The thresholds for an intent adapter: ``[support]`` keys over calibration files over defaults."""
    values: dict[str, Any] = {}
    for path in files():
        entry = _from_file(path, adapter)
        if entry:
            known = {f.name for f in fields(Thresholds)}
            values = {k: v for k, v in entry.items() if k in known}
            values["source"] = str(path)
            break
    overrides = {field: getattr(settings, key) for key, field in CONFIG_KEYS.items()
                 if settings is not None and getattr(settings, key, None) is not None}
    if overrides:
        values.update(overrides, source=f"{values.get('source', 'defaults')} + config")
    try:
        return Thresholds(**values)
    except (TypeError, ValueError) as err:
        from shared.errors import LorasuiteError

        raise LorasuiteError(f"bad [support] threshold setting: {err}") from err


def save_thresholds(adapter: str, thresholds: Thresholds, extra: dict[str, Any] | None = None) -> Path:
    """Record calibrated thresholds for ``adapter`` in the user's calibration file."""
    path = files()[0]
    try:
        current = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        current = {}
    current[adapter] = dict(thresholds.to_dict(), source=str(path), **(extra or {}))
    write_text(path, json.dumps(current, indent=2))
    return path


def decide(thresholds: Thresholds, confidence: float | None, margin: float | None,
           similarity: float | None) -> str:
    """``article``, ``passages``, ``out_of_scope`` or ``low_confidence`` for one question."""
    if similarity is None or similarity < thresholds.min_similarity:
        return "out_of_scope"
    if confidence is None:  # no intent model: retrieval alone decides
        return "passages"
    if similarity < thresholds.unsure_similarity and (margin or 0.0) < thresholds.handover_margin:
        return "low_confidence"
    if confident(thresholds, confidence, margin):
        return "article"
    return "passages"


def confident(thresholds: Thresholds, confidence: float | None, margin: float | None) -> bool:
    """Sure enough of the intent to answer with its article."""
    return (confidence or 0.0) >= thresholds.answer_confidence and (margin or 0.0) >= thresholds.answer_margin
