"""Wrap a base model with a fresh LoRA adapter (peft), and describe the result.

    peft_model = wrap(base, LoraSettings(r=8))
"""

from __future__ import annotations

from torch import nn

from shared.settings import LoraSettings


def wrap(base: nn.Module, settings: LoraSettings, task_type: str | None = None):
    """A PeftModel around ``base`` with one trainable LoRA adapter named ``default``."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=settings.target_modules, bias="none", task_type=task_type)
    return get_peft_model(base, config)


def pooled_hidden(encoder: nn.Module, batch: dict, pooling: str):
    """Sentence vectors from an encoder (peft-wrapped or not) for a tokenised batch."""
    from shared.models import pool

    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}
    hidden = encoder(**inputs).last_hidden_state
    return pool(hidden, batch["attention_mask"], pooling)
