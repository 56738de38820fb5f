"""Words: content words of a text, a light stemmer, and an inverted index for typed interests.

The typed interest is matched two ways: by meaning (MiniLM embeddings, in the ranker) and by its
words here, weighted by rarity (idf), so that "space opera" finds the books that say "space
opera" even when a long description blurs the embedding. The same matching explains a result
("matches: space, opera").

    index = WordIndex(item_texts)
    scores = index.scores("slow-burn space opera")    # [n_items] in [0, 1]
    matched_words("cosy mysteries", "A cosy village mystery")   # -> ["cosy", "mysteries"]
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in into is it its like love me my of on or our so "
    "some something that the their them then there these they this to very was we what when where which "
    "who with would you your about more most books book want read reading story stories really good great "
    "please give recommend".split())
_SUFFIXES = (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ingly", ""), ("ings", ""), ("ing", ""), ("edly", ""),
             ("ed", ""), ("ly", ""), ("es", ""), ("s", ""))


def stem(word: str) -> str:
    """A crude English stem, enough to match plural / -ing / -ed forms ("heroines" ~ "heroine")."""
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not (suffix == "s" and word.endswith("ss")):
            word = word[: -len(suffix)] + replacement
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def words(text: str) -> list[str]:
    """Lower-case content words of a text (stop words dropped, order kept, no repeats)."""
    seen, out = set(), []
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and len(word) > 2 and word not in seen:
            seen.add(word)
            out.append(word)
    return out


def matched_words(query: str, text: str) -> list[str]:
    """Words of ``query`` that occur (up to a stem) in ``text``, in query order."""
    stems = {stem(w) for w in words(text)}
    return [w for w in words(query) if stem(w) in stems]


class WordIndex:
    """Stem -> items containing it, with idf weights."""

    def __init__(self, texts: list[str]) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for i, text in enumerate(texts):
            for term in {stem(word) for word in words(text)}:
                postings[term].append(i)
        self.n = len(texts)
        self.postings = {term: np.array(items, dtype=np.int64) for term, items in postings.items()}

    def idf(self, term: str) -> float:
        return math.log(1 + self.n / (1 + len(self.postings.get(term, ()))))

    def scores(self, query: str) -> np.ndarray | None:
        """idf-weighted share of the query's words each item contains (None: no content words)."""
        terms = {stem(word) for word in words(query)}
        if not terms:
            return None
        out = np.zeros(self.n, dtype=np.float32)
        total = sum(self.idf(t) for t in terms)
        for term in terms:
            if term in self.postings:
                out[self.postings[term]] += self.idf(term) / total
        return out
