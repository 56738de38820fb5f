"""The in-batch contrastive bi-encoder module (InfoNCE over one LoRA encoder), as a plain nn.Module.

Used where a bi-encoder is trained or scored with shared.training.fit rather than with
sentence-transformers: the warm-start retrain of the learning loop (shared.continual, which
continues the champion's own peft weights) and the comparison loop in bench/biencoder_loop.py.
First-time training goes through shared.biencoder (SentenceTransformerTrainer); both write and
read the same adapter folders.

    task = BiEncoder(peft_encoder, "mean", temperature=0.05)
    loss = task({"query": enc_q, "positive": enc_p, "positive_ids": ids})
    vectors = task.embed(enc_q)          # L2-normalised pooled embeddings
"""

from __future__ import annotations

import torch
from torch import nn

from shared.lora import pooled_hidden


class BiEncoder(nn.Module):
    """Shared LoRA encoder; ``forward(batch)`` returns the in-batch contrastive loss.

    Each row is (query, positive); the other rows' positives are its negatives, except rows with
    the same positive (``positive_ids`` equal), which are masked out."""

    def __init__(self, encoder: nn.Module, pooling: str, temperature: float) -> None:
        super().__init__()
        self.encoder, self.pooling, self.temperature = encoder, pooling, temperature

    def embed(self, batch: dict) -> torch.Tensor:
        return nn.functional.normalize(pooled_hidden(self.encoder, batch, self.pooling), dim=-1)

    def forward(self, batch: dict) -> torch.Tensor:
        queries, positives = self.embed(batch["query"]), self.embed(batch["positive"])
        scores = queries @ positives.T / self.temperature
        same = batch["positive_ids"][:, None] == batch["positive_ids"][None, :]
        scores = scores.masked_fill(same & ~torch.eye(len(scores), dtype=torch.bool), float("-inf"))
        return nn.functional.cross_entropy(scores, torch.arange(len(scores)))
