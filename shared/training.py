"""The one training loop every task uses: accelerate, AdamW, warmup, early stopping, seed.

Why our own ~80-line loop rather than transformers' Trainer: our task models are small
composites (a peft encoder plus a head) whose forward returns the loss, and we want early
stopping on an arbitrary dev score and to keep the best weights in memory. The loop goes
through ``accelerate.Accelerator``, so ``accelerate launch`` / ``torchrun`` scale it across
GPUs unchanged, and on a laptop it is a plain CPU loop.

    result = fit(model, examples, collate, settings, evaluate=lambda: dev_macro_f1(model))
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from shared.settings import LoraSettings

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What a training run produced besides the (updated, best-restored) model."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_dev: float | None = None
    best_step: int = 0
    seconds: float = 0.0
    steps: int = 0


def set_seed(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) for a repeatable run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def trainable_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _restore(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name in state:
                param.copy_(state[name])


def _optimizer(model: nn.Module, settings: LoraSettings, head_prefix: str) -> torch.optim.Optimizer:
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith(head_prefix)]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(head_prefix)]
    groups = [{"params": body, "lr": settings.lr}]
    if head:
        groups.append({"params": head, "lr": settings.head_lr or settings.lr})
    return torch.optim.AdamW(groups, weight_decay=settings.weight_decay)


def fit(model: nn.Module, examples: Sequence[Any], collate: Callable[[list[Any]], dict], settings: LoraSettings,
        evaluate: Callable[[], float] | None = None, desc: str = "train", head_prefix: str = "head.") -> FitResult:
    """Train ``model`` (whose ``forward(batch)`` returns a loss) and keep the best dev weights."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from shared import progress

    set_seed(settings.seed)
    accelerator = Accelerator()
    loader = torch.utils.data.DataLoader(list(examples), batch_size=settings.batch_size, shuffle=True,
                                         collate_fn=collate, generator=torch.Generator().manual_seed(settings.seed))
    optimizer = _optimizer(model, settings, head_prefix)
    total = settings.epochs * len(loader)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(settings.warmup_ratio * total), total)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    eval_every = max(1, math.ceil(len(loader) / settings.evals_per_epoch))
    result, best_state, stale, start = FitResult(), None, 0, time.perf_counter()
    bar = tqdm(total=total, desc=desc, disable=True if not accelerator.is_local_main_process else progress.disable(),
               mininterval=5, leave=False)
    for epoch in range(settings.epochs):
        model.train()
        for i, batch in enumerate(loader):
            loss = model(batch)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            result.steps += 1
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.4f}")
            result.history.append({"step": result.steps, "epoch": epoch + 1, "loss": float(loss.item())})
            last = i == len(loader) - 1
            if evaluate is None or not ((i + 1) % eval_every == 0 or last):
                continue
            model.eval()
            score = float(evaluate())
            model.train()
            result.history[-1]["dev"] = score
            log.info("%s epoch %d step %d dev %.4f", desc, epoch + 1, result.steps, score)
            if result.best_dev is None or score > result.best_dev + 1e-6:
                result.best_dev, result.best_step, stale = score, result.steps, 0
                best_state = _snapshot(accelerator.unwrap_model(model))
            else:
                stale += 1
            if settings.early_stopping_patience and stale >= settings.early_stopping_patience:
                log.info("%s: early stop at step %d (best %.4f at %d)", desc, result.steps, result.best_dev,
                         result.best_step)
                break
        else:
            continue
        break
    bar.close()
    model = accelerator.unwrap_model(model)
    if best_state is not None:
        _restore(model, best_state)
    model.eval()
    result.seconds = time.perf_counter() - start
    return result
