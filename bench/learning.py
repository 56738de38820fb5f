"""Benchmark of the learning loop: a replayed domain shift, labelled in batches, retrained each time.

    nice -n 10 .venv/bin/python bench/learning.py [--rounds 4] [--batch 100] [--out bench/results/learning]
    nice -n 10 .venv/bin/python bench/learning.py --shuffled-only      (just the shuffled-labels check)
    nice -n 10 .venv/bin/python bench/learning.py --ablation '{"share": 0.5, "distill": 0}' [...]

The shipped ``sentiment/finance`` adapter (Twitter financial news) meets PhraseBank sentences
(financial news, a domain it never saw; read from ../shared/data/finance, never copied here).
Each round 100 more sentences of phrasebank_train.csv get their gold label (as an analyst's
relabel), then ``lorasuite retrain sentiment`` runs (the same code: gate, warm-start challenger,
paired comparison, promotion rule) in a fresh ``$LORASUITE_HOME`` per arm. After each round the
serving champion is scored on PhraseBank dev (485 sentences, new domain) and on the Twitter dev
split (1,909 headlines, old domain; bench/splits.py). Two arms: the analyst labels the 100
sentences the current champion is least sure about (smallest margin: the labelling queue) vs
100 random ones. A third run gives 800 sentences with shuffled labels in a fresh home: the gate
must refuse them and the champion's predictions must not change. Writes <out>.md and <out>.json.
``--ablation PLAN...`` instead trains one challenger per mix plan (``shared.continual.MixPlan``
fields, plus ``lr`` and ``head_lr``) on 800 random PhraseBank sentences (seed 0; the fixed 20% held back) and
prints PhraseBank dev / Twitter dev / held-back scores: how the replay share and distillation
were chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REF = "sentiment/finance"


def fresh_context(home: Path, threads: int):
    """An AppContext on a new home (no demo feeds), with the process's caches reset."""
    from apps.config import validate
    from apps.context import AppContext
    from apps.spec import discover
    from shared.storage import close_shared_databases

    close_shared_databases()
    os.environ["LORASUITE_HOME"] = str(home)
    specs = discover()
    config = validate({"sentiment": {"demo_feeds": False}, "learning": {"threads": threads}}, None, specs)
    return AppContext.create(specs=specs, config=config)


def score(ctx, sets: dict) -> dict:
    """Accuracy and macro-F1 of the serving champion on each (texts, gold) set."""
    from sklearn.metrics import accuracy_score, f1_score

    out = {}
    for name, (texts, gold) in sets.items():
        labels, probs = ctx.backbone.classify_probs(texts, REF)
        predicted = [labels[i] for i in probs.argmax(1)]
        out[name] = {"accuracy": round(accuracy_score(gold, predicted), 4),
                     "macro_f1": round(f1_score(gold, predicted, average="macro"), 4)}
    return out


def pick(ctx, pool: list[tuple[str, str]], n: int, order: str, rng: random.Random) -> list[tuple[str, str]]:
    """The next ``n`` rows to label: least certain first (the labelling queue's order) or random."""
    if order == "random":
        return rng.sample(pool, min(n, len(pool)))
    import numpy as np

    _, probs = ctx.backbone.classify_probs([t for t, _ in pool], REF)
    ranked = np.sort(probs, axis=1)
    margins = ranked[:, -1] - ranked[:, -2]
    return [pool[i] for i in np.argsort(margins, kind="stable")[:n]]


def run_arm(order: str, rounds: int, batch: int, data: dict, threads: int) -> list[dict]:
    from apps.learning import retrain
    from shared import labels as label_store
    from shared.retrain import public

    ctx = fresh_context(Path(tempfile.mkdtemp(prefix=f"bench-learning-{order}-")), threads)
    rng, pool = random.Random(7), list(data["pool"])
    rows = [{"round": 0, "labels": 0, "champion": 1, **score(ctx, data["eval"])}]
    print(json.dumps({"arm": order, **rows[-1]}), flush=True)
    for number in range(1, rounds + 1):
        chosen = pick(ctx, pool, batch, order, rng)
        chosen_set = set(chosen)
        pool = [row for row in pool if row not in chosen_set]
        label_store.record(ctx.db, "sentiment", "sentiment", chosen, source="bench", who="analyst")
        started = time.perf_counter()
        report = retrain(ctx, "sentiment", "finance")
        seconds = round(time.perf_counter() - started)
        serving = report["challenger"] if report["promoted"] else report["champion"]
        twitter = {"accuracy": serving["old_dev_accuracy"], "macro_f1": serving["old_dev"]}  # the old dev set IS it
        rows.append({"round": number, "labels": number * batch, "champion": serving["version"],
                     "promoted": report["promoted"], "report": public(report), "retrain_seconds": seconds,
                     **score(ctx, {"phrasebank_dev": data["eval"]["phrasebank_dev"]}), "twitter_dev": twitter})
        print(json.dumps({"arm": order, **rows[-1]}), flush=True)
    return rows


def run_shuffled(data: dict, n: int, threads: int) -> dict:
    """``n`` PhraseBank sentences with shuffled labels: never promoted, predictions unchanged."""
    from apps.learning import retrain
    from shared import labels as label_store
    from shared.retrain import public

    ctx = fresh_context(Path(tempfile.mkdtemp(prefix="bench-learning-shuffled-")), threads)
    rng = random.Random(11)
    rows = rng.sample(data["pool"], n)
    shuffled = [y for _, y in rows]
    rng.shuffle(shuffled)
    texts = data["eval"]["phrasebank_dev"][0]
    before = ctx.backbone.classify_probs(texts, REF)[1].argmax(1).tolist()
    label_store.record(ctx.db, "sentiment", "sentiment", [(t, y) for (t, _), y in zip(rows, shuffled)],
                       source="bench", who="careless")
    report = retrain(ctx, "sentiment", "finance")
    after = ctx.backbone.classify_probs(texts, REF)[1].argmax(1).tolist()
    return {"labels": n, "report": public(report), "gate": report["details"].get("gate"),
            "predictions_unchanged": before == after}


def ablation(plans: list[str], data: dict, sample_seed: int = 0) -> list[dict]:
    """One challenger per plan from the shipped adapter on the same 800 PhraseBank labels (~20% held back)."""
    from sklearn.metrics import accuracy_score, f1_score

    from bench.splits import load_split
    from shared.continual import MixPlan, continue_classifier, predict_labels
    from shared.home import data_dir
    from shared.labels import held_back, text_hash
    from shared.settings import LoraSettings

    tw_train, _ = load_split("twitter")
    old = list(zip(tw_train["text"].astype(str).str.strip(), tw_train["label"]))
    rows = random.Random(sample_seed).sample(data["pool"], 800)
    held = [r for r in rows if held_back(text_hash(r[0]))]
    train = [r for r in rows if not held_back(text_hash(r[0]))]
    sets = dict(data["eval"], held_back=([t for t, _ in held], [y for _, y in held]))
    out = []
    for text in plans:
        values = json.loads(text)
        lr, head_lr = values.pop("lr", 5e-4), values.pop("head_lr", None)
        started = time.perf_counter()
        trained = continue_classifier(data_dir("adapters", "sentiment", "finance"), train, old, MixPlan(**values),
                                      LoraSettings(lr=lr, head_lr=head_lr, batch_size=32, early_stopping_patience=0))
        row = {"plan": text, "sample_seed": sample_seed, "steps": trained.meta["steps"], "seconds": round(time.perf_counter() - started)}
        for name, (texts, gold) in sets.items():
            predicted, _ = predict_labels(trained.task, trained.tokenizer, trained.meta["labels"], texts, 48)
            row[name] = {"accuracy": round(accuracy_score(gold, predicted), 4),
                         "macro_f1": round(f1_score(gold, predicted, average="macro"), 4)}
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def load_data() -> dict:
    from bench.splits import load_split

    pb_train, pb_dev = load_split("phrasebank")
    _, tw_dev = load_split("twitter")
    as_rows = lambda frame: list(zip(frame["text"].astype(str).str.strip(), frame["label"]))  # noqa: E731
    return {"pool": as_rows(pb_train),
            "eval": {"phrasebank_dev": (pb_dev["text"].astype(str).tolist(), pb_dev["label"].tolist()),
                     "twitter_dev": (tw_dev["text"].astype(str).tolist(), tw_dev["label"].tolist())}}


def write(out: Path, results: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    lines = ["# Learning loop benchmark", "", f"Command: `{results['command']}`  ",
             f"Machine: {results['machine']}; load average before {results['load_before']}, after "
             f"{results['load_after']}; {results['seconds'] / 60:.0f} min in all.", ""]
    for arm, rows in results.get("arms", {}).items():
        lines += [f"## {arm} order ({results['batch']} labels per round)", "",
                  "| round | labels | champion | promoted | PhraseBank dev acc | PB macro-F1 | Twitter dev acc | "
                  "Twitter macro-F1 | retrain s | reason |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            pb, tw = r["phrasebank_dev"], r["twitter_dev"]
            reason = r.get("report", {}).get("reason", "shipped adapter")
            lines.append(f"| {r['round']} | {r['labels']} | v{r['champion']} | {r.get('promoted', '-')} | "
                         f"{pb['accuracy']:.3f} | {pb['macro_f1']:.3f} | {tw['accuracy']:.3f} | {tw['macro_f1']:.3f} | "
                         f"{r.get('retrain_seconds', '-')} | {reason} |")
        lines.append("")
    if results.get("ablation"):
        lines += ["## Recipe: replay share and distillation (800 PhraseBank labels, ~20% held back)", "",
                  "| plan | sample seed | steps | PhraseBank dev acc | Twitter dev macro-F1 | held-back macro-F1 | train s |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| `{r['plan']}` | {r.get('sample_seed', 0)} | {r['steps']} | {r['phrasebank_dev']['accuracy']:.3f} | "
                  f"{r['twitter_dev']['macro_f1']:.3f} | {r['held_back']['macro_f1']:.3f} | {r['seconds']} |"
                  for r in results["ablation"]]
        lines.append("")
    if "shuffled" in results:
        s = results["shuffled"]
        lines += ["## Shuffled labels (fresh home)", "", f"{s['labels']} PhraseBank sentences with shuffled labels: "
                  f"promoted **{s['report']['promoted']}**, predictions unchanged **{s['predictions_unchanged']}**. "
                  f"Reason: {s['report']['reason']}", ""]
    out.with_suffix(".md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--shuffled", type=int, default=800, help="shuffled labels in the last check (0 = skip)")
    parser.add_argument("--arms", default="uncertainty,random")
    parser.add_argument("--shuffled-only", action="store_true")
    parser.add_argument("--ablation", nargs="+", metavar="PLAN", help="JSON mix plans to compare (see above)")
    parser.add_argument("--sample-seed", type=int, nargs="+", default=[0],
                        help="seeds of the 800-sentence samples the ablation is run on")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "learning"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    started, data = time.time(), load_data()
    results = {"command": "python bench/learning.py " + " ".join(sys.argv[1:]), "batch": args.batch,
               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                          f"torch threads {args.threads}",
               "load_before": [round(x, 2) for x in os.getloadavg()], "arms": {}}
    if args.ablation:
        results["ablation"] = [row for seed in args.sample_seed for row in ablation(args.ablation, data, seed)]
        args.shuffled, args.arms = 0, ""
    for arm in [] if args.shuffled_only else [a for a in args.arms.split(",") if a]:
        results["arms"][arm] = run_arm(arm, args.rounds, args.batch, data, args.threads)
    if args.shuffled:
        results["shuffled"] = run_shuffled(data, args.shuffled, args.threads)
    results.update(load_after=[round(x, 2) for x in os.getloadavg()], seconds=round(time.time() - started))
    write(Path(args.out), results)
    print(Path(args.out).with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
