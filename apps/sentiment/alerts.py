"""Live alerts: run the detector over stored items, keep alerts, acknowledge and silence them.

``check`` advances the detector from its last evaluation to now on the hourly grid, using the
stored, scored items and the per-topic state persisted from the previous check (the detector
in ``detector.py``, the same one ``replay`` runs). One transaction stores the new alerts, their
outbox rows (see ``outbox.py``), the new states and the clock, so a crash repeats a check
rather than half-doing it, and the ``UNIQUE (topic, fired_at)`` key stops duplicates.

Rules come from the defaults in ``detector.Rules``, overridden by ``[sentiment.alerts]`` in
the config, overridden by what the dashboard saved (``save_rules``).

    check(db)                                  # -> {"evaluated": 24, "fired": 1, "resolved": 0}
    acknowledge(db, 7, who="ana", note="known: recall")
    silence(db, "Boeing", "2d", who="ana", why="earnings week")
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from apps.sentiment import outbox
from apps.sentiment.detector import HOUR, Detector, Rules, TopicState, Transition, event_for, record
from apps.sentiment.settings import settings_of
from apps.sentiment.store import get_setting, iso, parse_iso, put_setting, set_setting, utcnow
from shared.errors import LorasuiteError
from shared.storage import Database

log = logging.getLogger(__name__)
CLOCK = "detector_clock"
MAX_CATCHUP_DAYS = 120  # a first check (or one after a long outage) looks back at most this far


def load_rules(db: Database, settings: Any = None) -> Rules:
    """Defaults <- ``[sentiment.alerts]`` <- rules saved from the dashboard."""
    values = asdict(settings_of(settings).alerts)
    values.update(get_setting(db, "rules", {}) or {})
    try:
        return Rules.from_dict(values)
    except (ValueError, TypeError) as err:
        raise LorasuiteError(f"bad alert rules: {err}") from err


def save_rules(db: Database, values: dict[str, Any]) -> Rules:
    """Validate and store rule overrides (only values that differ from the defaults are kept)."""
    try:
        rules = Rules.from_dict(values)
    except (ValueError, TypeError) as err:
        raise LorasuiteError(f"bad alert rules: {err}") from err
    defaults = Rules().to_dict()
    set_setting(db, "rules", {k: v for k, v in rules.to_dict().items() if v != defaults[k]})
    return rules


def check(db: Database, now: datetime | None = None, settings: Any = None) -> dict[str, int]:
    """Evaluate every grid time since the last check up to ``now``; store and queue what fired."""
    now = now or utcnow()
    rules = load_rules(db, settings)
    targets = outbox.channels(settings)
    summary = {"evaluated": 0, "fired": 0, "escalated": 0, "resolved": 0}
    with db.transaction() as tx:
        clock = json.loads(tx.scalar("SELECT value FROM sentiment_settings WHERE key = :k", {"k": CLOCK}) or "{}")
        origin = clock.get("origin")
        if origin is None:
            first = tx.scalar("SELECT MIN(published) FROM sentiment_items WHERE label IS NOT NULL")
            if first is None:
                return summary
            origin = parse_iso(first).timestamp()
        detector = Detector(rules, origin, _states(tx))
        after = max(clock.get("last_eval", origin - 1), now.timestamp() - MAX_CATCHUP_DAYS * 86400)
        times = detector.grid(after, now.timestamp())
        if not times:
            return summary
        kinds = _load_events(tx, detector, times[0] - rules.window_hours * HOUR - rules.lookback_days * 86400,
                             times[-1])
        for at in times:
            for transition in detector.evaluate(at):
                summary[{"fire": "fired", "escalate": "escalated", "resolve": "resolved"}[transition.kind]] += 1
                _apply(tx, transition, rules, kinds.get(transition.topic, "watch"), targets, now)
        _save_states(tx, detector.states)
        put_setting(tx, CLOCK, {"origin": origin, "last_eval": times[-1]})
        summary["evaluated"] = len(times)
    return summary


def _states(tx: Any) -> dict[str, TopicState]:
    return {r["topic"]: TopicState.from_dict(json.loads(r["state"]))
            for r in tx.query("SELECT topic, state FROM sentiment_detector_state")}


def _save_states(tx: Any, states: dict[str, TopicState]) -> None:
    tx.execute("DELETE FROM sentiment_detector_state")
    keep = [{"t": t, "s": json.dumps(s.to_dict())} for t, s in states.items() if s != TopicState()]
    if keep:
        tx.execute("INSERT INTO sentiment_detector_state (topic, state) VALUES (:t, :s)", keep)


def _load_events(tx: Any, detector: Detector, since: float, until: float) -> dict[str, str]:
    from datetime import timezone

    rows = tx.query("SELECT i.id, i.published, i.label, i.score, i.title, i.link, t.topic, t.kind "
                    "FROM sentiment_items i JOIN sentiment_item_topics t ON t.item_id = i.id "
                    "WHERE i.published >= :s AND i.published <= :u AND i.label IS NOT NULL ORDER BY i.published",
                    {"s": iso(datetime.fromtimestamp(since, timezone.utc)),
                     "u": iso(datetime.fromtimestamp(until, timezone.utc))})
    kinds = {}
    for row in rows:
        detector.add(row["topic"], event_for(row["published"], row["label"], row["score"], row["title"],
                                             row["link"], row["id"]))
        kinds[row["topic"]] = row["kind"]
    return kinds


def _apply(tx: Any, transition: Transition, rules: Rules, kind: str, targets: dict[str, str], now: datetime) -> None:
    alert = record(transition, rules)
    if transition.kind == "fire":
        silence_id = _silenced(tx, transition.topic, now)
        alert_id = tx.scalar(
            "INSERT INTO sentiment_alerts (topic, kind, fired_at, window_start, window_end, severity, negative, total, "
            "baseline, p_value, peak_negative, evidence, status, silenced_by, created) VALUES (:topic, :kind, "
            ":fired_at, :window_start, :window_end, :severity, :negative, :total, :baseline, :p_value, :negative, "
            ":evidence, 'firing', :silenced_by, :created) ON CONFLICT (topic, fired_at) DO NOTHING RETURNING id",
            dict(alert, kind=kind, evidence=json.dumps(alert["evidence"]), silenced_by=silence_id, created=iso(now)))
        if alert_id is not None and silence_id is None:
            outbox.enqueue(tx, int(alert_id), "fired", dict(alert, id=int(alert_id)), targets)
        return
    rows = tx.query("SELECT * FROM sentiment_alerts WHERE topic = :t AND status = 'firing'", {"t": transition.topic})
    for row in rows:
        if transition.kind == "escalate":
            tx.execute("UPDATE sentiment_alerts SET severity = :s, peak_negative = :p WHERE id = :i",
                       {"s": alert["severity"], "p": max(int(row["peak_negative"]), alert["negative"]), "i": row["id"]})
            event = f"escalated:{alert['severity']}"
        else:
            tx.execute("UPDATE sentiment_alerts SET status = 'resolved', resolved_at = :r WHERE id = :i",
                       {"r": alert["fired_at"], "i": row["id"]})
            event = "resolved"
        if row["silenced_by"] is None:
            stored = as_dict(row)
            outbox.enqueue(tx, int(row["id"]), event, dict(stored, severity=alert["severity"]), targets)


def _silenced(tx: Any, topic: str, now: datetime) -> int | None:
    return tx.scalar("SELECT id FROM sentiment_silences WHERE (topic = :t OR topic = '*') AND until > :n "
                     "ORDER BY id LIMIT 1", {"t": topic, "n": iso(now)})


def as_dict(row: dict) -> dict[str, Any]:
    out = dict(row)
    out["evidence"] = json.loads(row["evidence"]) if isinstance(row.get("evidence"), str) else row.get("evidence")
    return out


def list_alerts(db: Database, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """Alerts newest first; ``open_only`` = not acknowledged and not silenced."""
    where = "WHERE acked_by IS NULL AND silenced_by IS NULL" if open_only else ""
    rows = db.query(f"SELECT * FROM sentiment_alerts {where} ORDER BY fired_at DESC, id DESC LIMIT :l", {"l": limit})
    return [as_dict(r) for r in rows]


def acknowledge(db: Database, alert_id: int, who: str, note: str = "") -> dict[str, Any]:
    """Mark an alert as seen by ``who`` (with an optional note)."""
    if not (who or "").strip():
        raise LorasuiteError("say who acknowledges the alert")
    with db.transaction() as tx:
        rows = tx.query("SELECT * FROM sentiment_alerts WHERE id = :i", {"i": int(alert_id)})
        if not rows:
            raise LorasuiteError(f"no alert #{alert_id}")
        if rows[0]["acked_by"]:
            raise LorasuiteError(f"alert #{alert_id} was already acknowledged by {rows[0]['acked_by']}")
        tx.execute("UPDATE sentiment_alerts SET acked_by = :w, acked_at = :t, ack_note = :n WHERE id = :i",
                   {"w": who.strip(), "t": iso(utcnow()), "n": (note or "").strip(), "i": int(alert_id)})
    return as_dict(db.query("SELECT * FROM sentiment_alerts WHERE id = :i", {"i": int(alert_id)})[0])


def parse_until(text: str, now: datetime | None = None) -> datetime:
    """``30m``, ``4h``, ``2d``, ``1w`` from now, or an ISO-8601 time."""
    now = now or utcnow()
    text = (text or "").strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mhdw])", text.lower())
    if match:
        unit = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
        return now + timedelta(seconds=float(match.group(1)) * unit)
    try:
        return parse_iso(text)
    except ValueError as err:
        raise LorasuiteError(f"until {text!r}: give a duration like 4h / 2d or an ISO time") from err


def silence(db: Database, topic: str, until: str, who: str, why: str) -> dict[str, Any]:
    """Mute a topic (or ``*``) until a time: new alerts are stored silenced and not sent; open
    alerts of the topic are silenced and their unsent notifications cancelled."""
    topic, who, why = (topic or "").strip(), (who or "").strip(), (why or "").strip()
    if not topic or not who or not why:
        raise LorasuiteError("a silence needs a topic (or *), who and why")
    now = utcnow()
    end = parse_until(until, now)
    if end <= now:
        raise LorasuiteError(f"until {until!r} is not in the future")
    match = "" if topic == "*" else "AND topic = :t"
    with db.transaction() as tx:
        sid = tx.scalar("INSERT INTO sentiment_silences (topic, until, who, why, created) VALUES (:t, :u, :w, :y, :c) "
                        "RETURNING id", {"t": topic, "u": iso(end), "w": who, "y": why, "c": iso(now)})
        tx.execute(f"UPDATE sentiment_outbox SET status = 'cancelled', last_error = :e WHERE status = 'pending' AND "
                   f"alert_id IN (SELECT id FROM sentiment_alerts WHERE acked_by IS NULL AND silenced_by IS NULL {match})",
                   {"e": f"silenced by {who}: {why}"[:500], "t": topic})
        tx.execute(f"UPDATE sentiment_alerts SET silenced_by = :s WHERE acked_by IS NULL AND silenced_by IS NULL {match}",
                   {"s": sid, "t": topic})
    return {"id": int(sid), "topic": topic, "until": iso(end), "who": who, "why": why}


def silences(db: Database, active_only: bool = True) -> list[dict[str, Any]]:
    where = "WHERE until > :n" if active_only else ""
    return db.query(f"SELECT * FROM sentiment_silences {where} ORDER BY until DESC", {"n": iso(utcnow())})
