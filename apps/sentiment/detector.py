"""The spike detector: negative headlines per topic against the topic's own trailing baseline.

Pure logic (no database, no clock): live monitoring (``alerts.check``) and the backtest
(``replay``) feed it the same events and call ``evaluate(t)`` on the same hourly grid, so a
replay shows exactly what live would have done.

The rule, at each evaluation time t (every ``step_minutes``, on the UTC grid), per topic:
  n        = negative items about the topic in the window (t - W, t]
  rate     = EWMA rate of the topic's negatives before the window (half-life H, over at most
             ``lookback_days``; history shorter than 2 days counts as 2 days), per hour
  baseline = W * max(rate, floor_per_day / 24)          (expected negatives in a window)
  p        = P(X >= n) for X ~ Poisson(baseline)
  spike    = n >= min_negative  and  n >= min_ratio * baseline  and  p <= alpha
No topic alerts in the first ``warmup_hours`` of observation (nothing is known to be normal yet).
A spike must hold for ``pending_minutes`` before the alert fires (pending -> firing); a
firing alert resolves after the spike has been gone for ``resolve_minutes``; a resolved
topic cannot fire again for ``cooldown_hours``. Severity: warning (p <= alpha), high
(p <= high_p), critical (p <= critical_p); a firing alert can escalate.

    det = Detector(Rules())
    det.add("Boeing", Event(ts, negative=True, ref={"title": ..., "link": ...}))
    for t in det.grid(start, end): transitions += det.evaluate(t)
"""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SEVERITIES = ("warning", "high", "critical")
HOUR = 3600.0


@dataclass
class Rules:
    """Alert thresholds (defaults documented in apps/sentiment/README.md)."""

    window_hours: float = 12.0
    step_minutes: int = 60
    half_life_hours: float = 168.0
    lookback_days: float = 28.0
    floor_per_day: float = 1.0
    min_negative: int = 3
    min_ratio: float = 2.0
    alpha: float = 0.01
    high_p: float = 1e-4
    critical_p: float = 1e-6
    pending_minutes: int = 60
    resolve_minutes: int = 180
    cooldown_hours: float = 24.0
    warmup_hours: float = 48.0
    evidence: int = 5

    def __post_init__(self) -> None:
        checks = [(self.window_hours > 0, "window_hours must be > 0"), (self.step_minutes >= 1, "step_minutes must be >= 1"),
                  (self.half_life_hours > 0, "half_life_hours must be > 0"), (self.lookback_days > 0, "lookback_days must be > 0"),
                  (self.floor_per_day > 0, "floor_per_day must be > 0"), (self.min_negative >= 1, "min_negative must be >= 1"),
                  (self.min_ratio >= 1, "min_ratio must be >= 1"), (0 < self.alpha < 1, "alpha must be in (0, 1)"),
                  (0 < self.critical_p <= self.high_p <= self.alpha, "need 0 < critical_p <= high_p <= alpha"),
                  (self.pending_minutes >= 0, "pending_minutes must be >= 0"),
                  (self.resolve_minutes >= 0, "resolve_minutes must be >= 0"),
                  (self.cooldown_hours >= 0, "cooldown_hours must be >= 0"), (self.evidence >= 1, "evidence must be >= 1"),
                  (self.warmup_hours >= 0, "warmup_hours must be >= 0")]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"{message} (got {self.to_dict()})")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> Rules:
        """Rules from a dict (unknown keys rejected, values coerced to the field's type)."""
        values = dict(values or {})
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown alert rule(s) {unknown}; known: {sorted(known)}")
        cast = {k: (int(v) if known[k] == "int" else float(v)) for k, v in values.items()}
        return cls(**cast)


def poisson_sf(n: int, lam: float) -> float:
    """P(X >= n) for X ~ Poisson(lam), summed from the tail (accurate for tiny p-values)."""
    if n <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    log_term = -lam + n * math.log(lam) - math.lgamma(n + 1)
    total, k = 0.0, n
    while True:
        term = math.exp(log_term)
        total += term
        k += 1
        log_term += math.log(lam) - math.log(k)
        if term < 1e-17 * max(total, 1e-300) or k > n + 2000:
            return min(1.0, total)


@dataclass
class Event:
    """One item about a topic: when, whether it is negative, and what to show as evidence."""

    ts: float
    negative: bool
    ref: dict[str, Any] = field(default_factory=dict)


@dataclass
class Check:
    """The detector's reading of one topic at one time."""

    topic: str
    at: float
    negative: int
    total: int
    baseline: float
    p_value: float
    spike: bool
    severity: str | None


@dataclass
class Transition:
    """A state change to act on: fire, escalate or resolve."""

    kind: str
    topic: str
    at: float
    check: Check
    evidence: list[dict[str, Any]] = field(default_factory=list)


def iso_ts(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


def record(transition: Transition, rules: Rules) -> dict[str, Any]:
    """The alert as JSON (what replay writes and what live stores)."""
    c = transition.check
    return {"topic": transition.topic, "fired_at": iso_ts(transition.at), "severity": c.severity or "warning",
            "negative": c.negative, "total": c.total, "baseline": c.baseline, "p_value": float(f"{c.p_value:.3g}"),
            "window_start": iso_ts(transition.at - rules.window_hours * HOUR), "window_end": iso_ts(transition.at),
            "evidence": transition.evidence}


def event_for(published: str, label: str | None, score: float | None, title: str, link: str | None,
              item_id: int | None = None) -> Event:
    """The detector's view of a stored or replayed item."""
    from datetime import datetime, timezone

    moment = datetime.fromisoformat(published.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    ref = {"title": title, "link": link, "published": published, "score": score}
    if item_id is not None:
        ref["id"] = item_id
    return Event(moment.timestamp(), label == "negative", ref)


@dataclass
class TopicState:
    """Per-topic alert state; serialisable so live monitoring can persist it between checks."""

    phase: str = "idle"  # idle | pending | firing
    since: float | None = None  # pending since / firing since
    clear_since: float | None = None
    cooldown_until: float | None = None
    severity: str | None = None
    peak: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TopicState:
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


class _Series:
    """A topic's events, sorted by time: all timestamps and the negative ones (with refs)."""

    def __init__(self) -> None:
        self.all: list[float] = []
        self.neg: list[float] = []
        self.refs: list[dict[str, Any]] = []

    def add(self, event: Event) -> None:
        bisect.insort(self.all, event.ts)
        if event.negative:
            i = bisect.bisect_right(self.neg, event.ts)
            self.neg.insert(i, event.ts)
            self.refs.insert(i, event.ref)

    def prune(self, before: float) -> None:
        i, j = bisect.bisect_left(self.all, before), bisect.bisect_left(self.neg, before)
        if i:
            del self.all[:i]
        if j:
            del self.neg[:j]
            del self.refs[:j]


def severity_of(p: float, rules: Rules) -> str:
    return "critical" if p <= rules.critical_p else "high" if p <= rules.high_p else "warning"


class Detector:
    """Per-topic event series + alert state machines, evaluated on a fixed time grid."""

    def __init__(self, rules: Rules | None = None, origin: float | None = None,
                 states: dict[str, TopicState] | None = None) -> None:
        self.rules = rules or Rules()
        self.origin = origin
        self.series: dict[str, _Series] = {}
        self.states: dict[str, TopicState] = dict(states or {})

    def add(self, topic: str, event: Event) -> None:
        if self.origin is None:  # the start of observation: baselines never reach back before it
            self.origin = event.ts
        self.series.setdefault(topic, _Series()).add(event)

    def grid(self, after: float, until: float) -> list[float]:
        """Evaluation times on the UTC step grid in (after, until]."""
        step = self.rules.step_minutes * 60
        first = (math.floor(after / step) + 1) * step
        return [float(t) for t in range(int(first), int(until) + 1, int(step))]

    def check(self, topic: str, at: float) -> Check:
        r, s = self.rules, self.series.get(topic) or _Series()
        window = r.window_hours * HOUR
        lo, hi = bisect.bisect_right(s.neg, at - window), bisect.bisect_right(s.neg, at)
        n = hi - lo
        total = bisect.bisect_right(s.all, at) - bisect.bisect_right(s.all, at - window)
        baseline = window / HOUR * max(self._rate(s, at - window), r.floor_per_day / 24.0)
        p = poisson_sf(n, baseline)
        warm = self.origin is None or at - self.origin >= r.warmup_hours * HOUR
        spike = warm and n >= r.min_negative and n >= r.min_ratio * baseline and p <= r.alpha
        return Check(topic, at, n, total, round(baseline, 4), p, spike, severity_of(p, r) if spike else None)

    def _rate(self, s: _Series, end: float) -> float:
        """EWMA negatives per hour over [max(origin, end - lookback), end]."""
        r = self.rules
        start = max(self.origin if self.origin is not None else end, end - r.lookback_days * 24 * HOUR)
        half = r.half_life_hours * HOUR
        lo, hi = bisect.bisect_left(s.neg, start), bisect.bisect_right(s.neg, end)
        weight = sum(0.5 ** ((end - ts) / half) for ts in s.neg[lo:hi])
        span = max(end - start, 48 * HOUR)
        exposure = half / math.log(2) * (1 - 0.5 ** (span / half)) / HOUR  # hours, decay-weighted
        return weight / exposure

    def evidence(self, topic: str, at: float) -> list[dict[str, Any]]:
        """The most confidently negative items of the window (newest first among equals)."""
        s = self.series.get(topic) or _Series()
        lo = bisect.bisect_right(s.neg, at - self.rules.window_hours * HOUR)
        hi = bisect.bisect_right(s.neg, at)
        refs = sorted(s.refs[lo:hi], key=lambda ref: (-float(ref.get("score") or 0), str(ref.get("published", ""))))
        return refs[: self.rules.evidence]

    def evaluate(self, at: float) -> list[Transition]:
        """Advance every topic's state machine to time ``at``; returns the transitions."""
        out = []
        for topic in sorted(self.series):
            state = self.states.setdefault(topic, TopicState())
            if state.phase == "idle" and not self._maybe(topic, at):
                continue
            transition = self._step(topic, state, self.check(topic, at))
            if transition:
                out.append(transition)
        horizon = at - (self.rules.window_hours * HOUR + self.rules.lookback_days * 24 * HOUR)
        for series in self.series.values():
            if series.all and series.all[0] < horizon:
                series.prune(horizon)
        return out

    def _maybe(self, topic: str, at: float) -> bool:
        s = self.series[topic]
        window = self.rules.window_hours * HOUR
        return bisect.bisect_right(s.neg, at) - bisect.bisect_right(s.neg, at - window) >= self.rules.min_negative

    def _step(self, topic: str, state: TopicState, check: Check) -> Transition | None:
        r, at = self.rules, check.at
        if state.phase == "firing":
            return self._firing(topic, state, check)
        if not check.spike:
            state.phase, state.since = "idle", None
            return None
        if state.cooldown_until is not None and at < state.cooldown_until:
            return None
        if state.phase == "idle":
            state.phase, state.since = "pending", at
        if at - (state.since or at) < r.pending_minutes * 60:
            return None
        state.phase, state.since, state.clear_since = "firing", at, None
        state.severity, state.peak = check.severity, check.negative
        return Transition("fire", topic, at, check, self.evidence(topic, at))

    def _firing(self, topic: str, state: TopicState, check: Check) -> Transition | None:
        r, at = self.rules, check.at
        if check.spike:
            state.clear_since = None
            state.peak = max(state.peak, check.negative)
            if SEVERITIES.index(check.severity or "warning") > SEVERITIES.index(state.severity or "warning"):
                state.severity = check.severity
                return Transition("escalate", topic, at, check, self.evidence(topic, at))
            return None
        if state.clear_since is None:
            state.clear_since = at
        if at - state.clear_since < r.resolve_minutes * 60:
            return None
        state.phase, state.since, state.clear_since = "idle", None, None
        state.cooldown_until = at + r.cooldown_hours * HOUR
        return Transition("resolve", topic, at, check)
