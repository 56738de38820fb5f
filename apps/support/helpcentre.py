"""The help centre as customers see it: one page per ingested article, served by the suite.

Sources under an answer link to ``/support/help/<page>#<section>`` (an article title and section,
not an internal file path). A page is rendered from the help-centre index, so whatever was
ingested (Markdown, TXT, CSV, JSONL) has a page; Markdown is rendered with raw HTML disabled.
Passages that came with their own public ``url`` (http or https) keep it.

    public_url(chunk)          # -> "/support/help/3f2a9c1d0b7e4a55#steps"
    render(index, "3f2a9c1d0b7e4a55")  # -> an HTML page, or None
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import Any

PREFIX = "/support/help/"


def page_id(source: str) -> str:
    """A stable, opaque page id for an ingested source (its path stays internal)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def public_url(chunk: Any) -> str:
    """The link customers follow for a passage."""
    url = str(getattr(chunk, "url", "") or "")
    if url.startswith(("https://", "http://")):
        return url
    return f"{PREFIX}{page_id(chunk.source)}#{chunk.anchor}"


def render(index: Any, page: str) -> str | None:
    """The article ``page`` as an HTML document, or None when no ingested source has that id."""
    source = next((s for s in index.docs if page_id(s) == page), None)
    if source is None:
        return None
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    chunks = [c for c in index.passages() if c.source == source]
    title = index.docs[source].get("title") or (chunks[0].title if chunks else "Help")
    sections, seen = [], set()
    for chunk in chunks:
        if chunk.anchor not in seen:
            seen.add(chunk.anchor)
            sections.append(f'<h2 id="{escape(chunk.anchor)}">{escape(chunk.section)}</h2>')
        sections.append(md.render(chunk.text))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>" + escape(title) + " · Help centre</title>"
            "</head><body style='font-family:sans-serif;max-width:44em;margin:2em auto;line-height:1.5'>"
            f"<p><a href='/support/'>← Back to the chat</a></p><h1>{escape(title)}</h1>{''.join(sections)}</body></html>")
