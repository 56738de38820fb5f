"""End-to-end task runs from files: what ``lorasuite train|eval classify`` and the apps call.

All validation happens before any training starts, so a bad file costs nothing and writes
nothing; the adapter is saved atomically at the end.

    train_classify_files("train.csv", "sentiment", dev="dev.csv")
    report_text, png = eval_classify_file("test.csv", "sentiment")
"""

from __future__ import annotations

import logging
from pathlib import Path

from shared import adapters
from shared.datasets import check_dev_labels, file_hash, read_csv_rows, read_labeled_csv
from shared.errors import DataError
from shared.home import state_dir
from shared.settings import LoraSettings

log = logging.getLogger(__name__)


def train_classify_files(data: str | Path, name: str, app: str = "core", dev: str | Path | None = None,
                         text_col: str = "text", label_col: str = "label", settings: LoraSettings | None = None,
                         model: str = "minilm", teacher: str | None = None,
                         unlabeled: str | Path | None = None) -> Path:
    """Validate the files, train a LoRA classifier, save it as ``app/name``; returns its path.

    ``teacher`` (adapter ``app/name`` or a base such as ``mpnet``) distils into the student, also on
    the texts of ``unlabeled`` (CSV text column or JSONL text); see ``shared.distill``.
    """
    adapters.check_name("app", app)
    adapters.check_name("adapter", name)
    texts, labels = read_labeled_csv(data, text_col, label_col)
    if len(set(labels)) < 2:
        raise DataError(data, f"only one label ({labels[0]!r}) in column '{label_col}'", fix="a classifier needs two or more")
    dev_rows = None
    if dev:
        dev_rows = read_labeled_csv(dev, text_col, label_col)
        check_dev_labels(labels, dev_rows[1], dev)
    extra = teacher_inputs(teacher, unlabeled)
    from shared.classifier import train_classifier

    trained = train_classifier(texts, labels, settings, model=model, dev=dev_rows,
                               data_hash=file_hash(data, dev) if dev else file_hash(data), teacher=teacher,
                               unlabeled=extra)
    return adapters.save(app, name, trained)


def teacher_inputs(teacher: str | None, unlabeled: str | Path | None) -> list[str] | None:
    """Check the teacher can be had and read ``unlabeled``, before any training."""
    if unlabeled and not teacher:
        raise DataError(unlabeled, "unlabeled texts need a teacher to label them", fix="add --teacher REF")
    if not teacher:
        return None
    from shared.distill import check_teacher, read_unlabeled

    check_teacher(teacher)
    return read_unlabeled(unlabeled) if unlabeled else None


def eval_classify_file(data: str | Path, name: str, app: str = "core", text_col: str = "text",
                       label_col: str = "label", png: str | Path | None = None) -> tuple[str, Path]:
    """Evaluate ``app/name`` on a labelled CSV: the printed report and the confusion-matrix PNG."""
    from shared.backbone import get_backbone
    from shared.evaluation import classification_report, confusion_png, format_report

    path = adapters.find(app, name)
    meta = adapters.read_meta(path)
    if meta.get("task") != "classify":
        raise DataError(path, f"adapter {app}/{name} is a {meta.get('task')} adapter, not a classifier")
    texts, gold = read_labeled_csv(data, text_col, label_col)
    unknown = sorted(set(gold) - set(meta["labels"]))
    if unknown:
        raise DataError(data, f"labels {unknown} are not among the adapter's {meta['labels']}")
    from shared.progress import progress

    backbone = get_backbone(meta["base_model"])
    with progress(f"eval {app}/{name}"):
        predicted = [p.label for p in backbone.classify(texts, backbone.load(app, name))]
    report = classification_report(gold, predicted, meta["labels"])
    png = Path(png) if png else state_dir("reports") / f"{app}_{name}_confusion.png"
    confusion_png(gold, predicted, meta["labels"], png, title=f"{app}/{name} on {Path(data).name}")
    return format_report(report), png


def read_pairs(path: str | Path, query_col: str = "query", positive_col: str = "positive") -> list[tuple[str, str]]:
    """(query, positive) pairs of a CSV; every row needs both."""
    pairs = []
    for number, row in read_csv_rows(path, [query_col, positive_col]):
        query, positive = (row.get(query_col) or "").strip(), (row.get(positive_col) or "").strip()
        if not query or not positive:
            raise DataError(path, f"empty '{query_col}' or '{positive_col}'", row=number, fix="fill it or delete the row")
        pairs.append((query, positive))
    return pairs


def train_biencoder_files(data: str | Path, name: str, app: str = "core", dev: str | Path | None = None,
                          query_col: str = "query", positive_col: str = "positive",
                          settings: LoraSettings | None = None, model: str = "minilm") -> Path:
    """Validate the pair files, train a LoRA bi-encoder, save it as ``app/name``; returns its path."""
    adapters.check_name("app", app)
    adapters.check_name("adapter", name)
    pairs = read_pairs(data, query_col, positive_col)
    dev_pairs = read_pairs(dev, query_col, positive_col) if dev else None
    from shared.biencoder import train_biencoder

    trained = train_biencoder(pairs, settings, model=model, dev=dev_pairs,
                              data_hash=file_hash(data, dev) if dev else file_hash(data))
    return adapters.save(app, name, trained)
