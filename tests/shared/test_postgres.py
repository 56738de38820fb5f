"""The storage layer against a real PostgreSQL server (started by .ci/run via .ci/postgres.sh).

Set ``LORASUITE_TEST_PG_URL`` (``.ci/run`` does); without it these tests are skipped locally.
"""

import threading

import pytest

from shared.storage import Database, content_hash

pytestmark = pytest.mark.postgres
MIGRATIONS = ["CREATE TABLE demo_items (id {pk}, hash TEXT UNIQUE NOT NULL, score DOUBLE PRECISION)"]


def test_migrations_idempotent_inserts_and_rollback(pg):
    assert pg.dialect == "postgresql"
    assert pg.migrate("demo", MIGRATIONS) == 1 and pg.migrate("demo", MIGRATIONS) == 0
    sql = "INSERT INTO demo_items (hash, score) VALUES (:h, :s) ON CONFLICT DO NOTHING RETURNING id"
    assert len(pg.execute(sql, {"h": content_hash("x"), "s": 0.5})) == 1
    assert pg.execute(sql, {"h": content_hash("x"), "s": 0.5}) == []
    with pytest.raises(RuntimeError), pg.transaction() as tx:
        tx.execute("INSERT INTO demo_items (hash) VALUES ('y')")
        raise RuntimeError
    assert pg.scalar("SELECT count(*) FROM demo_items") == 1
    assert pg.ping()


def test_two_replicas_share_state(pg):
    """Two Database objects (as two suite replicas would hold) see each other's writes."""
    pg.migrate("demo", MIGRATIONS)
    other = Database(pg.url)
    threads = [threading.Thread(target=lambda w=w, db=db: [db.execute("INSERT INTO demo_items (hash) VALUES (:h)",
                                                               {"h": f"{w}-{i}"}) for i in range(20)])
               for w, db in enumerate([pg, other, pg, other])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other.scalar("SELECT count(*) FROM demo_items") == 80
    other.close()
