"""The suite's configuration: one TOML file, every key optional, defaults in code.

Read from ``$LORASUITE_CONFIG`` or ``$LORASUITE_HOME/config.toml`` when present; see
``deploy/config.example.toml`` for every key. Environment variables win for secrets:
``LORASUITE_ADMIN_USER`` / ``LORASUITE_ADMIN_PASSWORD``.

    cfg = load_config()
    cfg.section("support").get("confidence_threshold", 0.5)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.errors import LorasuiteError
from shared.home import home

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass
class Config:
    """Parsed configuration with section lookup."""

    values: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def section(self, name: str) -> dict[str, Any]:
        value = self.values.get(name, {})
        return value if isinstance(value, dict) else {}

    @property
    def production(self) -> bool:
        return bool(self.section("suite").get("production", False)) or os.environ.get("LORASUITE_PRODUCTION") == "1"


def config_path() -> Path:
    return Path(os.environ.get("LORASUITE_CONFIG") or home() / "config.toml")


def load_config(path: str | Path | None = None) -> Config:
    """The configuration at ``path`` (or the default location); missing file = all defaults."""
    path = Path(path) if path else config_path()
    if not path.exists():
        return Config({}, None)
    try:
        return Config(tomllib.loads(path.read_text(encoding="utf-8")), path)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise LorasuiteError(f"{path}: not valid TOML ({err})") from err
