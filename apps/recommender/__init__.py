"""The text-based recommender: items and what users did -> ranked, explained recommendations.

Modules are named for what they own:
  catalog    read and validate items / interactions files (CSV or JSONL), import them
  store      the recommender_* tables (items, interactions, imports) and the catalogue snapshot
  movielens  convert the MovieLens ml-latest-small layout into our items / interactions files
  profiles   event weights (rating, recency), user profiles from history, typed interests or both
  collab     popularity and the item-item collaborative signal (with cold items filled from text)
  ranker     candidates from the faiss index, the second-stage blend, MMR diversity
  explain    one short reason per recommendation
  engine     the catalogue + vectors + signals in memory; for-user / query / more-like-this
  service    a context's engines, catalogue loading, what ``start`` does; app: the AppSpec
  train      next-item pairs from time-ordered histories -> LoRA bi-encoder adapter
  cli        ``lorasuite recommender ...`` (alias ``recommend``)
  ui         the Gradio demo page

Run ``lorasuite recommender --help``; the page is served by ``lorasuite serve`` at /recommender.
"""

from __future__ import annotations
