"""ONE base model in memory serving many named LoRA adapters, safe across threads.

Adapters are loaded into the same peft model (``load_adapter``) and picked per call
(``set_adapter``); because the active adapter is model-wide state, every forward pass holds
the backbone's lock, so concurrent requests are serialised and never see each other's adapter.
Adapters are named by registry reference and follow the champion (see ``Backbone``).
``adapter=None`` runs the plain base model (adapters disabled).

    bb = get_backbone()                           # the process-wide MiniLM, loaded once
    bb.classify(["I lost my card"], "support/intent")   # -> [Prediction(label, score, probs)]
    bb.tag(["Apple sues Samsung"], "ner/orgs")    # -> [[{"text", "type", "start", "end", "score"}]]
    bb.use("sentiment/finance@2")                 # load now (fails here if it does not exist)
    bb.encode(["text"])                      # base embeddings (unit vectors)
    get_backbone("smollm2").generate("Hi")   # causal LMs serve generate()
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shared import adapters, registry
from shared.errors import LorasuiteError
from shared.inference import run_batched
from shared.models import load_causal_lm, load_encoder, load_tokenizer, pool, pooling_mode, resolve

log = logging.getLogger(__name__)


@dataclass
class Prediction:
    """One classification: the top label, its calibrated probability, all probabilities."""

    label: str
    score: float
    probs: dict[str, float]

    @property
    def margin(self) -> float:
        """Top probability minus the second (how sure, relative to the runner-up)."""
        top = sorted(self.probs.values(), reverse=True)
        return top[0] - (top[1] if len(top) > 1 else 0.0)


@dataclass
class _Live:
    """The version a reference is served from right now."""

    slot: str  # the peft adapter name inside the model
    path: Path
    stamp: tuple


class Backbone:
    """A base model plus adapters that follow the registry; every forward pass under one lock.

    Methods take an adapter reference (``APP/NAME`` follows the champion, ``APP/NAME@N`` is
    pinned, or a folder path). Under the lock, before each forward pass, the reference is
    checked against the registry (a stat or two): when it now means other weights (a promotion,
    a rollback, a retrain in place) the new ones are loaded and the old ones unloaded with peft's
    ``delete_adapter``, so a request never sees half a switch and memory does not grow.
    """

    def __init__(self, model: str = "minilm", causal: bool = False) -> None:
        self.ref = resolve(model)
        self.causal = causal
        self.tokenizer = load_tokenizer(self.ref)
        self.base = load_causal_lm(self.ref) if causal else load_encoder(self.ref)
        self.pooling = "mean" if causal else pooling_mode(self.ref)
        self.model: Any = self.base  # becomes a PeftModel once an adapter is loaded
        self.heads: dict[str, torch.nn.Module | None] = {}
        self.metas: dict[str, dict[str, Any]] = {}  # by slot
        self._live: dict[str, _Live] = {}  # by reference
        self._aliases: dict[str, str] = {}  # add_adapter's keys -> references
        self._slots = itertools.count(1)
        self._lock = threading.RLock()
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    @property
    def adapter_names(self) -> list[str]:
        """The references currently served."""
        return list(self._live)

    def use(self, ref: str, app: str | None = None) -> str:
        """Load what ``ref`` means now (raises when it means nothing); returns the reference to pass on."""
        canonical = str(registry.parse_ref(ref, app))
        with self._lock:
            self._slot(canonical)
        return canonical

    def load(self, app: str, name: str) -> str:
        """``use`` for a registry adapter by app and name (``name@N`` pins a version)."""
        return self.use(name, app)

    def add_adapter(self, key: str, path: str | Path) -> str:
        """Serve the adapter folder at ``path``; ``key`` is kept as an alias of its reference."""
        ref = self.use(str(Path(path).resolve()))
        with self._lock:
            self._aliases[key] = ref
        return ref

    def meta(self, ref: str) -> dict[str, Any]:
        """The meta.json of the version ``ref`` is served from."""
        with self._lock:
            return self.metas[self._slot(ref)]

    def _slot(self, ref: str | None) -> str | None:
        """The peft adapter serving ``ref``, (re)loaded when the registry moved (lock held)."""
        if ref is None:
            return None
        ref = self._aliases.get(ref, ref)
        live = self._live.get(ref)
        stamp = registry.stamp(ref)
        if live is not None and live.stamp == stamp:
            return live.slot
        version = registry.resolve(ref)
        if live is not None and live.path == version.path and version.source != "path":
            self._live[ref] = _Live(live.slot, live.path, stamp)
            return live.slot
        slot = f"a{next(self._slots)}"
        self._load_slot(slot, version.path)
        self._live[ref] = _Live(slot, version.path, stamp)
        if live is not None and all(other.slot != live.slot for other in self._live.values()):
            self.model.set_adapter(slot)  # never delete the active adapter
            self._unload(live.slot)
        log.info("serving %s from %s", ref, version.path)
        return slot

    def _load_slot(self, slot: str, path: Path) -> None:
        from peft import PeftModel

        meta = adapters.read_meta(path)
        try:
            if self.model is self.base:
                self.model = PeftModel.from_pretrained(self.base, str(path), adapter_name=slot)
            else:
                self.model.load_adapter(str(path), adapter_name=slot)
            self.heads[slot] = self._load_head(path) if meta.get("task") in _HEADED else None
        except Exception as err:  # noqa: BLE001 - a damaged adapter is a user-fixable problem
            if self.model is not self.base and slot in self.model.peft_config:
                self.model.delete_adapter(slot)
            raise LorasuiteError(f"adapter at {path} cannot be loaded ({err}); retrain or delete it") from err
        self.metas[slot] = meta

    def _unload(self, slot: str) -> None:
        """Free an adapter nothing serves any more (peft ``delete_adapter``)."""
        self.model.delete_adapter(slot)
        self.heads.pop(slot, None)
        self.metas.pop(slot, None)
        log.info("unloaded adapter slot %s", slot)

    def _load_head(self, path: Path) -> torch.nn.Module:
        """The Linear of a classify (pooled vector) or tag (each token state) head."""
        from safetensors.torch import load_file

        state = load_file(str(path / "head.safetensors"))
        if "shape.weight" in state:  # a tag head with the word-shape feature (shared.wordshape)
            from shared.tagging import head_from_state

            return head_from_state(state)
        weight = state["linear.weight"]
        head = torch.nn.Linear(weight.shape[1], weight.shape[0])
        head.load_state_dict({"weight": weight, "bias": state["linear.bias"]})
        return head.eval()

    def _activate(self, ref: str | None) -> tuple[str | None, Any]:
        """(slot, context) for a forward pass with ``ref`` active, or adapters disabled (lock held)."""
        slot = self._slot(ref)
        if slot is None:
            return None, (self.model.disable_adapter() if self.model is not self.base else _null())
        self.model.set_adapter(slot)
        return slot, _null()

    def _pooled(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        out = self.model(**inputs, output_hidden_states=self.causal)
        hidden = out.hidden_states[-1] if self.causal else out.last_hidden_state
        return pool(hidden, batch["attention_mask"], self.pooling)

    def encode(self, texts: list[str], adapter: str | None = None, batch_size: int = 64,
               normalize: bool = True, max_length: int = 256) -> np.ndarray:
        """Sentence vectors (unit length unless ``normalize=False``) with the adapter active."""
        with self._lock:
            slot, context = self._activate(adapter)
            if slot is not None:
                max_length = self.metas[slot].get("max_length", max_length)
            with context:
                vectors = run_batched(texts, self.tokenizer, self._pooled, batch_size, max_length)
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    @property
    def dim(self) -> int:
        return int(self.base.config.hidden_size)

    def classify_probs(self, texts: list[str], adapter: str) -> tuple[list[str], np.ndarray]:
        """Label names and calibrated probabilities [n_texts, n_labels]."""
        with self._lock:
            slot, context = self._activate(adapter)
            meta, head = self.metas.get(slot, {}), self.heads.get(slot)
            if meta.get("task") != "classify" or head is None:
                raise LorasuiteError(f"adapter {adapter!r} is not a classifier")
            labels = meta["labels"]
            if not texts:
                return labels, np.zeros((0, len(labels)), dtype=np.float32)
            with context:
                logits = run_batched(texts, self.tokenizer, lambda b: head(self._pooled(b)), 64, meta["max_length"])
        z = logits / float(meta.get("temperature", 1.0))
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return labels, z / z.sum(axis=1, keepdims=True)

    def classify(self, texts: list[str], adapter: str) -> list[Prediction]:
        """The top label and calibrated probabilities for each text."""
        labels, probs = self.classify_probs(texts, adapter)
        return [Prediction(labels[int(row.argmax())], float(row.max()), dict(zip(labels, map(float, row))))
                for row in probs]

    def tag_probs(self, token_lists: list[list[str]], adapter: str) -> tuple[list[str], list[np.ndarray]]:
        """Tag names and, per sentence of pre-split words, probabilities [n_words, n_tags]."""
        from shared.tagging import INFER_MAX_LENGTH, word_probs

        with self._lock:
            slot, context = self._activate(adapter)
            meta, head = self.metas.get(slot, {}), self.heads.get(slot)
            if meta.get("task") != "tag" or head is None:
                raise LorasuiteError(f"adapter {adapter!r} is not a token tagger")
            labels = meta["labels"]
            length = max(int(meta.get("max_length", 64)), INFER_MAX_LENGTH)
            shaped = meta.get("word_shape", False)
            with context:
                probs = word_probs(token_lists, self.tokenizer,
                                   lambda b: head(self._hidden(b), b["shape_ids"]) if shaped else head(self._hidden(b)),
                                   len(labels), length)
        return labels, probs

    def tag(self, texts: list[str], adapter: str) -> list[list[dict[str, Any]]]:
        """Entities per text: ``{"text", "type", "start", "end", "score"}``, offsets into the text."""
        from shared.tagging import split_words, text_entities

        words = [split_words(text) for text in texts]
        labels, probs = self.tag_probs([[w for w, _, _ in ws] for ws in words], adapter)
        return [text_entities(text, ws, p, labels) for text, ws, p in zip(texts, words, probs, strict=True)]

    def _hidden(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        return self.model(**inputs).last_hidden_state

    def generate(self, prompt: str, adapter: str | None = None, max_new_tokens: int = 128,
                 system: str | None = None) -> str:
        """Greedy generation from a causal backbone (chat template applied when the model has one)."""
        return "".join(self.stream(prompt, adapter, max_new_tokens, system))

    def stream(self, prompt: str, adapter: str | None = None, max_new_tokens: int = 128,
               system: str | None = None) -> Iterator[str]:
        """Yield generated text piece by piece (greedy; the lock is held while generating)."""
        if not self.causal:
            raise LorasuiteError(f"{self.ref.name} is an encoder; generate() needs a causal LM backbone")
        from transformers import TextIteratorStreamer

        from shared.causal import format_prompt

        encoded = self.tokenizer(format_prompt(self.tokenizer, prompt, system), return_tensors="pt")
        ids = {k: encoded[k] for k in ("input_ids", "attention_mask")}  # causal LMs take no token_type_ids
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                with self._lock:
                    _, context = self._activate(adapter)
                    with context, torch.inference_mode():
                        self.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer,
                                            pad_token_id=self.tokenizer.pad_token_id)
            except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread below
                errors.append(err)
                streamer.on_finalized_text("", stream_end=True)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        yield from streamer
        thread.join()
        if errors:
            raise errors[0]


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_HEADED = ("classify", "tag")  # tasks whose adapter directory holds a head.safetensors
_BACKBONES: dict[tuple[str, bool], Backbone] = {}
_BACKBONES_LOCK = threading.Lock()


def get_backbone(model: str = "minilm", causal: bool | None = None) -> Backbone:
    """The process-wide backbone for ``model`` (loaded on first use, then shared)."""
    causal = (model == "smollm2") if causal is None else causal
    with _BACKBONES_LOCK:
        key = (model, causal)
        if key not in _BACKBONES:
            _BACKBONES[key] = Backbone(model, causal=causal)
        return _BACKBONES[key]


def reset_backbones() -> None:
    """Forget the cached backbones (tests)."""
    with _BACKBONES_LOCK:
        _BACKBONES.clear()


def backbone_for(base_model: str | None, preferred: Backbone | None = None) -> Backbone:
    """The backbone that serves adapters trained on ``base_model``: ``preferred`` (the context's)
    when it is that model, else the process-wide one for it."""
    base_model = base_model or "minilm"
    if preferred is not None and base_model in (preferred.ref.name, preferred.ref.location):
        return preferred
    return get_backbone(base_model)
