"""Where lorasuite keeps state and where the shipped data lives.

All state (adapters, indexes, the SQLite database) lives under ``$LORASUITE_HOME``
(default ``./var``). Shipped, read-only inputs (sample data, default adapters) live in
``$LORASUITE_DATA`` if set, else the repository's ``data/`` folder (a checkout or an editable
install), else the installed package ``lorasuite_data`` (the same folder, packed into the wheel).
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


def data_root() -> Path:
    """The shipped data folder: ``$LORASUITE_DATA``, the checkout's ``data/``, or the installed copy."""
    if os.environ.get("LORASUITE_DATA"):
        return Path(os.environ["LORASUITE_DATA"]).expanduser()
    checkout = PROJECT_ROOT / "data"
    if (checkout / "adapters").is_dir():
        return checkout
    import importlib.util

    spec = importlib.util.find_spec("lorasuite_data")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return checkout


def data_dir(*parts: str) -> Path:
    """A path inside the shipped data folder (not created: it is read-only input)."""
    return data_root().joinpath(*parts)


def db_url() -> str:
    """The database URL: ``$LORASUITE_DB_URL`` (e.g. PostgreSQL) or the SQLite file in home."""
    return os.environ.get("LORASUITE_DB_URL") or f"sqlite:///{home() / 'lorasuite.db'}"
