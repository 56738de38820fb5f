"""Who may use the admin parts: the finance dashboard, the agent inbox, training, ingest.

Credentials come from ``LORASUITE_ADMIN_USER`` / ``LORASUITE_ADMIN_PASSWORD`` or the
``[auth]`` config section. Outside production mode a missing password falls back to
``admin`` / ``admin`` with a warning (the demo); in production it is an error.
"""

from __future__ import annotations

import hmac
import logging
import os

from apps.config import Config, load_config
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)


def credentials(config: Config | None = None) -> tuple[str, str]:
    """The admin (user, password) pair."""
    config = config or load_config()
    section = config.section("auth")
    user = os.environ.get("LORASUITE_ADMIN_USER") or section.get("admin_user") or "admin"
    password = os.environ.get("LORASUITE_ADMIN_PASSWORD") or section.get("admin_password")
    if not password:
        if config.production:
            raise LorasuiteError("production mode needs LORASUITE_ADMIN_PASSWORD (or [auth] admin_password)")
        log.warning("no admin password configured: using the demo login admin/admin")
        password = "admin"
    return str(user), str(password)


def check(user: str, password: str, config: Config | None = None) -> bool:
    """True when the pair matches the admin credentials (constant-time compare)."""
    want_user, want_password = credentials(config)
    return hmac.compare_digest(str(user or ""), want_user) and hmac.compare_digest(str(password or ""), want_password)
