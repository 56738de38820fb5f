"""Task 4: token classification (BIO tags) = base encoder + LoRA + a per-token linear head.

Words are split into sub-tokens by the fast tokenizer; ``word_ids()`` tells which word each
sub-token came from. Only the FIRST sub-token of a word carries the word's label (the rest get
-100, ignored by the loss), and at prediction time a word's tag is read from its first
sub-token. Tags are decoded with a BIO-constrained Viterbi (no ``I-X`` after ``O``), and an
entity's score is the mean probability of its words' tags. Raw text is split into words with
character spans first (``split_words``), so every entity maps back to the exact input substring.

    trained = train_tagger(train_sentences, LoraSettings(), dev=dev_sentences)
    save("ner", "orgs", trained)
    get_backbone().tag(["Apple sues Samsung"], key)   # [[{"text": "Apple", "type": "ORG", ...}]]
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from shared.adapters import TrainedAdapter
from shared.conll import Sentence, types_of
from shared.distill import Distillation, align_soft, kd_loss
from shared.entities import chunks, entity_report, tag_set
from shared.lora import wrap
from shared.models import load_encoder, load_tokenizer, resolve
from shared.progress import scoped_bar
from shared.settings import LoraSettings
from shared.training import fit, trainable_parameters
from shared.wordshape import SHAPE_DIM, SHAPES, batch_shapes

log = logging.getLogger(__name__)
IGNORE = -100
# LoRA on every linear layer of the encoder (not the unused pooler) and a large LoRA scale: on MiniLM
# this matched full fine-tuning on short runs (a few hundred steps, the size of the shipped adapters)
# where the classify recipe (r=8 on q/k/v, lr 1e-3) lagged far behind. On longer runs lr 1e-3 is too
# hot: CoNLL-2003 with 3000 sentences (1125 steps) gave 0.783 F1 at 1e-3 and 0.843 at 3e-4, and the full
# 14,041 sentences found no entity at all (bench/results/ner.md). So runs longer than 500 steps scale the
# peak lr by 500/steps, down to 3e-4 (shared.training.peak_lr_scale), and gradients are clipped to norm 1:
# the shipped adapters (250-324 steps) train exactly as before. What `lorasuite train ner` uses by default.
TAG_TARGETS = ["query", "key", "value", "output.dense", "intermediate.dense"]
TAG_DEFAULTS = {"r": 8, "alpha": 128, "lr": 1e-3, "head_lr": 2e-2, "target_modules": TAG_TARGETS,
                "epochs": 5, "batch_size": 8, "long_run_steps": 500, "long_run_lr": 3e-4}
INFER_MAX_LENGTH = 256  # sub-tokens seen at prediction time (training truncates to settings.max_length)
# Raw text -> words the way tagged corpora are tokenised: split on whitespace and "/" (not in URLs),
# then peel punctuation off the edges and "'s" off the end. Inner punctuation stays ("AT&T",
# "£20.50", "Booking.com"), and so does the dot of "U.S.", "J.", "Inc." and the like.
_EDGE = set(".,!?;:()[]{}\"“”‘’'…")
_KEEP_DOT = re.compile(r"^(?:(?:[^\W\d_]\.)+|(?:inc|corp|co|ltd|bros|mr|mrs|ms|dr|jr|sr|st|vs)\.)$", re.IGNORECASE)
_CHUNK = re.compile(r"\S*://\S*|[^\s/]+|/")


def _peel(text: str, start: int, end: int) -> list[tuple[int, int]]:
    lead, trail = [], []
    while end - start > 1 and text[start] in _EDGE and text[start:end].lower() not in ("'s", "’s"):
        lead.append((start, start + 1))
        start += 1
    while end - start > 1:
        piece = text[start:end]
        if piece[-1] in _EDGE and not (piece[-1] == "." and _KEEP_DOT.match(piece)):
            trail.append((end - 1, end))
            end -= 1
        elif len(piece) > 2 and piece[-2] in "'’" and piece[-1] in "sS":
            trail.append((end - 2, end))
            end -= 2
        else:
            break
    return lead + [(start, end)] + trail[::-1]


def split_words(text: str) -> list[tuple[str, int, int]]:
    """Words of a raw text with their character spans: ``text[start:end] == word``."""
    spans = [span for m in _CHUNK.finditer(text) for span in _peel(text, m.start(), m.end())]
    return [(text[s:e], s, e) for s, e in spans]


def align_labels(word_ids: list[int | None], word_labels: list[int]) -> list[int]:
    """Per sub-token labels: the word's label on its first sub-token, -100 elsewhere."""
    out, previous = [], None
    for word in word_ids:
        out.append(IGNORE if word is None or word == previous else word_labels[word])
        previous = word
    return out


def encode_words(tokenizer, token_lists: list[list[str]], max_length: int):
    """Tokenise pre-split sentences (padding, truncation); keeps ``word_ids()``."""
    return tokenizer(token_lists, is_split_into_words=True, truncation=True, max_length=max_length,
                     padding=True, return_tensors="pt")


class TagHead(nn.Module):
    """Dropout then a linear layer from each token state (+ its word-shape embedding) to tag logits.

    ``shape_dim=0`` is the original head (``linear`` only), which adapters trained before the
    shape feature have; ``head_from_state`` rebuilds either kind from the saved weights.
    """

    def __init__(self, hidden: int, n_tags: int, dropout: float = 0.1, shape_dim: int = 0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.shape = nn.Embedding(len(SHAPES), shape_dim) if shape_dim else None
        self.linear = nn.Linear(hidden + shape_dim, n_tags)

    def forward(self, states: torch.Tensor, shape_ids: torch.Tensor | None = None) -> torch.Tensor:
        if self.shape is not None:
            if shape_ids is None:
                shape_ids = torch.zeros(states.shape[:2], dtype=torch.long, device=states.device)
            states = torch.cat([states, self.shape(shape_ids)], dim=-1)
        return self.linear(self.dropout(states))


def head_from_state(state: dict[str, torch.Tensor]) -> TagHead:
    """A TagHead (with or without the shape embedding) from ``head.safetensors`` weights, in eval mode."""
    shape_dim = state["shape.weight"].shape[1] if "shape.weight" in state else 0
    n_tags, width = state["linear.weight"].shape
    head = TagHead(width - shape_dim, n_tags, shape_dim=shape_dim)
    head.load_state_dict(state)
    return head.eval()


class EncoderTagger(nn.Module):
    """An encoder (peft-wrapped or not) and a TagHead; ``forward(batch)`` returns the token loss."""

    def __init__(self, encoder: nn.Module, head: TagHead) -> None:
        super().__init__()
        self.encoder, self.head = encoder, head
        self.loss = nn.CrossEntropyLoss(ignore_index=IGNORE)
        self.kd: tuple[float, float] | None = None  # (temperature, alpha) when a batch carries teacher "soft"

    def logits(self, batch: dict) -> torch.Tensor:
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}
        return self.head(self.encoder(**inputs).last_hidden_state, batch.get("shape_ids"))

    def forward(self, batch: dict) -> torch.Tensor:
        logits = self.logits(batch)
        if "soft" in batch and self.kd:
            return kd_loss(logits, batch["soft"], batch["labels"], *self.kd)
        return self.loss(logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1))


def word_probs(token_lists: list[list[str]], tokenizer, logits_fn, n_tags: int,
               max_length: int = INFER_MAX_LENGTH, batch_size: int = 64) -> list[np.ndarray]:
    """Tag probabilities [n_words, n_tags] per sentence, read at each word's first sub-token.

    A word with no sub-token (truncated, or characters the tokenizer drops) gets ``O`` (index 0).
    """
    out: list[np.ndarray] = []
    for tokens in token_lists:
        empty = np.zeros((len(tokens), n_tags), dtype=np.float32)
        empty[:, 0] = 1.0
        out.append(empty)
    order = sorted((i for i, t in enumerate(token_lists) if t), key=lambda i: -len(token_lists[i]))
    progress = scoped_bar(len(order), unit="sentence")
    with torch.inference_mode(), progress:
        for start in range(0, len(order), batch_size):
            ids = order[start : start + batch_size]
            enc = encode_words(tokenizer, [token_lists[i] for i in ids], max_length)
            batch = dict(enc, shape_ids=batch_shapes(enc, [token_lists[i] for i in ids]))
            probs = torch.softmax(logits_fn(batch).float(), dim=-1).cpu().numpy()
            for row, i in enumerate(ids):
                previous = None
                for pos, word in enumerate(enc.word_ids(row)):
                    if word is not None and word != previous:
                        out[i][word] = probs[row, pos]
                    previous = word
            progress.update(len(ids))
    return out


def _transitions(labels: list[str]) -> np.ndarray:
    """Log-transition matrix allowing only valid BIO moves (``I-X`` only after ``B-X``/``I-X``)."""
    allowed = np.zeros((len(labels), len(labels)))
    for j, cur in enumerate(labels):
        if cur.startswith("I-"):
            for i, prev in enumerate(labels):
                if prev[2:] != cur[2:] or prev == "O":
                    allowed[i, j] = -np.inf
    return allowed


def decode_tags(probs: np.ndarray, labels: list[str]) -> tuple[list[str], np.ndarray]:
    """The most probable valid BIO sequence (Viterbi) and the probability of each chosen tag."""
    if len(probs) == 0:
        return [], np.zeros(0)
    logp = np.log(probs + 1e-12)
    trans = _transitions(labels)
    start = np.array([-np.inf if label.startswith("I-") else 0.0 for label in labels])
    score, back = logp[0] + start, []
    for t in range(1, len(logp)):
        total = score[:, None] + trans
        back.append(total.argmax(0))
        score = total.max(0) + logp[t]
    best = [int(score.argmax())]
    for pointers in reversed(back):
        best.append(int(pointers[best[-1]]))
    best.reverse()
    return [labels[i] for i in best], probs[np.arange(len(best)), best]


def text_entities(text: str, words: list[tuple[str, int, int]], probs: np.ndarray,
                  labels: list[str]) -> list[dict[str, Any]]:
    """Entities of one text: exact substring, type, character span, mean tag probability."""
    tags, chosen = decode_tags(probs, labels)
    found = []
    for kind, first, last in chunks(tags):
        start, end = words[first][1], words[last - 1][2]
        found.append({"text": text[start:end], "type": kind, "start": start, "end": end,
                      "score": round(float(chosen[first:last].mean()), 4)})
    return found


def predict_tags(task: EncoderTagger, tokenizer, token_lists: list[list[str]], labels: list[str],
                 max_length: int = INFER_MAX_LENGTH) -> list[list[str]]:
    """Decoded tags for pre-split sentences with a task model (training-time evaluation, benches)."""
    task.eval()
    probs = word_probs(token_lists, tokenizer, task.logits, len(labels), max_length)
    return [decode_tags(p, labels)[0] for p in probs]


def build_tagger(model: str, n_tags: int, settings: LoraSettings, lora: bool = True):
    """(task model, tokenizer, model ref): the encoder LoRA-wrapped (or fully trainable) + a head."""
    ref = resolve(model)
    tokenizer, base = load_tokenizer(ref), load_encoder(ref)
    if not tokenizer.is_fast:
        raise ValueError(f"{ref.name} has no fast tokenizer; token tagging needs word_ids()")
    torch.manual_seed(settings.seed)
    head = TagHead(base.config.hidden_size, n_tags, settings.dropout, SHAPE_DIM if settings.word_shape else 0)
    return EncoderTagger(wrap(base, settings) if lora else base, head), tokenizer, ref


def length_batches(examples: list[tuple[list[str], list[int]]], batch_size: int) -> list[list]:
    """Examples grouped into batches of similar length (less padding: most of CPU time is padding)."""
    ordered = sorted(examples, key=lambda e: len(e[0]))
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def fit_tagger(task: EncoderTagger, tokenizer, train: list[Sentence], labels: list[str], settings: LoraSettings,
               dev: list[Sentence] | None = None, distill: Distillation | None = None):
    """Train with the shared loop, early-stopping on dev entity F1; returns (FitResult, dev report).

    Batches are made of sentences of similar length and shuffled as wholes by ``fit``. With
    ``distill``, each word's first sub-token also learns the teacher's probabilities (and the
    teacher-labelled ``distill.unlabeled`` sentences join the training set with no hard labels).
    """
    index = {label: i for i, label in enumerate(labels)}

    def collate(batches: list[list[tuple]]) -> dict:
        rows = batches[0]
        enc = encode_words(tokenizer, [r[0] for r in rows], settings.max_length)
        batch = dict(enc, shape_ids=batch_shapes(enc, [r[0] for r in rows]))
        batch["labels"] = torch.tensor([align_labels(enc.word_ids(i), r[1]) for i, r in enumerate(rows)])
        if distill:
            batch["soft"] = torch.stack([align_soft(enc.word_ids(i), r[2], len(labels)) for i, r in enumerate(rows)])
        return batch

    def dev_report() -> dict[str, Any]:
        predicted = predict_tags(task, tokenizer, [s.tokens for s in dev], labels)
        return entity_report([s.tags for s in dev], predicted)

    rows = [(s.tokens, [index[t] for t in s.tags]) for s in train]
    if distill:
        rows = [(*r, p) for r, p in zip(rows + [(u, [IGNORE] * len(u)) for u in distill.unlabeled], distill.soft,
                                         strict=True)]
        task.kd = (settings.distill_temperature, settings.distill_alpha)
    one_per_step = replace(settings, batch_size=1)
    result = fit(task, length_batches(rows, settings.batch_size), collate, one_per_step,
                 (lambda: dev_report()["micro"]["f1"]) if dev else None, desc="tag", floor=0.0 if dev else None)
    return result, dev_report() if dev else None


def train_tagger(train: list[Sentence], settings: LoraSettings | None = None, model: str = "minilm",
                 dev: list[Sentence] | None = None, data_hash: str = "", teacher: str | None = None,
                 unlabeled: list[str] | None = None) -> TrainedAdapter:
    """Train a LoRA BIO tagger; with ``dev``, early-stop on dev entity F1 and record dev metrics.

    With ``teacher`` (adapter ``app/name`` or a base such as ``mpnet``), distil its per-word tag
    probabilities on ``train`` and on the raw ``unlabeled`` texts (``shared.distill``).
    """
    settings = settings or LoraSettings(**TAG_DEFAULTS)
    labels = tag_set(types_of(train))
    distill = None
    if teacher:
        from shared.distill import tag_targets

        extra = [words for words in ([w for w, _, _ in split_words(t)] for t in unlabeled or []) if words]
        distill = tag_targets(teacher, train, dev, settings, data_hash, extra)
    task, tokenizer, ref = build_tagger(model, len(labels), settings)
    result, report = fit_tagger(task, tokenizer, train, labels, settings, dev, distill)
    metrics = {}
    if report:
        micro = report["micro"]
        metrics = {"dev_f1": micro["f1"], "dev_precision": micro["precision"], "dev_recall": micro["recall"],
                   "dev_macro_f1": report["macro_f1"], "dev_entities": micro["support"],
                   "dev_f1_per_type": {k: round(v["f1"], 4) for k, v in report["per_type"].items()}}
    trainable, total = trainable_parameters(task)
    meta = {"task": "tag", "base_model": ref.name, "labels": labels, "types": types_of(train),
            "max_length": settings.max_length, "data_hash": data_hash, "settings": settings.to_dict(),
            "metrics": metrics, "trainable_params": trainable, "total_params": total,
            "train_sentences": len(train), "train_seconds": round(result.seconds, 1), "steps": result.steps,
            "word_shape": settings.word_shape, "shapes": list(SHAPES) if settings.word_shape else None}
    if distill:
        meta["distillation"] = distill.info
    log.info("trained tagger: %d tags, %d/%d trainable params, %s", len(labels), trainable, total, metrics)
    return TrainedAdapter(task.encoder, task.head.state_dict(), meta, result.history, task=task, tokenizer=tokenizer)
