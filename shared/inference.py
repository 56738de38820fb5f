"""Fast batched inference over texts: length-sorted batches under ``torch.inference_mode``.

Sorting by length before batching means each batch pads to similar lengths, which on CPU is
most of the speed-up; the outputs are put back in input order. A progress bar shows when
``desc`` is given or the call is inside a ``shared.progress.progress`` block (and bars are on).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


def tokenize(tokenizer, texts: Sequence[str], max_length: int) -> dict[str, torch.Tensor]:
    """Tokenise a batch with padding and truncation to ``max_length``."""
    return tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")


def run_batched(texts: Sequence[str], tokenizer, forward: Callable[[dict[str, torch.Tensor]], torch.Tensor],
                batch_size: int = 64, max_length: int = 128, desc: str | None = None) -> np.ndarray:
    """Apply ``forward(tokenised batch) -> tensor [batch, ...]`` to all texts; rows in input order."""
    from shared.progress import scoped_bar

    if not texts:
        return np.zeros((0,), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    chunks: list[np.ndarray] = []
    progress = scoped_bar(len(texts), unit="text", desc=desc)
    with torch.inference_mode(), progress:
        for start in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            chunks.append(forward(tokenize(tokenizer, batch, max_length)).float().cpu().numpy())
            progress.update(len(batch))
    stacked = np.concatenate(chunks)
    out = np.empty_like(stacked)
    out[order] = stacked
    return out
