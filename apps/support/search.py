"""The help-centre index: ``shared.retrieval.HybridIndex`` over ``kb.Chunk`` in one fixed place.

The index lives in ``$LORASUITE_HOME/indexes/support/`` (layout and fusion: see
``shared.retrieval``; BM25 terms: ``shared.lexical``). This module adds the support pieces:
the default location, chunks read back with their ``intent``, lookup by intent, and error
messages that say how to rebuild the index (``lorasuite support ingest``).

    index = HybridIndex.load()                  # LorasuiteError if missing/damaged
    hits = index.search("lost my card", embed("lost my card")[0], k=5)
"""

from __future__ import annotations

from pathlib import Path

from apps.support.kb import Chunk
from shared import retrieval
from shared.home import state_dir
from shared.retrieval import RRF_K, Hit

__all__ = ["RRF_K", "Hit", "HybridIndex", "index_dir", "stamp"]


def index_dir() -> Path:
    return state_dir("indexes") / "support"


class HybridIndex(retrieval.HybridIndex):
    """The help-centre passages (``kb.Chunk``) with lookup by intent; saved under ``index_dir()``."""

    record = Chunk
    kind = "help-centre index"
    rebuild = "run `lorasuite support ingest data/support/kb` (or your help-centre folder) to rebuild it"

    def by_intent(self, intent: str) -> list[Chunk]:
        """The chunks of the article(s) tagged with ``intent``, in document order."""
        return self.passages(lambda c: c.intent == intent)

    def intents(self) -> set[str]:
        return {c.intent for c in self.chunks.values() if c.intent}

    def save(self, path: Path | None = None) -> Path:
        return super().save(path or index_dir())

    @classmethod
    def load(cls, path: Path | None = None) -> HybridIndex:
        return super().load(path or index_dir())


def stamp(path: Path | None = None) -> float:
    """When the index was last written (0 when absent): lets a running bot notice a re-ingest."""
    return retrieval.stamp(path or index_dir())
