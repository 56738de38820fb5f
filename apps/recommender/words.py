"""Words: content words of a text, a light stemmer, and BM25 over the items for typed interests.

The typed interest is matched two ways: by meaning (MiniLM embeddings, in the ranker) and by its
words here, scored by BM25 (``shared.lexical.Bm25``, the same index the help centre uses, with
this module's stop words and stemmer), so that "space opera" finds the books that say "space
opera" even when a long description blurs the embedding. The same words explain a result
("matches: space, opera").

    index = WordIndex(item_texts)
    scores = index.scores("slow-burn space opera")    # [n_items] in [0, 1]
    matched_words("cosy mysteries", "A cosy village mystery")   # -> ["cosy", "mysteries"]
"""

from __future__ import annotations

import re

import numpy as np

from shared.lexical import Analyzer

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


ANALYZER = Analyzer(stopwords=STOPWORDS, stem=stem, min_length=3, name="recommender-words-v1")


def matched_words(query: str, text: str) -> list[str]:
    """Words of ``query`` that occur (up to a stem) in ``text``, in query order."""
    stems = {stem(w) for w in words(text)}
    return [w for w in words(query) if stem(w) in stems]


class WordIndex:
    """BM25 (``shared.lexical.Bm25``) over the item texts, with this module's words and stems."""

    def __init__(self, texts: list[str]) -> None:
        from shared.lexical import Bm25

        self.n = len(texts)
        self.bm25 = Bm25(texts, ANALYZER)

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 of the query's distinct words per item, scaled so the best item is 1 (None: no content words)."""
        terms = list(dict.fromkeys(ANALYZER(query)))
        if not terms:
            return None
        out = self.bm25.scores(terms).astype(np.float32)
        best = float(out.max(initial=0.0))
        return out / best if best > 0 else out
