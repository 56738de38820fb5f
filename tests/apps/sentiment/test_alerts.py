"""Live alerts: same result as replay, evidence, outbox delivery exactly once, ack, silence, rules."""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sentiment_helpers import add_items, spike_rows

from apps.sentiment import alerts, outbox
from apps.sentiment.detector import Rules, event_for
from apps.sentiment.replay import run
from apps.sentiment.store import iso, utcnow
from shared.errors import LorasuiteError

START = datetime(2026, 10, 5, tzinfo=timezone.utc)
END = START + timedelta(days=15)


def _replayed(db) -> list[dict]:
    rows = db.query("SELECT i.published, i.label, i.score, i.title, i.link, t.topic FROM sentiment_items i "
                    "JOIN sentiment_item_topics t ON t.item_id = i.id ORDER BY i.published")
    pairs = [(r["topic"], event_for(r["published"], r["label"], r["score"], r["title"], r["link"])) for r in rows]
    return run(pairs, Rules())


def test_live_checks_match_replay_and_carry_evidence(db):
    add_items(db, spike_rows(START) + spike_rows(START, topic="Calm", burst=0))
    # advance the live clock in uneven steps: state persisted between checks must not change the outcome
    for hours in (7, 30, 200, 100):
        alerts.check(db, now=START + timedelta(hours=hours), settings={})
    alerts.check(db, now=END, settings={})
    live = alerts.list_alerts(db)
    replayed = _replayed(db)
    assert [(a["topic"], a["fired_at"], a["negative"]) for a in live] == \
           [(a["topic"], a["fired_at"], a["negative"]) for a in replayed]
    assert len(live) == 1 and live[0]["topic"] == "Acme" and live[0]["status"] == "resolved"
    fired = datetime.fromisoformat(live[0]["fired_at"])
    assert START + timedelta(days=10, hours=8) < fired < START + timedelta(days=10, hours=14)
    evidence = live[0]["evidence"]
    assert 1 <= len(evidence) <= 5 and all("scandal" in e["title"] and e["link"].startswith("https://")
                                           for e in evidence)
    assert alerts.check(db, now=END, settings={})["fired"] == 0  # re-running is harmless


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []
    fail_next = 0

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Hook.fail_next > 0:
            _Hook.fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        _Hook.received.append({"key": self.headers["Idempotency-Key"], **body})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webhook_down_then_up_receives_each_alert_exactly_once(db):
    port = _free_port()
    section = {"webhook_url": f"http://127.0.0.1:{port}/hook", "allow_hosts": ["127.0.0.1"]}
    add_items(db, spike_rows(START))
    alerts.check(db, now=START + timedelta(days=10, hours=16), settings=section)  # fires (and escalates)
    queued = db.scalar("SELECT COUNT(*) FROM sentiment_outbox")
    assert outbox.deliver_due(db, section) == {"sent": 0, "failed": queued}  # endpoint down: nothing listening
    assert outbox.deliver_due(db, section) == {"sent": 0, "failed": 0}  # backing off
    _Hook.received, _Hook.fail_next = [], 1
    server = HTTPServer(("127.0.0.1", port), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        later = utcnow() + timedelta(hours=2)
        assert outbox.deliver_due(db, section, now=later)["failed"] == 1  # up, but the first answer is a 503
        alerts.check(db, now=END, settings=section)  # resolves: a second event
        for _ in range(3):
            outbox.deliver_due(db, section, now=utcnow() + timedelta(hours=5))
    finally:
        server.shutdown()
        server.server_close()
    rows = db.query("SELECT id, event FROM sentiment_outbox ORDER BY id")
    assert [r["event"].split(":")[0] for r in rows] == ["fired", "escalated", "resolved"]
    assert sorted(r["key"] for r in _Hook.received) == sorted(f"lorasuite-{r['id']}" for r in rows)  # each once
    assert {r["alert"]["topic"] for r in _Hook.received} == {"Acme"}
    fired = _Hook.received[0]
    assert "Acme" in fired["text"] and fired["blocks"] and fired["alert"]["evidence"]
    assert db.scalar("SELECT COUNT(*) FROM sentiment_outbox WHERE status = 'sent'") == 3


def test_email_channel_through_smtp(db):
    got: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def smtp_sessions() -> None:  # the smallest SMTP server: one message per connection
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            smtp_session(conn)

    def smtp_session(conn: socket.socket) -> None:
        rfile = conn.makefile("rb")
        conn.sendall(b"220 test\r\n")
        while line := rfile.readline():
            cmd = line.strip().upper()
            if cmd == b"DATA":
                conn.sendall(b"354 go\r\n")
                while (data := rfile.readline()) != b".\r\n":
                    got.append(data)
                conn.sendall(b"250 ok\r\n")
            elif cmd == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                break
            else:
                conn.sendall(b"250 ok\r\n")
        conn.close()

    threading.Thread(target=smtp_sessions, daemon=True).start()
    section = {"smtp": {"host": "127.0.0.1", "port": server.getsockname()[1], "to": ["desk@example.com"],
                        "tls": "off"}}
    add_items(db, spike_rows(START))
    alerts.check(db, now=START + timedelta(days=10, hours=16), settings=section)
    queued = db.scalar("SELECT COUNT(*) FROM sentiment_outbox WHERE channel = 'email'")
    assert queued >= 1 and outbox.deliver_due(db, section) == {"sent": queued, "failed": 0}
    server.close()
    mail = b"".join(got).decode()
    assert "Subject: [" in mail and "Acme" in mail and "scandal" in mail


def test_acknowledge_and_silence(db):
    add_items(db, spike_rows(START) + spike_rows(START, topic="Beta", burst_day=11))
    alerts.check(db, now=START + timedelta(days=10, hours=16), settings={"webhook_url": "http://127.0.0.1:9/x"})
    (acme,) = alerts.list_alerts(db, open_only=True)
    with pytest.raises(LorasuiteError, match="who"):
        alerts.acknowledge(db, acme["id"], who=" ")
    done = alerts.acknowledge(db, acme["id"], who="ana", note="known recall")
    assert (done["acked_by"], done["ack_note"]) == ("ana", "known recall") and done["acked_at"]
    with pytest.raises(LorasuiteError, match="already acknowledged"):
        alerts.acknowledge(db, acme["id"], who="bob")
    with pytest.raises(LorasuiteError, match="future"):
        alerts.silence(db, "Beta", "2020-01-01T00:00:00Z", who="ana", why="old")
    silence = alerts.silence(db, "Beta", "2d", who="ana", why="earnings week")
    alerts.check(db, now=END, settings={"webhook_url": "http://127.0.0.1:9/x"})
    beta = [a for a in alerts.list_alerts(db) if a["topic"] == "Beta"]
    assert len(beta) == 1 and beta[0]["silenced_by"] == silence["id"]
    assert alerts.list_alerts(db, open_only=True) == []
    queued = db.query("SELECT a.topic, o.event FROM sentiment_outbox o JOIN sentiment_alerts a ON a.id = o.alert_id")
    assert all(r["topic"] == "Acme" for r in queued)  # nothing queued for the silenced topic
    assert alerts.parse_until("4h", START) == START + timedelta(hours=4)
    with pytest.raises(LorasuiteError, match="duration"):
        alerts.parse_until("soon")


def test_rules_from_config_and_dashboard(db):
    assert alerts.load_rules(db, {}) == Rules()
    assert alerts.load_rules(db, {"alerts": {"min_negative": 5}}).min_negative == 5
    alerts.save_rules(db, dict(Rules().to_dict(), alpha=0.001))
    rules = alerts.load_rules(db, {"alerts": {"min_negative": 5}})
    assert (rules.alpha, rules.min_negative) == (0.001, 5)
    with pytest.raises(LorasuiteError, match="bad alert rules"):
        alerts.save_rules(db, {"alpha": 2})
    assert iso(START) == "2026-10-05T00:00:00+00:00"
