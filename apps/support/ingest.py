"""Ingest help-centre files into the hybrid index: idempotent by content hash, atomic on disk.

Re-ingesting an unchanged file does nothing (same SHA-256 as recorded); a changed file
replaces its old chunks; with ``prune=True`` files that vanished from an ingested folder are
dropped. A missing or damaged index is rebuilt from the files given. Every file is read and
validated before anything is embedded, so a bad file costs nothing and changes nothing.

    report = ingest(["data/support/kb"])          # -> IngestReport(added=82, ...)
    lorasuite support ingest data/support/kb     # the same from the shell
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from apps.support.kb import list_files, read_file, source_key
from apps.support.search import HybridIndex, index_dir
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one ingest did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    rebuilt: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)

    def summary(self) -> str:
        text = (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed; "
                f"{self.chunks} passages in the index")
        return ("index rebuilt: " if self.rebuilt else "") + text


def open_or_new(path: Path | None = None) -> tuple[HybridIndex, str | None]:
    """The saved index, or a fresh one plus the reason the saved one could not be used."""
    try:
        return HybridIndex.load(path), None
    except LorasuiteError as err:
        if (path or index_dir()).joinpath("meta.json").exists():
            log.warning("rebuilding the help-centre index: %s", err)
            return HybridIndex(), str(err)
        return HybridIndex(), None


def ingest(paths: list[str | Path], prune: bool = True, path: Path | None = None,
           embed=None) -> IngestReport:
    """Bring the index in line with the files under ``paths``; returns what changed."""
    files = list_files(paths)
    if not files:
        raise LorasuiteError(f"no .md, .txt, .csv or .jsonl files under {', '.join(map(str, paths))}")
    index, damaged = open_or_new(path)
    report = IngestReport(rebuilt=damaged is not None, notes=[damaged] if damaged else [])
    todo = []
    for file in files:
        key = source_key(file)
        known = index.docs.get(key)
        doc = read_file(file)  # validates even unchanged files cheaply (no embedding)
        if known and known["hash"] == doc.hash:
            report.unchanged += 1
            continue
        todo.append((doc, known is not None))
    if prune:
        report.removed = _prune(index, paths, {source_key(f) for f in files})
    texts = [c.embed_text() for doc, _ in todo for c in doc.chunks]
    vectors = (embed or _embed)(texts) if texts else None
    start = 0
    for doc, existed in todo:
        index.add_document(doc, vectors[start:start + len(doc.chunks)] if vectors is not None else None)
        start += len(doc.chunks)
        report.updated += existed
        report.added += not existed
    report.chunks = len(index)
    if report.changed:
        index.save(path)
    log.info("ingest: %s", report.summary())
    return report


def _prune(index: HybridIndex, paths: list[str | Path], present: set[str]) -> int:
    """Drop sources under an ingested folder that are no longer there."""
    folders = [source_key(Path(p)).rstrip("/") + "/" for p in paths if Path(p).is_dir()]
    gone = [s for s in index.docs if s not in present and any(s.startswith(f) for f in folders)]
    for source in gone:
        index.remove_source(source)
    return len(gone)


def _embed(texts: list[str]):
    from shared.backbone import get_backbone
    from shared.progress import progress

    log.info("embedding %d passages", len(texts))
    with progress("embedding passages"):
        return get_backbone().encode(texts)


def ensure_ingested(paths: list[str | Path]) -> IngestReport:
    """What ``start()`` runs: ingest the configured help centre (a no-op when up to date)."""
    existing = [p for p in paths if Path(p).exists()]
    if not existing:
        raise LorasuiteError(f"none of the help-centre paths exist: {', '.join(map(str, paths))}")
    return ingest(existing)
