"""Convert the MovieLens ml-latest-small layout into our items / interactions files.

``movies.csv`` (movieId, title, genres), ``ratings.csv`` (userId, movieId, rating, timestamp)
and the optional ``tags.csv`` (userId, movieId, tag, timestamp) become ``items.csv``
(item_id, title, text, year) and ``interactions.csv`` (user_id, item_id, rating, timestamp).
The genres and the users' tags (most used first, at most ``max_tags``) are folded into the item
text, so that a text model has something to read besides the title.

    lorasuite recommend import-movielens ../shared/data/recommender --out var/movielens [--import]
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

from shared.atomic import atomic_path
from shared.datasets import read_csv_rows
from shared.errors import DataError

_YEAR = re.compile(r"\((\d{4})\)\s*$")


def _tags(directory: Path) -> dict[str, list[str]]:
    """movieId -> tags, most used first (case-insensitive duplicates merged)."""
    path = directory / "tags.csv"
    if not path.exists():
        return {}
    counts: dict[str, Counter] = defaultdict(Counter)
    spelling: dict[str, str] = {}
    for _, row in read_csv_rows(path, ["movieId", "tag"]):
        tag = (row.get("tag") or "").strip()
        if tag:
            spelling.setdefault(tag.lower(), tag)
            counts[row["movieId"]][tag.lower()] += 1
    return {m: [spelling[t] for t, _ in c.most_common()] for m, c in counts.items()}


def item_text(genres: str, tags: list[str], max_tags: int = 10) -> str:
    """``Genres: Adventure, Comedy. Tags: pixar, fun.`` (whatever is known)."""
    parts = []
    names = [g for g in (genres or "").split("|") if g and g != "(no genres listed)"]
    if names:
        parts.append("Genres: " + ", ".join(names) + ".")
    if tags:
        parts.append("Tags: " + ", ".join(tags[:max_tags]) + ".")
    return " ".join(parts) or "Film (no genres or tags listed)."


def movie_items(directory: str | Path, max_tags: int = 10) -> list[dict[str, str]]:
    """Item rows (item_id, title, text, year) of a MovieLens directory."""
    directory = Path(directory)
    if not (directory / "movies.csv").exists():
        raise DataError(directory, "no movies.csv here", fix="give the ml-latest-small directory")
    tags = _tags(directory)
    rows = []
    for _, row in read_csv_rows(directory / "movies.csv", ["movieId", "title", "genres"]):
        title = (row.get("title") or "").strip()
        year = _YEAR.search(title)
        rows.append({"item_id": row["movieId"], "title": title,
                     "text": item_text(row.get("genres") or "", tags.get(row["movieId"], []), max_tags),
                     "year": year.group(1) if year else ""})
    return rows


def convert(directory: str | Path, out: str | Path, max_tags: int = 10) -> tuple[Path, Path, int, int]:
    """Write ``items.csv`` and ``interactions.csv`` under ``out``; returns paths and row counts."""
    directory, out = Path(directory), Path(out)
    items = movie_items(directory, max_tags)
    if not (directory / "ratings.csv").exists():
        raise DataError(directory, "no ratings.csv here", fix="give the ml-latest-small directory")
    ratings = read_csv_rows(directory / "ratings.csv", ["userId", "movieId", "rating", "timestamp"])
    items_path, inter_path = out / "items.csv", out / "interactions.csv"
    _write_csv(items_path, ["item_id", "title", "text", "year"], items)
    _write_csv(inter_path, ["user_id", "item_id", "rating", "timestamp"],
               ({"user_id": r["userId"], "item_id": r["movieId"], "rating": r["rating"], "timestamp": r["timestamp"]}
                for _, r in ratings))
    return items_path, inter_path, len(items), len(ratings)


def _write_csv(path: Path, columns: list[str], rows) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
