"""Recommender benchmark on MovieLens ml-latest-small: baselines vs the LoRA hybrid, cold items, latency.

    .venv/bin/python bench/recommender.py [--pairs 1000] [--epochs 1] [--max-length 32] [--lr 1e-3]

Protocol (apps/recommender/evaluation.py): time-ordered leave-last-out. Each user's last
positive rating (>= 4 stars) is the test item, the history before it is the input (later events
are dropped); full ranking over all ~9.7k movies minus the user's seen ones; Recall@10 and
NDCG@10. Every model's knobs (and the hybrid's weights) are chosen on a validation split made
the same way one step earlier (each user's previous positive), then evaluated once on test.
Cold start: 10% of the movies (seeded) are hidden from all training (signals and LoRA pairs);
for each user who rated a hidden movie >= 4, the models rank (a) the hidden movies only and
(b) the whole catalogue, from the user's other ratings. Latency: one for-user request (profile,
collaborative scores, faiss candidates, rerank, MMR) over 10k items with 2 torch/faiss threads.

CPU budget: the LoRA bi-encoder trains on a random subsample of ``--pairs`` next-item pairs for
``--epochs`` epoch(s) at ``--max-length`` tokens, so that the whole run stays within minutes
on 2 shared cores. Writes bench/results/recommender.md and .json. Reads ../shared/data only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "recommender"
RESULTS = Path(__file__).resolve().parent / "results"
APP, ADAPTER = "recommender", "bench-movielens"
FINAL = "hybrid (final: MMR 0.8, 1 new-item slot)"


def load(data: Path, max_items: int | None = None):
    from apps.recommender.catalog import Interaction, Item, embed_text
    from apps.recommender.movielens import movie_items
    from apps.recommender.profiles import histories
    from shared.datasets import read_csv_rows

    items = [Item(r["item_id"], r["title"], r["text"], {}) for r in movie_items(data)][:max_items]
    rows = read_csv_rows(data / "ratings.csv", ["userId", "movieId", "rating", "timestamp"])
    inter = [Interaction(r["userId"], r["movieId"], float(r["rating"]), "rating", float(r["timestamp"])) for _, r in rows]
    positions = {item.item_id: i for i, item in enumerate(items)}
    hists = histories(inter, positions)
    return items, [embed_text(i) for i in items], hists, sum(len(h) for h in hists.values())


class Clock:
    """Named wall-clock phases for the report."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.start = time.perf_counter()

    def __call__(self, name: str, since: float) -> None:
        self.phases[name] = round(time.perf_counter() - since, 1)
        print(f"[{time.perf_counter() - self.start:7.1f}s] {name}: {self.phases[name]}s", flush=True)


def lora_pairs(items, texts, fit, val, cold: set[int], n_pairs: int):
    """(train pairs, dev pairs): recent liked titles -> next liked item; cold items never appear."""
    from apps.recommender.evaluation import LIKED
    from apps.recommender.profiles import history_query

    def liked(history):
        return [int(i) for i, p in zip(history.items, history.prefs, strict=True) if p >= LIKED and int(i) not in cold]

    pairs = []
    for history in fit.values():
        seq = liked(history)
        pairs += [(history_query([items[j].title for j in seq[:t]]), texts[seq[t]]) for t in range(1, len(seq))]
    dev = [(history_query([items[j].title for j in liked(fit[u])]), texts[next(iter(t))])
           for u, t in val.items() if next(iter(t)) not in cold and liked(fit[u])]
    rng = random.Random(42)
    return rng.sample(pairs, min(n_pairs, len(pairs))), rng.sample(dev, min(200, len(dev))), len(pairs)


def train_lora(pairs, dev, args, clock):
    from shared import adapters
    from shared.biencoder import train_biencoder
    from shared.settings import LoraSettings

    started = time.perf_counter()
    settings = LoraSettings(lr=args.lr, epochs=args.epochs, batch_size=32, max_length=args.max_length,
                            evals_per_epoch=1)
    trained = train_biencoder(pairs, settings, dev=dev)
    adapters.save(APP, ADAPTER, trained)
    clock("lora_train", started)
    return trained.meta


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
    chosen["hybrid"] = tune(m, val, grid(content=[0.25, 0.5, 1.0], popularity=[0.0, 0.25], half_life=[3.0]),
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
    total, cached = [], []
    for i, user in enumerate(users):
        h = models.histories[user]
        started = time.perf_counter()
        query = encode_query(h) if blend.query_share > 0 else None
        encoded = time.perf_counter()
        profile = mix(history_profile(big.vectors, h, blend.half_life, blend.dislike), query, blend.query_share)
        rank(big, user_request(big, h, blend, profile), blend, 10)
        if i >= 10:  # warm-up excluded
            done = time.perf_counter()
            total.append((done - started) * 1000)
            cached.append((done - encoded) * 1000)
    return {"items": n_items, "requests": len(total), "p50_ms": round(float(np.percentile(total, 50)), 1),
            "p95_ms": round(float(np.percentile(total, 95)), 1),
            "p95_ms_query_cached": round(float(np.percentile(cached, 95)), 1),
            "encodes_query": blend.query_share > 0, "load_avg_1min": round(os.getloadavg()[0], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--pairs", type=int, default=1000, help="LoRA training pairs (random subsample)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--max-items", type=int, help="quick pipeline check on the first N movies (not for results)")
    args = parser.parse_args(argv)
    if not (args.data / "ratings.csv").exists():
        print(f"MovieLens not found at {args.data}", file=sys.stderr)
        return 2
    os.environ["LORASUITE_HOME"] = tempfile.mkdtemp(prefix="lorasuite-bench-")
    import logging

    logging.basicConfig(level=logging.WARNING)
    from apps.recommender.evaluation import hide_items, leave_last_out
    from apps.recommender.profiles import history_query
    from shared.backbone import get_backbone

    clock, started = Clock(), time.perf_counter()
    items, texts, hists, n_ratings = load(args.data, args.max_items)
    train, test = leave_last_out(hists)
    fit, val = leave_last_out(train)
    cold = np.sort(np.random.default_rng(42).choice(len(items), len(items) // 10, replace=False))
    clock("load_split", started)

    started = time.perf_counter()
    backbone = get_backbone()
    base = backbone.encode(texts, max_length=args.max_length)
    clock("encode_frozen", started)
    pairs, dev, available = lora_pairs(items, texts, fit, val, set(cold.tolist()), args.pairs)
    meta = train_lora(pairs, dev, args, clock)
    started = time.perf_counter()
    key = backbone.load(APP, ADAPTER)
    tuned = backbone.encode(texts, adapter=key)
    clock("encode_tuned", started)

    def encode_query(histories: dict) -> dict:
        """Batch-encode every user's recent-liked-titles query with the adapter."""
        texts = {u: history_query([items[j].title for j in h.liked()]) for u, h in histories.items()}
        users = [u for u, t in texts.items() if t]
        return dict(zip(users, backbone.encode([texts[u] for u in users], adapter=key), strict=True))

    started = time.perf_counter()
    chosen = choose(Models(fit, base, tuned, encode_query), val)
    clock("tune_on_validation", started)
    started = time.perf_counter()
    test_models = Models(train, base, tuned, encode_query)
    rows = test_rows(test_models, test, chosen)
    clock("test", started)
    started = time.perf_counter()
    kept, cold_targets = hide_items(hists, cold)
    cold_result = cold_rows(Models(kept, base, tuned, encode_query), cold_targets, chosen, cold)
    clock("cold_start", started)
    started = time.perf_counter()
    lat = latency(test_models, chosen, lambda h: backbone.encode(
        [history_query([items[j].title for j in h.liked()])], adapter=key)[0])
    clock("latency", started)
    report = {"command": " ".join([".venv/bin/python bench/recommender.py", *(argv if argv is not None else sys.argv[1:])]),
              "data": {"items": len(items), "users": len(hists), "ratings": n_ratings, "test_users": len(test),
                       "val_users": len(val), "cold_items": len(cold), "cold_users": len(cold_targets)},
              "lora": {"pairs_used": len(pairs), "pairs_available": available, "dev_pairs": len(dev),
                       "epochs": args.epochs, "max_length": args.max_length, "lr": args.lr,
                       "metrics": meta.get("metrics"), "train_seconds": meta.get("train_seconds")},
              "chosen": chosen, "test": rows, "cold": cold_result, "latency": lat, "seconds": clock.phases,
              "total_seconds": round(time.perf_counter() - clock.start, 1)}
    write(report, args.out)
    return 0


def _fmt(row: dict) -> str:
    return f"{row['recall@10']:.4f} | {row['ndcg@10']:.4f} ± {1.96 * row['ndcg_se']:.4f}"


def _cell(row: dict, part: str) -> str:
    return f"{row[part]['recall@10']:.4f} | {row[part]['ndcg@10']:.4f}" if part in row else "- | -"


def write(report: dict, out: Path) -> None:
    """bench/results/recommender.md (+ .json)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "recommender.json").write_text(json.dumps(report, indent=2, default=str))
    d, lora, lat = report["data"], report["lora"], report["latency"]
    lines = [
        "# Recommender benchmark (MovieLens ml-latest-small)", "",
        f"Command: `{report['command']}` (total {report['total_seconds']}s on 2 shared CPU cores; "
        f"phases: {report['seconds']}).", "",
        f"{d['items']} movies, {d['users']} users, {d['ratings']} ratings. Time-ordered leave-last-out: "
        f"{d['test_users']} test users (last rating >= 4), full ranking over all unseen movies. Knobs and hybrid "
        f"weights chosen on the previous positive ({d['val_users']} validation users).", "",
        "## Accuracy (test)", "", "| model | Recall@10 | NDCG@10 (± 95% CI) |", "|---|---|---|",
        *[f"| {name} | {_fmt(row)} |" for name, row in report["test"].items()], "",
        f"Chosen on validation: `{json.dumps(report['chosen'])}`", "",
        "## Cold start", "",
        f"{d['cold_items']} movies (10%, seed 42) hidden from all training (signals and LoRA pairs); "
        f"{d['cold_users']} users rated at least one of them >= 4. (a) rank the hidden movies only; "
        "(b) rank the whole catalogue. Models without text give hidden movies no signal (ties in random order).",
        "", "| model | (a) Recall@10 | (a) NDCG@10 | (b) Recall@10 | (b) NDCG@10 |", "|---|---|---|---|---|",
        *[f"| {name} | {_cell(r, 'cold only')} | {_cell(r, 'full catalogue')} |" for name, r in report["cold"].items()],
        "",
        "## LoRA bi-encoder", "",
        f"{lora['pairs_used']} of {lora['pairs_available']} next-item pairs (random subsample), {lora['epochs']} "
        f"epoch(s), max_length {lora['max_length']}, lr {lora['lr']}; {lora['train_seconds']}s. Dev Recall@10 "
        f"(among {lora['dev_pairs']} dev positives): {lora['metrics']}.", "",
        "## Latency", "",
        f"One for-user request over {lat['items']} items (2 cores): p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms "
        f"({lat['requests']} requests; encodes the history query with the adapter: {lat['encodes_query']}); "
        f"p95 {lat['p95_ms_query_cached']} ms when the user's query vector is cached (the engine caches it until "
        f"the history changes). 1-minute load average during the run: {lat['load_avg_1min']} on 2 cores "
        "(the machine is shared).", ""]
    (out / "recommender.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
