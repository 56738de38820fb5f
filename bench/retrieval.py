"""Retrieval quality of the help-centre index: hybrid vs dense vs BM25 alone, on BANKING77 questions.

    .venv/bin/python bench/retrieval.py [--limit 0] [--threads 1] [--out bench/results/retrieval]

Every article in data/support/kb carries the BANKING77 intent it answers (front matter), so each
question of the BANKING77 dev split (bench/splits.py, n=2001) has a known right article. The
help centre is ingested with the base MiniLM into a temp home; each question is searched through
the public ``HybridIndex.search`` with a deep ``k`` so that the dense and BM25 rankings can be
read back from each hit's ``dense_rank`` / ``bm25_rank`` (the fusion depth is 50 per side).
A hit is right when its passage belongs to an article with the question's intent. Reports hit@1,
hit@5 and MRR@10 per ranking, and the search time alone (question already encoded).
Writes <out>.md and <out>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEPTH = 50


def rankings(hits: list) -> dict[str, list[str]]:
    """Intents in rank order for the fused list and the dense / BM25 lists it was made from."""
    dense = sorted((h for h in hits if h.dense_rank), key=lambda h: h.dense_rank)
    lexical = sorted((h for h in hits if h.bm25_rank), key=lambda h: h.bm25_rank)
    return {"hybrid": [h.chunk.intent for h in hits], "dense": [h.chunk.intent for h in dense],
            "bm25": [h.chunk.intent for h in lexical]}


def scores(ranked: list[str], label: str) -> tuple[float, float, float]:
    """(hit@1, hit@5, reciprocal rank within 10) of the first passage with the right intent."""
    rank = next((r for r, intent in enumerate(ranked[:10], 1) if intent == label), 0)
    return float(rank == 1), float(0 < rank <= 5), 1.0 / rank if rank else 0.0


def run(args: argparse.Namespace) -> dict:
    import torch
    from splits import load_split

    from apps.support.ingest import ingest
    from apps.support.search import HybridIndex
    from shared.backbone import get_backbone

    if args.threads:
        torch.set_num_threads(args.threads)
    _, dev = load_split("banking77")
    texts, labels = dev["text"].tolist()[: args.limit or None], dev["label"].tolist()[: args.limit or None]
    report = ingest([ROOT / "data/support/kb"])
    index = HybridIndex.load()
    started = time.perf_counter()
    index.prepare()
    prepare_s = time.perf_counter() - started
    vectors = get_backbone().encode(texts)
    totals = {name: np.zeros(3) for name in ("hybrid", "dense", "bm25")}
    times = []
    for text, label, vector in zip(texts, labels, vectors, strict=True):
        started = time.perf_counter()
        hits = index.search(text, vector, k=2 * DEPTH, depth=DEPTH)
        times.append(time.perf_counter() - started)
        for name, ranked in rankings(hits).items():
            totals[name] += scores(ranked, label)
    n = len(texts)
    quality = {name: dict(zip(("hit_at_1", "hit_at_5", "mrr_at_10"), (t / n).round(4).tolist(), strict=True))
               for name, t in totals.items()}
    ms = np.asarray(times) * 1000
    return {"n": n, "passages": report.chunks, "quality": quality, "prepare_ms": round(prepare_s * 1000, 1),
            "search_p50_ms": round(float(np.percentile(ms, 50)), 2),
            "search_p95_ms": round(float(np.percentile(ms, 95)), 2)}


def markdown(r: dict, command: str) -> str:
    lines = ["# Help-centre retrieval benchmark", "", f"Command: `{command}`", "",
             f"{r['n']} BANKING77 dev questions, {r['passages']} passages; measured {r['when']}, "
             f"load average {r['load_average']} on {os.cpu_count()} cores.", "",
             "| ranking | hit@1 | hit@5 | MRR@10 |", "|---|---|---|---|"]
    for name, q in r["quality"].items():
        lines.append(f"| {name} | {q['hit_at_1']:.4f} | {q['hit_at_5']:.4f} | {q['mrr_at_10']:.4f} |")
    lines += ["", f"Search alone (question encoded): p50 {r['search_p50_ms']} ms, p95 {r['search_p95_ms']} ms; "
              f"BM25 + faiss preparation after load {r['prepare_ms']} ms.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="use only the first N dev questions")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch default)")
    parser.add_argument("--out", default=str(ROOT / "bench/results/retrieval"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["LORASUITE_HOME"] = home
        result = run(args)
    result.update(when=time.strftime("%Y-%m-%d %H:%M"), load_average=[round(x, 1) for x in os.getloadavg()])
    command = " ".join(["python bench/retrieval.py", *sys.argv[1:]])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(dict(result, command=command), indent=2))
    text = markdown(result, command)
    out.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
