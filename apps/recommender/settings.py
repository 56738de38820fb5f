"""The ``[recommender]`` config table, typed (see deploy/config.example.toml for each key's meaning)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from apps.config import Section
from apps.recommender.ranker import Blend

Blend.__pydantic_config__ = ConfigDict(extra="forbid")


class RecommenderSettings(Section):
    adapter: str = "recommender/next-item"  # "none": the frozen MiniLM
    items: str = ""  # catalogue CSV imported at start (idempotent); empty: the demo books
    interactions: str = ""  # interactions CSV imported with it
    demo_readers: bool | None = None  # the demo readers' histories on the page; unset: on unless production
    session_hours: float = Field(24 * 30, gt=0)  # how long a visitor's own profile lives
    learn_from_visitors: bool = False  # anonymous page visitors' likes feed `retrain recommender`
    blend: Blend = Blend()
