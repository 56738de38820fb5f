"""Micro-batching: concurrent conversations share one forward pass instead of queueing for the lock.

The backbone serialises forward passes, so 20 customers typing at once would wait for 20
passes each of one sentence. ``MicroBatcher`` lets the first caller become the leader: it runs
its texts plus everything queued meanwhile as ONE backbone call, hands each caller its rows,
and passes leadership to the next waiting caller. A lone caller runs at once (no added wait);
under load, batches form by themselves while the previous pass is running.

    classify = MicroBatcher(lambda texts: backbone.classify(texts, key))
    classify(["I lost my card"])      # -> [Prediction], possibly computed with other threads' texts
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


class _Item:
    __slots__ = ("texts", "result", "error", "done", "lead")

    def __init__(self, texts: list[str]) -> None:
        self.texts, self.result, self.error = texts, None, None
        self.done, self.lead = threading.Event(), False


class MicroBatcher:
    """Run ``fn(texts) -> rows`` for many threads at once (rows are split back per caller)."""

    def __init__(self, fn: Callable[[list[str]], Sequence[Any]], max_texts: int = 64) -> None:
        self.fn, self.max_texts = fn, max_texts
        self._lock = threading.Lock()
        self._queue: list[_Item] = []
        self._busy = False

    def __call__(self, texts: list[str]) -> list[Any]:
        item = _Item(list(texts))
        with self._lock:
            self._queue.append(item)
            item.lead = not self._busy
            self._busy = True
        while not item.lead:
            item.done.wait()
            if item.result is not None or item.error is not None:
                break
            item.done.clear()
        if item.lead and item.result is None and item.error is None:
            self._serve()
        if item.error is not None:
            raise item.error
        return item.result

    def _take(self) -> list[_Item]:
        batch, size = [], 0
        while self._queue and (not batch or size + len(self._queue[0].texts) <= self.max_texts):
            batch.append(self._queue.pop(0))
            size += len(batch[-1].texts)
        return batch

    def _serve(self) -> None:
        """Run one batch (it contains the leader's own item: the queue is first-in first-out)."""
        with self._lock:
            batch = self._take()
        try:
            rows = list(self.fn([t for item in batch for t in item.texts]))
            start = 0
            for item in batch:
                item.result, start = rows[start:start + len(item.texts)], start + len(item.texts)
        except BaseException as err:  # noqa: BLE001 - every caller in the batch gets the error
            for item in batch:
                item.error = err
        with self._lock:
            if self._queue:
                self._queue[0].lead = True  # hand over to the oldest waiting caller
                self._queue[0].done.set()
            else:
                self._busy = False
        for item in batch:
            item.done.set()
