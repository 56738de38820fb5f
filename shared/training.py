"""The one training loop every task uses: accelerate, AdamW, warmup, clipping, early stopping, seed.

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

from shared.errors import LorasuiteError
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


def peak_lr_scale(settings: LoraSettings, total_steps: int) -> float:
    """How much a long run lowers its peak lr: ``long_run_steps / steps``, no lower than ``long_run_lr``.

    A lr that suits a few hundred steps is too hot for thousands (CoNLL-2003 NER: lr 1e-3 stalls at
    3,000 sentences and found no entity on the full 14,041; 3e-4 trains well; bench/results/ner.md).
    """
    if not settings.long_run_steps or total_steps <= settings.long_run_steps:
        return 1.0
    lowest = (settings.long_run_lr or settings.lr) / settings.lr
    return min(1.0, max(lowest, settings.long_run_steps / total_steps))


class LossGuard:
    """Fails a run whose loss is NaN/inf, or whose mean loss over a window climbs to 1.5x the best window.

    Windows end at each dev evaluation (or epoch end); windows under ``min_window`` steps are too
    noisy to judge and only count towards the next one.
    """

    def __init__(self, desc: str, factor: float = 1.5, min_window: int = 25) -> None:
        self.desc, self.factor, self.min_window, self.window, self.best = desc, factor, min_window, [], None

    def step(self, loss: float, step: int) -> None:
        if not math.isfinite(loss):
            raise LorasuiteError(f"{self.desc}: the training loss became {loss} at step {step}; nothing was saved "
                                 "(lower --lr, or check the data for empty or huge inputs)")
        self.window.append(loss)

    def check(self) -> None:
        """Close a window (at each dev evaluation or epoch end)."""
        if len(self.window) < self.min_window:
            return
        mean, self.window = float(np.mean(self.window)), []
        if self.best is not None and mean > self.factor * self.best and mean > self.best + 0.05:
            raise LorasuiteError(f"{self.desc}: the training loss climbed from {self.best:.4f} to {mean:.4f} "
                                 "(diverging); nothing was saved: lower --lr")
        self.best = mean if self.best is None else min(self.best, mean)


def _check_floor(result: FitResult, floor: float | None, desc: str) -> None:
    if floor is None or result.best_dev is None or result.best_dev > floor + 1e-6:
        return
    raise LorasuiteError(f"{desc}: the dev score never rose above its floor {floor:.4f} (what a model that predicts "
                         f"nothing or the majority label scores) in {result.steps} steps; nothing was saved "
                         "(lower --lr, train longer, or check the labels)")


def _optimizer_for(model: nn.Module, settings: LoraSettings, head_prefix: str, total: int) -> torch.optim.Optimizer:
    optimizer = _optimizer(model, settings, head_prefix)
    scale = peak_lr_scale(settings, total)
    if scale < 1.0:
        for group in optimizer.param_groups:
            group["lr"] *= scale
        log.info("long run (%d steps): peak lr scaled by %.3f to %.2e", total, scale, optimizer.param_groups[0]["lr"])
    return optimizer


def fit(model: nn.Module, examples: Sequence[Any], collate: Callable[[list[Any]], dict], settings: LoraSettings,
        evaluate: Callable[[], float] | None = None, desc: str = "train", head_prefix: str = "head.",
        floor: float | None = None) -> FitResult:
    """Train ``model`` (whose ``forward(batch)`` returns a loss) and keep the best dev weights.

    Gradients are clipped to ``settings.max_grad_norm``; ``settings.max_minutes`` stops early (best
    weights kept). A NaN or climbing loss, or (with ``floor``) a dev score that never rises above
    ``floor``, raises LorasuiteError: the caller saves nothing.
    """
    from accelerate import Accelerator
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from shared import progress

    set_seed(settings.seed)
    accelerator = Accelerator()
    loader = torch.utils.data.DataLoader(list(examples), batch_size=settings.batch_size, shuffle=True,
                                         collate_fn=collate, generator=torch.Generator().manual_seed(settings.seed))
    total = settings.epochs * len(loader)
    optimizer = _optimizer_for(model, settings, head_prefix, total)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(settings.warmup_ratio * total), total)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    run = _Run(model, accelerator, settings, evaluate, desc, math.ceil(len(loader) / settings.evals_per_epoch), floor)
    run.plan(len(examples), len(loader))
    bar = tqdm(total=total, desc=desc, disable=True if not accelerator.is_local_main_process else progress.disable(),
               mininterval=5, leave=False)
    for epoch in range(settings.epochs):
        model.train()
        for i, batch in enumerate(loader):
            loss = model(batch)
            accelerator.backward(loss)
            if settings.max_grad_norm:
                accelerator.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.4f}")
            if run.after_step(float(loss.item()), epoch, i, last=i == len(loader) - 1):
                break
        else:
            continue
        break
    bar.close()
    return run.finish()


class _Run:
    """The bookkeeping of one ``fit``: history, dev evaluations, early stopping, time budget, guards."""

    def __init__(self, model: nn.Module, accelerator: Any, settings: LoraSettings,
                 evaluate: Callable[[], float] | None, desc: str, eval_every: int, floor: float | None) -> None:
        self.model, self.accelerator, self.settings, self.evaluate = model, accelerator, settings, evaluate
        self.desc, self.eval_every, self.floor = desc, max(1, eval_every), floor
        self.result, self.best_state, self.stale = FitResult(), None, 0
        self.start, self.guard = time.perf_counter(), LossGuard(desc)
        self.total = 0

    def plan(self, examples: int, per_epoch: int) -> None:
        """Say what will run before it runs (the estimate follows after the first steps)."""
        s = self.settings
        self.total = s.epochs * per_epoch
        budget = f", stops after {s.max_minutes:g} min" if s.max_minutes else ""
        log.info("%s plan: %d examples, %d epoch(s) x %d batches of %d = %d steps, dev every %d steps%s",
                 self.desc, examples, s.epochs, per_epoch, s.batch_size, self.total, self.eval_every, budget)

    def _estimate(self) -> None:
        per_step = (time.perf_counter() - self.start) / self.result.steps
        minutes = per_step * self.total / 60
        capped = f" (the {self.settings.max_minutes:g} min budget applies)" if (
            self.settings.max_minutes and minutes > self.settings.max_minutes) else ""
        log.info("%s estimate: about %.1f min for %d steps at %.2f s/step%s", self.desc, minutes, self.total,
                 per_step, capped)

    def _over_budget(self) -> bool:
        budget = self.settings.max_minutes
        return bool(budget) and time.perf_counter() - self.start > 60 * budget

    def after_step(self, loss: float, epoch: int, i: int, last: bool) -> bool:
        """Record step ``i`` of ``epoch``; evaluate when due. True = stop (early stop or time budget)."""
        self.result.steps += 1
        if self.result.steps == min(10, self.total) and self.total:
            self._estimate()
        self.guard.step(loss, self.result.steps)
        self.result.history.append({"step": self.result.steps, "epoch": epoch + 1, "loss": loss})
        over = self._over_budget()
        if over:
            log.info("%s: time budget of %s min reached at step %d", self.desc, self.settings.max_minutes,
                     self.result.steps)
        if not (last or over or (i + 1) % self.eval_every == 0):
            return False
        self.guard.check()
        if self.evaluate is None:
            return over
        return self._evaluate(epoch) or over

    def _evaluate(self, epoch: int) -> bool:
        self.model.eval()
        score = float(self.evaluate())
        self.model.train()
        result = self.result
        result.history[-1]["dev"] = score
        log.info("%s epoch %d step %d dev %.4f", self.desc, epoch + 1, result.steps, score)
        if result.best_dev is None or score > result.best_dev + 1e-6:
            result.best_dev, result.best_step, self.stale = score, result.steps, 0
            self.best_state = _snapshot(self.accelerator.unwrap_model(self.model))
        elif self.floor is None or result.best_dev > self.floor + 1e-6:  # no early stop while still at the floor
            self.stale += 1
        patience = self.settings.early_stopping_patience
        if patience and self.stale >= patience:
            log.info("%s: early stop at step %d (best %.4f at %d)", self.desc, result.steps, result.best_dev,
                     result.best_step)
            return True
        return False

    def finish(self) -> FitResult:
        _check_floor(self.result, self.floor, self.desc)
        model = self.accelerator.unwrap_model(self.model)
        if self.best_state is not None:
            _restore(model, self.best_state)
        model.eval()
        self.result.seconds = time.perf_counter() - self.start
        return self.result
