"""bench/distill.py: probe / LoRA / LoRA + teacher (the distilled student) / the teacher alone.

    .venv/bin/python bench/distill.py --threads 1                                  # everything (many CPU hours)
    .venv/bin/python bench/distill.py --threads 1 --datasets phrasebank --methods lora,teacher,student
    .venv/bin/python bench/distill.py --threads 1 --datasets conll2003,fin5 --methods lora,lora-noshape

Data: PhraseBank (its fixed train/dev files), Twitter financial news and BANKING77 (the seeded 80/20
splits of bench/splits.py, written to var/splits so the CLI and this bench share teachers), CoNLL-2003
(3,000 seeded train sentences; early stopping on the first 500 sentences of valid.txt, all 3,250
scored) and FIN5 (seeded 80/20), all read from ../shared/data
(PhraseBank and CoNLL-2003 are never shipped). Settings are the CLI defaults (classify: LoraSettings();
tag: TAG_DEFAULTS; ``--max-minutes`` as on the CLI), so a teacher trained by ``lorasuite sentiment train
--teacher mpnet`` on the same files with the same flags is found in the cache ($LORASUITE_HOME/teachers)
and not trained twice. Each cell runs in its own
subprocess (its own peak RSS). Rows accumulate in bench/results/distill.json; distill.md is rewritten
from them, one table per command, each with the machine load measured when it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
METHODS = ("probe", "lora", "lora-noshape", "teacher", "student")
CLASSIFY_SETS = ("phrasebank", "twitter", "banking77")
SPLITS = ROOT / "var" / "splits"


def classify_data(name: str) -> tuple[tuple[list, list], tuple[list, list], str]:
    """(train, dev, data hash): the CSVs of bench/splits.py, hashed as `lorasuite ... train` hashes them."""
    from bench.splits import write_splits
    from shared.datasets import file_hash, read_labeled_csv

    if not (SPLITS / f"{name}_dev.csv").exists():
        write_splits(SPLITS)
    train, dev = SPLITS / f"{name}_train.csv", SPLITS / f"{name}_dev.csv"
    return read_labeled_csv(train), read_labeled_csv(dev), file_hash(train, dev)


def tag_data(name: str, n_train: int) -> tuple[list, list, str]:
    import hashlib

    from bench.ner import load_sets

    train, dev, _ = load_sets([name], n_train, 42)[name]
    digest = hashlib.sha256(json.dumps([[s.tokens, s.tags] for s in train + dev]).encode()).hexdigest()
    return train, dev, digest


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def classify_cell(name: str, method: str, args) -> dict:
    from shared.classifier import predict_logits, train_classifier
    from shared.evaluation import classification_report
    from shared.settings import LoraSettings

    train, dev, digest = classify_data(name)
    labels, settings = sorted(set(train[1])), LoraSettings(max_minutes=args.max_minutes)
    if method == "probe":
        return _classify_probe(train, dev, labels)
    if method == "teacher":
        from shared.distill import load_teacher, teacher_path

        fn = lambda s: train_classifier(*train, s, model=args.teacher, dev=dev, data_hash=digest)  # noqa: E731
        (path, _), seconds = _timed(lambda: teacher_path("classify", args.teacher, digest, settings, fn))
        task, tokenizer, meta = load_teacher(path)
        seconds = meta.get("train_seconds", seconds)
    else:
        teacher = args.teacher if method == "student" else None
        trained, seconds = _timed(lambda: train_classifier(*train, settings, dev=dev, data_hash=digest,
                                                           teacher=teacher))
        task, tokenizer, meta = trained.task, trained.tokenizer, trained.meta
    logits, infer = _timed(lambda: predict_logits(task, tokenizer, dev[0], meta["max_length"]))
    report = classification_report(dev[1], [labels[i] for i in logits.argmax(1)], labels)
    return {"score": report["accuracy"], "metric": "accuracy", "macro_f1": report["macro_f1"],
            "train_minutes": round(seconds / 60, 2), "fit_minutes": round(meta.get("train_seconds", 0) / 60, 2),
            "sentences_per_s": round(len(dev[0]) / infer, 1), "base": meta["base_model"],
            "n_train": len(train[0]), "n_dev": len(dev[0]), "teacher": meta.get("distillation", {}).get("teacher")}


def _classify_probe(train, dev, labels) -> dict:
    from sklearn.linear_model import LogisticRegression

    from shared.backbone import get_backbone
    from shared.evaluation import classification_report

    backbone = get_backbone()
    model, seconds = _timed(lambda: LogisticRegression(C=10, max_iter=3000).fit(backbone.encode(train[0]), train[1]))
    predicted, infer = _timed(lambda: model.predict(backbone.encode(dev[0])))
    report = classification_report(dev[1], list(predicted), labels)
    return {"score": report["accuracy"], "metric": "accuracy", "macro_f1": report["macro_f1"],
            "train_minutes": round(seconds / 60, 2), "sentences_per_s": round(len(dev[0]) / infer, 1),
            "base": "minilm", "n_train": len(train[0]), "n_dev": len(dev[0])}


def tag_cell(name: str, method: str, args) -> dict:
    from shared.conll import types_of
    from shared.entities import entity_report, tag_set
    from shared.settings import LoraSettings
    from shared.tagging import TAG_DEFAULTS, build_tagger, fit_tagger, predict_tags, train_tagger

    train, dev, digest = tag_data(name, args.train_sentences)
    stop_dev = dev[: args.stop_dev] if args.stop_dev else dev  # early stopping on a slice; scored on all of dev
    labels = tag_set(types_of(train))
    settings = LoraSettings(**dict(TAG_DEFAULTS, word_shape=method != "lora-noshape", max_minutes=args.max_minutes))
    meta: dict = {"base_model": "minilm"}
    if method == "probe":  # frozen encoder, only the tag head (+ shape embedding) trained
        task, tokenizer, _ = build_tagger("minilm", len(labels), settings, lora=False)
        for param in task.encoder.parameters():
            param.requires_grad = False
        (result, _), seconds = _timed(lambda: fit_tagger(task, tokenizer, train, labels, settings, stop_dev))
        meta["train_seconds"] = result.seconds
    elif method == "teacher":
        from shared.distill import load_teacher, teacher_path

        fn = lambda s: train_tagger(train, s, model=args.teacher, dev=stop_dev, data_hash=digest)  # noqa: E731
        (path, _), seconds = _timed(lambda: teacher_path("tag", args.teacher, digest, settings, fn))
        task, tokenizer, meta = load_teacher(path)
        seconds = meta.get("train_seconds", seconds)
    else:
        teacher = args.teacher if method == "student" else None
        trained, seconds = _timed(lambda: train_tagger(train, settings, dev=stop_dev, data_hash=digest,
                                                       teacher=teacher))
        task, tokenizer, meta = trained.task, trained.tokenizer, trained.meta
    predicted, infer = _timed(lambda: predict_tags(task, tokenizer, [s.tokens for s in dev], labels))
    report = entity_report([s.tags for s in dev], predicted)
    return {"score": report["micro"]["f1"], "metric": "entity F1", "macro_f1": report["macro_f1"],
            "train_minutes": round(seconds / 60, 2), "fit_minutes": round(meta.get("train_seconds", 0) / 60, 2),
            "sentences_per_s": round(len(dev) / infer, 1), "base": meta["base_model"], "n_train": len(train),
            "n_dev": len(dev), "teacher": meta.get("distillation", {}).get("teacher")}


def run_one(dataset: str, method: str, args) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    cell = (classify_cell if dataset in CLASSIFY_SETS else tag_cell)(dataset, method, args)
    return dict(cell, dataset=dataset, method=method, peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                / 1024), load=[round(x, 1) for x in load_before + os.getloadavg()], threads=args.threads,
                when=datetime.now(timezone.utc).isoformat(timespec="minutes"))


def write_tables(rows: list[dict]) -> None:
    lines = ["# Distillation: probe / LoRA / LoRA + teacher (student) / teacher alone", "",
             "Written by `bench/distill.py` (see its docstring). `load` = 1-min load average before and after each cell "
             "(1/5/15-min, twice); 2 CPU cores shared with other engineers, no GPU. Train minutes: the cell's wall time to "
             "a trained model (for the student: its own training plus the teacher's soft targets, the teacher itself "
             "cached); fit = the training loop alone. Speed: dev sentences/s at inference, same threads.", ""]
    for command in dict.fromkeys(r["command"] for r in rows):
        lines += [f"Command: `{command}`", "",
                  "| data set | method | base | score | macro-F1 | train min | fit min | sent/s | peak RSS MB | n train/dev | load | when |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in (r for r in rows if r["command"] == command):
            if "error" in r:
                lines.append(f"| {r['dataset']} | {r['method']} | error: {r['error'][:120]} |||||||||")
                continue
            lines.append(f"| {r['dataset']} | {r['method']} | {Path(r['base']).name} | {r['metric']} {r['score']:.4f} | "
                         f"{r['macro_f1']:.4f} | {r['train_minutes']:.1f} | {r.get('fit_minutes', 0):.1f} | "
                         f"{r['sentences_per_s']:.0f} | {r['peak_rss_mb']} | {r['n_train']}/{r['n_dev']} | "
                         f"{r['load'][0]} → {r['load'][3]} | {r['when']} |")
        lines.append("")
    notes = RESULTS / "distill_reading.md"  # the hand-written reading, kept when tables are rewritten
    if notes.exists():
        lines.append(notes.read_text())
    (RESULTS / "distill.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="phrasebank,twitter,banking77,conll2003")
    parser.add_argument("--methods", default="probe,lora,teacher,student")
    parser.add_argument("--teacher", default="mpnet")
    parser.add_argument("--train-sentences", type=int, default=3000, help="NER training sentences (seeded sample)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--stop-dev", type=int, default=500, help="NER: early-stop on the first N dev sentences "
                                                                  "(all of dev is scored); 0 = all")
    parser.add_argument("--max-minutes", type=float, help="time budget per training run (teacher and student each)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(run_one(*args.one.split(":"), args)))
        return
    command = " ".join([".venv/bin/python", "bench/distill.py"] + sys.argv[1:])
    store = RESULTS / "distill.json"
    for dataset in args.datasets.split(","):
        for method in args.methods.split(","):
            done = subprocess.run([sys.executable, __file__, "--one", f"{dataset}:{method}"] + sys.argv[1:],
                                  capture_output=True, text=True)
            found = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            row = json.loads(found[0]) if found else {"dataset": dataset, "method": method,
                                                      "error": " ".join(done.stderr.strip().splitlines()[-1:])}
            rows = json.loads(store.read_text()) if store.exists() else []
            rows.append(dict(row, command=command))
            store.write_text(json.dumps(rows, indent=2))
            write_tables(rows)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
