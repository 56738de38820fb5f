"""The suite's learning jobs: retrain on ``[learning] schedule`` (cron), drift statistics daily.

Every app with a learning loop attaches itself at start (``attach(ctx, app)``); the first one
starts one scheduler per context. It runs where ``[suite] scheduler`` says, like the feed monitor:
``1`` always, ``0`` never, ``auto`` only on the replica that holds the ``learning-scheduler``
leader lock (``shared.leader``). Jobs run one at a time (one worker thread, ``max_instances=1``)
and each retrain or drift measurement is a child process at low priority with ``[learning]
threads`` threads (``apps.learning.run_child``), so serving keeps its cores. A retrain starts only
when an adapter has ``min_new_labels`` new labels since its champion, and after a rejected attempt
only once ``min_new_labels`` more have come.

    attach(ctx, "sentiment"); ...; detach(ctx, "sentiment")
    LearningScheduler(ctx).run_due()       # what the cron job does, callable by hand
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from datetime import timezone
from typing import Any

from shared.home import state_dir

log = logging.getLogger(__name__)
KEY = "learning.scheduler"
DRIFT_CRON = "30 2 * * *"  # daily, before a nightly retrain


class LearningScheduler:
    """Cron-driven retrains and daily drift for the attached apps of one context."""

    def __init__(self, ctx: Any) -> None:
        self.ctx, self.apps = ctx, set()
        self.scheduler: Any = None
        self.leader: Any = None
        self._lock = threading.Lock()

    def attach(self, app: str) -> None:
        with self._lock:
            self.apps.add(app)
            first = len(self.apps) == 1
        if first:
            self._elect()

    def detach(self, app: str) -> bool:
        """Forget ``app``; True (and stopped) when no app is attached any more."""
        with self._lock:
            self.apps.discard(app)
            empty = not self.apps
        if empty:
            self.stop()
        return empty

    def _elect(self) -> None:
        mode = self.ctx.config.suite.scheduler
        if mode == "1":
            self.start()
        elif mode == "auto":
            from shared.leader import Leadership

            self.leader = Leadership(self.ctx.db, "learning-scheduler", on_elected=self.start,
                                     on_deposed=self._stop_jobs).start()

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        if self.scheduler is not None:
            return
        self.scheduler = BackgroundScheduler(timezone=timezone.utc, executors={"default": {"type": "threadpool",
                                             "max_workers": 1}}, job_defaults={"max_instances": 1, "coalesce": True})
        schedule = self.ctx.config.learning.schedule.strip()
        if schedule:
            self.scheduler.add_job(self.run_due, CronTrigger.from_crontab(schedule, timezone=timezone.utc),
                                   id="learning-retrain")
        self.scheduler.add_job(self.run_drift, CronTrigger.from_crontab(DRIFT_CRON, timezone=timezone.utc),
                               id="learning-drift")
        self.scheduler.start()
        log.info("learning scheduler started: retrain %s, drift daily", schedule or "off")

    def _stop_jobs(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    def stop(self) -> None:
        leader, self.leader = self.leader, None
        if leader is not None:
            leader.stop()
        self._stop_jobs()

    def jobs(self) -> list[str]:
        return [job.id for job in self.scheduler.get_jobs()] if self.scheduler is not None else []

    def due(self) -> list[tuple[str, str, int]]:
        """(app, adapter name, new labels) of each attached app with enough new labels to retrain."""
        from apps.learning import learner_of, pending
        from shared import registry

        out, least = [], self.ctx.config.learning.min_new_labels
        for app in sorted(self.apps):
            try:
                name = learner_of(self.ctx, app).name(self.ctx)
                count = pending(self.ctx, app, name)
                champion = registry.resolve(registry.Ref(app, name)).version
            except Exception:  # noqa: BLE001 - one app's problem must not stop the others
                log.exception("learning: cannot count new labels of %s", app)
                continue
            last = _last_attempt(app, name)
            again = last is not None and last.get("champion") == champion and count - last.get("count", 0) < least
            if count >= least and not again:
                out.append((app, name, count))
        return out

    def run_due(self) -> list[dict[str, Any]]:
        """Retrain each due adapter, one at a time, each in a low-priority child process."""
        from apps.learning import run_child
        from shared import registry

        done = []
        for app, name, count in self.due():
            report = state_dir("learning", "reports") / f"{app}_{name}_scheduled.json"
            champion = registry.resolve(registry.Ref(app, name)).version
            rc = run_child(app, name, self.ctx.config.learning.threads, report)
            _remember_attempt(app, name, count, champion)
            done.append({"app": app, "name": name, "new_labels": count, "exit": rc})
            log.info("learning: scheduled retrain of %s/%s (%d new labels) exited %d", app, name, count, rc)
        return done

    def run_drift(self) -> list[int]:
        """Today's drift statistics of each attached app, in one low-priority child."""
        if not self.apps:
            return []
        from apps.learning import NICE

        command = [sys.executable, "-m", "apps", "drift", *sorted(self.apps)]
        done = subprocess.run(command, preexec_fn=lambda: __import__("os").nice(NICE), check=False,  # noqa: PLW1509
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            log.error("drift measurement failed (exit %d): %s", done.returncode, done.stderr[-2000:])
        return [done.returncode]


def _attempts_path():
    return state_dir("learning") / "attempts.json"


def _last_attempt(app: str, name: str) -> dict[str, int] | None:
    try:
        return json.loads(_attempts_path().read_text()).get(f"{app}/{name}")
    except (OSError, ValueError):
        return None


def _remember_attempt(app: str, name: str, count: int, champion: int) -> None:
    from shared.atomic import write_text

    try:
        values = json.loads(_attempts_path().read_text())
    except (OSError, ValueError):
        values = {}
    values[f"{app}/{name}"] = {"count": count, "champion": champion}
    write_text(_attempts_path(), json.dumps(values))


def attach(ctx: Any, app: str) -> LearningScheduler:
    """Register ``app``'s learning jobs with the context's scheduler (started on the first app)."""
    scheduler = ctx.service(KEY, lambda: LearningScheduler(ctx))
    scheduler.attach(app)
    return scheduler


def detach(ctx: Any, app: str) -> None:
    scheduler = ctx.service(KEY, lambda: LearningScheduler(ctx))
    if scheduler.detach(app):
        ctx.drop(KEY)
