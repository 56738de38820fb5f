"""The alert rule: Poisson tail vs own baseline, min volume, pending, resolve, cooldown, escalation."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from apps.sentiment.detector import HOUR, Detector, Event, Rules, poisson_sf
from apps.sentiment.replay import run

T0 = 1_790_000_000 - 1_790_000_000 % 3600  # an hour boundary


def test_poisson_tail_matches_closed_forms():
    lam = 0.5
    assert poisson_sf(0, lam) == 1.0
    assert poisson_sf(1, lam) == pytest.approx(1 - math.exp(-lam))
    assert poisson_sf(3, lam) == pytest.approx(1 - math.exp(-lam) * (1 + lam + lam**2 / 2))
    assert 0 < poisson_sf(80, 0.5) < 1e-100  # tiny tails stay positive and accurate


def test_rules_are_validated():
    with pytest.raises(ValueError, match="min_negative"):
        Rules(min_negative=0)
    with pytest.raises(ValueError, match="unknown alert rule"):
        Rules.from_dict({"min_negatives": 3})
    assert Rules.from_dict({"min_negative": "4", "alpha": "0.001"}).min_negative == 4


def _stream(neg_hours: list[float], topic: str = "Acme", other_hours: list[float] = ()) -> list[tuple[str, Event]]:
    events = [(topic, Event(T0 + h * HOUR, True, {"title": f"bad {h}", "link": f"https://x/{h}", "score": 0.9}))
              for h in neg_hours]
    events += [(topic, Event(T0 + h * HOUR, False, {"title": f"ok {h}"})) for h in other_hours]
    return sorted(events, key=lambda e: e[1].ts)


def test_spike_fires_after_pending_then_resolves_with_evidence():
    quiet = [24.0 * d + 10 for d in range(0, 14, 3)]  # one negative every 3 days for two weeks
    burst = [14 * 24 + 10 + 0.5 * i for i in range(6)]  # 6 negatives within 3 hours
    alerts = run(_stream(quiet + burst, other_hours=[5.0, 50.0]), Rules())
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["topic"] == "Acme" and alert["negative"] >= 3 and alert["baseline"] >= 0.5
    fired = datetime.fromisoformat(alert["fired_at"]).timestamp()
    # at the 0.5/window floor, 3 negatives give p = 0.014 > alpha: the 4th (+11.5 h) makes the
    # spike at the +12 h evaluation; pending for an hour, it fires at +13 h
    assert fired == T0 + (14 * 24 + 13) * HOUR
    assert alert["resolved_at"] > alert["fired_at"]
    assert [e["title"] for e in alert["evidence"]][:1] and all(e["title"].startswith("bad") for e in alert["evidence"])


def test_below_min_volume_or_steady_high_baseline_never_fires():
    assert run(_stream([100.0, 101.0]), Rules()) == []  # two negatives: under min_negative
    steady = [h + 0.5 for h in range(0, 21 * 24, 2)]  # a negative every 2 hours for 3 weeks
    assert run(_stream(steady), Rules()) == []  # that is this topic's normal


def test_cooldown_blocks_refire_and_escalation_is_reported():
    burst1 = [240 + 0.2 * i for i in range(12)]  # a strong burst on day 10
    burst2 = [262 + 0.2 * i for i in range(8)]  # soon after it resolves (~255 h): inside the 24 h cooldown
    rules = Rules(resolve_minutes=60, pending_minutes=0)
    alerts = run(_stream([1.0] + burst1 + burst2), rules)
    assert len(alerts) == 1
    assert alerts[0]["peak_severity"] in ("high", "critical") and alerts[0]["peak_negative"] >= 10
    no_cooldown = run(_stream([1.0] + burst1 + burst2), Rules(resolve_minutes=60, pending_minutes=0, cooldown_hours=0))
    assert len(no_cooldown) == 2


def test_topics_have_their_own_baselines():
    det = Detector(Rules(), origin=T0)
    for h in range(0, 7 * 24, 3):  # "Busy" has a negative every 3 hours
        det.add("Busy", Event(T0 + h * HOUR, True))
    det.add("Quiet", Event(T0 + 10 * HOUR, True))
    at = T0 + 8 * 24 * HOUR
    assert det.check("Busy", at).baseline > 3 > det.check("Quiet", at).baseline
