"""A sliding-window rate limit per key (a client address): at most ``limit`` events a ``window``.

In memory, per process (each replica counts its own clients, which is what a per-client
limit behind a load balancer with sticky sessions wants; without stickiness the effective limit
is ``replicas x limit``). The number of keys is bounded: the oldest idle ones are forgotten.

    limiter = RateLimiter(30)            # 30 a minute
    if not limiter.allow(address): ...   # 429
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque


class RateLimiter:
    """``allow(key)`` is True while ``key`` has had fewer than ``limit`` events in ``window`` seconds."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 50_000) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"need limit >= 1 and window > 0, got {limit}, {window}")
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for ``key`` if it is allowed; False (nothing counted) when over the limit."""
        now = time.monotonic()
        with self._lock:
            events = self._recent(key, now)
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may act again (0 when it may now)."""
        now = time.monotonic()
        with self._lock:
            events = self._recent(key, now)
            return 0.0 if len(events) < self.limit else max(0.0, events[0] + self.window - now)

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        self._events[key] = events  # most recently used last
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        return events
