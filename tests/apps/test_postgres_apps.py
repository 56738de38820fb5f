"""The three apps on a real PostgreSQL server: the same SQL that runs on SQLite runs there.

Needs ``LORASUITE_TEST_PG_URL`` (set by .ci/run, which starts Debian's PostgreSQL).
"""

import json

import pytest

from apps.cli import main
from shared.home import data_dir

pytestmark = pytest.mark.postgres


def test_sentiment_ingest_is_idempotent_on_postgres(pg, capsys):
    sample = str(data_dir("feeds_sample"))
    assert main(["sentiment", "ingest", sample]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["sentiment", "ingest", sample]) == 0
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["new"] > 0 and second["new"] == 0
    assert pg.scalar("SELECT count(*) FROM sentiment_items") == first["new"]


def test_support_and_recommender_store_on_postgres(pg, tmp_path, minilm, capsys):
    kb = tmp_path / "kb.md"
    kb.write_text("---\ntitle: Lost card\nintent: lost_or_stolen_card\n---\n## Answer\nFreeze your card in the app "
                  "under Cards > Freeze, then order a replacement.\n")
    assert main(["support", "ingest", str(kb)]) == 0
    assert main(["support", "ask", "I lost my card"]) == 0
    assert "Freeze" in capsys.readouterr().out
    assert pg.scalar("SELECT count(*) FROM support_messages") == 2
    assert main(["recommend", "import", "--demo"]) == 0
    assert pg.scalar("SELECT count(*) FROM recommender_items") > 200


def test_two_replicas_seeding_the_watchlist_at_once_do_not_collide(pg):
    """Replica B saves the watchlist while replica A's seeding transaction is still open (the race two
    replicas starting together run into): B waits for A and then succeeds instead of failing to start."""
    import threading

    from sqlalchemy import create_engine, text

    from apps.sentiment.store import open_db
    from apps.sentiment.topics import Watch, save_watchlist

    open_db(pg)
    watches = [Watch("Tesla", ["Tesla", "TSLA"]), Watch("Apple", ["Apple"])]
    engine = create_engine(pg.url)
    errors = []
    with engine.connect() as a:
        tx = a.begin()
        a.execute(text("INSERT INTO sentiment_watchlist (topic, aliases, updated) VALUES ('Tesla', 'Tesla', 'x')"))
        other = threading.Thread(target=lambda: _save(save_watchlist, pg, watches, errors))
        other.start()
        other.join(timeout=2)
        assert other.is_alive()  # B waits on A's row
        tx.commit()
        other.join(timeout=30)
    engine.dispose()
    assert errors == []
    assert {r["topic"]: r["aliases"] for r in pg.query("SELECT topic, aliases FROM sentiment_watchlist")} == \
        {"Tesla": "Tesla|TSLA", "Apple": "Apple"}


def _save(save, db, watches, errors) -> None:
    try:
        save(db, watches)
    except Exception as err:  # noqa: BLE001 - the test reports it
        errors.append(err)


def test_two_replicas_retagging_at_once_run_one_after_the_other(pg, capsys):
    """Replica A's retag (an admin's watchlist edit) is mid-way when replica B's starts: B waits for A's
    transaction instead of colliding on (item_id, topic), and the topics are B's, each pair once."""
    import threading

    from apps.sentiment.ingest import retag
    from apps.sentiment.topics import TopicMatcher, Watch

    assert main(["sentiment", "ingest", str(data_dir("feeds_sample"))]) == 0
    capsys.readouterr()
    inside = threading.Event()
    release = threading.Event()

    class Slow(TopicMatcher):
        def match(self, text, entities=None):
            inside.set()
            release.wait(30)
            return super().match(text, entities)

    everything = [Watch("Markets", ["market", "markets", "stocks", "shares"])]
    errors = []
    a = threading.Thread(target=lambda: _save(lambda db, m: retag(db, m), pg, Slow(everything, {}), errors))
    a.start()
    try:
        assert inside.wait(30)  # A holds its transaction
        b = threading.Thread(target=lambda: _save(lambda db, m: retag(db, m), pg, TopicMatcher(everything, {}), errors))
        b.start()
        b.join(timeout=2)
        assert b.is_alive()  # B waits for A
    finally:
        release.set()
    a.join(timeout=60)
    b.join(timeout=60)
    assert errors == []
    pairs = pg.query("SELECT item_id, topic FROM sentiment_item_topics")
    assert pairs and len(pairs) == len({(p["item_id"], p["topic"]) for p in pairs})
