"""The help centre as passages: read Markdown, TXT, CSV and JSONL files and cut them into chunks.

Markdown may start with front matter (``title``, ``intent``, ``tags``); its body is cut at
every heading, and a section longer than ``MAX_CHARS`` is cut again at paragraph, then
sentence, boundaries. TXT files are cut into paragraph groups, a CSV needs ``question`` and
``answer`` columns (one passage per row), and a JSONL file has one passage per line
(``text``, or ``question`` + ``answer``; optional ``title``, ``intent``, ``tags``, ``url``).
Every chunk keeps its document title, section name and an anchor, so answers can cite
``title + link#anchor``. The generic pieces (``Passage``, ``Document``, ``split_text``, ``slug``)
live in ``shared.passages``; this module adds the help-centre formats and the ``intent`` field.
Nothing here embeds or stores: see ``search.py`` and ``ingest.py``.

    docs = read_paths(["data/support/kb"])      # -> [Document(source, hash, title, chunks)]
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from shared.datasets import read_csv_rows, read_jsonl
from shared.errors import DataError
from shared.home import data_dir
from shared.passages import MAX_CHARS, Document, Passage, slug, split_text

__all__ = ["MAX_CHARS", "SUFFIXES", "Chunk", "Document", "list_files", "read_file", "read_paths", "slug",
           "source_key", "split_text"]
SUFFIXES = (".md", ".markdown", ".txt", ".csv", ".jsonl")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LINE_END = re.compile(r"\r\n|\r|\n")  # Markdown's line ends; not splitlines(), which also breaks on U+2028


@dataclass
class Chunk(Passage):
    """A help-centre passage: a ``shared.passages.Passage`` plus the intent its article answers."""

    intent: str = ""


def source_key(path: Path) -> str:
    """A stable key for a file: relative to the shipped data folder when inside it."""
    path = path.resolve()
    try:
        return "data/" + path.relative_to(data_dir().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _front_matter(path: Path, text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        raise DataError(path, "front matter opened with '---' is never closed", row=1, fix="add a closing '---' line")
    import yaml

    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", 0) + 2
        raise DataError(path, f"front matter is not valid YAML ({getattr(err, 'problem', err)})", row=line) from err
    if not isinstance(meta, dict):
        raise DataError(path, "front matter must be 'key: value' lines", row=2)
    body = text[end + 4:]
    return meta, body[body.find("\n") + 1:] if "\n" in body else ""


def _tags(value: object) -> list[str]:
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    return [str(t) for t in value] if isinstance(value, list) else []


def _markdown_sections(body: str, title: str) -> tuple[str, list[tuple[str, str]]]:
    """(title, [(section, text)]): a first '# Heading' becomes the title when none is given."""
    sections: list[tuple[str, list[str]]] = [(title, [])]
    for line in _LINE_END.split(body):
        match = _HEADING.match(line)
        if match is None:
            sections[-1][1].append(line)
        elif not title and len(match.group(1)) == 1 and len(sections) == 1 and not "".join(sections[0][1]).strip():
            title = match.group(2)
            sections = [(title, [])]
        else:
            sections.append((match.group(2), []))
    named = [(name, "\n".join(lines).strip()) for name, lines in sections]
    return title, [(name, text) for name, text in named if text]


def read_markdown(path: Path, text: str) -> tuple[str, list[Chunk]]:
    meta, body = _front_matter(path, text)
    title, sections = _markdown_sections(body, str(meta.get("title") or ""))
    title = title or path.stem.replace("_", " ").replace("-", " ").capitalize()
    intent, tags, chunks = str(meta.get("intent") or ""), _tags(meta.get("tags")), []
    for name, section_text in sections:
        pieces = split_text(section_text)
        for i, piece in enumerate(pieces):
            anchor = slug(name) if name != title else "top"
            chunks.append(Chunk(piece, title, name if name != title else "Overview",
                                anchor + (f"-{i + 1}" if i else ""), intent=intent, tags=tags))
    return title, chunks


def read_txt(path: Path, text: str) -> tuple[str, list[Chunk]]:
    title = path.stem.replace("_", " ").replace("-", " ").capitalize()
    return title, [Chunk(p, title, f"Part {i + 1}", f"part-{i + 1}") for i, p in enumerate(split_text(text))]


def read_qa_csv(path: Path) -> tuple[str, list[Chunk]]:
    title, chunks = path.stem.replace("_", " ").capitalize(), []
    for row, values in read_csv_rows(path, ["question", "answer"]):
        question, answer = (values.get("question") or "").strip(), (values.get("answer") or "").strip()
        if not question or not answer:
            raise DataError(path, "empty question or answer", row=row, fix="fill both columns or delete the row")
        for i, piece in enumerate(split_text(answer)):
            chunks.append(Chunk(piece, question, "Answer", f"row-{row}" + (f"-{i + 1}" if i else ""),
                                intent=(values.get("intent") or "").strip(), tags=_tags(values.get("tags") or "")))
    return title, chunks


def read_qa_jsonl(path: Path) -> tuple[str, list[Chunk]]:
    title, chunks = path.stem.replace("_", " ").capitalize(), []
    for line, obj in read_jsonl(path):
        text = obj.get("text") or obj.get("answer")
        if not isinstance(text, str) or not text.strip():
            raise DataError(path, "needs a non-empty 'text' (or 'question' + 'answer')", row=line)
        name = str(obj.get("title") or obj.get("question") or f"Line {line}")
        for i, piece in enumerate(split_text(text)):
            chunks.append(Chunk(piece, name, str(obj.get("section") or "Answer"),
                                f"line-{line}" + (f"-{i + 1}" if i else ""), intent=str(obj.get("intent") or ""),
                                tags=_tags(obj.get("tags")), url=str(obj.get("url") or "")))
    return title, chunks


def read_file(path: str | Path) -> Document:
    """One file as a Document; DataError names the file (and line) when it is unusable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(path, f"unsupported file type '{suffix}'", fix=f"use one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise DataError(path, "file not found", fix="check the path")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(path, f"bytes that are not UTF-8 at byte {err.start}",
                        row=raw[: err.start].count(b"\n") + 1, fix="re-save the file as UTF-8") from err
    try:
        if suffix == ".csv":
            title, chunks = read_qa_csv(path)
        elif suffix == ".jsonl":
            title, chunks = read_qa_jsonl(path)
        elif suffix == ".txt":
            title, chunks = read_txt(path, text)
        else:
            title, chunks = read_markdown(path, text)
    except (csv.Error, json.JSONDecodeError) as err:
        raise DataError(path, f"cannot be parsed ({err})") from err
    key = source_key(path)
    for chunk in chunks:
        chunk.source = key
        chunk.url = chunk.url or f"{key}#{chunk.anchor}"
    return Document(key, hashlib.sha256(raw).hexdigest(), title, chunks)


def list_files(paths: list[str | Path]) -> list[Path]:
    """The supported files named or found (recursively, sorted) under the given paths."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise DataError(path, "no such file or folder", fix="check the path")
    return list(dict.fromkeys(files))


def read_paths(paths: list[str | Path]) -> list[Document]:
    """Every file under ``paths`` as Documents (files with no text give no chunks)."""
    return [read_file(path) for path in list_files(paths)]
