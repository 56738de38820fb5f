"""Where lorasuite keeps state and where the shipped data lives.

All state (adapters, indexes, the SQLite database) lives under ``$LORASUITE_HOME``
(default ``./var``). Shipped, read-only inputs (sample data, default adapters) live in the
repository's ``data/`` folder, or ``$LORASUITE_DATA`` when installed elsewhere.
Tests point ``LORASUITE_HOME`` at a temp dir, so nothing here may be cached at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def home() -> Path:
    """The state directory, created on first use."""
    path = Path(os.environ.get("LORASUITE_HOME", "var")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir(*parts: str) -> Path:
    """A subdirectory of the state directory (``adapters``, ``indexes``, ...), created on use."""
    path = home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir(*parts: str) -> Path:
    """A path inside the shipped data folder (not created: it is read-only input)."""
    root = Path(os.environ.get("LORASUITE_DATA", PROJECT_ROOT / "data"))
    return root.joinpath(*parts)


def db_url() -> str:
    """The database URL: ``$LORASUITE_DB_URL`` (e.g. PostgreSQL) or the SQLite file in home."""
    return os.environ.get("LORASUITE_DB_URL") or f"sqlite:///{home() / 'lorasuite.db'}"
