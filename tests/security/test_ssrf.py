"""Issue 11 #4: feeds and webhooks never reach internal addresses, at add time or at connect time.

Every server here listens on 127.0.0.1 and is reached only where a test allows it; names that
"resolve" elsewhere come from a patched resolver and are refused before any connection.
"""

from __future__ import annotations

import socket

import pytest

from apps.cli import main
from apps.sentiment import feeds, outbox
from apps.sentiment.ingest import Pipeline, poll_feed
from apps.sentiment.store import open_db
from apps.sentiment.topics import TopicMatcher
from shared import netguard
from shared.errors import LorasuiteError
from shared.home import data_dir
from tests.security.servers import http_server

INTERNAL = ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/feed", "http://10.1.2.3/rss",
            "http://192.168.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/",
            "http://2130706433/", "http://0x7f.1/", "http://0x7f000001/", "http://127.1/", "http://0.0.0.0/",
            "http://100.64.0.1/", "http://224.0.0.1/", "http://[2002:7f00:1::]/", "http://localhost:8080/",
            "https://LOCALHOST./x", "http://0177.0.0.1/"]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_in_every_spelling(url):
    with pytest.raises(netguard.BlockedURL):
        netguard.check_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/f", "gopher://example.com/", "file:///etc/passwd", "/etc/passwd",
                                 "../../etc/passwd", "data:text/plain,x"])
def test_other_schemes_and_files_outside_the_roots_are_refused(url):
    with pytest.raises(netguard.BlockedURL):
        netguard.check_url(url)


def test_allow_list_and_file_roots(tmp_path):
    assert netguard.check_url("http://127.0.0.1:9/x", allow_hosts=["127.0.0.1"]) == "http://127.0.0.1:9/x"
    assert netguard.check_url("http://127.0.0.1:9/x", allow_hosts=["127.0.0.1:9"])
    with pytest.raises(netguard.BlockedURL):
        netguard.check_url("http://127.0.0.1:10/x", allow_hosts=["127.0.0.1:9"])  # another port
    assert netguard.check_url("http://93.184.216.34/rss") == "http://93.184.216.34/rss"
    shipped = data_dir("sentiment", "feeds")
    assert netguard.check_url(str(shipped)) == str(shipped.resolve())
    (tmp_path / "f.xml").write_text("<rss/>")
    assert netguard.check_url(f"file://{tmp_path}/f.xml", file_roots=[tmp_path]) == str(tmp_path / "f.xml")
    (tmp_path / "escape").symlink_to("/etc")
    with pytest.raises(netguard.BlockedURL):
        netguard.check_url(str(tmp_path / "escape" / "passwd"), file_roots=[tmp_path])


def test_feeds_add_refuses_with_exit_2(capsys):
    assert main(["sentiment", "feeds", "add", "meta", "http://2130706433/latest"]) == 2
    assert "not a public address" in capsys.readouterr().err
    assert main(["sentiment", "feeds", "add", "passwd", "file:///etc/passwd"]) == 2
    assert "file_roots" in capsys.readouterr().err
    with pytest.raises(LorasuiteError, match="url refused"):
        feeds.add_feed(open_db(), "aws", "http://169.254.169.254/")
    assert feeds.list_feeds(open_db()) == []


def _fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Patch the resolver: each lookup of a listed name takes the next answer (the last one repeats)."""
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        ip = answers[host][min(asked.count(host), len(answers[host])) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_dns_rebinding_is_refused_at_connect_time(monkeypatch):
    db = open_db()
    asked = _fake_dns(monkeypatch, {"rebind.test": ["93.184.216.34", "127.0.0.1"]})
    with http_server() as (port, hits):
        feeds.add_feed(db, "rebind", f"http://rebind.test:{port}/feed")  # public when added
        result = poll_feed(db, "rebind", Pipeline(None, TopicMatcher([])))
    assert result["status"] == "error" and "refused" in result["error"]
    assert hits == [] and asked == ["rebind.test", "rebind.test"]


def test_connects_to_the_checked_address_with_the_name_kept(monkeypatch):
    asked = _fake_dns(monkeypatch, {"feeds.intranet": ["127.0.0.1", "10.9.9.9"]})
    with http_server() as (port, hits):
        result = feeds.fetch(f"http://feeds.intranet:{port}/feed", allow_hosts=["feeds.intranet"])
    assert b"Local headline" in result.content
    assert asked == ["feeds.intranet"] and hits == [f"feeds.intranet:{port}/feed"]  # resolved once, Host kept


def test_every_redirect_is_checked_and_at_most_five_are_followed():
    with http_server() as (port, hits), http_server() as (other, other_hits):
        mine = [f"127.0.0.1:{port}"]
        assert feeds.fetch(f"http://127.0.0.1:{port}/hops/5", allow_hosts=mine).content == \
            b"".join([feeds.fetch(f"http://127.0.0.1:{port}/feed", allow_hosts=mine).content])
        with pytest.raises(feeds.FetchError, match="more than 5 redirects"):
            feeds.fetch(f"http://127.0.0.1:{port}/hops/6", allow_hosts=mine)
        for target in (f"http://127.0.0.1:{other}/feed", f"http://localhost:{other}/feed", "http://169.254.169.254/",
                       "file:///etc/passwd"):
            with pytest.raises(feeds.FetchError, match="refused|only http"):
                feeds.fetch(f"http://127.0.0.1:{port}/to?{target}", allow_hosts=mine)
    assert other_hits == []


def test_stored_errors_do_not_describe_the_network():
    db = open_db()
    feeds.add_feed(db, "closed", "http://127.0.0.1:9/feed", allow_hosts=["127.0.0.1"])
    poll_feed(db, "closed", Pipeline(None, TopicMatcher([])), allow_hosts=["127.0.0.1"])
    error = feeds.get_feed(db, "closed")["last_error"]
    assert error == "http://127.0.0.1:9/feed: could not connect"
    # a feed stored before the policy existed is checked again when polled
    with db.transaction() as tx:
        tx.execute("UPDATE sentiment_feeds SET url = 'http://127.0.0.1:9/x', next_attempt = NULL WHERE name = 'closed'")
    assert "refused" in poll_feed(db, "closed", Pipeline(None, TopicMatcher([])))["error"]


def test_webhooks_get_the_same_policy():
    with http_server() as (port, hits):
        with pytest.raises(netguard.BlockedURL):
            outbox.post_json(f"http://127.0.0.1:{port}/hook", {"text": "x"})
        with pytest.raises(netguard.BlockedURL):
            outbox.post_json("http://[::ffff:169.254.169.254]/hook", {"text": "x"})
        with pytest.raises(netguard.BlockedURL):
            outbox.post_json(f"http://127.0.0.1:{port}/to?http://127.0.0.1:9/", {"text": "x"},
                             allow_hosts=[f"127.0.0.1:{port}"])
        outbox.post_json(f"http://127.0.0.1:{port}/hook", {"text": "x"}, allow_hosts=["127.0.0.1"])
    assert hits == [f"127.0.0.1:{port}/to?http://127.0.0.1:9/", f"127.0.0.1:{port}/hook"]
