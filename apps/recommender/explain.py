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

import numpy as np

from apps.recommender.profiles import History
from apps.recommender.ranker import Signals
from apps.recommender.words import matched_words


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
