"""Entries -> items (HTML stripping, dates, dedupe keys) and topic matching rules."""

from __future__ import annotations

from datetime import datetime, timezone

import feedparser
import pytest
from sentiment_helpers import rss

from apps.sentiment.items import from_entry, strip_html, unique_in_batch
from apps.sentiment.topics import TopicMatcher, Watch, alias_pattern, load_watchlist_csv, normalise_org
from shared.errors import DataError

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def test_strip_html_drops_tags_scripts_and_decodes_entities():
    assert strip_html("<p>Profit &amp; loss</p><script>alert(1)</script><b>up</b>  5%") == "Profit & loss up 5%"
    assert strip_html(None) == ""
    assert strip_html("<p>unclosed <b>tag") == "unclosed tag"


def test_entry_becomes_item_with_published_or_fetched_time():
    doc = rss([{"title": "A <b>bold</b> move", "guid": "g1", "link": "https://x.com/1", "summary": "&lt;i&gt;hi&lt;/i&gt;",
                "published": datetime(2026, 10, 5, 9, 30, tzinfo=timezone.utc)},
               {"title": "No date", "link": "https://x.com/2"}])
    first, second = (from_entry(e, "f", NOW) for e in feedparser.parse(doc.encode()).entries)
    assert (first.title, first.summary, first.guid) == ("A bold move", "hi", "g1")
    assert (first.published, first.published_source) == ("2026-10-05T09:30:00+00:00", "feed")
    assert (second.published, second.published_source) == (NOW.isoformat(), "fetched")
    assert len(first.keys) == 3 and len(second.keys) == 2


def test_duplicates_by_guid_link_or_title_within_feed():
    doc = rss([{"title": "Same title", "guid": "a"}, {"title": "Other", "guid": "a"},
               {"title": "x", "link": "https://l/1"}, {"title": "y", "link": "https://l/1"},
               {"title": "Same   TITLE", "guid": "b"}, {"title": "Fresh", "guid": "c"}])
    items = [from_entry(e, "feed-1", NOW) for e in feedparser.parse(doc.encode()).entries]
    kept, dropped = unique_in_batch(items)
    assert [i.title for i in kept] == ["Same title", "x", "Fresh"] and dropped == 3
    other_feed = from_entry(feedparser.parse(doc.encode()).entries[0], "feed-2", NOW)
    assert set(other_feed.keys) & set(items[0].keys)  # same guid is the same story in any feed


def test_entry_without_identity_is_keyed_by_its_content():
    entries = feedparser.parse(rss([{"summary": "only a body"}, {"summary": "another body"}]).encode()).entries
    a, b = (from_entry(e, "f", NOW) for e in entries)
    assert a.keys != b.keys and a.text == "only a body"


@pytest.mark.parametrize("alias,text,hit", [
    ("$C", "Citi up: $C rallies", True), ("$C", "$CCL sinks", False), ("C", "Plan C fails", False),
    ("C", "$C falls", True), ("BA", "BA flights cancelled", False), ("$BA", "$BA halts 737", True),
    ("TSLA", "TSLA jumps", True), ("TSLA", "tsla jumps", False), ("Boeing", "BOEING's jets", True),
    ("Boeing", "Boeingesque", False), ("J.P. Morgan", "J.P. Morgan cuts", True), ("Goldman Sachs", "goldman  sachs", True),
])
def test_alias_rules(alias, text, hit):
    assert bool(alias_pattern(alias).search(text)) is hit


def test_matcher_watch_sector_and_org_entities():
    matcher = TopicMatcher([Watch("Boeing", ["$BA", "Boeing"]), Watch("Citigroup", ["$C", "Citigroup", "Citi"])])
    found = dict(matcher.match("Boeing halts 737 output; FAA probe widens"))
    assert found == {"Boeing": "watch", "Aviation": "sector", "Legal": "sector"}
    ents = [{"text": "The Boeing Co.", "type": "ORG", "start": 0, "end": 14, "score": 0.9},
            {"text": "Spirit AeroSystems Holdings Inc", "type": "ORG", "start": 20, "end": 50, "score": 0.8},
            {"text": "Seattle", "type": "LOC", "start": 0, "end": 7, "score": 0.9}]
    found = dict(matcher.match("Supplier news", ents))
    assert found == {"Boeing": "watch", "Spirit AeroSystems": "org"}
    assert normalise_org("CITIGROUP INC.'s") == "Citigroup"


def test_watchlist_csv_errors_name_the_row(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("topic,aliases\nTesla,$TSLA|Tesla\n,$X\n")
    with pytest.raises(DataError, match="row 3"):
        load_watchlist_csv(path)
    path.write_text("topic,aliases\nTesla,$TSLA\ntesla,TSLA\n")
    with pytest.raises(DataError, match="listed twice"):
        load_watchlist_csv(path)
    path.write_text("topic,aliases\nTesla,$TSLA| Tesla |\n")
    assert load_watchlist_csv(path)[0].aliases == ["$TSLA", "Tesla"]
