"""MicroBatcher: concurrent callers share calls, each gets its own rows, errors reach everyone."""

from __future__ import annotations

import threading
import time

import pytest

from apps.support.batching import MicroBatcher


def test_concurrent_callers_are_batched_and_get_their_own_rows():
    calls: list[int] = []

    def slow_upper(texts: list[str]) -> list[str]:
        calls.append(len(texts))
        time.sleep(0.05)
        return [t.upper() for t in texts]

    batcher = MicroBatcher(slow_upper, max_texts=64)
    results: dict[int, list[str]] = {}

    def worker(i: int) -> None:
        results[i] = batcher([f"a{i}", f"b{i}"] if i % 2 else [f"a{i}"])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == ([f"A{i}", f"B{i}"] if i % 2 else [f"A{i}"]) for i in range(20))
    assert sum(calls) == 30 and len(calls) < 10  # 20 callers, far fewer calls
    assert batcher(["solo"]) == ["SOLO"]  # a lone caller runs at once


def test_errors_reach_every_caller_and_the_batcher_recovers():
    state = {"fail": True}

    def flaky(texts: list[str]) -> list[str]:
        time.sleep(0.02)
        if state["fail"]:
            raise RuntimeError("boom")
        return texts

    batcher = MicroBatcher(flaky)
    errors: list[Exception] = []

    def worker() -> None:
        try:
            batcher(["x"])
        except RuntimeError as err:
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 5
    state["fail"] = False
    assert batcher(["ok"]) == ["ok"]
    with pytest.raises(RuntimeError):
        state["fail"] = True
        batcher(["again"])
