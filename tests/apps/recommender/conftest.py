"""A micro book catalogue (three tastes, one cold item) written to temp files, and its store."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

# tests/ is on sys.path (the root conftest), so the folder tests/apps would shadow the real
# ``apps`` package as a namespace package under a bare ``pytest``; make the repo root win.
ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

ITEMS = [
    ("s1", "Stars of the Expanse", "A crew of misfits flies a battered starship across the galaxy; space opera with a "
     "strong heroine and found family.", "science-fiction|space-opera"),
    ("s2", "The Void Fleet", "Interstellar war between fleets of starships, admirals and alien empires in deep space.",
     "science-fiction|space-opera"),
    ("s3", "Orbit of Ash", "A slow-burn space opera: a lone pilot and her ship's mind cross a dying star system.",
     "science-fiction|space-opera"),
    ("s4", "Red Planet Engineers", "Hard science fiction about engineers building a colony on Mars, orbital "
     "mechanics and rockets.", "science-fiction|hard-sf"),
    ("m1", "Murder at the Vicarage Fete", "A cosy village mystery: a retired schoolteacher solves a poisoning at "
     "the summer fete.", "mystery|cozy-mystery"),
    ("m2", "The Locked Library", "A detective investigates a murder in a locked library; clues, red herrings and a "
     "twist.", "mystery|detective"),
    ("m3", "Death by the Canal", "An inspector hunts a killer along the canals of a rainy city; a police procedural.",
     "mystery|crime"),
    ("m4", "The Knitting Circle Murders", "Gentle amateur sleuths, tea and gossip, and a murder among friends.",
     "mystery|cozy-mystery"),
    ("c1", "Salt and Flame", "A cookbook of weeknight recipes: roasting, grilling and simple sauces.", "cookery"),
    ("c2", "Bread Every Day", "Baking bread at home: sourdough starters, loaves, flatbreads and rolls.",
     "cookery|baking"),
    ("c3", "The Spice Kitchen", "Recipes with spices from around the world, curries, stews and pickles.", "cookery"),
    ("x1", "Nebula Runners", "Smugglers race a starship through a nebula; fast space opera adventure with a "
     "daring captain.", "science-fiction|space-opera"),  # cold: nobody has read it
]

# user -> [(item, rating)] in time order
HISTORIES = {
    "space1": [("s1", 5), ("s2", 4.5), ("s3", 5), ("m2", 2)],
    "space2": [("s1", 4.5), ("s3", 4), ("s4", 4.5)],
    "space3": [("s2", 5), ("s3", 4.5), ("s4", 4)],
    "myst1": [("m1", 5), ("m2", 4.5), ("m4", 5), ("c1", 1.5)],
    "myst2": [("m1", 4), ("m3", 4.5), ("m2", 4)],
    "cook1": [("c1", 5), ("c2", 4.5), ("c3", 5)],
    "cook2": [("c2", 5), ("c3", 4), ("m4", 3.5)],
}


def write_items(path, rows=ITEMS) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "title", "text", "genres"])
        writer.writerows(rows)
    return str(path)


def write_interactions(path, histories=HISTORIES) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "rating", "timestamp"])
        for u, (user, events) in enumerate(sorted(histories.items())):
            for t, (item, rating) in enumerate(events):
                writer.writerow([user, item, rating, 1_700_000_000 + 86_400 * t + u])
    return str(path)


@pytest.fixture
def micro_files(tmp_path):
    """(items.csv, interactions.csv) of the micro catalogue."""
    return write_items(tmp_path / "items.csv"), write_interactions(tmp_path / "interactions.csv")


@pytest.fixture
def micro_store(micro_files):
    """A Store with the micro catalogue imported."""
    from apps.recommender.catalog import import_files
    from apps.recommender.store import Store

    store = Store()
    import_files(*micro_files, store=store)
    return store
