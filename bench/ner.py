"""bench/ner.py: entity-level F1 of LoRA vs full fine-tuning of the same MiniLM, on three NER sets.

    .venv/bin/python bench/ner.py --threads 1            # ~the whole bench; writes bench/results/ner.{md,json}
    .venv/bin/python bench/ner.py --sets fin5 --train-sentences 300 --epochs 1   # a quick look

One run, same machine, same seed, same subsample for both methods: LoRA (the shipped recipe,
``shared.tagging.TAG_DEFAULTS`` + the LoRA targets below) and full fine-tuning (every weight of
the encoder trained, the usual small learning rate). Per row: entity-level micro precision /
recall / F1 (seqeval-style: span and type must both match), macro-F1 over types, train time,
trainable parameters, weights to ship, and prediction speed. Data is read from
``../shared/data/ner`` (CoNLL-2003 is research-only: measured here, never shipped):

- conll2003: a seeded subsample of train.txt (CPU budget), evaluated on all of valid.txt;
- wnut17: a seeded subsample of wnut17train.conll, evaluated on emerging.dev.conll;
- fin5: SEC FIN5 has no dev split: a seeded 20% of its sentences is held out as dev.

CPU note: on a shared 2-core box ``--threads 1`` is much faster than torch's default (two
processes with two threads each thrash); training batches are length-bucketed either way.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "ner"
ANCHOR = "BERT-base (110M, cased) ~92 entity F1 on CoNLL-2003 test, ~95 on dev (Devlin et al. 2019; dslim/bert-base-NER 92.6 test)"
PROBES = [
    ("LoRA r=8 alpha=16 on q,k,v, lr 1e-3 (the classify recipe), batch 16, unbucketed; 1000 train, 500 valid", 0.375),
    ("LoRA r=8 alpha=16 on q,k,v, lr 2e-3, batch 16", 0.330),
    ("LoRA r=8 alpha=16 on q,k,v, lr 5e-3, batch 16", 0.509),
    ("LoRA r=8 alpha=16 on q,k,v, lr 1e-2, batch 16", 0.433),
    ("LoRA r=8 alpha=16 on all linear, lr 5e-3", 0.550),
    ("LoRA r=8 alpha=16 on all linear, lr 5e-3, head lr 2e-2", 0.584),
    ("LoRA r=8 alpha=64 on all linear, lr 2e-3, head lr 2e-2", 0.652),
    ("LoRA r=8 alpha=64 on all linear, lr 3e-3, head lr 2e-2 (unstable)", 0.328),
    ("LoRA r=16 alpha=64 on all linear, lr 5e-3 (diverged)", 0.000),
    ("LoRA r=16 alpha=64 on all linear, lr 2e-3, head lr 2e-2", 0.664),
    ("**LoRA r=8 alpha=128 on all linear, lr 1e-3, head lr 2e-2 (shipped default)**", 0.700),
    ("full fine-tuning, lr 1e-4, batch 16", 0.379),
    ("full fine-tuning, lr 3e-4", 0.708),
]
METHODS = {
    "lora": {"lora": True},
    "full": {"lora": False, "lr": 3e-4, "head_lr": None},
}


def load_sets(names: list[str], n_train: int, seed: int) -> dict[str, tuple[list, list, str]]:
    """name -> (train sentences, dev sentences, how they were made)."""
    from shared.conll import read_tagged

    sets = {}
    rng = random.Random(seed)
    if "conll2003" in names:
        train, dev = read_tagged(DATA / "conll2003" / "train.txt"), read_tagged(DATA / "conll2003" / "valid.txt")
        sets["conll2003"] = (_sample(train, n_train, rng), dev, f"train: {min(n_train, len(train))} of {len(train)} "
                             f"sentences (seeded sample); dev: all {len(dev)} of valid.txt")
    if "wnut17" in names:
        train = read_tagged(DATA / "wnut17" / "wnut17train.conll")
        dev = read_tagged(DATA / "wnut17" / "emerging.dev.conll")
        sets["wnut17"] = (_sample(train, n_train, rng), dev, f"train: {min(n_train, len(train))} of {len(train)}; "
                          f"dev: all {len(dev)} of emerging.dev.conll")
    if "fin5" in names:
        everything = read_tagged(DATA / "sec_filings_fin" / "FIN5.txt")
        shuffled = _sample(everything, len(everything), rng)
        cut = len(shuffled) // 5
        sets["fin5"] = (shuffled[cut:][:n_train], shuffled[:cut], f"FIN5 {len(everything)} sentences: seeded 80/20 "
                        f"split, train {len(shuffled[cut:][:n_train])}, dev {cut}; IO tags read as IOB2")
    return sets


def _sample(sentences: list, n: int, rng: random.Random) -> list:
    picked = list(sentences)
    rng.shuffle(picked)
    return picked[:n]


def run_one(method: str, train: list, dev: list, args: argparse.Namespace) -> dict:
    """Train one tagger with ``method`` on ``train``, score it on ``dev``."""
    from shared.conll import types_of
    from shared.entities import entity_report, tag_set
    from shared.settings import LoraSettings
    from shared.tagging import TAG_DEFAULTS, build_tagger, fit_tagger, predict_tags
    from shared.training import trainable_parameters

    options = dict(METHODS[method])
    lora = options.pop("lora")
    if lora:
        options.update({k: v for k, v in (("lr", args.lora_lr), ("alpha", args.lora_alpha)) if v})
    values = dict(TAG_DEFAULTS, epochs=args.epochs, max_length=args.max_length, early_stopping_patience=0)
    settings = LoraSettings(**dict(values, **options))
    labels = tag_set(types_of(train))
    task, tokenizer, _ = build_tagger(args.model, len(labels), settings, lora=lora)
    trainable, total = trainable_parameters(task)
    result, _ = fit_tagger(task, tokenizer, train, labels, settings, dev=None)
    start = time.perf_counter()
    predicted = predict_tags(task, tokenizer, [s.tokens for s in dev], labels)
    infer = time.perf_counter() - start
    report = entity_report([s.tags for s in dev], predicted)
    return {"method": method, "lr": settings.lr, "epochs": settings.epochs, "steps": result.steps,
            "train_seconds": round(result.seconds, 1), "trainable_params": trainable, "total_params": total,
            "weights_mb": round(trainable * 4 / 1e6, 2), "precision": report["micro"]["precision"],
            "recall": report["micro"]["recall"], "f1": report["micro"]["f1"], "macro_f1": report["macro_f1"],
            "per_type_f1": {k: round(v["f1"], 4) for k, v in report["per_type"].items()},
            "dev_sentences_per_s": round(len(dev) / infer, 1), "settings": settings.to_dict()}


def table(rows: list[dict]) -> str:
    lines = ["| set | method | P | R | **F1** | macro-F1 | train s | steps | trainable params | weights MB | dev sent/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        share = 100 * r["trainable_params"] / r["total_params"]
        lines.append(f"| {r['set']} | {r['method']} | {r['precision']:.3f} | {r['recall']:.3f} | **{r['f1']:.3f}** | "
                     f"{r['macro_f1']:.3f} | {r['train_seconds']:.0f} | {r['steps']} | {r['trainable_params']:,} "
                     f"({share:.2f}%) | {r['weights_mb']} | {r['dev_sentences_per_s']} |")
    return "\n".join(lines)


def follow_ups(out: Path) -> str:
    """A table of the other runs saved next to ``out`` (e.g. the 3000-sentence CoNLL runs)."""
    lines = []
    for path in sorted(out.parent.glob(f"{out.name}_*.json")):
        saved = json.loads(path.read_text())
        for r in saved["rows"]:
            lines.append(f"| `{' '.join(saved['argv'])}` | {r['set']} | {r['method']} | {r['train_sentences']} | "
                         f"{r['lr']} | {r['precision']:.3f} | {r['recall']:.3f} | **{r['f1']:.3f}** | {r['train_seconds']:.0f} |")
    if not lines:
        return ""
    head = ["Follow-up runs (same script, one method each; the arguments say what changed):", "",
            "| arguments | set | method | train sentences | lr | P | R | **F1** | train s |", "|---|---|---|---|---|---|---|---|---|"]
    return "\n".join(head + lines) + "\n"


def markdown(rows: list[dict], notes: dict[str, str], args: argparse.Namespace, seconds: float,
             argv: list[str]) -> str:
    command = " ".join([".venv/bin/python bench/ner.py"] + argv)
    lora = next((r for r in rows if r["method"] == "lora"), None)
    recipe = (f"LoRA r={lora['settings']['r']} alpha={lora['settings']['alpha']} on {lora['settings']['target_modules']}, "
              f"lr {lora['lr']}" if lora else "")
    gaps = []
    for name in notes:
        by = {r["method"]: r for r in rows if r["set"] == name}
        if "lora" in by and "full" in by:
            gaps.append(f"- {name}: LoRA - full = {100 * (by['lora']['f1'] - by['full']['f1']):+.1f} F1 points")
    probes = "\n".join(f"| {c} | {f:.3f} |" for c, f in PROBES)
    conll = {r["method"]: r["f1"] for r in rows if r["set"] == "conll2003"}
    gap = ", ".join(f"{95 - 100 * f:.0f} points ({m})" for m, f in conll.items()) or "n/a (no conll2003 row)"
    per_type = "\n".join(f"- {r['set']} / {r['method']}: " + ", ".join(f"{k} {v:.3f}" for k, v in r["per_type_f1"].items())
                         for r in rows)
    return f"""# NER: LoRA vs full fine-tuning on MiniLM (entity-level F1)

Command: `{command}`

Machine: {platform.machine()}, {args.threads or 'default'} torch thread(s), CPU only, shared with other jobs;
whole run {seconds / 60:.1f} min. Base: all-MiniLM-L6-v2 (22.7M parameters, **uncased**), max_length
{args.max_length}, {args.epochs} epochs, batch 8 (length-bucketed), seed {args.seed}, no early stopping (the
last epoch is scored). {recipe}; full fine-tuning trains every encoder weight at lr {METHODS['full']['lr']}.
Scores: micro precision/recall/F1 over entities, span and type must both match (seqeval default mode);
macro-F1 averages the types.

Data (from ../shared/data/ner; CoNLL-2003 is research-only and nothing trained on it ships):
{chr(10).join(f'- {k}: {v}' for k, v in notes.items())}

{table(rows)}

Gap LoRA vs full fine-tuning (same data, same epochs):
{chr(10).join(gaps) or '- (one method only)'}

Per-type F1:
{per_type}

{follow_ups(Path(args.out))}
Reading (measured 2026-11-30, these runs): on 1000 sentences LoRA trails full fine-tuning by 2.3 to
3.4 F1 points. More data narrows it: on 3000 CoNLL sentences LoRA at lr 3e-4 reaches 0.843 against
0.857 for full fine-tuning (-1.4 points) with 1.5% of the parameters and 1.3 MB to ship, in half
the training time. The default lr 1e-3 (tuned on runs of a few hundred steps, the size of the
shipped adapters) stalls at 0.783 on that longer run: use --lr 3e-4 for thousands of sentences.

How the LoRA recipe was chosen (measured before this run, same code: 600 CoNLL train sentences,
2 epochs, batch 8 unless noted, 400 valid sentences, entity F1):

| recipe | F1 |
|---|---|
{probes}

Published anchor: {ANCHOR}. We score on valid.txt (= eng.testa, the dev split), where
BERT-base sits near 95, so the measured gap on the same split is about {gap}. Where it comes
from (named, not isolated here): 1k of the 14k training sentences and 3 epochs for the CPU budget
(the follow-up runs above show what 3000 sentences buy); MiniLM is uncased, so capitalisation,
the strongest NER cue in newswire, is invisible to it; it has 1/5 of BERT-base's parameters and
6 layers instead of 12; sentence-level input without document context.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="conll2003,wnut17,fin5")
    parser.add_argument("--methods", default="lora,full")
    parser.add_argument("--train-sentences", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--lora-lr", type=float, help="override the LoRA lr (default: TAG_DEFAULTS)")
    parser.add_argument("--lora-alpha", type=int, help="override the LoRA alpha (default: TAG_DEFAULTS)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "ner"))
    parser.add_argument("--render", action="store_true", help="only rewrite OUT.md from OUT.json (no training)")
    args = parser.parse_args(argv)
    if args.render:
        return render(Path(args.out), parser)
    if not DATA.exists():
        print(f"no data at {DATA}: this bench needs ../shared/data/ner", file=sys.stderr)
        return 2
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    sets = load_sets(args.sets.split(","), args.train_sentences, args.seed)
    rows = []
    for name, (train, dev, _) in sets.items():
        for method in args.methods.split(","):
            row = dict(run_one(method, train, dev, args), set=name, train_sentences=len(train), dev_sentences=len(dev))
            rows.append(row)
            print(f"{name:10s} {method:5s} F1 {row['f1']:.3f}  P {row['precision']:.3f}  R {row['recall']:.3f}  "
                  f"{row['train_seconds']:.0f}s  {row['trainable_params']:,} params", flush=True)
    seconds = time.perf_counter() - start
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    notes = {k: v[2] for k, v in sets.items()}
    out.with_suffix(".md").write_text(markdown(rows, notes, args, seconds, sys.argv[1:]))
    out.with_suffix(".json").write_text(json.dumps({"argv": sys.argv[1:], "seconds": seconds, "notes": notes,
                                                    "rows": rows}, indent=2))
    print(table(rows))
    print(f"wrote {out.with_suffix('.md')} ({seconds / 60:.1f} min)")
    return 0


def render(out: Path, parser: argparse.ArgumentParser) -> int:
    """Rewrite the markdown of a finished run from its JSON (after a change to the text)."""
    saved = json.loads(out.with_suffix(".json").read_text())
    args = parser.parse_args(saved["argv"])
    out.with_suffix(".md").write_text(markdown(saved["rows"], saved["notes"], args, saved["seconds"], saved["argv"]))
    print(f"wrote {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
