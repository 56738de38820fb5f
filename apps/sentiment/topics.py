"""Topics of a headline: watched companies (aliases), sector tags (keywords), and ORG entities.

Alias rules (the watchlist is ``topic,aliases`` with aliases split by ``|``):
- ``$TSLA``: a cashtag; matches ``$TSLA`` not followed by a letter or digit (``$C`` never hits ``$CCL``).
- A short ticker of 1-2 characters written without ``$`` (``C``, ``BA``) is too ambiguous as a word,
  so it only matches as a cashtag (``$C``).
- An all-caps ticker of 3-5 letters (``TSLA``) matches as a whole word, case-sensitively.
- Names (``Goldman Sachs``) match as whole words, ignoring case (``Boeing's`` counts).
Sector tags are keyword lists (whole words; case-sensitive only for keywords with capitals such as
``Fed`` or ``SEC``); ``[sentiment.sectors]`` in the config replaces them.
ORG entities (when the tagger is on) are normalised (suffixes like Inc./Corp. dropped) and merged
into a watched topic when they equal one of its names; otherwise they are topics of their own.

    matcher = TopicMatcher(load_watchlist_csv("data/sentiment/watchlist.csv"))
    matcher.match("Boeing halts 737 MAX output; $BA falls")  # [("Boeing", "watch"), ("Aviation", "sector")]
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.sentiment.settings import settings_of
from apps.sentiment.store import iso, utcnow
from shared.datasets import read_csv_rows
from shared.errors import DataError, LorasuiteError
from shared.home import data_dir
from shared.storage import Database

log = logging.getLogger(__name__)

SECTORS: dict[str, list[str]] = {
    "Earnings": ["earnings", "EPS", "quarterly results", "quarterly profit", "revenue", "guidance", "profit warning"],
    "M&A": ["merger", "acquisition", "acquire", "acquires", "takeover", "buyout"],
    "Rates": ["Fed", "Federal Reserve", "interest rate", "interest rates", "rate hike", "rate cut", "FOMC", "ECB",
              "Treasury yields", "bond yields"],
    "Energy": ["oil", "crude", "OPEC", "natural gas", "Brent"],
    "Crypto": ["bitcoin", "crypto", "cryptocurrency", "ethereum", "blockchain"],
    "Banking": ["bank", "banks", "lender", "lenders", "banking"],
    "Aviation": ["airline", "airlines", "aircraft", "airplane", "jetliner", "FAA", "737"],
    "Autos": ["automaker", "automakers", "electric vehicle", "electric vehicles", "EV", "EVs"],
    "Pharma": ["FDA", "vaccine", "drugmaker", "pharma", "biotech", "clinical trial"],
    "Legal": ["lawsuit", "lawsuits", "sued", "sues", "probe", "antitrust", "SEC", "settlement", "indicted"],
    "Jobs": ["layoffs", "job cuts", "jobless", "unemployment", "payrolls", "strike"],
}
_SUFFIXES = re.compile(r"[\s,]+(inc|incorporated|corp|corporation|co|company|ltd|limited|plc|llc|ag|sa|nv|se|"
                       r"group|holdings?)\.?$", re.IGNORECASE)


@dataclass
class Watch:
    """One watched topic and its aliases."""

    topic: str
    aliases: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        """The plain names (for merging entities): the topic and its non-cashtag aliases."""
        return [self.topic] + [a for a in self.aliases if not a.startswith("$")]


def parse_aliases(text: str) -> list[str]:
    return [a.strip() for a in (text or "").split("|") if a.strip()]


def alias_pattern(alias: str) -> re.Pattern:
    """The regex for one alias, following the rules in the module docstring."""
    alias = alias.strip()
    if alias.startswith("$") or len(alias) <= 2:
        ticker = alias.lstrip("$")
        return re.compile(r"(?<![\w$])\$" + re.escape(ticker) + r"(?![A-Za-z0-9])", re.IGNORECASE)
    words = r"\s+".join(re.escape(w) for w in alias.split())
    bounded = r"(?<![\w$])" + words + r"(?!\w)"
    if alias.isupper() and alias.isalpha() and len(alias) <= 5:
        return re.compile(bounded)
    return re.compile(bounded, re.IGNORECASE)


def normalise_org(name: str) -> str:
    """``The Boeing Co.'s`` -> ``Boeing``: strip possessive, articles and company suffixes."""
    text = re.sub(r"['’]s$", "", " ".join(name.split())).strip(" .,;:-\"'")
    text = re.sub(r"^the\s+", "", text, flags=re.IGNORECASE)
    for _ in range(2):
        text = _SUFFIXES.sub("", text).strip(" .,")
    if text.isupper() and len(text) > 5:
        text = text.title()
    return text


class TopicMatcher:
    """Match watched topics, sector keywords and (optionally) ORG entities in a text."""

    def __init__(self, watches: list[Watch], sectors: dict[str, list[str]] | None = None) -> None:
        self.watches = watches
        self.patterns = [(w.topic, [alias_pattern(a) for a in (w.aliases or [w.topic])]) for w in watches]
        sectors = SECTORS if sectors is None else sectors
        self.sectors = [(name, [keyword_pattern(k) for k in words]) for name, words in sectors.items()]
        self.by_name = {normalise_org(n).casefold(): w.topic for w in watches for n in w.names()}

    def match(self, text: str, entities: list[dict] | None = None) -> list[tuple[str, str]]:
        """(topic, kind) pairs, kind in watch / sector / org; each topic once."""
        found: dict[str, str] = {}
        for topic, patterns in self.patterns:
            if any(p.search(text) for p in patterns):
                found[topic] = "watch"
        for name, patterns in self.sectors:
            if name not in found and any(p.search(text) for p in patterns):
                found[name] = "sector"
        for entity in entities or []:
            from apps.sentiment.classify import is_org

            if not is_org(entity) or float(entity.get("score", 1.0)) < 0.5:
                continue
            name = normalise_org(str(entity.get("text", "")))
            if len(name) < 2:
                continue
            topic = self.by_name.get(name.casefold())
            if topic:
                found.setdefault(topic, "watch")
            else:
                found.setdefault(name, "org")
        return list(found.items())


def keyword_pattern(keyword: str) -> re.Pattern:
    """A sector keyword as a whole word; case-sensitive when it has capitals (``Fed``, ``EV``, ``SEC``)."""
    words = r"\s+".join(re.escape(w) for w in keyword.split())
    flags = 0 if any(c.isupper() for c in keyword) else re.IGNORECASE
    return re.compile(r"(?<![\w$])" + words + r"(?!\w)", flags)


def load_watchlist_csv(path: str | Path) -> list[Watch]:
    """Read ``topic,aliases`` (aliases split by ``|``); errors name the file and row."""
    watches, seen = [], set()
    for row_number, row in read_csv_rows(path, ["topic", "aliases"]):
        topic = (row.get("topic") or "").strip()
        if not topic:
            raise DataError(path, "empty topic", row=row_number, fix="fill it or delete the row")
        if topic.casefold() in seen:
            raise DataError(path, f"topic {topic!r} is listed twice", row=row_number, fix="merge the rows")
        seen.add(topic.casefold())
        watches.append(Watch(topic, parse_aliases(row.get("aliases") or "") or [topic]))
    return watches


def watchlist(db: Database, settings: Any = None) -> list[Watch]:
    """The live watchlist (database); seeded from ``[sentiment] watchlist`` or the shipped CSV."""
    rows = db.query("SELECT topic, aliases FROM sentiment_watchlist ORDER BY topic")
    if rows:
        return [Watch(r["topic"], parse_aliases(r["aliases"])) for r in rows]
    path = settings_of(settings).watchlist or data_dir("sentiment", "watchlist.csv")
    if not Path(path).exists():
        return []
    watches = load_watchlist_csv(path)
    save_watchlist(db, watches)
    return watches


def save_watchlist(db: Database, watches: list[Watch]) -> None:
    """Replace the live watchlist (validated: unique non-empty topics, compilable aliases)."""
    seen = set()
    for watch in watches:
        if not watch.topic.strip():
            raise LorasuiteError("a watchlist row has an empty topic")
        if watch.topic.casefold() in seen:
            raise LorasuiteError(f"topic {watch.topic!r} is listed twice")
        seen.add(watch.topic.casefold())
    now, keep = iso(utcnow()), {watch.topic.strip() for watch in watches}
    with db.transaction() as tx:  # upserts: replicas seeding the same list at once do not collide
        for row in tx.query("SELECT topic FROM sentiment_watchlist"):
            if row["topic"] not in keep:
                tx.execute("DELETE FROM sentiment_watchlist WHERE topic = :t", {"t": row["topic"]})
        for watch in watches:
            tx.execute("INSERT INTO sentiment_watchlist (topic, aliases, updated) VALUES (:t, :a, :u) "
                       "ON CONFLICT (topic) DO UPDATE SET aliases = excluded.aliases, updated = excluded.updated",
                       {"t": watch.topic.strip(), "a": "|".join(watch.aliases or [watch.topic]), "u": now})


def sectors_from(settings: Any) -> dict[str, list[str]]:
    custom = settings_of(settings).sectors
    return {str(k): [str(w) for w in v] for k, v in custom.items()} if custom is not None else SECTORS
