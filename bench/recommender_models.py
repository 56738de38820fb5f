"""The models bench/recommender.py compares: how each scores, how its knobs are chosen, latency.

Every model is a function ``(user, history) -> ranked positions`` over one set of histories
(``Models`` builds the signals from them): most popular, item-KNN, implicit's ALS, content
profiles over frozen or LoRA item vectors, and the production hybrid (apps.recommender.ranker).
``choose`` picks every model's knobs on a validation split by NDCG@10; ``test_rows`` and
``cold_rows`` evaluate them once.
"""

from __future__ import annotations

import os
import time

import numpy as np

FINAL = "hybrid (final: MMR 0.8, 1 new-item slot)"


def als_scores(matrix, users, factors, reg, alpha=1.0):
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(factors=factors, regularization=reg, alpha=alpha, iterations=15, random_state=0)
    model.fit(matrix, show_progress=False)
    rows = {u: i for i, u in enumerate(users)}
    return lambda u, h: model.item_factors @ model.user_factors[rows[u]]


class Models:
    """Score functions of every model over one set of histories (its signals built from them)."""

    def __init__(self, histories, base, tuned, encode_query):
        from apps.recommender.collab import interaction_matrix
        from apps.recommender.ranker import build_signals

        self.histories, self.base, self.tuned = histories, base, tuned
        self.users = list(histories)
        self.matrix = interaction_matrix(histories.values(), len(base)).tocsr()
        self.signals = build_signals(tuned, base, list(histories.values()))
        self.queries = encode_query(histories)  # user -> adapter encoding of the recent liked titles
        self.noise = np.random.default_rng(0).random(len(base)) * 1e-6  # random order among ties

    def popular(self):
        counts = np.asarray(self.matrix.sum(axis=0)).ravel().astype(np.float64)
        return lambda u, h: counts

    def item_knn(self, k):
        from apps.recommender.collab import collab_scores, item_neighbours

        neighbours = item_neighbours(self.matrix, k)
        return lambda u, h: collab_scores(neighbours, h.items, np.ones(len(h), np.float32))

    def als(self, factors, reg):
        return als_scores(self.matrix, self.users, factors, reg)

    def content(self, vectors, half_life, share=0.0):
        from apps.recommender.profiles import blend, history_profile

        def score(u, h):
            profile = history_profile(vectors, h, half_life, 1.0)
            if share > 0:
                profile = blend(profile, self.queries.get(u), share)
            return vectors @ profile if profile is not None else np.zeros(len(vectors))
        return score

    def hybrid(self, blend, allowed=None):
        from apps.recommender.profiles import blend as mix
        from apps.recommender.profiles import history_profile
        from apps.recommender.ranker import rank, user_request

        def recommend(u, h):
            profile = history_profile(self.tuned, h, blend.half_life, blend.dislike)
            if blend.query_share > 0:
                profile = mix(profile, self.queries.get(u), blend.query_share)
            request = user_request(self.signals, h, blend, profile)
            if allowed is not None:
                request.exclude = np.union1d(request.exclude, np.setdiff1d(np.arange(len(self.base)), allowed))
            return rank(self.signals, request, blend, 10).items
        return recommend

    def ranked(self, score, allowed=None):
        from apps.recommender.evaluation import top_k

        return lambda u, h: top_k(score(u, h) + self.noise, h.items, 10, allowed)


def run_eval(models: Models, targets, recommend) -> dict:
    from apps.recommender.evaluation import evaluate

    return evaluate(recommend, models.histories, targets)


def tune(models: Models, val, grid: list[dict], make) -> tuple[dict, dict]:
    """Best knobs on validation by NDCG@10: (params, metrics)."""
    best = None
    for params in grid:
        metrics = run_eval(models, val, make(**params))
        print(f"    val {params}: ndcg@10 {metrics['ndcg@10']:.4f}", flush=True)
        if best is None or metrics["ndcg@10"] > best[1]["ndcg@10"]:
            best = (params, metrics)
    return best


def grid(**axes) -> list[dict]:
    import itertools

    return [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]


def choose(fit_models: Models, val) -> dict:
    """Every model's knobs, chosen on the validation split."""
    from apps.recommender.ranker import Blend

    m = fit_models
    chosen = {
        "item-KNN": tune(m, val, grid(k=[50, 100, 200]), lambda k: m.ranked(m.item_knn(k)))[0],
        "ALS (implicit)": tune(m, val, grid(factors=[64, 128], reg=[0.01, 0.1]),
                               lambda factors, reg: m.ranked(m.als(factors, reg)))[0],
        "content, frozen MiniLM": tune(m, val, grid(half_life=[0, 3, 10]),
                                       lambda half_life: m.ranked(m.content(m.base, half_life)))[0],
        "content, LoRA bi-encoder": tune(m, val, grid(half_life=[3], share=[0.0, 0.5, 1.0]),
                                         lambda half_life, share: m.ranked(m.content(m.tuned, half_life, share)))[0],
    }
    share = chosen["content, LoRA bi-encoder"]["share"]
    chosen["hybrid"] = tune(m, val, grid(content=[0.25, 0.5, 1.0, 2.0], popularity=[0.0, 0.25], half_life=[3.0]),
                            lambda **w: m.hybrid(Blend(mmr=1.0, new_slots=0, query_share=share, **w)))[0]
    chosen["hybrid"]["query_share"] = share
    return chosen


def test_rows(models: Models, test, chosen: dict) -> dict[str, dict]:
    """Each model once on the test split (hybrid: tuned weights; with and without MMR; ablations)."""
    from apps.recommender.ranker import Blend

    m, weights = models, chosen["hybrid"]
    runs = {
        "most popular": m.ranked(m.popular()),
        "item-KNN": m.ranked(m.item_knn(**chosen["item-KNN"])),
        "ALS (implicit)": m.ranked(m.als(**chosen["ALS (implicit)"])),
        "content, frozen MiniLM": m.ranked(m.content(m.base, **chosen["content, frozen MiniLM"])),
        "content, LoRA bi-encoder": m.ranked(m.content(m.tuned, **chosen["content, LoRA bi-encoder"])),
        "hybrid without text (ablation)": m.hybrid(Blend(mmr=1.0, new_slots=0, **dict(weights, content=0.0))),
        "hybrid, no MMR, no new-item slot": m.hybrid(Blend(mmr=1.0, new_slots=0, **weights)),
        FINAL: m.hybrid(Blend(mmr=0.8, new_slots=1, **weights)),
    }
    rows = {}
    for name, recommend in runs.items():
        rows[name] = run_eval(m, test, recommend)
        print(f"  test {name}: {rows[name]}", flush=True)
    return rows


def cold_rows(models: Models, targets, chosen: dict, cold: np.ndarray) -> dict[str, dict]:
    """Ranking the hidden items (a) among themselves (b) in the whole catalogue."""
    from apps.recommender.ranker import Blend

    m, weights = models, chosen["hybrid"]
    scores = {
        "most popular": m.popular(),
        "item-KNN": m.item_knn(**chosen["item-KNN"]),
        "ALS (implicit)": m.als(**chosen["ALS (implicit)"]),
        "content, frozen MiniLM": m.content(m.base, **chosen["content, frozen MiniLM"]),
        "content, LoRA bi-encoder": m.content(m.tuned, **chosen["content, LoRA bi-encoder"]),
    }
    rows = {}
    for name, score in scores.items():
        rows[name] = {"cold only": run_eval(m, targets, m.ranked(score, cold)),
                      "full catalogue": run_eval(m, targets, m.ranked(score))}
    rows["hybrid, no new-item slot"] = {"full catalogue": run_eval(m, targets, m.hybrid(Blend(mmr=0.8, new_slots=0,
                                                                                            **weights)))}
    blend = Blend(mmr=0.8, new_slots=1, **weights)
    rows[FINAL] = {"cold only": run_eval(m, targets, m.hybrid(blend, cold)),
                                        "full catalogue": run_eval(m, targets, m.hybrid(blend))}
    for name, row in rows.items():
        print(f"  cold {name}: {row}", flush=True)
    return rows


def latency(models: Models, chosen: dict, encode_query, n_items: int = 10_000, requests: int = 300) -> dict:
    """p50/p95 ms of one full for-user request over ``n_items`` items (2 threads)."""
    import faiss
    import torch
    from scipy import sparse

    from apps.recommender.profiles import blend as mix
    from apps.recommender.profiles import history_profile
    from apps.recommender.ranker import Blend, Signals, rank, user_request

    torch.set_num_threads(2)  # the machine's 2 cores (ranking itself runs single-threaded: ranker.py)
    faiss.omp_set_num_threads(2)
    s, rng = models.signals, np.random.default_rng(0)
    extra = n_items - len(s)
    pick = rng.integers(0, len(s), extra)

    def grow(v):
        more = v[pick] + 0.05 * rng.standard_normal((extra, v.shape[1])).astype(np.float32)
        return np.concatenate([v, more / np.linalg.norm(more, axis=1, keepdims=True)])

    coo = s.neighbours.tocoo()
    neighbours = sparse.csr_matrix((coo.data, (coo.row, coo.col)), shape=(n_items, n_items))
    big = Signals(grow(s.vectors), grow(s.base), neighbours, np.concatenate([s.popularity, s.popularity[pick]]))
    blend = Blend(mmr=0.8, new_slots=1, **chosen["hybrid"])
    users = rng.choice(models.users, requests)
    total, encode = [], []
    for i, user in enumerate(users):
        h = models.histories[user]
        started = time.perf_counter()
        profile = history_profile(big.vectors, h, blend.half_life, blend.dislike)
        if blend.query_share > 0:
            profile = mix(profile, encode_query(h), blend.query_share)
        rank(big, user_request(big, h, blend, profile), blend, 10)
        done = time.perf_counter()
        encode_query(h)  # what the optional query path would add (query_share > 0)
        if i >= 10:  # warm-up excluded
            total.append((done - started) * 1000)
            encode.append((time.perf_counter() - done) * 1000)
    return {"items": n_items, "requests": len(total), "p50_ms": round(float(np.percentile(total, 50)), 1),
            "p95_ms": round(float(np.percentile(total, 95)), 1), "encodes_query": blend.query_share > 0,
            "p95_ms_query_encode": round(float(np.percentile(encode, 95)), 1),
            "load_avg_1min": round(os.getloadavg()[0], 1)}
