"""Lexical matching: an analyzer (text -> terms) and a BM25 index on the ``bm25s`` library.

``Analyzer`` turns text into BM25 terms: lowercase words (runs of letters and digits of any
script, a trailing ``'s`` / ``'t`` dropped), stop words removed, then a stemmer: ``"snowball"`` (PyStemmer's English
Snowball, the stemmer bm25s recommends), ``"plural"`` (a trailing -s dropped) or any callable.
``Bm25`` scores a fixed corpus with ``bm25s.BM25`` (Lucene variant by default: idf
``log(1 + (N - df + 0.5) / (df + 0.5))`` never goes negative, k1 1.5, b 0.75). Scores are
exact and deterministic; ``mask`` restricts a query to some rows; ``save``/``load`` use bm25s's
own files.

    bm25 = Bm25(["freeze a lost card", "exchange rates"])   # texts, or lists of terms
    bm25.scores("lost cards")             # -> array([0.98, 0.])
    bm25.top("lost cards", k=5)           # -> [(row, score), ...] best first, score > 0
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")  # letters and digits of any script; "card's" is one match
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being do does did "
    "i me my we our you your it its this that these those there here what which who whom how when where why "
    "can could will would should shall may might must have has had am not no so just about into than then "
    "them they their he she his her ive im dont".split())


def plural(word: str) -> str:
    """A trailing plural -s dropped (not -ss, not in words of 3 letters or less)."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def _snowball() -> Callable[[str], str]:
    import Stemmer  # PyStemmer

    return lru_cache(maxsize=200_000)(Stemmer.Stemmer("english").stemWord)


@dataclass(frozen=True)
class Analyzer:
    """Text -> BM25 terms. ``name`` identifies the settings in saved indexes (change it with them)."""

    stopwords: frozenset[str] = STOPWORDS
    stem: str | Callable[[str], str] | None = "snowball"
    min_length: int = 1
    name: str = "words-snowball-v1"

    def __post_init__(self) -> None:
        if isinstance(self.stem, str) and self.stem not in ("snowball", "plural"):
            raise ValueError(f"stem must be 'snowball', 'plural', a callable or None, got {self.stem!r}")

    def words(self, text: str) -> list[str]:
        """Lowercase content words in order (stop words and short words dropped, not stemmed)."""
        out = []
        for word in _WORD.findall(str(text).lower().replace("’", "'")):
            word = word.split("'")[0]
            if word and len(word) >= self.min_length and word not in self.stopwords:
                out.append(word)
        return out

    def __call__(self, text: str) -> list[str]:
        stem = self._stemmer()
        return [stem(word) for word in self.words(text)] if stem else self.words(text)

    def _stemmer(self) -> Callable[[str], str] | None:
        if self.stem == "snowball":
            return _snowball()
        return plural if self.stem == "plural" else self.stem


DEFAULT = Analyzer()


class Bm25:
    """BM25 over a fixed corpus (rows 0..n-1), scored by ``bm25s``."""

    def __init__(self, corpus: list[str] | list[list[str]], analyzer: Analyzer = DEFAULT,
                 method: str = "lucene", k1: float = 1.5, b: float = 0.75) -> None:
        import bm25s

        self.analyzer, self.n = analyzer, len(corpus)
        self.model = bm25s.BM25(k1=k1, b=b, method=method)
        docs = [doc if isinstance(doc, list) else analyzer(doc) for doc in corpus]
        self.indexed = any(docs)  # bm25s cannot index a corpus without a single term
        if self.indexed:
            self.model.index(docs, show_progress=False)

    def __len__(self) -> int:
        return self.n

    def terms(self, query: str | list[str]) -> list[str]:
        return query if isinstance(query, list) else self.analyzer(query)

    def scores(self, query: str | list[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every row for the query (text or terms); rows where ``mask`` is 0 score 0."""
        terms = [t for t in self.terms(query) if self.indexed and t in self.model.vocab_dict]
        if not terms:
            return np.zeros(self.n, dtype=np.float32)
        weights = None if mask is None else np.asarray(mask, dtype=np.float32)
        return self.model.get_scores(terms, weight_mask=weights)

    def top(self, query: str | list[str], k: int = 10, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The best ``k`` rows with a positive score, best first (ties: lower row first)."""
        scores = self.scores(query, mask)
        return [(int(r), float(scores[r])) for r in top_rows(scores, k) if scores[r] > 0]

    # --- persistence ------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the bm25s files plus the analyzer name into ``path`` (a folder; not atomic alone)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.indexed:
            self.model.save(str(path), show_progress=False)
        info = {"analyzer": self.analyzer.name, "rows": self.n, "indexed": self.indexed}
        (path / "lexical.json").write_text(json.dumps(info))

    @classmethod
    def load(cls, path: str | Path, analyzer: Analyzer = DEFAULT) -> Bm25:
        """Read a saved index; ValueError when it was built with another analyzer or is unreadable."""
        import bm25s

        path = Path(path)
        info = json.loads((path / "lexical.json").read_text())
        if info.get("analyzer") != analyzer.name:
            raise ValueError(f"BM25 built with analyzer {info.get('analyzer')!r}, not {analyzer.name!r}")
        bm25 = cls([], analyzer)
        bm25.n, bm25.indexed = int(info["rows"]), bool(info["indexed"])
        if bm25.indexed:
            bm25.model = bm25s.BM25.load(str(path), show_progress=False, verbosity=0)
            if int(bm25.model.scores["num_docs"]) != bm25.n:
                raise ValueError("BM25 row count does not match its lexical.json")
        return bm25


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first, ties broken by the lower index."""
    if k <= 0 or not len(scores):
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        cut = np.partition(scores, len(scores) - k)[len(scores) - k]
        candidates = np.flatnonzero(scores >= cut)
    else:
        candidates = np.arange(len(scores))
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order][:k]
