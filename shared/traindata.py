"""Where an adapter's training data is: locatable references in meta.json, and reading them back.

A version's ``meta.json`` may say what it was trained on and which dev set judges it::

    "train_data": {"sources": [SOURCE, ...],      the old data a challenger replays
                   "labels": "train_labels.csv"}  + the collected labels it trained on (its own folder)
    "dev_data": SOURCE                            the frozen dev set (old data) of the champion

    SOURCE = {"file": "sentiment/twitter_fin_news_train.csv", "in": "data",   # data | adapter | absolute
              "text_col": "text", "label_col": "label",
              "split": {"test_size": 0.2, "seed": 42, "part": "train"}}        # optional

``in: data`` is relative to the shipped data folder, ``in: adapter`` to the version's own folder.
Labels are cumulative (every retrain trains on every collected label), so a new version keeps its
parent's ``sources`` and only its own labels file. ``split`` is
scikit-learn's stratified ``train_test_split`` in file order, the fixed 80/20 split of
``bench/splits.py``. The shipped sentiment/finance and support/intent carry such entries.

    train_rows, dev_rows = locate(meta, folder)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from shared.datasets import read_labeled_csv
from shared.errors import LorasuiteError
from shared.home import data_dir

Row = tuple[str, str]
LABELS_FILE = "train_labels.csv"


def source_path(source: dict[str, Any], folder: Path) -> Path:
    where, name = source.get("in", "data"), str(source["file"])
    if where == "adapter":
        return folder / name
    return Path(name) if where == "absolute" or Path(name).is_absolute() else data_dir(name)


def read_source(source: dict[str, Any], folder: Path) -> list[Row]:
    """The (text, label) rows a SOURCE names, its split applied."""
    path = source_path(source, folder)
    if not path.exists():
        raise LorasuiteError(f"training data {path} named in {folder / 'meta.json'} is missing; restore it")
    texts, labels = read_labeled_csv(path, source.get("text_col", "text"), source.get("label_col", "label"))
    split = source.get("split")
    if split:
        from sklearn.model_selection import train_test_split

        parts = train_test_split(texts, labels, test_size=split.get("test_size", 0.2),
                                 random_state=split.get("seed", 42), stratify=labels)
        texts, labels = (parts[0], parts[2]) if split.get("part", "train") == "train" else (parts[1], parts[3])
    return list(zip(texts, labels))


def locate(meta: dict[str, Any], folder: str | Path) -> tuple[list[Row], list[Row]]:
    """(old training rows, frozen dev rows) of the version in ``folder``; empty lists where not recorded."""
    folder = Path(folder)
    train_data, dev_data = meta.get("train_data") or {}, meta.get("dev_data")
    train: list[Row] = []
    for source in train_data.get("sources", []):
        train += read_source(source, folder)
    if train_data.get("labels"):
        train += read_source({"file": train_data["labels"], "in": "adapter"}, folder)
    dev = read_source(dev_data, folder) if dev_data else []
    return train, dev


def describe(meta: dict[str, Any]) -> str:
    """One line naming the recorded data, for plans and errors."""
    sources = (meta.get("train_data") or {}).get("sources", [])
    names = [f"{s['file']}" + (f" ({s['split'].get('part', 'train')} split)" if s.get("split") else "") for s in sources]
    return ", ".join(names) or "not recorded"


def child_train_data(parent_meta: dict[str, Any], parent_folder: Path) -> dict[str, Any]:
    """A new version's ``train_data``: the parent's sources (``in: adapter`` files made absolute) and
    its own labels file (the parent's labels are in it: labels are cumulative)."""
    sources = []
    for source in (parent_meta.get("train_data") or {}).get("sources", []):
        if source.get("in") == "adapter":
            source = dict(source, file=str(parent_folder / source["file"]), **{"in": "absolute"})
        sources.append(dict(source))
    return {"sources": sources, "labels": LABELS_FILE}


def labels_csv(rows: list[Row], label_col: str = "label") -> str:
    """``text,<label_col>`` CSV text of rows (what a version keeps as ``train_labels.csv``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", label_col])
    writer.writerows(rows)
    return out.getvalue()
