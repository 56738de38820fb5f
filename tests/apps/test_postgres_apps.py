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
