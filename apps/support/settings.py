"""The ``[support]`` config table, typed (see deploy/config.example.toml for each key's meaning)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from apps.config import Section


class SupportSettings(Section):
    intent_adapter: str = "support/intent"  # APP/NAME[@VERSION] or a folder
    kb_paths: list[str] = []  # help-centre files/folders; empty: the shipped data/support/kb
    # thresholds: unset = the calibrated values for the intent adapter (apps/support/policy.py)
    confidence_threshold: float | None = Field(None, ge=-1, le=1)
    margin_threshold: float | None = Field(None, ge=-1, le=1)
    similarity_threshold: float | None = Field(None, ge=-1, le=1)
    unsure_similarity: float | None = Field(None, ge=-1, le=1)
    handover_margin: float | None = Field(None, ge=-1, le=1)
    slots: Literal["handover", "always", "off"] = "handover"
    slots_adapter: str = "support/slots"
    slots_min_score: float = Field(0.5, ge=0, le=1)
    generator: Literal["auto", "on", "off"] = "auto"
    generator_model: str = "smollm2"
    generator_adapter: str = "support/generator"
    generator_max_tokens: int = Field(160, ge=1, le=2048)
    chat_concurrency: int = Field(8, ge=1, le=256)  # chat events the web page runs at once
    rate_limit_per_minute: int = Field(30, ge=1)  # messages per client address per minute
