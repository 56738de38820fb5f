"""Read and validate the files users train and predict on.

Every problem a user can cause becomes a DataError naming the file, the row and the fix:
missing file, empty file, missing column, bytes that are not UTF-8, empty texts, labels seen
only in the dev file, a field over ``MAX_FIELD_CHARS``, JSON nested too deep. Rows are numbered
as in a spreadsheet (header = row 1; a quoted field may span several lines of the file).

Text is never split with ``str.splitlines``: that also breaks on U+2028, U+0085, form feeds
and other characters that are data, not line ends. CSV goes through ``csv`` on the text as
is (quoted fields keep their line breaks; CRLF and a BOM are fine); JSONL is split on "\n"
only, so every line ``shared.atomic.write_jsonl`` writes reads back unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

from shared.errors import DataError

MAX_FIELD_CHARS = 1_000_000  # one CSV field; the csv module's default (131,072) is too small for long answers
csv.field_size_limit(MAX_FIELD_CHARS)


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
    reader = csv.DictReader(io.StringIO(read_utf8(path), newline=""))
    try:
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(path, f"missing column(s) {missing}; the header has {header}", row=1,
                            fix="rename the column or pass --text-col/--label-col")
        rows = [(i, row) for i, row in enumerate(reader, start=2)]
    except csv.Error as err:
        raise DataError(path, f"is not readable CSV at line {reader.reader.line_num} ({err})",
                        fix=f"close the quote that is left open, or keep fields under {MAX_FIELD_CHARS:,} characters") from err
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


def jsonl_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of JSONL text split on "\n" only (a CR before it is dropped); blank lines skipped."""
    for number, line in enumerate(text.split("\n"), start=1):
        line = line[:-1] if line.endswith("\r") else line
        if line.strip():
            yield number, line


def json_value(line: str) -> object:
    """``json.loads`` where nesting too deep is a ValueError too (not a RecursionError)."""
    try:
        return json.loads(line)
    except RecursionError as err:
        raise ValueError("JSON nested too deeply") from err


def parse_json_line(path: str | Path, number: int, line: str) -> object:
    """One JSON value; DataError (file, line) when it is invalid, nested too deep or has a huge number."""
    try:
        return json_value(line)
    except ValueError as err:  # JSONDecodeError, nesting, an integer with more than 4,300 digits
        raise DataError(path, f"not valid JSON: {getattr(err, 'msg', err)}", row=number,
                        fix="one JSON object per line") from err


def read_jsonl(path: str | Path, required: list[str] = ()) -> list[tuple[int, dict]]:
    """Objects of a JSONL file as (line number, dict); blank lines are skipped."""
    rows = []
    for number, line in jsonl_lines(read_utf8(path)):
        obj = parse_json_line(path, number, line)
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
