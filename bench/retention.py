"""Probe: ways to keep the old domain while a retrain learns a new one (issue 14's 1-point Twitter limit).

    nice -n 5 .venv/bin/python bench/retention.py --sample 1 --plan '{"epochs": 3, "share": 0.5}' --lr 1e-3
    ... --interpolate 0,0.55,0.7,0.85,1    WiSE-FT: champion + a x (challenger - champion), LoRA and head
    ... --near 2000                        replay only the 2,000 old rows nearest the new labels
    ... --ffn                              add zero-initialised LoRA on the feed-forward layers
    ... --soup 2                           average the weights of 2 challengers (training seeds 42, 43)
    ... --mir 0.5                          each epoch after the first, half the replay = the old rows the
                                           model has drifted on most (KL to the champion; Aljundi et al. 2019)

One challenger from the shipped ``sentiment/finance`` adapter on 800 PhraseBank training sentences
(``--sample N``: ``random.Random(N).sample``; ``cli``: the pandas ``sample(n=800, random_state=7)`` of
bench/results/learning_cli.md), the fixed ~20% held back by text hash, through ``shared.continual``
(the code ``lorasuite retrain`` runs) unless a flag changes one piece. Prints one JSON line: PhraseBank
dev and Twitter dev (accuracy, macro-F1), held-back macro-F1 with the paired-bootstrap p against the
champion, and forgetting on 2,000 old training rows the retrain never replayed. Results:
bench/results/learning_recipe.md. Reads ../shared/data; nothing is saved.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.learning import load_data  # noqa: E402
from bench.splits import load_split  # noqa: E402
from shared import continual  # noqa: E402
from shared.home import data_dir  # noqa: E402
from shared.labels import held_back, text_hash  # noqa: E402
from shared.settings import LoraSettings  # noqa: E402

CHAMPION = data_dir("adapters", "sentiment", "finance")
MAX_LENGTH = 48


def sample_rows(sample: str, pool: list) -> list[tuple[str, str]]:
    if sample == "cli":
        frame = load_split("phrasebank")[0].sample(n=800, random_state=7)
        return list(zip(frame["text"].astype(str).str.strip(), frame["label"]))
    return random.Random(int(sample)).sample(pool, 800)


def nearest_old(old: list, new: list, k: int) -> list:
    """The ``k`` old rows most similar (frozen base embeddings) to any new training row."""
    from shared.inference import run_batched
    from shared.lora import pooled_hidden

    task, tokenizer, _, _ = continual.load_classifier(CHAMPION, trainable=False)

    def embed(texts: list[str]) -> np.ndarray:
        with task.encoder.disable_adapter():
            v = run_batched(texts, tokenizer, lambda b: pooled_hidden(task.encoder, b, "mean"), 128, MAX_LENGTH)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    similarity = (embed([t for t, _ in old]) @ embed([t for t, _ in new]).T).max(1)
    return [old[i] for i in np.argsort(-similarity)[:k]]


def widen_to_ffn() -> None:
    """Make ``continual.load_classifier`` (trainable) add zero-initialised LoRA on the feed-forward layers."""
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    from shared.adapters import read_meta
    from shared.classifier import ClassifierHead, EncoderClassifier
    from shared.models import load_encoder, load_tokenizer, resolve

    original = continual.load_classifier

    def load(path, trainable=True, model=None):
        if not trainable:
            return original(path, trainable, model)
        meta, cfg = read_meta(path), json.loads((Path(path) / "adapter_config.json").read_text())
        ref = resolve(meta["base_model"])
        conf = LoraConfig(r=cfg["r"], lora_alpha=cfg["lora_alpha"], lora_dropout=cfg["lora_dropout"],
                          target_modules=[*cfg["target_modules"], "intermediate.dense", "output.dense"])
        encoder = get_peft_model(load_encoder(ref), conf)
        set_peft_model_state_dict(encoder, load_file(str(Path(path) / "adapter_model.safetensors")))
        state = load_file(str(Path(path) / "head.safetensors"))
        head = ClassifierHead(state["linear.weight"].shape[1], len(meta["labels"]), 0.1)
        head.linear.load_state_dict({"weight": state["linear.weight"], "bias": state["linear.bias"]})
        torch.manual_seed(0)
        return EncoderClassifier(encoder, head, meta.get("pooling", "mean")), load_tokenizer(ref), meta["labels"], meta

    continual.load_classifier = load


def trainable(task) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in task.named_parameters() if p.requires_grad}


def set_weights(task, start: dict, end: dict, alpha: float) -> None:
    """Parameters = start + alpha x (end - start) (LoRA matrices and head alike)."""
    with torch.no_grad():
        for n, p in task.named_parameters():
            if n in end:
                p.copy_(start[n] + alpha * (end[n] - start[n]) if n in start else end[n])


def train(args, new: list, old: list):
    """The challenger (a soup of ``args.soup`` of them) and the champion's trainable weights."""
    meta = json.loads((CHAMPION / "meta.json").read_text())
    souped, start = [], trainable(continual.load_classifier(CHAMPION)[0])
    for k in range(args.soup):
        seed = args.seed + k
        settings = LoraSettings.from_dict(dict(meta["settings"], lr=args.lr, batch_size=32, seed=seed,
                                               early_stopping_patience=0))
        plan = continual.MixPlan(**dict(json.loads(args.plan), seed=seed))
        trained = mir_train(args, new, old, settings) if args.mir else continual.continue_classifier(
            CHAMPION, new, old, plan, settings)
        souped.append(trainable(trained.task))
    end = {n: sum(s[n] for s in souped) / len(souped) for n in souped[0]}
    set_weights(trained.task, start, end, 1.0)
    return trained, start, end


def mir_train(args, new: list, old: list, settings: LoraSettings):
    """Epoch by epoch (one ``fit`` each): from the second on, half the replay is the old rows of a random pool
    of 3,000 whose current predictions drifted most from the champion's (KL at temperature 2)."""
    from shared.training import fit

    task, tokenizer, labels, meta = continual.load_classifier(CHAMPION)
    index, rng, fresh = {y: i for i, y in enumerate(labels)}, random.Random(settings.seed), {t for t, _ in new}
    teacher = continual.teacher_logits(task, tokenizer, [t for t, _ in old], MAX_LENGTH)
    epochs = json.loads(args.plan).get("epochs", 3)
    for epoch in range(epochs):
        replay = rng.sample(old, len(new)) if epoch == 0 else drifted(task, tokenizer, teacher, old, len(new), args.mir, rng)
        rows = [(t, index[y], teacher.get(t) if t not in fresh else None) for t, y in list(new) + replay]
        run = LoraSettings.from_dict(dict(settings.to_dict(), epochs=1, seed=settings.seed + epoch, max_length=MAX_LENGTH))
        collate = functools.partial(continual.distill_batch, tokenizer, max_length=MAX_LENGTH, n_labels=len(labels))
        fit(continual.Distilled(task, 1.0), rows, collate, run, None, desc="retrain", head_prefix="task.head.")
    return continual.TrainedAdapter(task.encoder, task.head.state_dict(), meta, [], task=task, tokenizer=tokenizer)


def drifted(task, tokenizer, teacher: dict, old: list, n: int, share: float, rng: random.Random) -> list:
    from shared.classifier import predict_logits

    pool = rng.sample(old, 3000)
    now = torch.log_softmax(torch.tensor(predict_logits(task, tokenizer, [t for t, _ in pool], MAX_LENGTH)) / 2, -1)
    then = torch.softmax(torch.tensor(np.array([teacher[t] for t, _ in pool])) / 2, -1)
    top = [pool[i] for i in np.argsort(-(then * (then.log() - now)).sum(-1).numpy())[: int(n * share)]]
    chosen = {t for t, _ in top}
    return top + rng.sample([r for r in old if r[0] not in chosen], n - len(top))


def score(task, tokenizer, labels: list[str], sets: dict, champion: dict) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    from shared.promotion import paired_bootstrap

    row = {}
    task.eval()
    for name, (texts, gold) in sets.items():
        predicted, _ = continual.predict_labels(task, tokenizer, labels, texts, MAX_LENGTH)
        row[name] = [round(accuracy_score(gold, predicted), 4), round(f1_score(gold, predicted, average="macro"), 4)]
        if name == "held_back":
            row["held_back_p"] = round(paired_bootstrap(gold, champion[name], predicted)[1], 4)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", default="0")
    parser.add_argument("--plan", default="{}", help="shared.continual.MixPlan fields as JSON")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=42, help="training seed (data order, dropout, replay sample)")
    parser.add_argument("--interpolate", default="1", help="comma-separated a of champion + a x (challenger - champion)")
    parser.add_argument("--near", type=int, default=0)
    parser.add_argument("--ffn", action="store_true")
    parser.add_argument("--soup", type=int, default=1)
    parser.add_argument("--mir", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "2")))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_data()
    rows = sample_rows(args.sample, data["pool"])
    held = [r for r in rows if held_back(text_hash(r[0]))]
    new = [r for r in rows if not held_back(text_hash(r[0]))]
    frame = load_split("twitter")[0]
    old = list(zip(frame["text"].astype(str).str.strip(), frame["label"]))
    replayed = {t for t, _ in continual.mixed_examples(new, old, continual.MixPlan(**dict(json.loads(args.plan), seed=args.seed)))}
    unseen = random.Random(0).sample([r for r in old if r[0] not in replayed], 2000)
    sets = dict(data["eval"], held_back=([t for t, _ in held], [y for _, y in held]),
                old_unseen=([t for t, _ in unseen], [y for _, y in unseen]))
    if args.ffn:
        widen_to_ffn()
    started = time.perf_counter()
    trained, start, end = train(args, new, old if not args.near else nearest_old(old, new, args.near))
    champion_task = continual.load_classifier(CHAMPION, trainable=False)[0].eval()
    labels, tokenizer = trained.meta["labels"], trained.tokenizer
    champion = {name: continual.predict_labels(champion_task, tokenizer, labels, texts, MAX_LENGTH)[0]
                for name, (texts, _) in sets.items()}
    out = {"args": vars(args), "train_s": round(time.perf_counter() - started)}
    for alpha in [float(a) for a in args.interpolate.split(",")]:
        set_weights(trained.task, start, end, alpha)
        out[str(alpha)] = score(trained.task, tokenizer, labels, sets, champion)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
