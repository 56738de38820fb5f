"""The engine: one catalogue snapshot, its item vectors and signals in memory; ranked, explained results.

Item vectors come from the shared backbone (``get_backbone().encode``): the frozen MiniLM ones
(typed interests, explanations, diversity) and, when the recommender adapter is present, the
LoRA next-item ones (history profiles). Both are cached on disk as core ``EmbeddingIndex``
directories under ``$LORASUITE_HOME/indexes/recommender/`` keyed by the catalogue version and
the adapter, so a restart does not re-encode.

    engine = Engine(Store(db).snapshot(), adapter="recommender/next-item")
    engine.for_user("u001", k=10)            # -> [Recommendation(item_id, title, snippet, score, reason)]
    engine.query("slow-burn space opera with a strong heroine")
    engine.more_like("b001")
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from apps.recommender.catalog import RATING_RANGE, Interaction, embed_text
from apps.recommender.explain import because_you_liked, interest_reason, snippet
from apps.recommender.profiles import History, blend, event_weights, histories, history_profile, history_query
from apps.recommender.ranker import Blend, Ranked, Request, build_signals, rank, user_request
from apps.recommender.store import Snapshot
from apps.recommender.words import WordIndex
from shared.home import state_dir
from shared.index import EmbeddingIndex
from shared.progress import bar, progress
from shared.storage import content_hash

log = logging.getLogger(__name__)
APP = "recommender"


@dataclass
class Recommendation:
    item_id: str
    title: str
    snippet: str
    score: float
    reason: str
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def item_vectors(snapshot: Snapshot, backbone, adapter: str | None, texts: list[str]) -> np.ndarray:
    """Unit item vectors in snapshot order, from the disk cache or encoded now (then cached)."""
    meta = backbone.meta(adapter) if adapter else {}
    tag = content_hash(snapshot.version, backbone.ref.name, adapter or "base", meta.get("created"),
                       meta.get("data_hash"))[:24]
    path = state_dir("indexes", APP) / tag
    if (path / "meta.json").exists():
        try:
            cached = EmbeddingIndex.load(path)
            if np.array_equal(cached.ids, snapshot.row_ids):
                return cached.vectors
        except Exception as err:  # noqa: BLE001 - a damaged cache is rebuilt, never fatal
            log.warning("rebuilding item vectors at %s: %s", path, err)
    started = time.perf_counter()
    with progress(f"encoding items ({adapter or 'frozen'})"):
        vectors = backbone.encode(texts, adapter=adapter, max_length=128)
    index = EmbeddingIndex(backbone.dim)
    index.add(snapshot.row_ids, vectors)
    index.save(path)
    log.info("encoded %d items (%s) in %.1fs", len(texts), adapter or "frozen", time.perf_counter() - started)
    return index.vectors


class Engine:
    """Recommendations for users, typed interests and items over one catalogue snapshot."""

    def __init__(self, snapshot: Snapshot, adapter: str | None = None, model: str = "minilm",
                 settings: Blend | None = None, rating_range: tuple[float, float] = RATING_RANGE,
                 backbone=None) -> None:
        from shared import adapters, registry
        from shared.backbone import backbone_for

        self.snapshot, self.items, self.rating_range = snapshot, snapshot.items, rating_range
        self.settings = settings or Blend()
        self.positions = {item.item_id: i for i, item in enumerate(self.items)}
        self.texts = [embed_text(item) for item in self.items]
        self.words = WordIndex(self.texts)
        self.adapter, meta = adapter, {}
        if adapter:  # pinned to the version it resolves to now: item vectors and queries must agree
            version = registry.resolve(adapter, app=APP)
            meta = adapters.read_meta(version.path)
            model = meta.get("base_model", model)
            adapter = version.ref
        self.min_pref = float(meta.get("min_pref", 0.4))  # what counted as liked when the adapter was trained
        self.backbone = backbone_for(model, backbone)
        self.key = self.backbone.use(adapter) if adapter else None
        base = item_vectors(snapshot, self.backbone, None, self.texts)
        tuned = item_vectors(snapshot, self.backbone, self.key, self.texts) if self.key else base
        self.histories = histories(snapshot.interactions, self.positions, rating_range)
        self.raw: dict[str, list[Interaction]] = defaultdict(list)
        for row in snapshot.interactions:
            self.raw[row.user_id].append(row)
        self.signals = build_signals(tuned, base, list(self.histories.values()))
        self._profiles: dict[str, tuple[tuple, np.ndarray | None]] = {}
        self.counts = np.bincount([self.positions[r.item_id] for r in snapshot.interactions
                                   if r.item_id in self.positions], minlength=len(self.items))

    # ---- profiles -------------------------------------------------------------------------
    def profiles(self, users: list[History]) -> list[np.ndarray | None]:
        """History profiles in the tuned space: weighted mean of item vectors, blended with the
        adapter's encoding of the recent liked titles (what it was trained on)."""
        s = self.settings
        means = [history_profile(self.signals.vectors, h, s.half_life, s.dislike) for h in users]
        if self.key is None or s.query_share <= 0:
            return means
        queries = [history_query([self.items[i].title for i in h.items[h.prefs >= self.min_pref]]) for h in users]
        todo = [i for i, q in enumerate(queries) if q]
        encoded = self.backbone.encode([queries[i] for i in todo], adapter=self.key) if todo else []
        out = list(means)
        for i, vector in zip(todo, encoded, strict=True):
            out[i] = blend(means[i], vector, s.query_share)
        return out

    def _profile(self, user_id: str | None, history: History) -> np.ndarray | None:
        """The history profile, cached per user until their history changes."""
        if not len(history):
            return None
        key = (len(history), float(history.ts[-1]), float(history.prefs[-1]))
        cached = self._profiles.get(user_id or "")
        if user_id and cached and cached[0] == key:
            return cached[1]
        profile = self.profiles([history])[0]
        if user_id:
            self._profiles[user_id] = (key, profile)
        return profile

    def history(self, user_id: str | None, session: list[tuple[str, float]] = ()) -> History:
        """The user's stored history plus this session's likes/dislikes (item_id, preference)."""
        history = self.histories.get(user_id or "", History.empty())
        for item_id, pref in session:
            if item_id in self.positions:
                history = history.add(self.positions[item_id], pref, time.time())
        return history

    # ---- recommendations -----------------------------------------------------------------
    def for_user(self, user_id: str | None, k: int = 10, interest: str | None = None,
                 session: list[tuple[str, float]] = (), exclude: list[str] = ()) -> list[Recommendation]:
        """Top k unseen items for a user (history), a typed interest, or both; popular items otherwise."""
        history = self.history(user_id, session)
        interest = (interest or "").strip() or None
        interest_vec = self.backbone.encode([interest])[0] if interest else None
        profile = self._profile(user_id if not session else None, history)
        lexical = self.words.scores(interest) if interest else None
        request = user_request(self.signals, history, self.settings, profile, interest_vec, lexical)
        request.exclude = np.union1d(request.exclude, self._positions(exclude))
        return self._explain(rank(self.signals, request, self.settings, k), history, interest)

    def query(self, text: str, k: int = 10, exclude: list[str] = ()) -> list[Recommendation]:
        """Top k items for a typed interest alone."""
        return self.for_user(None, k, interest=text, exclude=exclude)

    def for_users(self, user_ids: list[str], k: int = 10) -> list[list[str]]:
        """Item ids per user, in order (batch: profiles encoded together; unknown users get popular)."""
        users = [self.history(u) for u in user_ids]
        known = [i for i, h in enumerate(users) if len(h)]
        with progress("encoding profiles"):
            profiles = dict(zip(known, self.profiles([users[i] for i in known]), strict=True))
        out = []
        for i, history in enumerate(bar(users, desc="recommending", unit="user")):
            request = user_request(self.signals, history, self.settings, profiles.get(i))
            out.append([self.items[p].item_id for p in rank(self.signals, request, self.settings, k).items])
        return out

    def more_like(self, item_id: str, k: int = 10, exclude: list[str] = ()) -> list[Recommendation]:
        """Items close to one item: its tuned vector and its collaborative neighbours."""
        pos = self.positions.get(item_id)
        if pos is None:
            from shared.errors import LorasuiteError

            raise LorasuiteError(f"unknown item_id {item_id!r}")
        collab = np.asarray(self.signals.neighbours[pos].todense()).ravel()
        request = Request(self.signals.vectors[pos], collab=collab,
                          exclude=np.union1d([pos], self._positions(exclude)))
        ranked = rank(self.signals, request, self.settings, k)
        title, cold = self.items[pos].title, self.signals.cold
        return [self._card(p, s, f"new: no ratings yet, similar to {title}" if cold[p] else
                           f"read by the same people as {title}" if c > 0 else f"similar to {title}")
                for p, s, c in zip(ranked.items, ranked.scores, ranked.parts["collab"], strict=True)]

    # ---- explanations ------------------------------------------------------------------------
    def _explain(self, ranked: Ranked, history: History, interest: str | None) -> list[Recommendation]:
        weights = event_weights(history, self.settings.half_life, self.settings.dislike) if len(history) else None
        cards = []
        for pos in ranked.items:
            reasons = []
            if interest:
                reasons.append(interest_reason(interest, self.texts[pos]))
            source = because_you_liked(self.signals, history, weights, int(pos)) if weights is not None else None
            if source is not None:
                reasons.append(f"because you liked {self.items[source].title}")
            if self.signals.cold[pos]:
                reasons.append("new: no ratings yet, picked by its description")
            if not reasons:
                reasons.append(f"popular ({int(self.counts[pos])} ratings)")
            cards.append(self._card(pos, 0.0, " · ".join(reasons)))
        for card, score in zip(cards, ranked.scores, strict=True):
            card.score = float(score)
        return cards

    def _card(self, pos: int, score: float, reason: str) -> Recommendation:
        item = self.items[int(pos)]
        return Recommendation(item.item_id, item.title, snippet(item.text), float(score), reason, dict(item.meta))

    def _positions(self, item_ids: list[str]) -> np.ndarray:
        return np.array([self.positions[i] for i in item_ids if i in self.positions], dtype=np.int64)

    # ---- people ------------------------------------------------------------------------------
    def users(self) -> list[str]:
        return sorted(self.histories)

    def user_events(self, user_id: str) -> list[tuple[str, str, float, float]]:
        """(item_id, title, value, unix time) of a user's stored interactions, newest first."""
        rows = sorted(self.raw.get(user_id, []), key=lambda r: r.ts, reverse=True)
        return [(r.item_id, self.items[self.positions[r.item_id]].title, r.value, r.ts) for r in rows
                if r.item_id in self.positions]

    def record(self, row: Interaction) -> None:
        """Fold a new interaction (e.g. a like on the page) into this engine at once."""
        pos = self.positions.get(row.item_id)
        if pos is None:
            return
        from apps.recommender.profiles import preference

        self.raw[row.user_id].append(row)
        history = self.histories.get(row.user_id, History.empty())
        self.histories[row.user_id] = history.add(pos, preference(row.value, row.kind, self.rating_range), row.ts)
