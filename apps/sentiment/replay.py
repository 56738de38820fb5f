"""Backtest: run the live alert detector over feed files with a simulated clock.

Items are read from the files (deduped exactly as ingest does), scored by the sentiment
adapter, tagged with topics, sorted by published time and fed to the same ``Detector`` that
live monitoring uses, evaluated on the same hourly grid. Nothing is written to the database.
Each alert that would have fired becomes one JSON line:

    {"topic", "fired_at", "severity", "negative", "total", "baseline", "evidence": [...],
     "p_value", "window_start", "window_end", "resolved_at"}

    lorasuite sentiment replay data/sentiment/feeds --output alerts.jsonl
    lorasuite sentiment replay feeds/ --watchlist my.csv --set min_negative=4 --output a.jsonl
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from apps.sentiment.detector import HOUR, Detector, Rules, event_for, iso_ts, record
from apps.sentiment.ingest import Pipeline, enrich_all, read_source
from apps.sentiment.items import Item, unique_in_batch
from shared.errors import LorasuiteError

log = logging.getLogger(__name__)


def read_items(sources: list[str]) -> tuple[list[Item], list[str]]:
    """Items of all files/URLs (deduped across them, first seen wins) and the errors met."""
    from apps.sentiment import feeds

    items, errors = [], []
    for source in feeds.expand(sources):
        try:
            items.extend(read_source(source))
        except LorasuiteError as err:
            errors.append(str(err))
    kept, _ = unique_in_batch(items)
    return kept, errors


def scored_events(items: list[Item], pipeline: Pipeline) -> list[tuple[str, Any]]:
    """(topic, Event) for every item and each of its topics, in published order."""
    if pipeline.model is None:
        raise LorasuiteError("replay needs a sentiment adapter: train one (lorasuite sentiment train) or "
                             "set [sentiment] adapter")
    extras = enrich_all(pipeline, items)
    pairs = []
    for item, extra in zip(items, extras, strict=True):
        score = extra["score"]
        event = event_for(item.published, score.label if score else None, score.score if score else None,
                          item.title, item.link)
        pairs.extend((topic, event) for topic, _ in extra["topics"])
    pairs.sort(key=lambda pair: pair[1].ts)
    return pairs


def run(pairs: Iterable[tuple[str, Any]], rules: Rules, origin: float | None = None) -> list[dict[str, Any]]:
    """Feed events in time order and evaluate on the grid; returns alert records in firing order.

    ``origin`` is when observation began (default: the first event), as live monitoring uses the
    first scored item of any topic."""
    pairs = list(pairs)
    if not pairs:
        return []
    detector = Detector(rules, origin=min(origin, pairs[0][1].ts) if origin is not None else pairs[0][1].ts)
    step = rules.step_minutes * 60
    end = pairs[-1][1].ts + rules.window_hours * HOUR + rules.resolve_minutes * 60 + 2 * step
    alerts: list[dict[str, Any]] = []
    open_by_topic: dict[str, dict[str, Any]] = {}
    i, clock = 0, pairs[0][1].ts - 1
    for at in detector.grid(clock, end):
        while i < len(pairs) and pairs[i][1].ts <= at:
            detector.add(*pairs[i])
            i += 1
        for transition in detector.evaluate(at):
            _apply(transition, rules, alerts, open_by_topic)
    return alerts


def _apply(transition: Any, rules: Rules, alerts: list[dict], open_by_topic: dict[str, dict]) -> None:
    if transition.kind == "fire":
        alert = dict(record(transition, rules), peak_negative=transition.check.negative,
                     peak_severity=transition.check.severity, resolved_at=None)
        alerts.append(alert)
        open_by_topic[transition.topic] = alert
    elif transition.topic in open_by_topic:
        alert = open_by_topic[transition.topic]
        if transition.kind == "escalate":
            alert["peak_severity"] = transition.check.severity
            alert["peak_negative"] = max(alert["peak_negative"], transition.check.negative)
        else:
            alert["resolved_at"] = iso_ts(transition.at)
            del open_by_topic[transition.topic]


def replay(sources: list[str], output: str | Path, watchlist_csv: str | None = None, rules: Rules | None = None,
           adapter: str | None = None, pipeline: Pipeline | None = None, db: Any = None,
           settings: Any = None) -> dict[str, Any]:
    """Backtest the files and write the alerts as JSONL; returns a summary."""
    from shared.atomic import write_jsonl

    items, errors = read_items(sources)
    if not items and errors:
        raise LorasuiteError(f"no items could be read: {errors[0]}")
    pipeline = pipeline or _pipeline(db, settings, watchlist_csv, adapter)
    if rules is None:
        from apps.sentiment.alerts import load_rules
        from apps.sentiment.store import open_db

        rules = load_rules(open_db(db), settings)
    scored = [item for item in items if item.text.strip()]
    origin = min(datetime.fromisoformat(item.published).timestamp() for item in scored) if scored else None
    alerts = run(scored_events(items, pipeline), rules, origin)
    n = write_jsonl(output, alerts)
    return {"items": len(items), "alerts": n, "failed": len(errors), "output": str(output)}


def _pipeline(db: Any, settings: Any, watchlist_csv: str | None, adapter: str | None) -> Pipeline:
    from apps.sentiment.store import open_db
    from apps.sentiment.topics import TopicMatcher, load_watchlist_csv, sectors_from

    pipeline = Pipeline.from_config(open_db(db), settings, adapter=adapter, require_model=True)
    if watchlist_csv:
        pipeline.matcher = TopicMatcher(load_watchlist_csv(watchlist_csv), sectors_from(settings))
    return pipeline
