"""The three apps on a real PostgreSQL server: the same SQL that runs on SQLite runs there.

Needs ``LORASUITE_TEST_PG_URL`` (set by .ci/run, which starts Debian's PostgreSQL).
"""

import json
import os

import pytest
from sqlalchemy import create_engine, text

from apps.cli import main
from shared.home import data_dir
from shared.storage import Database

URL = os.environ.get("LORASUITE_TEST_PG_URL")
pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not URL, reason="LORASUITE_TEST_PG_URL not set")]


@pytest.fixture
def pg(monkeypatch):
    engine = create_engine(URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    monkeypatch.setenv("LORASUITE_DB_URL", URL)
    for module in ("apps.sentiment.store",):
        __import__(module, fromlist=["close_all"]).close_all()
    yield Database(URL)


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
    assert pg.scalar("SELECT count(*) FROM recommend_items") > 200
