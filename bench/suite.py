"""The suite's budgets: start-to-ready time, resident memory, 50 concurrent chat sessions.

    .venv/bin/python bench/suite.py [--sessions 50] [--seconds 60]

Starts ``lorasuite serve`` on a free loopback port with a fresh ``LORASUITE_HOME`` (cold: the
shipped data is ingested on first boot), times it to a healthy ``/healthz``, restarts it (warm),
then runs N concurrent chat sessions for S seconds twice: against ``POST /api/support/ask`` and
through the chat page's own Gradio queue (``gradio_client``, one browser session each, the
``[support] chat_concurrency`` limit in force). Loops are bounded in time, loopback only. The
per-client rate limit is raised for the run (every session comes from 127.0.0.1). Reads the
server's RSS and writes bench/results/suite.md and .json.

``--retrain`` adds three more chat runs on the warm server with ``--retrain-sessions`` sessions
(default 4, a load the server alone answers quickly): alone, then while a training process shares
the machine: ``lorasuite retrain sentiment`` as the scheduler runs it (a child process at low
priority with ``[learning] threads`` = 1 torch thread, on 300 relabelled shipped headlines) and,
for contrast, a plain ``lorasuite sentiment train`` at normal priority with torch's default
threads. Each trainer is killed when its chat window ends (a killed retrain leaves no version).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
QUESTIONS = ["I lost my card", "and how long does that take?", "How do I top up by bank transfer?",
             "Why was I charged a fee for cash?", "my transfer has not arrived", "what is the exchange rate?",
             "can I get a virtual card", "I want to speak to a person"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: str, port: int) -> tuple[subprocess.Popen, float]:
    config = Path(home) / "bench.toml"
    config.write_text("[support]\nrate_limit_per_minute = 1000000\n")  # all sessions share 127.0.0.1
    env = dict(os.environ, LORASUITE_HOME=home, LORASUITE_CONFIG=str(config), PYTHONUNBUFFERED="1")
    start = time.perf_counter()
    proc = subprocess.Popen([str(ROOT / ".venv/bin/lorasuite"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(Path(home) / "serve.log", "w"))
    while time.perf_counter() - start < 600:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, time.perf_counter() - start
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {home}/serve.log")
        time.sleep(0.5)
    raise RuntimeError("server not ready in 600 s")


def stop_server(proc: subprocess.Popen) -> float:
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    return time.perf_counter() - start


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_sessions(sessions: int, seconds: float, ask) -> dict:
    """``sessions`` threads each calling ``ask(session, turn)`` until ``seconds`` pass (bounded in
    time); latencies and errors are collected."""
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.perf_counter() + seconds

    def session(n: int) -> None:
        turn = n
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                ask(n, turn)
                with lock:
                    latencies.append(time.perf_counter() - start)
            except Exception as err:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(repr(err))
            turn += 1

    threads = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summary(latencies, errors, sessions, seconds)


def chat_load(port: int, sessions: int, seconds: float) -> dict:
    """``POST /api/support/ask``, one conversation per session (a new one after each hand-over)."""
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) for _ in range(sessions)]
    conversations: list[str | None] = [None] * sessions

    def ask(n: int, turn: int) -> None:
        response = clients[n].post("/api/support/ask", json={"text": QUESTIONS[turn % len(QUESTIONS)],
                                                             "conversation_id": conversations[n]})
        response.raise_for_status()
        body = response.json()
        conversations[n] = None if body.get("escalate") else body["conversation_id"]

    try:
        return run_sessions(sessions, seconds, ask)
    finally:
        for client in clients:
            client.close()


def gradio_load(port: int, sessions: int, seconds: float) -> dict:
    """The chat page's own queue: each session a gradio_client (its own session and state)."""
    from gradio_client import Client

    clients = [Client(f"http://127.0.0.1:{port}/support/", verbose=False) for _ in range(sessions)]
    return run_sessions(sessions, seconds,
                        lambda n, turn: clients[n].predict(QUESTIONS[turn % len(QUESTIONS)], api_name="/respond"))


def load_while_training(port: int, home: str, sessions: int, seconds: float, polite: bool | None) -> dict:
    """``chat_load`` while a trainer runs beside the server: the learning loop's child process
    (``polite``), an ordinary training run at normal priority with every core (False), or none."""
    if polite is None:
        return dict(chat_load(port, sessions, seconds), trainer="no trainer", trainer_running_at_end=False)
    env = dict(os.environ, LORASUITE_HOME=home, LORASUITE_CONFIG=str(Path(home) / "bench.toml"))
    sample = ROOT / "data" / "sentiment" / "twitter_fin_news_train.csv"
    if polite:
        rows = Path(home) / "relabel.csv"
        rows.write_text("\n".join(sample.read_text().splitlines()[:301]) + "\n")
        subprocess.run([str(ROOT / ".venv/bin/lorasuite"), "sentiment", "relabel", "--input", str(rows)],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        code = "from apps.learning import run_child; run_child('sentiment', 'finance', 1)"
        command = [sys.executable, "-c", code]
    else:
        command = [str(ROOT / ".venv/bin/lorasuite"), "sentiment", "train", "--data", str(sample),
                   "--name", "bench-contrast", "--epochs", "3"]
    trainer = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        result = chat_load(port, sessions, seconds)
    finally:
        still_training = trainer.poll() is None
        os.killpg(trainer.pid, signal.SIGKILL)
        trainer.wait()
    return dict(result, trainer="retrain child (nice, 1 thread)" if polite else "sentiment train (normal)",
                trainer_running_at_end=still_training)


def _summary(latencies: list[float], errors: list[str], sessions: int, seconds: float) -> dict:
    lat = np.array(latencies) * 1000
    return {"sessions": sessions, "seconds": seconds, "requests": len(latencies), "errors": len(errors),
            "error_examples": errors[:3], "p50_ms": float(np.percentile(lat, 50)) if len(lat) else None,
            "p95_ms": float(np.percentile(lat, 95)) if len(lat) else None, "requests_per_s": len(latencies) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--retrain", action="store_true", help="also measure chat while a trainer runs")
    parser.add_argument("--retrain-sessions", type=int, default=4,
                        help="chat sessions during the trainer runs (a light load the server alone keeps fast)")
    args = parser.parse_args()
    home, port = tempfile.mkdtemp(prefix="lorasuite-bench-"), free_port()
    proc, cold = start_server(home, port)
    stop_cold = stop_server(proc)
    proc, warm = start_server(home, port)
    rss_ready = rss_mb(proc.pid)
    load = chat_load(port, args.sessions, args.seconds)
    page = gradio_load(port, args.sessions, args.seconds)
    during = [load_while_training(port, home, args.retrain_sessions, args.seconds, polite)
              for polite in (None, True, False)] if args.retrain else []
    rss_after = rss_mb(proc.pid)
    stop_warm = stop_server(proc)
    result = {"cold_start_s": cold, "warm_start_s": warm, "rss_ready_mb": rss_ready, "rss_after_load_mb": rss_after,
              "sigterm_stop_s": [stop_cold, stop_warm], "load": load, "page_load": page, "cpus": os.cpu_count(),
              "loadavg_before": os.getloadavg(), "during_training": during}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "suite.json").write_text(json.dumps(result, indent=2))
    table = "\n".join([
        "# Suite budgets", "", f"Command: `.venv/bin/python bench/suite.py --sessions {args.sessions} --seconds {args.seconds:g}`"
        f" ({os.cpu_count()} CPU cores, all three apps, loopback)", "",
        "| measure | value | budget |", "|---|---|---|",
        f"| start to ready, fresh LORASUITE_HOME (ingests shipped data) | {cold:.1f} s | |",
        f"| start to ready, warm state | {warm:.1f} s | <= 30 s |",
        f"| resident memory when ready | {rss_ready:.0f} MB | |",
        f"| resident memory after the load test | {rss_after:.0f} MB | <= 1,500 MB |",
        f"| SIGTERM to exit | {max(stop_cold, stop_warm):.1f} s | clean |",
        f"| chat: {load['sessions']} sessions x {load['seconds']:g} s: requests / errors | {load['requests']} / {load['errors']} | 0 errors |",
        f"| chat latency p50 / p95 | {load['p50_ms']:.0f} / {load['p95_ms']:.0f} ms | |",
        f"| chat throughput | {load['requests_per_s']:.1f} req/s | |",
        f"| chat page (Gradio queue): {page['sessions']} sessions x {page['seconds']:g} s: messages / errors "
        f"| {page['requests']} / {page['errors']} | 0 errors |",
        f"| chat page latency p50 / p95 | {_ms(page['p50_ms'])} / {_ms(page['p95_ms'])} ms | |",
        f"| chat page throughput | {page['requests_per_s']:.1f} messages/s | |",
        *[f"| chat, {d['sessions']} sessions, {d['trainer']}: p50 / p95 | {_ms(d['p50_ms'])} / {_ms(d['p95_ms'])} ms"
          f" ({d['requests']} requests, {d['errors']} errors) | |" for d in during]])
    (RESULTS / "suite.md").write_text(table + "\n")
    print(table)
    sys.exit(1 if load["errors"] or page["errors"] or any(d["errors"] for d in during) else 0)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


if __name__ == "__main__":
    main()
