"""Read and validate the files users train and predict on.

Every problem a user can cause becomes a DataError naming the file, the row and the fix:
missing file, empty file, missing column, bytes that are not UTF-8, empty texts, labels seen
only in the dev file. Rows are numbered as in a spreadsheet (header = row 1).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from shared.errors import DataError

csv.field_size_limit(10_000_000)


def read_utf8(path: str | Path) -> str:
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found", fix="check the path")
    if path.is_dir():
        raise DataError(path, "is a directory, not a file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(path, f"bytes that are not UTF-8 at byte {err.start}", row=line,
                        fix="re-save the file as UTF-8") from err
    if not text.strip():
        raise DataError(path, "file is empty", fix="give a file with a header and at least one row")
    return text


def read_csv_rows(path: str | Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV as (row number, dict), after checking the header has ``required`` columns."""
    text = read_utf8(path)
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; the header has {header}", row=1,
                        fix="rename the column or pass --text-col/--label-col")
    rows = [(i, row) for i, row in enumerate(reader, start=2)]
    if not rows:
        raise DataError(path, "has a header but no rows")
    return rows


def read_labeled_csv(path: str | Path, text_col: str = "text", label_col: str = "label") -> tuple[list[str], list[str]]:
    """Texts and labels of a classification CSV; every row needs a non-empty text and label."""
    texts, labels = [], []
    for number, row in read_csv_rows(path, [text_col, label_col]):
        text, label = (row.get(text_col) or "").strip(), (row.get(label_col) or "").strip()
        if not text:
            raise DataError(path, f"empty text in column '{text_col}'", row=number, fix="fill it or delete the row")
        if not label:
            raise DataError(path, f"empty label in column '{label_col}'", row=number, fix="fill it or delete the row")
        texts.append(text)
        labels.append(label)
    return texts, labels


def check_dev_labels(train_labels: list[str], dev_labels: list[str], dev_path: str | Path) -> None:
    """Every dev label must be one the model is trained on."""
    known = set(train_labels)
    for number, label in enumerate(dev_labels, start=2):
        if label not in known:
            raise DataError(dev_path, f"label '{label}' is not in the training file", row=number,
                            fix="add training rows for it or drop it from dev")


def read_texts(path: str | Path, text_col: str = "text") -> list[str]:
    """The texts of a CSV (``text`` column) or JSONL (``{"text": ...}``) file, in order."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return [str(row.get(text_col, "")) for _, row in read_jsonl(path, required=[text_col])]
    return [row.get(text_col) or "" for _, row in read_csv_rows(path, [text_col])]


def read_jsonl(path: str | Path, required: list[str] = ()) -> list[tuple[int, dict]]:
    """Objects of a JSONL file as (line number, dict); blank lines are skipped."""
    rows = []
    for number, line in enumerate(read_utf8(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(path, f"not valid JSON: {err.msg}", row=number) from err
        if not isinstance(obj, dict):
            raise DataError(path, "each line must be a JSON object", row=number)
        missing = [k for k in required if k not in obj]
        if missing:
            raise DataError(path, f"missing key(s) {missing}", row=number)
        rows.append((number, obj))
    if not rows:
        raise DataError(path, "file has no JSON lines")
    return rows


def file_hash(*paths: str | Path) -> str:
    """SHA-256 over the bytes of the given files (the training-data fingerprint in meta.json)."""
    digest = hashlib.sha256()
    for path in paths:
        if path:
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()
