"""LoRA vs full fine-tuning vs SetFit vs a frozen-embedding probe, side by side, plus inference speed.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/finetune.py [--train-limit 1500] [--epochs 2] [--datasets phrasebank,twitter,banking77]

Same splits (bench/splits.py), same seed, same machine. Each (data set, method) runs in its own
subprocess so that its peak RSS is its own. Writes bench/results/finetune.md and .json.
"""

from __future__ import annotations

import argparse
import json
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


def throughput(args) -> list[dict]:
    """Sentences/s of our batched classify path vs sentence-transformers encode, and int8 dynamic quantisation."""
    import torch
    from sentence_transformers import SentenceTransformer

    from shared.backbone import get_backbone
    from shared.home import data_dir

    backbone = get_backbone()
    texts = list(load_split("twitter")[1]["text"])[:1000]
    rows = []
    adapter = data_dir("adapters", "sentiment", "finance")
    key = None
    if (adapter / "meta.json").exists():
        backbone.add_adapter("finance", adapter)
        key = "finance"
    for name, fn in [("lorasuite encode (length-sorted batches, inference_mode)", lambda: backbone.encode(texts)),
                     ("lorasuite classify (LoRA adapter + head)", lambda: backbone.classify(texts, key) if key else None),
                     ("sentence-transformers encode", lambda st=SentenceTransformer(backbone.ref.location, device="cpu"):
                      st.encode(texts, batch_size=64))]:
        if name.startswith("lorasuite classify") and key is None:
            continue
        fn()
        start = time.perf_counter()
        fn()
        rows.append({"path": name, "sentences_per_s": len(texts) / (time.perf_counter() - start)})
    if key:
        gold = list(load_split("twitter")[1]["label"])[:1000]
        before = np.mean([p.label == g for p, g in zip(backbone.classify(texts, key), gold)])
        quantized = torch.ao.quantization.quantize_dynamic(backbone.base, {torch.nn.Linear}, dtype=torch.qint8)
        rows.append({"path": "int8 dynamic quantisation", "note": f"fp32 acc {before:.4f}; quantised model "
                     f"{sum(p.numel() for p in quantized.parameters())} params (LoRA layers stay fp32)"})
    return rows


def write_table(rows: list[dict], speed: list[dict], args) -> None:
    RESULTS.mkdir(exist_ok=True)
    lines = [f"# Fine-tuning benchmark\n\nCommand: `{' '.join(['.venv/bin/python', 'bench/finetune.py'] + sys.argv[1:])}`  ",
             f"Train subset: {args.train_limit or 'all'} rows per data set (stratified, seed 42); dev: the full fixed dev split; "
             f"{args.epochs} epochs for LoRA and full FT; SetFit {args.setfit_steps} contrastive steps. 2 CPU cores, no GPU.\n",
             "| data set | method | accuracy | macro-F1 | train s | trainable params | size | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['method']} | error: {r['error'][:80]} | | | | | |")
            continue
        lines.append(f"| {r['dataset']} | {r['method']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['seconds']:.0f} | "
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
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(run_one(*args.one.split(":"), args)))
        return
    rows = []
    for dataset in args.datasets.split(","):
        for method in args.methods.split(","):
            cmd = [sys.executable, __file__, "--one", f"{dataset}:{method}"] + [a for a in sys.argv[1:]]
            done = subprocess.run(cmd, capture_output=True, text=True)
            found = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            rows.append(json.loads(found[0]) if found else
                        {"dataset": dataset, "method": method, "error": " ".join(done.stderr.strip().splitlines()[-1:])})
            print(json.dumps(rows[-1]), flush=True)
    write_table(rows, throughput(args), args)


if __name__ == "__main__":
    main()
