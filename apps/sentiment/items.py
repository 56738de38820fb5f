"""Feed entries -> items: plain-text title and summary, a published time, and dedupe keys.

An entry is identified by every key it has: its guid and its link (across all feeds: the same
story syndicated twice is one item) and its normalised title (within one feed). An entry with
none of these falls back to a hash of the whole entry. If any key is already taken, the entry
is a duplicate. ``content_hash`` (title, summary, link) is kept for change detection.

    items = [from_entry(e, feed="markets", fetched=now) for e in parsed.entries]
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any

from apps.sentiment.store import iso
from shared.storage import content_hash

MAX_SUMMARY = 4000
_SPACE = re.compile(r"\s+")


@dataclass
class Item:
    """One news item as stored (before enrichment)."""

    feed: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    published: str
    published_source: str  # "feed" or "fetched" (no usable date in the entry)
    fetched: str
    hash: str
    keys: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """What the sentiment model reads: the headline, or the start of the summary."""
        return self.title or self.summary[:300]


_BLOCKS = {"br", "p", "div", "li", "tr", "td", "h1", "h2", "h3", "h4", "blockquote", "ul", "ol", "table"}


class _TextOnly(HTMLParser):
    """Collect text, dropping tags and the contents of script/style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(text: str | None) -> str:
    """Plain text from an HTML fragment: tags removed, entities decoded, whitespace collapsed."""
    if not text:
        return ""
    if "<" not in text and "&" not in text:
        return _SPACE.sub(" ", text).strip()
    parser = _TextOnly()
    try:
        parser.feed(text)
        parser.close()
        plain = "".join(parser.parts)
    except Exception:  # noqa: BLE001 - malformed markup: fall back to a crude strip
        plain = html.unescape(re.sub(r"<[^>]*>", " ", text))
    return _SPACE.sub(" ", plain).strip()


def _published(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            try:
                return datetime(*value[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError):
                continue
    return None


def _summary(entry: Any) -> str:
    raw = entry.get("summary") or ""
    if not raw and entry.get("content"):
        raw = " ".join(str(c.get("value", "")) for c in entry["content"] if isinstance(c, dict))
    return strip_html(raw)[:MAX_SUMMARY]


def normal_title(title: str) -> str:
    return _SPACE.sub(" ", title).strip().casefold()


def dedupe_keys(feed: str, guid: str | None, link: str | None, title: str, fallback: str) -> list[str]:
    """The keys that identify an item; sharing any one with a stored item makes it a duplicate."""
    keys = []
    if guid:
        keys.append(content_hash("guid", guid))
    if link:
        keys.append(content_hash("link", link))
    if title:
        keys.append(content_hash("title", feed, normal_title(title)))
    if not keys:
        keys.append(content_hash("entry", feed, fallback))
    return keys


def from_entry(entry: Any, feed: str, fetched: datetime) -> Item:
    """Turn one feedparser entry into an Item (never raises on odd entries)."""
    guid = str(entry.get("id") or "").strip() or None
    link = str(entry.get("link") or "").strip() or None
    title = strip_html(str(entry.get("title") or ""))[:1000]
    summary = _summary(entry)
    moment = _published(entry)
    fallback = "" if guid or link or title else json.dumps(entry, sort_keys=True, default=str)
    return Item(feed=feed, guid=guid, link=link, title=title, summary=summary,
                published=iso(moment or fetched), published_source="feed" if moment else "fetched",
                fetched=iso(fetched), hash=content_hash(title, summary, link),
                keys=dedupe_keys(feed, guid, link, title, fallback))


def unique_in_batch(items: list[Item]) -> tuple[list[Item], int]:
    """Drop items that share a key with an earlier item of the same batch; returns (kept, dropped)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        if seen.isdisjoint(item.keys):  # only kept items take keys, exactly as in the database
            kept.append(item)
            seen.update(item.keys)
    return kept, len(items) - len(kept)
