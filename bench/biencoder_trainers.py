"""Bi-encoder trainers head to head: sentence-transformers (shared.biencoder) vs the previous loop.

    .venv/bin/python bench/biencoder_trainers.py [--pairs 1000] [--rounds 2] [--threads 2]

Both train the same LoRA (r=8 on query/key/value/attention-output) with the same settings on the
same MovieLens next-item pairs as bench/recommender.py (a random subsample), alternating
st, loop, st, loop ... so that machine load hits both alike. Reports wall and CPU seconds per
run (CPU seconds of this process: less sensitive to other jobs on a shared machine than wall
time), steps, and dev Recall@10. Writes bench/results/biencoder_trainers.md and .json.
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
from recommender import DATA, RESULTS, load, lora_pairs, trainer  # bench/ sibling module


def one_run(kind: str, pairs, dev, args) -> dict:
    from shared.settings import LoraSettings

    settings = LoraSettings(lr=5e-4, epochs=1, batch_size=32, max_length=args.max_length, evals_per_epoch=1)
    wall, cpu = time.perf_counter(), time.process_time()
    trained = trainer(kind)(pairs, settings, dev=dev)
    row = {"trainer": kind, "wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(time.process_time() - cpu, 1),
           "steps": trained.meta.get("steps", len([h for h in trained.history if "loss" in h])),
           "dev_recall_at_10": trained.meta["metrics"]["dev_recall_at_10"],
           "dev_recall_at_10_base": trained.meta["metrics"]["dev_recall_at_10_base"],
           "load_avg_1min": round(os.getloadavg()[0], 2)}
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=48)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    os.environ["LORASUITE_HOME"] = tempfile.mkdtemp(prefix="lorasuite-bench-")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    items, texts, hists, _ = load(DATA)
    from apps.recommender.evaluation import leave_last_out

    train, _ = leave_last_out(hists)
    fit, val = leave_last_out(train)
    cold = set(np.sort(np.random.default_rng(42).choice(len(items), len(items) // 10, replace=False)).tolist())
    pairs, dev, available = lora_pairs(items, texts, fit, val, cold, args.pairs)
    rows = [one_run(kind, pairs, dev, args) for _ in range(args.rounds) for kind in ("st", "loop")]
    report = {"command": " ".join([".venv/bin/python bench/biencoder_trainers.py", *(argv or sys.argv[1:])]),
              "pairs": len(pairs), "pairs_available": available, "dev_pairs": len(dev),
              "torch_threads": torch.get_num_threads(), "rows": rows}
    write(report, args.out)
    return 0


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "biencoder_trainers.json").write_text(json.dumps(report, indent=2))
    mean = {k: {m: float(np.mean([r[m] for r in report["rows"] if r["trainer"] == k])) for m in ("wall_s", "cpu_s")}
            for k in ("st", "loop")}
    lines = ["# Bi-encoder trainers: sentence-transformers vs the previous loop", "",
             f"Command: `{report['command']}`. {report['pairs']} of {report['pairs_available']} MovieLens next-item "
             f"pairs, 1 epoch, batch 32, lr 5e-4, max_length 48, {report['dev_pairs']} dev pairs; "
             f"{report['torch_threads']} torch threads on the shared 2-core machine.", "",
             "| trainer | wall s | CPU s | steps | dev Recall@10 (base) | load avg |", "|---|---|---|---|---|---|",
             *[f"| {r['trainer']} | {r['wall_s']} | {r['cpu_s']} | {r['steps']} | {r['dev_recall_at_10']:.3f} "
               f"({r['dev_recall_at_10_base']:.3f}) | {r['load_avg_1min']} |" for r in report["rows"]], "",
             f"Mean wall s: st {mean['st']['wall_s']:.1f}, loop {mean['loop']['wall_s']:.1f}; mean CPU s: "
             f"st {mean['st']['cpu_s']:.1f}, loop {mean['loop']['cpu_s']:.1f}.", ""]
    (out / "biencoder_trainers.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
