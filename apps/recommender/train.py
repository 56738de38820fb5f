"""Train the recommender's LoRA bi-encoder on what users read next.

From each user's time-ordered history, every liked item (preference >= ``min_pref``; 0.4 =
3.5 stars on a 0-5 scale) after the first becomes one pair: the query is the titles of the
liked items before it (the last ``max_context``, newest first: the same text the engine builds
at request time) and the positive is the item's text. The loss is contrastive with in-batch
negatives (shared.biencoder). Each user's last pair is held out (dev Recall@10, early stopping).

    lorasuite recommend train --items data/recommender/items.csv \\
        --interactions data/recommender/interactions.csv --name next-item
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

from apps.recommender.catalog import (
    RATING_RANGE,
    Interaction,
    Item,
    embed_text,
    read_interactions,
    read_items,
)
from apps.recommender.profiles import histories, history_query
from shared.datasets import file_hash
from shared.errors import DataError
from shared.settings import LoraSettings

log = logging.getLogger(__name__)
APP = "recommender"
PAIR_SETTINGS = {"lr": 5e-4, "epochs": 1, "batch_size": 32, "max_length": 64, "evals_per_epoch": 2}


def next_item_pairs(items: list[Item], interactions: list[Interaction], min_pref: float = 0.4,
                    max_context: int = 5, rating_range: tuple[float, float] = RATING_RANGE
                    ) -> dict[str, list[tuple[str, str]]]:
    """user -> [(recent liked titles, next liked item text)] in time order."""
    positions = {item.item_id: i for i, item in enumerate(items)}
    texts = [embed_text(item) for item in items]
    out: dict[str, list[tuple[str, str]]] = {}
    for user, history in histories(interactions, positions, rating_range).items():
        liked = [int(i) for i, p in zip(history.items, history.prefs, strict=True) if p >= min_pref]
        pairs = [(history_query([items[j].title for j in liked[:t]], max_context), texts[liked[t]])
                 for t in range(1, len(liked))]
        if pairs:
            out[user] = pairs
    return out


def split_pairs(by_user: dict[str, list[tuple[str, str]]], max_pairs: int | None = None, max_dev: int = 300,
                seed: int = 42) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, dev): each user's last pair is dev (up to ``max_dev`` users), the rest train."""
    rng = random.Random(seed)
    users = sorted(by_user)
    dev_users = set(rng.sample(users, min(max_dev, len(users)))) if len(users) >= 5 else set()
    train, dev = [], []
    for user in users:
        pairs = by_user[user]
        if user in dev_users and len(pairs) > 1:
            train += pairs[:-1]
            dev.append(pairs[-1])
        else:
            train += pairs
    if max_pairs and len(train) > max_pairs:
        train = rng.sample(train, max_pairs)
    return train, dev


def train_from_files(items: str | Path, interactions: str | Path, name: str, settings: LoraSettings | None = None,
                     model: str = "minilm", max_pairs: int | None = None, min_pref: float = 0.4,
                     rating_range: tuple[float, float] = RATING_RANGE) -> tuple[Path, dict]:
    """Validate the files, build next-item pairs, train, save ``recommender/name``; returns (path, meta)."""
    from shared import adapters

    adapters.check_name("adapter", name)
    item_rows = read_items(items)
    inter_rows = read_interactions(interactions, {i.item_id for i in item_rows.rows}, rating_range)
    for report in (item_rows, inter_rows):
        if report.problems:
            log.warning("%s", report.summary())
    train, dev = split_pairs(next_item_pairs(item_rows.rows, inter_rows.rows, min_pref, rating_range=rating_range),
                             max_pairs)
    if len(train) < 2:
        raise DataError(interactions, f"only {len(train)} next-item pairs (users need 2+ liked items in time order)",
                        fix="give more interactions or lower --min-rating")
    from shared.biencoder import train_biencoder

    settings = settings or LoraSettings(**PAIR_SETTINGS)
    log.info("training %s/%s on %d pairs (%d dev)", APP, name, len(train), len(dev))
    trained = train_biencoder(train, settings, model=model, dev=dev or None,
                              data_hash=file_hash(items, interactions))
    trained.meta.update({"pairs": len(train), "dev_pairs": len(dev), "min_pref": min_pref,
                         "query": "recent liked titles, newest first, '; '-joined (max 5)"})
    path = adapters.save(APP, name, trained)
    return path, trained.meta
