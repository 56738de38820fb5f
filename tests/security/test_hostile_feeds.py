"""Hostile feed bodies: entity bombs, compression bombs, oversized answers, endless entry lists."""

from __future__ import annotations

import gzip
import time

import pytest

from apps.sentiment import feeds
from tests.security.servers import trickle

BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
        + ']>\n<rss version="2.0"><channel><title>t</title><item><title>&i;</title></item></channel></rss>')


def test_entity_bomb_is_not_expanded():
    start = time.monotonic()
    parsed = feeds.parse(feeds.FetchResult("bomb.xml", BOMB.encode()))
    assert time.monotonic() - start < 5
    assert all(len(e.get("title", "")) < 1000 for e in parsed.entries)


def test_compression_bomb_and_declared_size_are_capped():
    body = gzip.compress(b"<rss>" + b" " * 5_000_000 + b"</rss>")  # 5 MB from a few KB
    head = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    with trickle(head, b"") as port:
        with pytest.raises(feeds.FetchError, match="limit once decompressed"):
            feeds.fetch(f"http://127.0.0.1:{port}/f", max_bytes=1_000_000, allow_hosts=["127.0.0.1"], timeout=10)
    with trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n", b"") as port:
        with pytest.raises(feeds.FetchError, match="over the 1000-byte limit"):
            feeds.fetch(f"http://127.0.0.1:{port}/f", max_bytes=1000, allow_hosts=["127.0.0.1"], timeout=10)


def test_only_the_first_entries_are_used():
    items = "".join(f"<item><title>t{i}</title><guid>g{i}</guid></item>" for i in range(50))
    parsed = feeds.parse(feeds.FetchResult("many.xml", f'<rss version="2.0"><channel>{items}</channel></rss>'.encode()))
    assert len(parsed.entries) == 50
    assert [e.title for e in feeds.entries(parsed, "many.xml", max_entries=10)] == [f"t{i}" for i in range(10)]
