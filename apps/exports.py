"""CSV downloads for the pages: what a person sees in a table, as a file they can open elsewhere.

``csv_file("headlines", header, rows)`` writes a UTF-8 CSV (with BOM, so spreadsheet programs pick
the encoding) into a private temp folder and returns its path for a ``gr.DownloadButton``. Cells
that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` at the start: feed text is
hostile) are prefixed with a quote.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

_FORMULA = re.compile(r"^[=+\-@\t\r]")
_FOLDER: list[Path] = []


def _folder() -> Path:
    if not _FOLDER:
        _FOLDER.append(Path(tempfile.mkdtemp(prefix="lorasuite-exports-")))
    return _FOLDER[0]


def safe_cell(value: object) -> object:
    """A cell that opens as text in a spreadsheet, never as a formula."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def csv_file(name: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Write the rows as ``<name>.csv`` (in a folder of its own) and return the path."""
    folder = Path(tempfile.mkdtemp(dir=_folder()))
    path = folder / f"{re.sub(r'[^A-Za-z0-9_-]+', '-', name) or 'export'}.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([safe_cell(v) for v in row] for row in rows)
    return str(path)


def frame_file(name: str, frame) -> str:
    """``csv_file`` for a pandas DataFrame."""
    return csv_file(name, [str(c) for c in frame.columns], frame.itertuples(index=False, name=None))
