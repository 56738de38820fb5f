"""Who may use the admin pages (finance dashboard, agent inbox, model versions), and how hard
guessing is made.

Credentials: ``LORASUITE_ADMIN_USER`` / ``LORASUITE_ADMIN_PASSWORD`` or ``[auth]``. In production a
password is required, and placeholders (``admin``, ``change-me``, ...) or anything shorter than 12
characters are refused at start-up. Without a password outside production the demo login
``admin`` / ``admin`` works only while the suite is bound to a loopback address.

Passwords are compared as UTF-8 bytes with ``hmac.compare_digest`` (both the user and the password,
always, so timing says nothing about which was wrong). ``Guard`` also counts consecutive failures
per client address: after ``[auth] max_failures`` (at most 10) the address gets 429 for
``lockout_seconds`` (at least 60), doubling on each repeat; a success resets it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from shared.errors import LorasuiteError

log = logging.getLogger(__name__)
PLACEHOLDERS = {"admin", "password", "change-me", "changeme", "change_me", "secret", "lorasuite", "123456"}
MIN_PASSWORD = 12
_MAX_CLIENTS = 10_000


def same_secret(given: str, wanted: str) -> bool:
    """Constant-time comparison of two strings of any characters (compared as UTF-8 bytes)."""
    return hmac.compare_digest(str(given or "").encode("utf-8"), str(wanted or "").encode("utf-8"))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def credentials(config: Any) -> tuple[str, str]:
    """The admin (user, password) pair, after the production and loopback rules."""
    user = config.auth.admin_user or "admin"
    password = config.auth.admin_password.get_secret_value()
    if config.production:
        if not password:
            raise LorasuiteError("production mode needs LORASUITE_ADMIN_PASSWORD (or [auth] admin_password)")
        if password.strip().lower() in PLACEHOLDERS or len(password) < MIN_PASSWORD:
            raise LorasuiteError(f"production mode refuses this admin password: use at least {MIN_PASSWORD} "
                                 "characters and not a placeholder (set LORASUITE_ADMIN_PASSWORD)")
    elif not password:
        if not is_loopback(config.suite.host):
            raise LorasuiteError(f"no admin password while bound to {config.suite.host}: the demo login admin/admin "
                                 "only works on a loopback address; set LORASUITE_ADMIN_PASSWORD")
        log.warning("no admin password configured: using the demo login admin/admin (loopback only)")
        password = "admin"
    return str(user), str(password)


def check(user: str, password: str, config: Any) -> bool:
    """True when the pair matches the admin credentials (both compared, constant time)."""
    want_user, want_password = credentials(config)
    user_ok = same_secret(user, want_user)
    password_ok = same_secret(password, want_password)
    return user_ok and password_ok


@dataclass
class _Client:
    failures: int = 0
    lockouts: int = 0
    locked_until: float = 0.0


class Guard:
    """The admin login of one suite: checks, throttling per client address, session length."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.user, self.password = credentials(config)
        self.session_seconds = config.auth.session_hours * 3600
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    def gradio_auth(self, user: str, password: str) -> bool:
        user_ok, password_ok = same_secret(user, self.user), same_secret(password, self.password)
        return user_ok and password_ok

    def retry_after(self, address: str) -> float:
        """Seconds this address must wait before trying again (0: it may try now)."""
        with self._lock:
            client = self._clients.get(address)
            return max(0.0, client.locked_until - time.monotonic()) if client else 0.0

    def failed(self, address: str) -> None:
        from apps.suite_metrics import LOGIN_FAILURES, LOGIN_LOCKOUTS

        LOGIN_FAILURES.inc()
        with self._lock:
            self._prune()
            client = self._clients.setdefault(address, _Client())
            client.failures += 1
            if client.failures >= self.config.auth.max_failures:
                client.lockouts += 1
                client.failures = 0
                client.locked_until = time.monotonic() + self.config.auth.lockout_seconds * 2 ** (client.lockouts - 1)
                LOGIN_LOCKOUTS.inc()
                log.warning("admin login: %s locked out for %.0f s", address, client.locked_until - time.monotonic())

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._clients.pop(address, None)

    def _prune(self) -> None:
        if len(self._clients) >= _MAX_CLIENTS:
            now = time.monotonic()
            for address in [a for a, c in self._clients.items() if c.locked_until < now][: _MAX_CLIENTS // 2]:
                del self._clients[address]

    def basic_ok(self, request: Any) -> bool:
        """HTTP Basic admin credentials on a request (throttled like the login page)."""
        import base64
        import binascii

        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        address = request.client.host if request.client else "?"
        if self.retry_after(address):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        ok = self.gradio_auth(user, password)
        self.succeeded(address) if ok else self.failed(address)
        return ok
