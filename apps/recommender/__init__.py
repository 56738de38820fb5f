"""The text-based recommender: items and what users did -> ranked, explained recommendations.

Modules are named for what they own:
  catalog    read and validate items / interactions files (CSV or JSONL), import them
  store      the recommend_* tables (items, interactions, imports) and the catalogue snapshot
  movielens  convert the MovieLens ml-latest-small layout into our items / interactions files
  profiles   event weights (rating, recency), user profiles from history, typed interests or both
  collab     popularity and the item-item collaborative signal (with cold items filled from text)
  ranker     candidates from the faiss index, the second-stage blend, MMR diversity
  explain    one short reason per recommendation
  engine     the catalogue + vectors + signals in memory; for-user / query / more-like-this
  service    the process-wide engine, demo catalogue loading, ``start(config)`` for the launcher
  train      next-item pairs from time-ordered histories -> LoRA bi-encoder adapter
  cli        ``lorasuite recommend ...``
  ui         the Gradio demo page

Run ``lorasuite recommend --help``; the page is served by ``lorasuite serve`` at /recommend.
"""

from __future__ import annotations

from typing import Any


def start(config: Any = None) -> list[str]:
    """Launcher hook: the demo books on a fresh home, the item index built (see service.start)."""
    from apps.recommender.service import start as start_service

    return start_service(config)


def stop() -> None:
    """Launcher hook: drop the cached engines."""
    from apps.recommender.service import stop as stop_service

    stop_service()
