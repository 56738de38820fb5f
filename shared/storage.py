"""The one door to the database: SQLite (WAL) by default, PostgreSQL by URL.

Each app owns a list of migrations (SQL strings, applied in order, each exactly once, each in
its own transaction), simonw/llm style. SQL is written once for both engines: named
parameters (``:name``), ``{pk}`` in a CREATE TABLE for an auto-increment primary key,
``INSERT ... ON CONFLICT DO NOTHING`` and ``RETURNING`` for idempotent inserts.

    db = Database()                       # $LORASUITE_DB_URL or $LORASUITE_HOME/lorasuite.db
    db.migrate("support", MIGRATIONS)
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (a) VALUES (:a)", {"a": 1})
    rows = db.query("SELECT * FROM t WHERE a = :a", {"a": 1})
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine

from shared.home import db_url

log = logging.getLogger(__name__)

_MIGRATE_LOCK = threading.Lock()  # one migrating thread per process; other processes: see migrate()
_PK = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgresql": "BIGSERIAL PRIMARY KEY"}


def content_hash(*parts: object) -> str:
    """A stable SHA-256 of the parts (joined with a separator): the key for idempotent re-ingest."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(str(part if part is not None else "").encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


class Tx:
    """A connection inside one transaction, with the same small API as Database."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock(self, name: str) -> None:
        """Hold the lock ``name`` until this transaction ends: transactions that take the same name run one
        at a time, across threads, processes and replicas. PostgreSQL: a transaction-scoped advisory
        lock; SQLite: nothing to do (BEGIN IMMEDIATE already lets one writer in at a time)."""
        if self.conn.dialect.name == "postgresql":
            from shared.leader import lock_key

            self.execute("SELECT pg_advisory_xact_lock(:key)", {"key": lock_key(name)})

    def execute(self, sql: str, params: dict | Sequence[dict] | None = None) -> Any:
        return self.conn.execute(text(sql), params or {})

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        return [dict(row._mapping) for row in self.conn.execute(text(sql), params or {})]

    def scalar(self, sql: str, params: dict | None = None) -> Any:
        return self.conn.execute(text(sql), params or {}).scalar()


class Database:
    """SQLAlchemy engine with WAL/foreign keys for SQLite and per-app migrations."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or db_url()
        self._migrated: dict[str, int] = {}  # app -> migrations known applied through this object
        self.engine: Engine = create_engine(self.url, future=True, pool_pre_ping=True)
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """All statements inside commit together or not at all."""
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlocks
            yield Tx(conn)

    def execute(self, sql: str, params: dict | Sequence[dict] | None = None) -> Any:
        with self.transaction() as tx:
            result = tx.execute(sql, params)
            return result.fetchall() if result.returns_rows else result.rowcount

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        with self.engine.connect() as conn:
            return Tx(conn).query(sql, params)

    def scalar(self, sql: str, params: dict | None = None) -> Any:
        with self.engine.connect() as conn:
            return Tx(conn).scalar(sql, params)

    def ping(self) -> bool:
        """True when the database answers (used by /healthz)."""
        try:
            return self.scalar("SELECT 1") == 1
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False

    def migrate(self, app: str, migrations: Sequence[str]) -> int:
        """Apply the app's migrations not yet applied; returns how many ran.

        Safe when several threads, stores or replicas migrate at once: each version is checked and
        applied inside one write transaction (SQLite's BEGIN IMMEDIATE write lock, PostgreSQL's
        transaction-scoped advisory lock), so exactly one of them runs it. A second call with the
        same list on the same object costs nothing (request paths may call it freely)."""
        if self._migrated.get(app) == len(migrations):
            return 0
        with _MIGRATE_LOCK:
            with self.transaction() as tx:
                tx.lock("_migrations")  # CREATE TABLE IF NOT EXISTS races between PostgreSQL replicas
                tx.execute("CREATE TABLE IF NOT EXISTS _migrations (app TEXT NOT NULL, version INTEGER NOT NULL, "
                           "PRIMARY KEY (app, version))")
            done = {r["version"] for r in self.query("SELECT version FROM _migrations WHERE app = :a", {"a": app})}
            ran = 0
            for version, sql in enumerate(migrations, start=1):
                if version not in done and self._apply(app, version, sql):
                    ran += 1
            self._migrated[app] = len(migrations)
            return ran

    def _apply(self, app: str, version: int, sql: str) -> bool:
        with self.transaction() as tx:
            tx.lock("_migrations")
            if tx.scalar("SELECT 1 FROM _migrations WHERE app = :a AND version = :v", {"a": app, "v": version}):
                return False  # another process got there first
            for statement in _statements(sql.replace("{pk}", _PK[self.dialect])):
                tx.execute(statement)
            tx.execute("INSERT INTO _migrations (app, version) VALUES (:a, :v)", {"a": app, "v": version})
        log.info("applied migration %s/%d", app, version)
        return True

    def close(self) -> None:
        self.engine.dispose()
        self._migrated.clear()


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy/BEGIN IMMEDIATE drive transactions
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_SHARED: dict[str, Database] = {}
_SHARED_LOCK = threading.Lock()


def shared_database(url: str | None = None) -> Database:
    """The process-wide Database for ``url`` (default: the configured one): one engine per URL
    for every app, request, health check and metrics scrape of the process."""
    url = url or db_url()
    with _SHARED_LOCK:
        if url not in _SHARED:
            _SHARED[url] = Database(url)
        return _SHARED[url]


def close_shared_databases() -> None:
    """Dispose and forget every shared Database (tests switching homes, shutdown)."""
    with _SHARED_LOCK:
        for db in _SHARED.values():
            db.close()
        _SHARED.clear()
