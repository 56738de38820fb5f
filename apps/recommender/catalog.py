"""Read, validate and import recommender catalogues: items and interactions files.

Items (CSV or JSONL): ``item_id``, ``title``, ``text``; every other column is kept as metadata.
Interactions: ``user_id``, ``item_id``, ``rating`` (or ``weight``, an event weight), ``timestamp``
(unix seconds or ISO-8601). A bad row never stops an import: unknown item ids, duplicate ids,
empty text, ratings out of range and malformed rows are counted and reported with their row
number (CSV: header = row 1; JSONL: line number), and every good row is imported. A bad header
(a required column missing) or an unreadable file rejects the whole file. Re-importing is
harmless: rows are keyed by content hash.

    report = import_files(items="items.csv", interactions="ratings.csv")
    print(report[0].summary())
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared.datasets import json_value, jsonl_lines, read_csv_rows
from shared.errors import DataError

ITEM_COLUMNS = ["item_id", "title", "text"]
RATING_RANGE = (0.0, 5.0)
WEIGHT_LIMIT = 100.0
TEXT_FIELDS = ("author", "genres", "tags")  # short metadata folded into the text we embed


@dataclass
class Item:
    item_id: str
    title: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Interaction:
    user_id: str
    item_id: str
    value: float
    kind: str  # "rating" (on the catalogue's rating scale) or "weight" (event weight, sign = like/dislike)
    ts: float  # unix seconds


@dataclass
class Problem:
    row: int
    reason: str
    message: str


@dataclass
class ReadResult:
    """What one file yielded: good rows, problems with row numbers, and the import counts."""

    path: str
    kind: str
    rows: list = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def problem(self, row: int, reason: str, message: str) -> None:
        self.problems.append(Problem(row, reason, message))

    def counts(self) -> dict[str, int]:
        return dict(Counter(p.reason for p in self.problems))

    def summary(self, show: int = 10) -> str:
        """A few lines a person reads: counts, then the first problems with their rows."""
        head = (f"{self.path}: {self.total} {self.kind} rows, {len(self.rows)} valid "
                f"({self.added} new, {self.updated} updated, {self.unchanged} unchanged), "
                f"{len(self.problems)} skipped")
        lines = [head]
        if self.problems:
            lines.append("  skipped: " + ", ".join(f"{n} {r}" for r, n in sorted(self.counts().items())))
            lines += [f"  row {p.row}: {p.message}" for p in self.problems[:show]]
            if len(self.problems) > show:
                lines.append(f"  ... and {len(self.problems) - show} more")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "total": self.total, "valid": len(self.rows),
                "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": self.counts(), "problems": [[p.row, p.message] for p in self.problems]}


def _raw_rows(path: str | Path, required: list[str], result: ReadResult) -> list[tuple[int, dict]]:
    """(row number, dict) for every parseable row; malformed rows become problems."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return _jsonl_rows(path, required, result)
    rows = []
    for number, row in read_csv_rows(path, required):
        result.total += 1
        if row.get(None) is not None:
            result.problem(number, "malformed", f"more fields than the header's {len(row) - 1}")
        elif any(v is None for v in row.values()):
            result.problem(number, "malformed", "fewer fields than the header")
        else:
            rows.append((number, {k: v.strip() for k, v in row.items()}))
    return rows


def _jsonl_rows(path: Path, required: list[str], result: ReadResult) -> list[tuple[int, dict]]:
    if not path.exists():
        raise DataError(path, "file not found", fix="check the path")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(path, "bytes that are not UTF-8", fix="re-save the file as UTF-8") from err
    rows = []
    for number, line in jsonl_lines(text):  # "\n" only: U+2028 inside a string is data
        result.total += 1
        try:
            obj = json_value(line)
        except ValueError as err:  # invalid, nested too deep, a huge number
            result.problem(number, "malformed", f"not valid JSON ({getattr(err, 'msg', err)})")
            continue
        missing = [k for k in required if k not in obj] if isinstance(obj, dict) else required
        if missing:
            result.problem(number, "malformed", f"missing key(s) {missing}")
            continue
        rows.append((number, {k: (v.strip() if isinstance(v, str) else v) for k, v in obj.items()}))
    if result.total == 0:
        raise DataError(path, "file has no JSON lines")
    return rows


def read_items(path: str | Path) -> ReadResult:
    """Items of a CSV/JSONL file; duplicates of an earlier item_id and empty texts are skipped."""
    result = ReadResult(str(path), "item")
    first_row: dict[str, int] = {}
    for number, row in _raw_rows(path, ITEM_COLUMNS, result):
        item_id, title, text = (str(row.get(c) if row.get(c) is not None else "").strip() for c in ITEM_COLUMNS)
        if not item_id:
            result.problem(number, "malformed", "empty item_id")
        elif item_id in first_row:
            result.problem(number, "duplicate id", f"duplicate item_id {item_id!r} (first on row {first_row[item_id]})")
        elif not text:
            result.problem(number, "empty text", f"item {item_id!r} has an empty text")
        else:
            first_row[item_id] = number
            meta = {k: v for k, v in row.items() if k not in ITEM_COLUMNS and v not in (None, "")}
            result.rows.append(Item(item_id, title or item_id, text, meta))
    result.problems.sort(key=lambda p: p.row)
    return result


def parse_timestamp(value: Any) -> float:
    """Unix seconds (milliseconds are recognised) or an ISO-8601 date/time -> unix seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError("empty timestamp")
        try:
            seconds = float(text)
        except ValueError:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.timestamp()
    if not math.isfinite(seconds):
        raise ValueError(f"timestamp {value!r} is not finite")
    return seconds / 1000.0 if seconds > 1e11 else seconds


def _value(row: dict, kind: str, rating_range: tuple[float, float]) -> tuple[float | None, str, str]:
    """(value, reason, message) of the rating/weight column; value None when the row is skipped."""
    raw = row.get(kind)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None, "malformed", f"{kind} {raw!r} is not a number"
    low, high = rating_range if kind == "rating" else (-WEIGHT_LIMIT, WEIGHT_LIMIT)
    if not math.isfinite(value) or not low <= value <= high:
        return None, "out of range", f"{kind} {raw!r} is outside [{low:g}, {high:g}]"
    return value, "", ""


def read_interactions(path: str | Path, known_items: set[str] | None = None,
                      rating_range: tuple[float, float] = RATING_RANGE) -> ReadResult:
    """Interactions of a CSV/JSONL file; rows naming unknown items or bad values are skipped."""
    result = ReadResult(str(path), "interaction")
    kind = _value_column(path)
    seen: dict[tuple, int] = {}
    for number, row in _raw_rows(path, ["user_id", "item_id", kind, "timestamp"], result):
        user_id, item_id = str(row.get("user_id") or "").strip(), str(row.get("item_id") or "").strip()
        value, reason, message = _value(row, kind, rating_range)
        if not user_id or not item_id:
            result.problem(number, "malformed", "empty user_id or item_id")
            continue
        if value is None:
            result.problem(number, reason, message)
            continue
        if known_items is not None and item_id not in known_items:
            result.problem(number, "unknown item", f"unknown item_id {item_id!r} (not in the items)")
            continue
        try:
            ts = parse_timestamp(row.get("timestamp"))
        except ValueError as err:
            result.problem(number, "malformed", f"bad timestamp {row.get('timestamp')!r} ({err})")
            continue
        key = (user_id, item_id, ts, value)
        if key in seen:
            result.problem(number, "duplicate row", f"same as row {seen[key]}")
            continue
        seen[key] = number
        result.rows.append(Interaction(user_id, item_id, value, kind, ts))
    result.problems.sort(key=lambda p: p.row)
    return result


def _value_column(path: str | Path) -> str:
    """``rating`` unless the file has a ``weight`` column and no ``rating`` one."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return "rating"  # the reader reports the real problem
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        try:
            keys = set(json_value(first))
        except (ValueError, TypeError):
            return "rating"
    else:
        keys = set(next(csv.reader([first]), []))
    return "weight" if "weight" in keys and "rating" not in keys else "rating"


def embed_text(item: Item, fields: tuple[str, ...] = TEXT_FIELDS) -> str:
    """The text we embed for an item: title, short metadata (author, genres, tags) and the text."""
    extra = [f"{k}: {item.meta[k].replace('|', ', ')}" for k in fields
             if isinstance(item.meta.get(k), str) and item.meta[k]]
    return ". ".join([item.title, *extra, item.text])


def import_files(items: str | Path | None = None, interactions: str | Path | None = None,
                 rating_range: tuple[float, float] = RATING_RANGE, store=None) -> list[ReadResult]:
    """Validate and import an items file and/or an interactions file; returns one report each."""
    from apps.recommender.store import Store

    store = store or Store()
    reports = []
    if items:
        result = read_items(items)
        result.added, result.updated, result.unchanged = store.add_items(result.rows)
        reports.append(result)
    if interactions:
        result = read_interactions(interactions, store.item_ids(), rating_range)
        result.added, result.unchanged = store.add_interactions(result.rows, source=Path(interactions).name)
        reports.append(result)
    for report in reports:
        store.record_import(report)
    return reports
