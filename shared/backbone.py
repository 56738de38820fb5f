"""ONE base model in memory serving many named LoRA adapters, safe across threads.

Adapters are loaded into the same peft model (``load_adapter``) and picked per call
(``set_adapter``); because the active adapter is model-wide state, every forward pass holds
the backbone's lock, so concurrent requests are serialised and never see each other's adapter.
``adapter=None`` runs the plain base model (adapters disabled).

    bb = get_backbone()                      # the process-wide MiniLM, loaded once
    key = bb.load("support", "intent")       # from the adapter registry
    bb.classify(["I lost my card"], key)     # -> [Prediction(label, score, probs)]
    bb.tag(["Apple sues Samsung"], ner_key)  # -> [[{"text", "type", "start", "end", "score"}]]
    bb.encode(["text"])                      # base embeddings (unit vectors)
    get_backbone("smollm2").generate("Hi")   # causal LMs serve generate()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shared import adapters
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


class Backbone:
    """A base model plus named adapters; encode/classify/generate per adapter under a lock."""

    def __init__(self, model: str = "minilm", causal: bool = False) -> None:
        self.ref = resolve(model)
        self.causal = causal
        self.tokenizer = load_tokenizer(self.ref)
        self.base = load_causal_lm(self.ref) if causal else load_encoder(self.ref)
        self.pooling = "mean" if causal else pooling_mode(self.ref)
        self.model: Any = self.base  # becomes a PeftModel once an adapter is loaded
        self.heads: dict[str, torch.nn.Module] = {}
        self.metas: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    @property
    def adapter_names(self) -> list[str]:
        return list(self.metas)

    def load(self, app: str, name: str) -> str:
        """Load a registry adapter once; returns its key (``app__name``)."""
        key = f"{app}__{name}"
        if key not in self.metas:
            self.add_adapter(key, adapters.find(app, name))
        return key

    def add_adapter(self, key: str, path: str | Path) -> None:
        """Load the adapter directory at ``path`` under ``key`` (replacing one of that key)."""
        from peft import PeftModel

        meta = adapters.read_meta(path)
        with self._lock:
            if key in self.metas:
                self.model.delete_adapter(key)
            try:
                if self.model is self.base:
                    self.model = PeftModel.from_pretrained(self.base, str(path), adapter_name=key)
                else:
                    self.model.load_adapter(str(path), adapter_name=key)
                self.heads[key] = self._load_head(Path(path)) if meta.get("task") in _HEADED else None
            except Exception as err:  # noqa: BLE001 - a damaged adapter is a user-fixable problem
                self.metas.pop(key, None)
                raise LorasuiteError(f"adapter at {path} cannot be loaded ({err}); retrain or delete it") from err
            self.metas[key] = meta
        log.info("loaded adapter %s (%s) from %s", key, meta.get("task"), path)

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

    def _activate(self, key: str | None):
        """Context for a forward pass with ``key`` active (or adapters disabled)."""
        if key is None:
            return self.model.disable_adapter() if self.model is not self.base else _null()
        if key not in self.metas:
            raise LorasuiteError(f"adapter {key!r} is not loaded; loaded: {self.adapter_names}")
        self.model.set_adapter(key)
        return _null()

    def _pooled(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        out = self.model(**inputs, output_hidden_states=self.causal)
        hidden = out.hidden_states[-1] if self.causal else out.last_hidden_state
        return pool(hidden, batch["attention_mask"], self.pooling)

    def encode(self, texts: list[str], adapter: str | None = None, batch_size: int = 64,
               normalize: bool = True, max_length: int = 256) -> np.ndarray:
        """Sentence vectors (unit length unless ``normalize=False``) with the adapter active."""
        if adapter is not None and adapter in self.metas:
            max_length = self.metas[adapter].get("max_length", max_length)
        with self._lock, self._activate(adapter):
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
        meta = self.metas.get(adapter)
        if meta is None or meta.get("task") != "classify" or self.heads.get(adapter) is None:
            raise LorasuiteError(f"adapter {adapter!r} is not a loaded classifier")
        labels, head = meta["labels"], self.heads[adapter]
        if not texts:
            return labels, np.zeros((0, len(labels)), dtype=np.float32)
        with self._lock, self._activate(adapter):
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

        meta = self.metas.get(adapter)
        if meta is None or meta.get("task") != "tag" or self.heads.get(adapter) is None:
            raise LorasuiteError(f"adapter {adapter!r} is not a loaded token tagger")
        labels, head = meta["labels"], self.heads[adapter]
        length = max(int(meta.get("max_length", 64)), INFER_MAX_LENGTH)
        with self._lock, self._activate(adapter):
            shaped = meta.get("word_shape", False)
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
                with self._lock, self._activate(adapter), torch.inference_mode():
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
