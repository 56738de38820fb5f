import threading

import pytest

from shared.storage import Database, close_shared_databases, content_hash, shared_database

MIGRATIONS = [
    "CREATE TABLE demo_items (id {pk}, hash TEXT UNIQUE NOT NULL, title TEXT)",
    "ALTER TABLE demo_items ADD COLUMN score DOUBLE PRECISION; CREATE INDEX demo_items_title ON demo_items(title)",
]


def test_migrations_apply_once_each():
    db = Database()
    assert db.migrate("demo", MIGRATIONS) == 2
    assert db.migrate("demo", MIGRATIONS) == 0
    assert db.migrate("demo", MIGRATIONS + ["ALTER TABLE demo_items ADD COLUMN extra TEXT"]) == 1
    assert db.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"


def test_shared_database_is_one_object_per_url_and_remigrates_after_close(tmp_path):
    db = shared_database()
    assert shared_database() is db and shared_database(f"sqlite:///{tmp_path / 'other.db'}") is not db
    assert db.migrate("demo", MIGRATIONS) == 2
    db.execute("DROP TABLE demo_items")
    db.execute("DELETE FROM _migrations")
    assert db.migrate("demo", MIGRATIONS) == 0  # known migrated through this object: no query at all
    close_shared_databases()
    fresh = shared_database()
    assert fresh is not db and fresh.migrate("demo", MIGRATIONS) == 2  # a new object checks the table again


def test_idempotent_insert_by_content_hash():
    db = Database()
    db.migrate("demo", MIGRATIONS)
    sql = "INSERT INTO demo_items (hash, title) VALUES (:h, :t) ON CONFLICT DO NOTHING RETURNING id"
    first = db.execute(sql, {"h": content_hash("a", "b"), "t": "x"})
    again = db.execute(sql, {"h": content_hash("a", "b"), "t": "x"})
    assert len(first) == 1 and again == []
    assert content_hash("a", "b") != content_hash("ab", "")


def test_transaction_rolls_back_on_error():
    db = Database()
    db.migrate("demo", MIGRATIONS)
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("INSERT INTO demo_items (hash) VALUES ('h1')")
        raise RuntimeError("crash between two writes")
    assert db.scalar("SELECT count(*) FROM demo_items") == 0


def test_concurrent_writers_lose_nothing():
    db = Database()
    db.migrate("demo", MIGRATIONS)

    def write(worker):
        for i in range(25):
            db.execute("INSERT INTO demo_items (hash) VALUES (:h)", {"h": f"{worker}-{i}"})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.scalar("SELECT count(*) FROM demo_items") == 150


def test_concurrent_migrations_from_many_stores_apply_each_version_once():
    """Several stores (as threads of one server or replicas would) migrating at once: no duplicate DDL."""
    migrations = MIGRATIONS + ["ALTER TABLE demo_items ADD COLUMN tagged INTEGER"]
    errors, counts = [], []

    def run():
        try:
            counts.append(Database().migrate("demo", migrations))
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(counts) == 3
