"""The financial news sentiment monitor: RSS in, sentiment and topics, spike alerts, dashboard.

Modules: feeds (fetch + registry + health), items (entries -> items, dedupe keys), ingest,
classify (LoRA sentiment + optional entities), topics, aggregates, detector (the alert rule),
alerts (live alerts, ack, silence), outbox (webhook/SMTP delivery), replay (backtest),
scheduler (apscheduler monitor), feedserver (local demo endpoint), service (what a served
process runs), settings (the typed ``[sentiment]`` table), app (the AppSpec), store (tables),
train, cli, ui. See apps/sentiment/README.md.
"""

from __future__ import annotations
