"""Leader election among replicas: exactly one process holds a named lock and runs the scheduled work.

On PostgreSQL the lock is a session-level advisory lock (``pg_try_advisory_lock``) held on one
dedicated connection: when the leader process dies its connection closes, the server releases
the lock, and the next replica to try (every ``interval`` seconds) takes over. On SQLite (one
machine) it is an exclusive ``flock`` on a file beside the database, released by the kernel
when the process dies. The callbacks run in the election thread.

    leader = Leadership(db, "sentiment-scheduler", on_elected=start_jobs, on_deposed=stop_jobs).start()
    leader.is_leader; leader.stop()
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership:
    """Try to hold ``name``; call ``on_elected`` when this process gets it, ``on_deposed`` if it loses it."""

    def __init__(self, db: Any, name: str, on_elected: Callable[[], None], on_deposed: Callable[[], None] | None = None,
                 interval: float = 5.0) -> None:
        self.db, self.name, self.interval = db, name, interval
        self.on_elected, self.on_deposed = on_elected, on_deposed
        self.is_leader = False
        self._held: Any = None  # the connection or file that holds the lock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"leader-{name}", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> Leadership:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.is_leader and self._acquire():
                    self.is_leader = True
                    log.info("%s: this process is the leader", self.name)
                    self.on_elected()
                elif self.is_leader and not self._still_held():
                    self.is_leader = False
                    log.warning("%s: lost the leader lock", self.name)
                    if self.on_deposed:
                        self.on_deposed()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the election thread
                log.exception("%s: election step failed", self.name)
            self._stop.wait(self.interval)

    def _acquire(self) -> bool:
        if self.db.dialect == "postgresql":
            conn = self.db.engine.connect()
            got = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({lock_key(self.name)})").scalar()
            if got:
                self._held = conn
            else:
                conn.close()
            return bool(got)
        return self._acquire_file()

    def _acquire_file(self) -> bool:
        import fcntl

        from shared.home import home

        path = Path(home()) / f".{self.name}.lock"
        handle = open(path, "a")  # noqa: SIM115 - kept open while leading
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._held = handle
        return True

    def _still_held(self) -> bool:
        if self.db.dialect != "postgresql":
            return True  # a flock lasts as long as this process
        try:
            self._held.exec_driver_sql("SELECT 1").scalar()
            return True
        except Exception:  # noqa: BLE001 - the connection (and with it the lock) is gone
            self._release()
            return False

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        try:
            if self.db.dialect == "postgresql":
                held.exec_driver_sql(f"SELECT pg_advisory_unlock({lock_key(self.name)})")
            held.close()
        except Exception:  # noqa: BLE001 - closing is enough to release
            log.debug("%s: release failed", self.name, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)
        if self.is_leader and self.on_deposed:
            self.on_deposed()
        self.is_leader = False
        self._release()
