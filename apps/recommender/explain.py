"""One short reason per recommendation, from the signals that ranked it.

- history: "because you liked X", X being the liked history item that contributes most to
  the candidate (its event weight x (collaborative similarity + text similarity));
- typed interest: the words of the interest found in the item ("matches: space opera,
  heroine"), with a light stemmer so that "heroines" matches "heroine"; when no word matches
  literally, "close in meaning to '...'";
- cold items (nobody interacted yet) say so; items picked by popularity alone say that.

    reason = because_you_liked(signals, history, weights, item, titles)
    words = matched_words("slow-burn space opera", item_text)
"""

from __future__ import annotations

import re

import numpy as np

from apps.recommender.profiles import History
from apps.recommender.ranker import Signals

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


def because_you_liked(signals: Signals, history: History, weights: np.ndarray, item: int) -> int | None:
    """The liked history item that contributes most to ``item`` (a position), or None."""
    liked = weights > 0
    if not np.any(liked):
        return None
    sources = history.items[liked]
    collab = np.asarray(signals.neighbours[sources][:, item].todense()).ravel()
    text = np.clip(signals.base[sources] @ signals.base[item], 0, None)
    contribution = weights[liked] * (2.0 * collab + text)
    return int(sources[int(np.argmax(contribution))])


def interest_reason(query: str, text: str) -> str:
    """'matches: a, b' or 'close in meaning to "..."'."""
    found = matched_words(query, text)
    if found:
        return "matches: " + ", ".join(found[:5])
    short = query if len(query) <= 60 else query[:57] + "..."
    return f'close in meaning to "{short}"'


def snippet(text: str, limit: int = 180) -> str:
    """The start of a text, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "..."
