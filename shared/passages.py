"""Passages: the unit of retrieval, the document they come from, and cutting text into them.

A ``Passage`` is a piece of text with what is needed to cite it (title, section, anchor, url)
and an ``id`` given by the index. A ``Document`` is one source (a file, a feed item) with a
content hash, so that re-indexing an unchanged source can be skipped. ``split_text`` cuts long
text at blank lines, then at sentence ends, into pieces of at most ``max_chars``; ``slug``
makes GitHub-style heading anchors. Apps subclass ``Passage`` to add their own fields (the
support app adds ``intent``); every field must be JSON-serialisable.

    pieces = split_text(article_body, max_chars=900)
    doc = Document("faq.md", sha256, "FAQ", [Passage(p, "FAQ", "Answer", f"part-{i}") for i, p in ...])
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

MAX_CHARS = 900


@dataclass
class Passage:
    """One retrievable piece of text with everything needed to cite it."""

    text: str
    title: str = ""
    section: str = ""
    anchor: str = ""
    source: str = ""
    tags: list[str] = field(default_factory=list)
    url: str = ""
    id: int = -1

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        """How the passage is cited: ``Title › Section`` (just the title when they agree)."""
        return f"{self.title} › {self.section}" if self.section and self.section != self.title else self.title

    def embed_text(self) -> str:
        """The text the encoder and BM25 see (title and section give short passages context)."""
        return ". ".join(part for part in (self.title, self.section, self.text) if part)


@dataclass
class Document:
    """A source and its passages; ``hash`` is the source's content hash (re-index when it changes)."""

    source: str
    hash: str
    title: str
    chunks: list[Passage]


def slug(text: str) -> str:
    """GitHub-style heading anchor: lowercase, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\s-]", "", text.strip().lower())
    return re.sub(r"[\s]+", "-", text).strip("-") or "section"


def split_text(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Pieces of at most ~max_chars, cut at blank lines, then at sentence ends (hard cut if need be)."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    units: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        if len(para) <= max_chars:
            units.append(para.strip())
            continue
        units.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", para))
    pieces, current = [], ""
    for unit in filter(None, units):
        while len(unit) > max_chars:  # one enormous sentence: hard cut
            pieces, current = pieces + ([current] if current else []) + [unit[:max_chars]], ""
            unit = unit[max_chars:]
        if current and len(current) + len(unit) + 2 > max_chars:
            pieces.append(current)
            current = unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    return pieces + ([current] if current else [])
