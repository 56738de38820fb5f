"""Entities from BIO tag sequences, and seqeval-style entity-level scoring.

A tag is ``O``, ``B-TYPE`` or ``I-TYPE``. Chunks follow conlleval (= seqeval's default mode):
an entity starts at ``B-X``, or at an ``I-X`` that does not continue an ``X`` entity, so IOB1
and IO files (e.g. SEC FIN5, which has no ``B-``) read correctly. An entity counts as right
only if its span AND its type both match.

    chunks(["B-ORG", "I-ORG", "O", "I-PER"])        # [("ORG", 0, 2), ("PER", 3, 4)]
    report = entity_report(gold_tag_lists, predicted_tag_lists)
    print(format_entity_report(report))
"""

from __future__ import annotations

import re
from typing import Any

_TAG = re.compile(r"^(?:O|[BI]-\S+)$")


def is_tag(tag: str) -> bool:
    """True for ``O``, ``B-TYPE`` and ``I-TYPE``."""
    return bool(_TAG.match(tag))


def tag_type(tag: str) -> str | None:
    """The entity type of a tag (None for ``O``)."""
    return None if tag == "O" else tag[2:]


def chunks(tags: list[str]) -> list[tuple[str, int, int]]:
    """Entities as (type, start, end) word spans, end exclusive (conlleval rules)."""
    found: list[tuple[str, int, int]] = []
    kind: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        new = tag_type(tag)
        continues = new is not None and new == kind and tag.startswith("I-")
        if kind is not None and not continues:
            found.append((kind, start, i))
            kind = None
        if new is not None and not continues:
            kind, start = new, i
    if kind is not None:
        found.append((kind, start, len(tags)))
    return found


def to_iob2(tags: list[str]) -> list[str]:
    """The same entities written as IOB2 (every entity starts with ``B-``)."""
    out = ["O"] * len(tags)
    for kind, start, end in chunks(tags):
        out[start] = f"B-{kind}"
        for i in range(start + 1, end):
            out[i] = f"I-{kind}"
    return out


def tag_set(types: list[str] | set[str]) -> list[str]:
    """``O`` then ``B-``/``I-`` for each type, sorted (the label order of a tag adapter)."""
    return ["O"] + [f"{p}-{t}" for t in sorted(types) for p in ("B", "I")]


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def entity_report(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, Any]:
    """Micro P/R/F1 over all entities, per type P/R/F1/support, and macro-F1 over types."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    counts: dict[str, list[int]] = {}  # type -> [correct, predicted, gold]
    for number, (g_tags, p_tags) in enumerate(zip(gold, predicted, strict=True)):
        if len(g_tags) != len(p_tags):
            raise ValueError(f"sentence {number}: {len(g_tags)} gold tags but {len(p_tags)} predicted")
        g, p = set(chunks(g_tags)), set(chunks(p_tags))
        for kind, *_ in g:
            counts.setdefault(kind, [0, 0, 0])[2] += 1
        for kind, *_ in p:
            counts.setdefault(kind, [0, 0, 0])[1] += 1
        for kind, *_ in g & p:
            counts[kind][0] += 1
    per_type = {k: dict(_prf(*counts[k]), support=counts[k][2], predicted=counts[k][1])
                for k in sorted(counts)}
    totals = [sum(c[i] for c in counts.values()) for i in range(3)]
    gold_types = [k for k in per_type if per_type[k]["support"]]
    macro = sum(per_type[k]["f1"] for k in gold_types) / len(gold_types) if gold_types else 0.0
    return {"micro": dict(_prf(*totals), support=totals[2], predicted=totals[1]), "per_type": per_type,
            "macro_f1": macro, "sentences": len(gold)}


def format_entity_report(report: dict[str, Any]) -> str:
    """The report as a fixed-width table for a terminal."""
    width = max([len(k) for k in report["per_type"]] + [9])
    lines = [f"{'type':<{width}}  precision  recall     f1  support  predicted"]
    rows = list(report["per_type"].items()) + [("micro avg", report["micro"])]
    for kind, m in rows:
        lines.append(f"{kind:<{width}}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['f1']:5.3f}"
                     f"  {m['support']:7d}  {m['predicted']:9d}")
    lines.append(f"entity F1 (micro) {report['micro']['f1']:.4f}  macro-F1 {report['macro_f1']:.4f}"
                 f"  sentences={report['sentences']}")
    return "\n".join(lines)
