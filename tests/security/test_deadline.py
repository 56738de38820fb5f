"""Issue 11 #5: ``fetch_timeout`` is a deadline on the whole request, not on each read.

A local server trickles one byte a second (at most 20 s, and it stops when the test ends);
with a 2 s deadline every path returns within the deadline plus a little slack.
"""

from __future__ import annotations

import json
import time

import pytest

from apps.cli import main
from apps.sentiment import feeds, outbox
from apps.sentiment.ingest import Pipeline, ingest_sources
from apps.sentiment.store import open_db
from apps.sentiment.topics import TopicMatcher
from tests.security.servers import RSS, trickle

DEADLINE, SLACK = 2.0, 1.5
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n" % len(RSS)
CASES = {"slow body": (HEAD, RSS), "slow headers": (b"", HEAD + RSS)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ingest_returns_by_the_deadline_and_counts_the_feed_failed(case):
    fast, slow = CASES[case]
    with trickle(fast, slow) as port:
        start = time.monotonic()
        stats = ingest_sources([f"http://127.0.0.1:{port}/feed"], open_db(), Pipeline(None, TopicMatcher([])),
                               fetch_timeout=DEADLINE, allow_hosts=["127.0.0.1"])
        elapsed = time.monotonic() - start
    assert elapsed < DEADLINE + SLACK, f"took {elapsed:.1f} s"
    assert (stats.files, stats.failed, stats.new) == (1, 1, 0)
    assert stats.errors == [f"http://127.0.0.1:{port}/feed: no complete answer within 2 s"]


def test_cli_ingest_uses_the_configured_fetch_timeout(lorasuite_home, capsys):
    lorasuite_home.mkdir(parents=True, exist_ok=True)
    (lorasuite_home / "config.toml").write_text('[sentiment]\nadapter = "none-here"\nner_adapter = "off"\n'
                                                'fetch_timeout = 2\nallow_hosts = ["127.0.0.1"]\n')
    with trickle(HEAD, RSS) as port:
        start = time.monotonic()
        assert main(["sentiment", "ingest", f"http://127.0.0.1:{port}/feed"]) == 0
        elapsed = time.monotonic() - start
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert printed == [{"files": 1, "entries": 0, "new": 0, "duplicates": 0, "failed": 1}]
    assert elapsed < DEADLINE + SLACK + 3, f"took {elapsed:.1f} s"  # + CLI start-up


def test_fetch_and_webhook_share_the_deadline():
    with trickle(HEAD, RSS) as port:
        start = time.monotonic()
        with pytest.raises(feeds.FetchError, match="within 2 s"):
            feeds.fetch(f"http://127.0.0.1:{port}/feed", timeout=DEADLINE, allow_hosts=["127.0.0.1"])
        assert time.monotonic() - start < DEADLINE + SLACK
    with trickle(b"", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") as port:
        start = time.monotonic()
        with pytest.raises(Exception, match="(?i)timed out|deadline"):
            outbox.post_json(f"http://127.0.0.1:{port}/hook", {"text": "x"}, timeout=DEADLINE,
                             allow_hosts=["127.0.0.1"])
        assert time.monotonic() - start < DEADLINE + SLACK
