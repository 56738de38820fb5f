"""Sentiment of headlines by the LoRA adapter on the shared backbone, plus optional entity tags.

The adapter is ``sentiment/<name>`` from the registry (default ``finance``, the shipped one;
``[sentiment] adapter`` in the config picks another). It must be a classifier with a
``negative`` label. Each headline gets the top label, its calibrated probability (``score``)
and a polarity ``p(positive) - p(negative)`` in [-1, 1] for trend lines.

Entities come from a token-classification adapter (``[sentiment] ner_adapter``, default
``ner/orgs``) when the core backbone can tag (``Backbone.tag``) and that adapter exists;
otherwise entity tagging is simply off.

    model = SentimentModel.load("finance")
    model.predict(["Boeing halts 737 MAX production"])  # -> [Scored("negative", 0.93, -0.9)]
    classify_file("in.csv", "out.jsonl")
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import adapters
from shared.errors import AdapterNotFoundError, LorasuiteError

log = logging.getLogger(__name__)

APP = "sentiment"
DEFAULT_ADAPTER = "finance"
DEFAULT_NER = "ner/orgs"
ORG_TYPES = ("ORG", "ORGANIZATION", "ORGANISATION", "CORPORATION", "COMPANY")


@dataclass
class Scored:
    label: str
    score: float
    polarity: float


class SentimentModel:
    """A loaded sentiment adapter: ``predict(texts)`` in batches."""

    _cache: dict[str, SentimentModel] = {}
    _lock = threading.Lock()

    def __init__(self, name: str, path: Path, meta: dict[str, Any]) -> None:
        from shared.backbone import get_backbone

        self.name, self.path, self.meta = name, path, meta
        self.stamp = f"{path}|{meta.get('created')}"
        self.backbone = get_backbone(meta.get("base_model", "minilm"))
        # one key per adapter version, so a retrained or differently-homed adapter never shadows another
        self.key = f"{APP}__{name}__{hashlib.sha1(self.stamp.encode()).hexdigest()[:8]}"
        if self.key not in self.backbone.metas:
            self.backbone.add_adapter(self.key, path)

    @classmethod
    def load(cls, name: str = DEFAULT_ADAPTER) -> SentimentModel:
        """The adapter ``sentiment/<name>`` (cached; reloaded when its files change)."""
        path = adapters.find(APP, name)
        meta = adapters.read_meta(path)
        if meta.get("task") != "classify" or "negative" not in meta.get("labels", []):
            raise LorasuiteError(f"adapter {APP}/{name} at {path} is not a sentiment classifier "
                                 f"(needs task classify with a 'negative' label; has {meta.get('labels')})")
        stamp = f"{path}|{meta.get('created')}"
        with cls._lock:
            cached = cls._cache.get(stamp)
            if cached is None or cached.key not in cached.backbone.metas:
                cached = cls._cache[stamp] = cls(name, path, meta)
            return cached

    @property
    def labels(self) -> list[str]:
        return list(self.meta["labels"])

    def predict(self, texts: list[str]) -> list[Scored]:
        """Label, calibrated score and polarity for each text, in order."""
        if not texts:
            return []
        labels, probs = self.backbone.classify_probs(list(texts), self.key)
        neg = labels.index("negative")
        pos = labels.index("positive") if "positive" in labels else None
        out = []
        for row in probs:
            top = int(row.argmax())
            polarity = (float(row[pos]) if pos is not None else 0.0) - float(row[neg])
            out.append(Scored(labels[top], round(float(row[top]), 4), round(polarity, 4)))
        return out


def configured_adapter(section: dict | None = None) -> str:
    if section is None:
        from apps.config import load_config

        section = load_config().section("sentiment")
    return str(section.get("adapter") or DEFAULT_ADAPTER)


def load_model(name: str | None = None, required: bool = True) -> SentimentModel | None:
    """The configured sentiment model; with ``required=False`` a missing adapter returns None."""
    try:
        return SentimentModel.load(name or configured_adapter())
    except AdapterNotFoundError:
        if required:
            raise
        log.warning("no sentiment adapter %r yet: items are stored unscored until one exists", name)
        return None


class EntityTagger:
    """Entities (ORG and others) via ``Backbone.tag`` when the core and the adapter are there."""

    def __init__(self, backbone: Any, key: str) -> None:
        self.backbone, self.key = backbone, key

    @classmethod
    def maybe(cls, spec: str | None = None) -> EntityTagger | None:
        """A tagger for ``app/name`` (default ``ner/orgs``), or None when tagging is unavailable."""
        spec = spec or DEFAULT_NER
        if spec.lower() in ("", "none", "off"):
            return None
        app, _, name = spec.partition("/")
        try:
            path = adapters.find(app, name)
            meta = adapters.read_meta(path)
            from shared.backbone import get_backbone

            backbone = get_backbone(meta.get("base_model", "minilm"))
            if not hasattr(backbone, "tag"):
                return None
            return cls(backbone, backbone.load(app, name))
        except LorasuiteError as err:
            log.info("entity tagging off (%s)", err)
            return None

    def tag(self, texts: list[str]) -> list[list[dict]]:
        if not texts:
            return []
        found = self.backbone.tag(list(texts), self.key)
        return [[{"text": e["text"], "type": str(e["type"]), "start": int(e["start"]), "end": int(e["end"]),
                  "score": round(float(e.get("score", 1.0)), 4)} for e in row] for row in found]


def is_org(entity: dict) -> bool:
    return str(entity.get("type", "")).upper() in ORG_TYPES


def classify_file(input_path: str | Path, output_path: str | Path, adapter: str | None = None) -> int:
    """Classify a CSV (``text`` column) or JSONL (``text`` key) file; one JSON line per input, in order."""
    from shared.atomic import write_jsonl
    from shared.datasets import read_texts
    from shared.progress import bar

    texts = read_texts(input_path)
    model = SentimentModel.load(adapter or configured_adapter())
    rows = []
    with bar(total=len(texts), desc="classifying", unit="text") as progress:
        for start in range(0, len(texts), 1024):
            chunk = texts[start : start + 1024]
            rows.extend({"text": t, "label": s.label, "score": s.score}
                        for t, s in zip(chunk, model.predict(chunk), strict=True))
            progress.update(len(chunk))
    return write_jsonl(output_path, rows)
