"""Ranking logic on hand-made vectors: seen items, cold items, dislikes, popularity, MMR."""

import numpy as np
import pytest

from apps.recommender.collab import collab_scores, interaction_matrix, item_neighbours
from apps.recommender.evaluation import hide_items, leave_last_out, recall_ndcg, top_k
from apps.recommender.explain import matched_words
from apps.recommender.profiles import History, event_weights, history_profile, preference, recency
from apps.recommender.ranker import (
    Blend,
    Request,
    Signals,
    build_signals,
    mmr,
    rank,
    reserve_new,
    user_request,
)
from apps.recommender.words import WordIndex, stem


def clusters(n_per=5, dim=16, seed=0):
    """Three tight clusters of item vectors (items 0-4, 5-9, 10-14)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:3]
    vectors = np.concatenate([c + 0.1 * rng.standard_normal((n_per, dim)) for c in centres])
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def hist(items, prefs=None):
    items = np.asarray(items, dtype=np.int64)
    prefs = np.ones(len(items), np.float32) if prefs is None else np.asarray(prefs, np.float32)
    return History(items, prefs, np.arange(len(items), dtype=np.float64))


def signals_with_cold():
    """Users read within clusters; item 4 (cluster 0) is never read by anyone: a cold item."""
    vectors = clusters()
    users = [hist([0, 1, 2]), hist([1, 2, 3]), hist([0, 3]), hist([5, 6, 7]), hist([6, 8, 9]),
             hist([10, 11]), hist([11, 12, 13, 14])] + [hist([13])] * 6
    return build_signals(vectors, vectors, users), users


def test_preference_and_recency():
    assert preference(5, "rating") == 1.0 and preference(2.5, "rating") == 0.0
    assert preference(1, "rating") < 0 < preference(3.5, "rating")
    assert preference(1, "rating", (1, 10)) == -1.0
    assert 0 < preference(2, "weight") < 1 and preference(-1, "weight") < 0
    assert np.allclose(recency(3, 1.0), [0.25, 0.5, 1.0])
    assert np.allclose(recency(3, 0), 1.0)


def test_history_add_replaces_the_earlier_event():
    history = hist([0, 1]).add(0, -1.0, 99.0)
    assert list(history.items) == [1, 0] and list(history.prefs) == [1.0, -1.0]


def test_seen_items_are_never_recommended():
    signals, users = signals_with_cold()
    for history in users:
        request = user_request(signals, history, Blend())
        ranked = rank(signals, request, Blend(), k=len(signals))
        assert not set(ranked.items) & set(history.items)
        assert len(ranked.items) == len(signals) - len(set(history.items))


def test_cold_item_is_recommendable_from_text():
    signals, _ = signals_with_cold()
    assert signals.cold.tolist() == [i == 4 for i in range(15)]
    assert signals.neighbours[4].nnz > 0 and signals.neighbours[:, 4].nnz > 0  # reachable both ways
    assert 0 < signals.popularity[4] < signals.popularity[1]
    fan = hist([0, 1, 2, 3])  # has read all of cluster 0 except the cold item
    ranked = rank(signals, user_request(signals, fan, Blend()), Blend(mmr=1.0), k=3)
    assert ranked.items[0] == 4


def test_dislikes_push_the_profile_away():
    vectors = clusters()
    liked_only = history_profile(vectors, hist([0, 5], [1.0, 1.0]))
    with_dislike = history_profile(vectors, hist([0, 5, 6], [1.0, 1.0, -1.0]))
    assert vectors[7] @ with_dislike < vectors[7] @ liked_only
    assert history_profile(vectors, hist([0], [-1.0])) is None  # nothing liked: no profile
    assert event_weights(hist([0, 1], [-1.0, 1.0]), dislike=0.0)[0] == 0.0


def test_no_history_and_no_interest_gives_popular_items():
    signals, _ = signals_with_cold()
    assert rank(signals, Request(), Blend(), k=3).items[0] == 13  # read by the most users
    ranked = rank(signals, Request(), Blend(mmr=1.0), k=3)
    assert list(ranked.items) == list(signals.by_popularity[:3])


def test_typed_interest_alone_ranks_by_its_similarity():
    signals, _ = signals_with_cold()
    interest = signals.base[7]
    ranked = rank(signals, Request(interest=interest), Blend(mmr=1.0, popularity=0.0), k=5)
    assert set(ranked.items) == set(range(5, 10))


def test_mmr_prefers_a_diverse_list():
    vectors = np.array([[1, 0], [1, 0.01], [0, 1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pool, relevance = np.arange(3), np.array([1.0, 0.99, 0.5])
    assert list(mmr(pool, relevance, vectors, 2, 1.0)) == [0, 1]
    assert list(mmr(pool, relevance, vectors, 2, 0.5)) == [0, 2]


def test_item_knn_and_collab_scores():
    users = [hist([0, 1]), hist([0, 1]), hist([1, 2]), hist([3])]
    matrix = interaction_matrix(users, 4)
    neighbours = item_neighbours(matrix, k=2, shrink=0.0)
    assert neighbours[0, 1] > neighbours[1, 2] > 0 and neighbours[0, 0] == 0 and neighbours[3].nnz == 0
    scores = collab_scores(neighbours, np.array([0]), np.array([1.0], np.float32))
    assert scores.argmax() == 1


def test_signals_accept_an_empty_history_set():
    vectors = clusters()
    signals = Signals(vectors, vectors, item_neighbours(interaction_matrix([], 15)), np.zeros(15, np.float32))
    assert len(rank(signals, Request(), Blend(), k=4).items) == 4


def test_leave_last_out_and_metrics():
    history = History(np.array([0, 1, 2, 3]), np.array([0.6, 1.0, 0.8, -0.4], np.float32), np.arange(4.0))
    train, test = leave_last_out({"u": history})
    assert list(train["u"].items) == [0, 1] and test == {"u": {2}}
    kept, targets = hide_items({"u": history}, np.array([1]))
    assert list(kept["u"].items) == [0, 2, 3] and targets == {"u": {1}}
    assert recall_ndcg(np.array([5, 2]), {2}) == (1.0, 1 / np.log2(3))
    assert list(top_k(np.array([0.1, 0.9, 0.5, 0.7]), np.array([1]), 2)) == [3, 2]
    assert list(top_k(np.array([0.1, 0.9, 0.5, 0.7]), np.array([], int), 2, allowed=np.array([0, 2]))) == [2, 0]


def test_matched_words_use_a_light_stemmer():
    assert stem("heroines") == stem("heroine") and stem("mysteries") == stem("mystery") == "mystery"
    assert stem("baking") == stem("baked") == stem("bake") and stem("glasses") == "glass"
    text = "A space opera with strong heroines, starships and a slow-burn romance."
    assert matched_words("slow-burn space opera with a strong heroine", text) == [
        "slow", "burn", "space", "opera", "strong", "heroine"]
    assert matched_words("cosy cookery", text) == []


def test_one_place_is_kept_for_a_new_item():
    top = np.array([0, 1, 2, 3, 4])  # candidates, best first (the best 3k)
    cold = np.zeros(8, bool)
    cold[3] = True
    assert list(reserve_new(top, np.array([0, 1, 2]), cold, 1, k=3)) == [0, 1, 3]
    assert list(reserve_new(top, np.array([0, 1]), cold, 1, k=3)) == [0, 1, 3]  # room left: appended
    assert list(reserve_new(top, np.array([0, 3, 1]), cold, 1, k=3)) == [0, 3, 1]  # already has one
    cold[:] = False
    cold[6] = True  # not among the best candidates: not worth a place
    assert list(reserve_new(top, np.array([0, 1, 2]), cold, 1, k=3)) == [0, 1, 2]


def test_word_index_weights_rare_words():
    texts = ["a space opera with a heroine", "a strong heroine in a cosy village", "space station engineers"]
    index = WordIndex(texts)
    scores = index.scores("space opera heroine")
    assert scores.argmax() == 0 and scores[0] == pytest.approx(1.0) and 0 < scores[1] < scores[2] + 0.5
    assert index.scores("the and of") is None
