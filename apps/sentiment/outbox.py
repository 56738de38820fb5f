"""Alert delivery through a database outbox: webhook (Slack-compatible JSON POST) and SMTP email.

When an alert fires (or escalates, or resolves) a row per configured channel is written to
``sentiment_outbox`` in the SAME transaction as the alert, so a notification can never be lost
between "alert stored" and "alert sent". ``deliver_due`` claims due rows (a short lease, so two
workers never send the same row), sends them, and marks them sent; a failure keeps the row and
schedules a retry with exponential backoff (30 s doubling, capped at 1 h), forever: a down
endpoint gets everything once it is back. Each row is sent at most once while its lease holds,
and every POST carries ``Idempotency-Key: lorasuite-<row id>`` for receivers that dedupe.

Webhook URLs pass the same outbound policy as feeds (``shared.netguard``: http(s), no internal
address unless the host is in ``allow_hosts``, checked at connect time on every redirect, a
deadline on the whole call). Email is never sent in clear unless ``tls = "off"`` says so:
``"starttls"`` (default, port 587) requires the server to offer STARTTLS and verifies its
certificate; ``"ssl"`` connects with TLS from the start (port 465).

Configuration (``[sentiment]`` section):
    webhook_url = "https://hooks.slack.com/services/..."
    allow_hosts = ["hooks.intranet"]      # hosts exempt from the internal-address check
    [sentiment.smtp]  host, port, user, password (or LORASUITE_SMTP_PASSWORD), from, to = [...],
                      tls = "starttls" | "ssl" | "off"
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from apps.sentiment.settings import settings_of
from apps.sentiment.store import iso, utcnow
from shared import netguard
from shared.errors import LorasuiteError
from shared.storage import Database

log = logging.getLogger(__name__)
LEASE_S = 120
MAX_BACKOFF_S = 3600
TLS_MODES = {"starttls": 587, "ssl": 465, "off": 25}  # mode -> default port


def channels(settings: Any) -> dict[str, str]:
    """Channel -> target for the configured delivery channels (webhook URL, email recipients)."""
    settings = settings_of(settings)
    out = {}
    url = os.environ.get("LORASUITE_SENTIMENT_WEBHOOK") or settings.webhook_url
    if url:
        out["webhook"] = str(url)
    if settings.smtp.host and settings.smtp.to:
        out["email"] = ",".join(settings.smtp.to)
    return out


def smtp_table(settings: Any) -> dict[str, Any]:
    """The typed ``[sentiment.smtp]`` as the plain table ``smtp_settings`` reads."""
    smtp = settings_of(settings).smtp
    return {"host": smtp.host, "port": smtp.port, "user": smtp.user, "from": smtp.from_, "to": list(smtp.to),
            "password": smtp.password.get_secret_value(), "tls": smtp.tls}


def message(alert: dict[str, Any], event: str) -> dict[str, Any]:
    """The Slack-compatible payload (text + blocks) with the structured alert alongside."""
    word = {"fired": "Negative news spike", "resolved": "Resolved", }.get(event, "Escalated")
    head = (f"[{alert['severity'].upper()}] {word}: {alert['topic']} - {alert['negative']} negative of "
            f"{alert['total']} headlines in the window vs {alert['baseline']:.1f} expected")
    lines = [f"• <{_slack(e.get('link') or '')}|{_slack(e.get('title') or '')}>" if e.get("link")
             else f"• {_slack(e.get('title') or '')}" for e in alert.get("evidence", [])]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": _slack(head)}}]
    if lines and event != "resolved":
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}})
    return {"text": head, "blocks": blocks, "event": event, "alert": alert}


def _slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def enqueue(tx: Any, alert_id: int, event: str, alert: dict[str, Any], targets: dict[str, str]) -> int:
    """Queue one notification per channel (inside the alert's transaction); returns rows added."""
    now, added = iso(utcnow()), 0
    payload = json.dumps(message(alert, event.split(":")[0]))
    for channel, target in targets.items():
        result = tx.execute("INSERT INTO sentiment_outbox (alert_id, event, channel, target, payload, next_attempt, "
                            "created) VALUES (:a, :e, :c, :t, :p, :n, :n) ON CONFLICT (alert_id, event, channel) "
                            "DO NOTHING", {"a": alert_id, "e": event, "c": channel, "t": target, "p": payload, "n": now})
        added += result.rowcount
    return added


def _claim(db: Database, now: datetime, limit: int) -> list[dict]:
    now_s, lease = iso(now), iso(now + timedelta(seconds=LEASE_S))
    with db.transaction() as tx:
        rows = tx.query("SELECT * FROM sentiment_outbox WHERE status = 'pending' AND next_attempt <= :n AND "
                        "(claimed_until IS NULL OR claimed_until < :n) ORDER BY id LIMIT :l", {"n": now_s, "l": limit})
        claimed = []
        for row in rows:
            hit = tx.execute("UPDATE sentiment_outbox SET claimed_until = :c WHERE id = :i AND status = 'pending' AND "
                             "(claimed_until IS NULL OR claimed_until < :n)", {"c": lease, "i": row["id"], "n": now_s})
            if hit.rowcount:
                claimed.append(row)
        return claimed


def deliver_due(db: Database, settings: Any = None, now: datetime | None = None, limit: int = 50,
                timeout: float = 10.0, *, allow_hosts: Iterable[str] | None = None,
                smtp_context: ssl.SSLContext | None = None) -> dict[str, int]:
    """Send what is due; returns {"sent", "failed"}. Never raises for delivery problems.

    ``allow_hosts`` (default: ``[sentiment] allow_hosts``) exempts webhook hosts from the
    internal-address check; ``smtp_context`` verifies the SMTP server (default: system CAs)."""
    now, settings = now or utcnow(), settings_of(settings)
    allow_hosts = settings.allow_hosts if allow_hosts is None else allow_hosts
    sent = failed = 0
    for row in _claim(db, now, limit):
        try:
            _send(row, settings, timeout, allow_hosts, smtp_context)
        except Exception as err:  # noqa: BLE001 - any delivery failure is retried later
            failed += 1
            wait = min(30 * 2 ** int(row["attempts"]), MAX_BACKOFF_S)
            db.execute("UPDATE sentiment_outbox SET attempts = attempts + 1, last_error = :e, claimed_until = NULL, "
                       "next_attempt = :n WHERE id = :i",
                       {"e": f"{err.__class__.__name__}: {err}"[:500], "n": iso(utcnow() + timedelta(seconds=wait)),
                        "i": row["id"]})
            log.warning("alert delivery %s #%s failed (attempt %d, retry in %ds): %s", row["channel"], row["id"],
                        int(row["attempts"]) + 1, wait, err)
            continue
        sent += 1
        db.execute("UPDATE sentiment_outbox SET status = 'sent', sent_at = :t, attempts = attempts + 1, "
                   "claimed_until = NULL, last_error = NULL WHERE id = :i", {"t": iso(utcnow()), "i": row["id"]})
    return {"sent": sent, "failed": failed}


def _send(row: dict, settings: Any, timeout: float, allow_hosts: Iterable[str],
          smtp_context: ssl.SSLContext | None) -> None:
    payload = json.loads(row["payload"])
    if row["channel"] == "webhook":
        post_json(row["target"], payload, timeout, key=f"lorasuite-{row['id']}", allow_hosts=allow_hosts)
    elif row["channel"] == "email":
        send_email(row["target"].split(","), payload["text"], _email_body(payload),
                   **smtp_settings(smtp_table(settings)), context=smtp_context)
    else:
        raise ValueError(f"unknown channel {row['channel']!r}")


def post_json(url: str, payload: dict, timeout: float = 10.0, key: str | None = None, *,
              allow_hosts: Iterable[str] | None = ()) -> None:
    """POST JSON within ``timeout`` seconds in all; anything but a 2xx is an error (retried by the caller).

    The policy of ``shared.netguard`` is applied at connect time, to every redirect
    (``allow_hosts`` exempts trusted hosts); the name lookup is inside the deadline."""
    if not url.lower().startswith(("http://", "https://")):
        raise netguard.BlockedURL(f"webhook {url}: only http(s) URLs are allowed")
    headers = {"Content-Type": "application/json", "User-Agent": "lorasuite-sentiment/0.1"}
    if key:
        headers["Idempotency-Key"] = key
    with netguard.guarded_client(timeout, allow_hosts) as client:
        response = client.post(url, content=json.dumps(payload).encode("utf-8"), headers=headers)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"HTTP {response.status_code}")


def _email_body(payload: dict) -> str:
    alert = payload.get("alert", {})
    lines = [payload.get("text", ""), "", f"window: {alert.get('window_start')} .. {alert.get('window_end')}", ""]
    lines += [f"- {e.get('title')}  {e.get('link') or ''}" for e in alert.get("evidence", [])]
    return "\n".join(lines)


def smtp_settings(smtp: dict) -> dict[str, Any]:
    """``send_email`` keyword arguments from a ``[sentiment.smtp]`` table (password: env first)."""
    if smtp.get("starttls") is False and "tls" not in smtp:
        raise LorasuiteError('[sentiment.smtp] starttls = false is no longer read: set tls = "off" to send '
                             '(and log in) without encryption, or tls = "ssl" for SMTPS on port 465')
    if not smtp.get("host"):
        raise LorasuiteError("[sentiment.smtp] needs a host")
    port = smtp.get("port")
    return {"host": str(smtp["host"]), "port": int(port) if port else None, "user": smtp.get("user") or None,
            "password": os.environ.get("LORASUITE_SMTP_PASSWORD") or smtp.get("password") or None,
            "sender": smtp.get("from") or None, "tls": str(smtp.get("tls") or "starttls")}


def send_email(to: list[str], subject: str, body: str, *, host: str, port: int | None = None,
               user: str | None = None, password: str | None = None, sender: str | None = None,
               tls: str = "starttls", timeout: float = 20.0, context: ssl.SSLContext | None = None) -> None:
    """Send a plain-text email; the connection is encrypted unless ``tls="off"``.

    ``tls="starttls"`` (port 587): EHLO, STARTTLS with a verifying ``context`` (default: system
    CAs), EHLO again, then log in; a server that does not offer STARTTLS is refused rather than
    spoken to in clear. ``tls="ssl"`` (port 465): TLS from the first byte. ``tls="off"``: plain SMTP."""
    if tls not in TLS_MODES:
        raise LorasuiteError(f"[sentiment.smtp] tls = {tls!r}: use one of {', '.join(TLS_MODES)}")
    msg = EmailMessage()
    msg["From"] = sender or user or "lorasuite@localhost"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject[:200]
    msg.set_content(body)
    context = context or ssl.create_default_context()
    port = int(port or TLS_MODES[tls])
    if tls == "ssl":
        server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    with server:
        server.ehlo()
        if tls == "starttls":
            if not server.has_extn("starttls"):
                raise LorasuiteError(f"SMTP server {host}:{port} does not offer STARTTLS; refusing to send in clear "
                                     '(set [sentiment.smtp] tls = "ssl" for port 465, or tls = "off" to allow it)')
            server.starttls(context=context)
            server.ehlo()
        if user and password:
            if tls == "off":
                log.warning("logging in to SMTP server %s:%d without TLS (tls = \"off\")", host, port)
            server.login(str(user), str(password))
        server.send_message(msg)


def pending_summary(db: Database) -> list[dict]:
    """Undelivered rows (for the dashboard): channel, event, attempts, last error, next attempt."""
    return db.query("SELECT o.id, a.topic, o.channel, o.event, o.attempts, o.last_error, o.next_attempt "
                    "FROM sentiment_outbox o JOIN sentiment_alerts a ON a.id = o.alert_id "
                    "WHERE o.status = 'pending' ORDER BY o.id")
