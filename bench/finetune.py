"""LoRA vs full fine-tuning vs SetFit vs a frozen-embedding probe, side by side, plus inference speed.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/finetune.py [--train-limit 1500] [--epochs 2] [--datasets phrasebank,twitter,banking77]

Same splits (bench/splits.py), same seed, same machine. Each (data set, method) runs in its own
subprocess so that its peak RSS is its own. Writes bench/results/finetune.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.splits import load_split  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ("probe", "lora", "full", "setfit")


def _subset(frame, limit: int, seed: int = 42):
    if limit and len(frame) > limit:
        from sklearn.model_selection import train_test_split

        frame, _ = train_test_split(frame, train_size=limit, random_state=seed, stratify=frame["label"])
    return list(frame["text"]), list(frame["label"])


def run_probe(train, dev, args) -> dict:
    from sklearn.linear_model import LogisticRegression

    from shared.backbone import get_backbone

    backbone = get_backbone()
    start = time.perf_counter()
    model = LogisticRegression(C=10, max_iter=3000).fit(backbone.encode(train[0]), train[1])
    seconds = time.perf_counter() - start
    predicted = model.predict(backbone.encode(dev[0]))
    return {"predicted": list(predicted), "seconds": seconds, "trainable": int(model.coef_.size + model.intercept_.size),
            "size_bytes": int((model.coef_.size + model.intercept_.size) * 4)}


def run_lora(train, dev, args) -> dict:
    from shared import adapters
    from shared.classifier import predict_logits, train_classifier
    from shared.settings import LoraSettings

    settings = LoraSettings(epochs=args.epochs, max_length=args.max_length, lr=1e-3)
    start = time.perf_counter()
    trained = train_classifier(train[0], train[1], settings, dev=dev)
    seconds = time.perf_counter() - start
    logits = predict_logits(trained.task, trained.tokenizer, dev[0], args.max_length)
    with tempfile.TemporaryDirectory() as tmp:
        path = adapters.save("bench", "lora", trained, root=Path(tmp))
        size = adapters.size_bytes(path)
    return {"predicted": [trained.meta["labels"][i] for i in logits.argmax(1)], "seconds": seconds,
            "trainable": trained.meta["trainable_params"], "size_bytes": size}


def run_full(train, dev, args) -> dict:
    import torch

    from shared.classifier import ClassifierHead, EncoderClassifier, predict_logits, probe_head
    from shared.inference import tokenize
    from shared.models import load_encoder, load_tokenizer, pooling_mode, resolve
    from shared.settings import LoraSettings
    from shared.training import fit, trainable_parameters

    settings = LoraSettings(epochs=args.epochs, max_length=args.max_length, lr=5e-5, head_lr=1e-3)
    ref = resolve("minilm")
    tokenizer, base = load_tokenizer(ref), load_encoder(ref)
    labels = sorted(set(train[1]))
    index = {y: i for i, y in enumerate(labels)}
    head = ClassifierHead(base.config.hidden_size, len(labels))
    start = time.perf_counter()
    probe_head(head, base, tokenizer, train[0], [index[y] for y in train[1]], pooling_mode(ref), settings)
    task = EncoderClassifier(base, head, pooling_mode(ref))

    def collate(rows):
        batch = dict(tokenize(tokenizer, [r[0] for r in rows], settings.max_length))
        batch["labels"] = torch.tensor([r[1] for r in rows])
        return batch

    def dev_score():
        predicted = predict_logits(task, tokenizer, dev[0], settings.max_length).argmax(1)
        return float(np.mean([labels[i] == y for i, y in zip(predicted, dev[1])]))

    fit(task, [(t, index[y]) for t, y in zip(*train)], collate, settings, dev_score, desc="full")
    seconds = time.perf_counter() - start
    predicted = predict_logits(task, tokenizer, dev[0], settings.max_length).argmax(1)
    trainable, _ = trainable_parameters(task)
    return {"predicted": [labels[i] for i in predicted], "seconds": seconds, "trainable": trainable,
            "size_bytes": trainable * 4}


def run_setfit(train, dev, args) -> dict:
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from shared.models import resolve

    model = SetFitModel.from_pretrained(resolve("minilm").location)
    training = TrainingArguments(batch_size=32, num_epochs=1, max_steps=args.setfit_steps, seed=42)
    trainer = Trainer(model=model, args=training, train_dataset=Dataset.from_dict({"text": train[0], "label": train[1]}))
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    trainable = sum(p.numel() for p in model.model_body.parameters())
    return {"predicted": [str(p) for p in model.predict(dev[0])], "seconds": seconds, "trainable": trainable,
            "size_bytes": trainable * 4}


def run_one(dataset: str, method: str, args) -> dict:
    """One cell of the table, measured in this process."""
    from shared.evaluation import classification_report

    train_frame, dev_frame = load_split(dataset)
    train, dev = _subset(train_frame, args.train_limit), (list(dev_frame["text"]), list(dev_frame["label"]))
    out = {"probe": run_probe, "lora": run_lora, "full": run_full, "setfit": run_setfit}[method](train, dev, args)
    report = classification_report(dev[1], out.pop("predicted"), sorted(set(train[1])))
    return dict(out, dataset=dataset, method=method, accuracy=report["accuracy"], macro_f1=report["macro_f1"],
                n_train=len(train[0]), n_dev=len(dev[0]), peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _int8_classifier(backbone, key: str):
    """A merged (LoRA folded into the weights) copy of the model, dynamically quantised to int8."""
    import copy
    import warnings

    import torch

    from shared.models import pool

    model = copy.deepcopy(backbone.model)
    model.set_adapter(key)
    merged = model.merge_and_unload().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        quantized = torch.ao.quantization.quantize_dynamic(merged, {torch.nn.Linear}, dtype=torch.qint8)
    head = backbone.heads[key]

    def forward(batch):
        inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        return head(pool(quantized(**inputs).last_hidden_state, batch["attention_mask"], backbone.pooling))

    return forward


def _timed(fn) -> tuple[float, object]:
    fn()  # warm-up
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def throughput(args) -> list[dict]:
    """Sentences/s of our batched paths vs sentence-transformers encode, and int8 dynamic quantisation."""
    from sentence_transformers import SentenceTransformer

    from shared.backbone import get_backbone
    from shared.home import data_dir
    from shared.inference import run_batched

    backbone = get_backbone()
    dev = load_split("twitter")[1][:1000]
    texts, gold = list(dev["text"]), list(dev["label"])
    st = SentenceTransformer(backbone.ref.location, device="cpu")
    rows = []
    for name, fn in [("sentence-transformers encode (batch 64)", lambda: st.encode(texts, batch_size=64)),
                     ("lorasuite encode (length-sorted batches, inference_mode)", lambda: backbone.encode(texts))]:
        seconds, _ = _timed(fn)
        rows.append({"path": name, "sentences_per_s": len(texts) / seconds})
    adapter = data_dir("adapters", "sentiment", "finance")
    if not (adapter / "meta.json").exists():
        return rows
    backbone.add_adapter("finance", adapter)
    seconds, preds = _timed(lambda: backbone.classify(texts, "finance"))
    fp32 = float(np.mean([p.label == g for p, g in zip(preds, gold)]))
    rows.append({"path": "lorasuite classify, fp32 (LoRA adapter + head)", "sentences_per_s": len(texts) / seconds,
                 "note": f"accuracy {fp32:.4f}"})
    forward, labels = _int8_classifier(backbone, "finance"), backbone.metas["finance"]["labels"]
    seconds, logits = _timed(lambda: run_batched(texts, backbone.tokenizer, forward, 64, 48))
    int8 = float(np.mean([labels[i] == g for i, g in zip(logits.argmax(1), gold)]))
    rows.append({"path": "classify, LoRA merged + int8 dynamic quantisation", "sentences_per_s": len(texts) / seconds,
                 "note": f"accuracy {int8:.4f} ({(int8 - fp32) * 100:+.2f} points vs fp32)"})
    return rows


SHIPPED = {"twitter": ("sentiment", "finance"), "banking77": ("support", "intent")}


def shipped_rows() -> list[dict]:
    """The shipped adapters, trained on the full 80% train split of the same data (their meta.json)."""
    from shared import adapters
    from shared.home import data_dir

    rows = []
    for dataset, (app, name) in SHIPPED.items():
        path = data_dir("adapters", app, name)
        if (path / "meta.json").exists():
            meta = adapters.read_meta(path)
            rows.append({"dataset": dataset, "method": f"lora: shipped {app}/{name}, full split, "
                         f"{meta['settings']['epochs']} epoch(s)", "accuracy": meta["metrics"]["dev_accuracy"],
                         "macro_f1": meta["metrics"]["dev_macro_f1"], "seconds": meta["train_seconds"],
                         "trainable": meta["trainable_params"], "size_bytes": adapters.size_bytes(path),
                         "peak_rss_mb": float("nan"), "n_train": None})
    return rows


def write_table(rows: list[dict], speed: list[dict], args) -> None:
    RESULTS.mkdir(exist_ok=True)
    rows = [r for r in rows if not str(r.get("method", "")).startswith("lora: shipped")] + shipped_rows()
    lines = [f"# Fine-tuning benchmark\n\nCommand: `{' '.join(['.venv/bin/python', 'bench/finetune.py'] + sys.argv[1:])}`  ",
             "Train rows per cell: `n_train` (a stratified seed-42 sample, or the full 80% split); dev: the full fixed "
             f"dev split; {args.epochs} epochs for LoRA and full FT; SetFit {args.setfit_steps} contrastive steps. "
             f"{os.cpu_count()} CPU cores, no GPU; load average when the table was written: "
             f"{[round(x, 1) for x in os.getloadavg()]}.\n",
             "| data set | method | accuracy | macro-F1 | train s | trainable params | size | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['method']} | error: {r['error'][:80]} | | | | | |")
            continue
        lines.append(f"| {r['dataset']} (n_train={r.get('n_train') or 'full'}) | {r['method']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['seconds']:.0f} | "
                     f"{r['trainable']:,} | {r['size_bytes'] / 1e6:.2f} MB | {r['peak_rss_mb']:.0f} |")
    lines += ["", "## Inference throughput (1,000 Twitter dev headlines)", "", "| path | sentences/s | note |", "|---|---|---|"]
    lines += [f"| {s['path']} | {s.get('sentences_per_s', 0):.0f} | {s.get('note', '')} |" for s in speed]
    (RESULTS / "finetune.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "finetune.json").write_text(json.dumps({"rows": rows, "throughput": speed}, indent=2))
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="phrasebank,twitter,banking77")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--train-limit", type=int, default=1500)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=48)
    parser.add_argument("--setfit-steps", type=int, default=150)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--throughput-only", action="store_true", help="re-measure speed, keep the last table's rows")
    parser.add_argument("--append", action="store_true", help="add these rows to the last table's rows")
    args = parser.parse_args()
    if args.throughput_only:
        rows = json.loads((RESULTS / "finetune.json").read_text())["rows"]
        write_table(rows, throughput(args), args)
        return
    if args.one:
        print("RESULT " + json.dumps(run_one(*args.one.split(":"), args)))
        return
    rows = json.loads((RESULTS / "finetune.json").read_text())["rows"] if args.append else []
    for dataset in args.datasets.split(","):
        for method in args.methods.split(","):
            cmd = [sys.executable, __file__, "--one", f"{dataset}:{method}"] + sys.argv[1:]
            done = subprocess.run(cmd, capture_output=True, text=True)
            found = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            rows.append(json.loads(found[0]) if found else
                        {"dataset": dataset, "method": method, "error": " ".join(done.stderr.strip().splitlines()[-1:])})
            print(json.dumps(rows[-1]), flush=True)
    write_table(rows, throughput(args), args)


if __name__ == "__main__":
    main()
