"""User profiles: event weights, histories, and the profile vector a ranking starts from.

A user's history is their interactions in time order, one per item (the latest wins, so a
"dislike" clicked today overrides a 5-star rating from last year). Each event gets a signed
preference: ratings are centred on the middle of the scale (5 -> +1, 2.5 -> 0, 0.5 -> -0.8),
event weights go through tanh (sign = like / dislike). Recency multiplies it by
``0.5 ** (rank from the newest / half_life)``, counted in the user's own events rather than
days, because people rate in bursts. The history profile is the weighted sum of item vectors:
dislikes carry negative weight, so they push the profile away from what the user disliked.
A typed interest is the embedding of the text; ``blend`` mixes the two.

    history = histories(snapshot.interactions, positions)["u1"]
    profile = history_profile(item_vectors, history)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from apps.recommender.catalog import RATING_RANGE, Interaction


@dataclass
class History:
    """One user's events in time order: item positions, signed preferences, times."""

    items: np.ndarray
    prefs: np.ndarray
    ts: np.ndarray

    def __len__(self) -> int:
        return len(self.items)

    @classmethod
    def empty(cls) -> History:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.float64))

    def add(self, item: int, pref: float, ts: float) -> History:
        """A new history with one more event (replacing any earlier event on that item)."""
        keep = self.items != item
        return History(np.append(self.items[keep], item), np.append(self.prefs[keep], pref).astype(np.float32),
                       np.append(self.ts[keep], ts))

    def liked(self) -> np.ndarray:
        return self.items[self.prefs > 0]


def preference(value: float, kind: str, rating_range: tuple[float, float] = RATING_RANGE) -> float:
    """Signed preference in [-1, 1]: ratings centred on the scale's middle, weights via tanh."""
    if kind == "weight":
        return math.tanh(value)
    low, high = rating_range
    middle = (low + high) / 2
    return float(np.clip((value - middle) / max(high - middle, 1e-9), -1.0, 1.0))


def histories(interactions: Iterable[Interaction], positions: dict[str, int],
              rating_range: tuple[float, float] = RATING_RANGE) -> dict[str, History]:
    """user_id -> History, in time order, the latest event per item winning."""
    latest: dict[str, dict[int, tuple[float, float]]] = {}
    for row in sorted(interactions, key=lambda r: r.ts):
        pos = positions.get(row.item_id)
        if pos is not None:
            events = latest.setdefault(row.user_id, {})
            events.pop(pos, None)  # re-insert so dict order stays time order
            events[pos] = (preference(row.value, row.kind, rating_range), row.ts)
    out = {}
    for user, events in latest.items():
        items = np.fromiter(events, dtype=np.int64, count=len(events))
        prefs = np.array([p for p, _ in events.values()], dtype=np.float32)
        ts = np.array([t for _, t in events.values()], dtype=np.float64)
        out[user] = History(items, prefs, ts)
    return out


def recency(n: int, half_life: float) -> np.ndarray:
    """Weights of n time-ordered events: the newest 1, halving every ``half_life`` events back."""
    if half_life <= 0:
        return np.ones(n, np.float32)
    return (0.5 ** (np.arange(n)[::-1] / half_life)).astype(np.float32)


def event_weights(history: History, half_life: float = 20.0, dislike: float = 1.0) -> np.ndarray:
    """Preference x recency; dislikes scaled by ``dislike`` (0 ignores them)."""
    prefs = np.where(history.prefs < 0, history.prefs * dislike, history.prefs)
    return (prefs * recency(len(history), half_life)).astype(np.float32)


def history_profile(vectors: np.ndarray, history: History, half_life: float = 20.0,
                    dislike: float = 1.0) -> np.ndarray | None:
    """Unit profile vector from the history (None when nothing was liked)."""
    weights = event_weights(history, half_life, dislike)
    if not np.any(weights > 0):
        return None
    return unit(weights @ vectors[history.items])


def unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def blend(first: np.ndarray | None, second: np.ndarray | None, share: float = 0.5) -> np.ndarray | None:
    """Unit mix of two profiles (``share`` of the second); either may be missing."""
    if first is None or second is None:
        return second if first is None else first
    return unit((1 - share) * first + share * second)


def history_query(titles: list[str], max_items: int = 5) -> str:
    """The query text of the next-item bi-encoder: the most recent liked titles, newest first."""
    return "; ".join(reversed(titles[-max_items:]))
