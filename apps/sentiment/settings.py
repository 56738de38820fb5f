"""The ``[sentiment]`` config table, typed (see deploy/config.example.toml for each key's meaning)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, SecretStr

from apps.config import Section
from apps.sentiment.detector import Rules

Rules.__pydantic_config__ = ConfigDict(extra="forbid")  # unknown [sentiment.alerts] keys are errors


class FeedSettings(Section):
    name: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1)
    interval_minutes: float = Field(15, ge=1 / 6)  # at least 10 s


class SmtpSettings(Section):
    host: str = ""  # empty: no e-mail
    port: int = Field(587, ge=1, le=65535)
    user: str = ""
    password: SecretStr = SecretStr("")  # LORASUITE_SMTP_PASSWORD wins
    from_: str = Field("lorasuite@localhost", alias="from")
    to: list[str] = []
    tls: Literal["starttls", "ssl", "off"] = "starttls"


class SentimentSettings(Section):
    enabled: bool = True
    adapter: str = "sentiment/finance"
    ner_adapter: str = "ner/orgs"  # "none" turns entity tagging off
    watchlist: str = ""  # CSV topic,aliases; empty: the shipped data/sentiment/watchlist.csv
    sectors: dict[str, list[str]] | None = None  # sector -> keywords; unset: the built-in sectors
    feeds: list[FeedSettings] = []
    demo_feeds: bool | None = None  # the shipped demo feeds on a local endpoint; unset: on unless production
    demo_feeds_dir: str = ""
    demo_interval: int = Field(300, ge=10)  # seconds between polls of each demo feed
    alerts_interval: int = Field(60, ge=5)  # seconds between alert checks
    fetch_timeout: float = Field(20.0, gt=0, le=600)  # whole-request deadline of one feed fetch
    allow_hosts: list[str] = []  # hosts exempt from the private-address check (an intranet feed)
    file_roots: list[str] = []  # folders file: feeds may read besides the shipped data folder
    webhook_url: str = ""  # POST alerts here (Slack-compatible JSON); empty: off
    smtp: SmtpSettings = SmtpSettings()
    alerts: Rules = Rules()


def settings_of(value: SentimentSettings | dict | None) -> SentimentSettings:
    """Typed settings from the context's section, a plain dict (scripts, tests) or nothing (defaults)."""
    if isinstance(value, SentimentSettings):
        return value
    return SentimentSettings.model_validate(value or {})
