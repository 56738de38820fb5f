"""Sentiment of headlines by the LoRA adapter on the shared backbone, plus optional entity tags.

The adapter is a registry reference (default ``sentiment/finance``, the shipped one;
``[sentiment] adapter`` in the config picks another) and follows its champion. It must be a classifier with a
``negative`` label. Each headline gets the top label, its calibrated probability (``score``)
and a polarity ``p(positive) - p(negative)`` in [-1, 1] for trend lines.

Entities come from a token-classification adapter (``[sentiment] ner_adapter``, default
``ner/orgs``) when the core backbone can tag (``Backbone.tag``) and that adapter exists;
otherwise entity tagging is simply off.

    model = SentimentModel.load("sentiment/finance")
    model.predict(["Boeing halts 737 MAX production"])  # -> [Scored("negative", 0.93, -0.9)]
    classify_file("in.csv", "out.jsonl")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import adapters, registry
from shared.errors import AdapterNotFoundError, LorasuiteError

log = logging.getLogger(__name__)

APP = "sentiment"
DEFAULT_ADAPTER = "sentiment/finance"
DEFAULT_NER = "ner/orgs"
ORG_TYPES = ("ORG", "ORGANIZATION", "ORGANISATION", "CORPORATION", "COMPANY")


@dataclass
class Scored:
    label: str
    score: float
    polarity: float


class SentimentModel:
    """A sentiment adapter reference on the backbone: ``predict(texts)`` in batches. The backbone
    follows the reference, so a promoted or rolled-back version is used from the next call on."""

    def __init__(self, backbone: Any, ref: str) -> None:
        self.backbone, self.ref = backbone, ref
        self.name = ref  # recorded with each scored item

    @classmethod
    def load(cls, name: str = DEFAULT_ADAPTER, backbone: Any = None) -> SentimentModel:
        """The adapter ``name`` (``APP/NAME[@V]``, ``NAME`` in the sentiment app, or a folder), checked
        to be a sentiment classifier."""
        version = registry.resolve(name, app=APP)
        meta = adapters.read_meta(version.path)
        if meta.get("task") != "classify" or "negative" not in meta.get("labels", []):
            raise LorasuiteError(f"adapter {name} at {version.path} is not a sentiment classifier "
                                 f"(needs task classify with a 'negative' label; has {meta.get('labels')})")
        from shared.backbone import backbone_for

        backbone = backbone_for(meta.get("base_model"), backbone)
        return cls(backbone, backbone.use(name, app=APP))

    @property
    def meta(self) -> dict[str, Any]:
        return self.backbone.meta(self.ref)

    @property
    def labels(self) -> list[str]:
        return list(self.meta["labels"])

    def predict(self, texts: list[str]) -> list[Scored]:
        """Label, calibrated score and polarity for each text, in order."""
        if not texts:
            return []
        labels, probs = self.backbone.classify_probs(list(texts), self.ref)
        neg = labels.index("negative")
        pos = labels.index("positive") if "positive" in labels else None
        out = []
        for row in probs:
            top = int(row.argmax())
            polarity = (float(row[pos]) if pos is not None else 0.0) - float(row[neg])
            out.append(Scored(labels[top], round(float(row[top]), 4), round(polarity, 4)))
        return out


def load_model(name: str, required: bool = True, backbone: Any = None) -> SentimentModel | None:
    """The sentiment model ``name`` refers to; with ``required=False`` a missing adapter returns None."""
    try:
        return SentimentModel.load(name, backbone)
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
    def maybe(cls, ref: str | None = DEFAULT_NER, backbone: Any = None) -> EntityTagger | None:
        """A tagger for ``ref`` (default ``ner/orgs``), or None when tagging is off or unavailable."""
        ref = ref or DEFAULT_NER
        if ref.lower() in ("none", "off"):
            return None
        try:
            from shared.backbone import backbone_for

            meta = adapters.read_meta(registry.resolve(ref, app="ner").path)
            backbone = backbone_for(meta.get("base_model"), backbone)
            if not hasattr(backbone, "tag"):
                return None
            return cls(backbone, backbone.use(ref, app="ner"))
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


def classify_file(input_path: str | Path, output_path: str | Path, adapter: str = DEFAULT_ADAPTER) -> int:
    """Classify a CSV (``text`` column) or JSONL (``text`` key) file; one JSON line per input, in order."""

    from shared.atomic import write_jsonl
    from shared.datasets import read_texts
    from shared.progress import bar

    texts = read_texts(input_path)
    model = SentimentModel.load(adapter)
    rows = []
    with bar(total=len(texts), desc="classifying", unit="text") as progress:
        for start in range(0, len(texts), 1024):
            chunk = texts[start : start + 1024]
            rows.extend({"text": t, "label": s.label, "score": s.score}
                        for t, s in zip(chunk, model.predict(chunk), strict=True))
            progress.update(len(chunk))
    return write_jsonl(output_path, rows)
