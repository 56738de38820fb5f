"""LoraSettings: every knob of a LoRA training run, validated when it is made.

Defaults are the ones the benchmark (``bench/finetune.py``) found good for the 22M MiniLM;
override only what changes, e.g. ``LoraSettings(epochs=3, lr=5e-4)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TASKS = ("classify", "biencoder", "causal", "tag")
ENCODER_TARGETS = ["query", "key", "value", "attention.output.dense"]


@dataclass
class LoraSettings:
    """Settings of one LoRA training run (peft + our loop)."""

    r: int = field(default=8, metadata={"help": "LoRA rank"})
    alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator (scale = alpha / r)"})
    dropout: float = field(default=0.1, metadata={"help": "dropout on the LoRA path"})
    target_modules: list[str] | str = field(default_factory=lambda: list(ENCODER_TARGETS))
    lr: float = field(default=1e-3, metadata={"help": "peak learning rate (LoRA and head)"})
    head_lr: float | None = field(default=None, metadata={"help": "head learning rate (default: lr)"})
    epochs: int = 4
    batch_size: int = 32
    max_length: int = 64
    seed: int = 42
    class_weighting: bool = field(default=False, metadata={"help": "inverse-frequency loss weights"})
    early_stopping_patience: int = field(default=2, metadata={"help": "evals without dev gain; 0 = off"})
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    temperature: float = field(default=0.05, metadata={"help": "bi-encoder contrastive temperature"})
    evals_per_epoch: int = 1
    head_init: str = field(default="probe", metadata={
        "help": "probe = fit the head by logistic regression on frozen embeddings first (LP-FT), random = no"})
    max_grad_norm: float | None = field(default=1.0, metadata={"help": "gradient clipping norm; 0/None = off"})
    long_run_steps: int = field(default=0, metadata={
        "help": "runs longer than this many steps scale the peak lr by long_run_steps/steps, down to long_run_lr; 0 = off"})
    long_run_lr: float | None = field(default=None, metadata={"help": "the lowest peak lr of a long run"})
    max_minutes: float | None = field(default=None, metadata={
        "help": "time budget: stop after this many minutes, keeping the best weights; 0/None = off"})
    distill_temperature: float = field(default=2.0, metadata={"help": "distillation: softmax temperature T"})
    distill_alpha: float = field(default=0.5, metadata={
        "help": "distillation: weight of the KL to the teacher (1 - alpha on the hard labels)"})
    word_shape: bool = field(default=True, metadata={
        "help": "tag task: feed each word's shape (caps, title, lower, digits, punct, mixed) to the head"})

    def __post_init__(self) -> None:
        checks = [
            (self.r >= 1, f"r must be >= 1, got {self.r}"),
            (self.alpha > 0, f"alpha must be > 0, got {self.alpha}"),
            (0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (self.head_lr is None or self.head_lr > 0, f"head_lr must be > 0, got {self.head_lr}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (8 <= self.max_length <= 8192, f"max_length must be in [8, 8192], got {self.max_length}"),
            (0.0 <= self.warmup_ratio < 1.0, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}"),
            (self.early_stopping_patience >= 0, "early_stopping_patience must be >= 0"),
            (self.temperature > 0, f"temperature must be > 0, got {self.temperature}"),
            (self.evals_per_epoch >= 1, f"evals_per_epoch must be >= 1, got {self.evals_per_epoch}"),
            (bool(self.target_modules), "target_modules must name at least one module"),
            (self.head_init in ("probe", "random"), f"head_init must be 'probe' or 'random', got {self.head_init!r}"),
            (self.max_grad_norm is None or self.max_grad_norm >= 0, f"max_grad_norm must be >= 0, got {self.max_grad_norm}"),
            (self.long_run_steps >= 0, f"long_run_steps must be >= 0, got {self.long_run_steps}"),
            (self.long_run_lr is None or self.long_run_lr > 0, f"long_run_lr must be > 0, got {self.long_run_lr}"),
            (self.max_minutes is None or self.max_minutes >= 0, f"max_minutes must be >= 0, got {self.max_minutes}"),
            (self.distill_temperature > 0, f"distill_temperature must be > 0, got {self.distill_temperature}"),
            (0.0 <= self.distill_alpha <= 1.0, f"distill_alpha must be in [0, 1], got {self.distill_alpha}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LoraSettings:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)
