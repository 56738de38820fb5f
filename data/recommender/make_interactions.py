"""Generate the synthetic reading history for the recommender demo.

Run it from the repository root (standard library only, no arguments):

    python data/recommender/make_interactions.py

It reads ``items.csv`` (the book catalogue) and ``personas.json`` (reader
personas) from this folder and writes, next to them:

* ``interactions.csv`` -- ``user_id,item_id,rating,timestamp``: one row per
  book a user read in 2025, rating 1.0-5.0 in 0.5 steps, ISO 8601 timestamp
  (``YYYY-MM-DDTHH:MM:SS``, no time zone). Rows are sorted by user, then time.
* ``users.csv`` -- ``user_id,personas,activity_level``: which persona(s) drove
  each simulated user (ground truth for sanity checks; not a model input).

The output is fully determined by ``SEED``; re-running it reproduces the
committed files byte for byte.

How a user is simulated
-----------------------
* 120 users ``u001``..``u120``. Each gets a primary persona (personas are
  dealt out round-robin, so every persona has 8-9 users); about a quarter also
  get a secondary persona and read a mix of both.
* Affinity of a user for a book = overlap of the book's genres with the
  persona's preferred genres, plus half a point per persona theme phrase found
  in the description (whole words), minus two points per disliked genre (for mixed users the
  better of the two personas, the secondary one damped), plus a small personal
  quirk per user and book.
* Each user has a "discovery" genre outside their persona that they drift into
  as the year goes on (its affinity bonus ramps up from 0 over the sequence).
* Reading order: after a book rated >= 3.5 the user usually picks up the next
  unread volume of the same series (``SERIES`` below, in reading order) or,
  less often, the author's next book by publication year. Otherwise they pick
  a book weighted by affinity squared, item popularity (a log-normal draw,
  tripled for the titles in ``BESTSELLERS``) and genre similarity to the book
  they just finished. About 10% of picks are exploration driven by popularity
  alone, which is where most low ratings on disliked genres come from.
  Starting a series usually means starting at its first unread volume.
* Rating = 2.9 + 0.5 * affinity (1.6 for clearly disliked books), +0.25 when
  continuing a series, plus a per-user bias and noise, rounded to 0.5 and
  clipped to 1..5.
* Timestamps: each user starts somewhere in January-May and reads until some
  point before the end of 2025, with random (exponential) gaps between books.
* The books in ``COLD_ITEM_IDS`` are never shown to anyone, so they have no
  interactions at all (cold-start items for content-based recommendation).
  Every other book is guaranteed at least one interaction: a final pass gives
  any untouched book to one of the users who like it most, as their last read.
"""

import csv
import datetime
import json
import math
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ITEMS_PATH = os.path.join(HERE, "items.csv")
PERSONAS_PATH = os.path.join(HERE, "personas.json")
OUT_PATH = os.path.join(HERE, "interactions.csv")
USERS_PATH = os.path.join(HERE, "users.csv")

SEED = 20250101
N_USERS = 120
MIXED_SHARE = 0.25
ACTIVITY = {"low": (10, 16), "medium": (16, 28), "high": (26, 40)}
MAX_PER_USER = 40
YEAR_START = datetime.datetime(2025, 1, 1)
YEAR_END = datetime.datetime(2025, 12, 31, 23, 59, 59)

# Books nobody has read yet (cold-start items). Keep in sync with README.md.
COLD_ITEM_IDS = [
    "b029",  # Seveneves
    "b043",  # Kindred
    "b073",  # Babel
    "b092",  # Magpie Murders
    "b103",  # I Am Pilgrim
    "b125",  # Pachinko
    "b135",  # North and South
    "b160",  # Hell House
    "b166",  # A Distant Mirror
    "b173",  # The Wager
    "b186",  # Entangled Life
    "b215",  # Four Thousand Weeks
    "b230",  # Moro: The Cookbook
    "b238",  # Beowulf (trans. Seamus Heaney)
    "b259",  # Aristotle and Dante Discover the Secrets of the Universe
]

# Series with a real reading order (titles as in items.csv). Looser runs
# (Austen, Christie, Discworld, the Culture, ...) are covered by the
# same-author rule instead.
SERIES = [
    ["Dune", "Dune Messiah", "Children of Dune"],
    ["Foundation", "Foundation and Empire", "Second Foundation"],
    ["Hyperion", "The Fall of Hyperion"],
    ["Leviathan Wakes", "Caliban's War"],
    ["All Systems Red", "Artificial Condition"],
    ["The Three-Body Problem", "The Dark Forest", "Death's End"],
    ["The Hobbit", "The Fellowship of the Ring", "The Two Towers", "The Return of the King"],
    ["A Game of Thrones", "A Clash of Kings", "A Storm of Swords"],
    ["Mistborn: The Final Empire", "The Well of Ascension", "The Hero of Ages"],
    ["The Fifth Season", "The Obelisk Gate"],
    ["The Girl with the Dragon Tattoo", "The Girl Who Played with Fire"],
    ["The Thursday Murder Club", "The Man Who Died Twice"],
    ["The Cuckoo's Calling", "The Silkworm"],
    ["Angels & Demons", "The Da Vinci Code"],
    ["Slow Horses", "Dead Lions"],
    ["Wolf Hall", "Bring Up the Bodies"],
    ["Beach Read", "People We Meet on Vacation"],
    ["Sapiens: A Brief History of Humankind", "Homo Deus: A Brief History of Tomorrow"],
    ["Harry Potter and the Philosopher's Stone", "Harry Potter and the Chamber of Secrets",
     "Harry Potter and the Prisoner of Azkaban", "Harry Potter and the Goblet of Fire"],
    ["The Hunger Games", "Catching Fire", "Mockingjay"],
    ["Northern Lights", "The Subtle Knife", "The Amber Spyglass"],
    ["Six of Crows", "Crooked Kingdom"],
]

# Titles with an extra popularity boost (the "everyone has read it" head).
BESTSELLERS = [
    "Dune", "The Hitchhiker's Guide to the Galaxy", "The Martian", "Project Hail Mary",
    "The Three-Body Problem", "Nineteen Eighty-Four", "The Handmaid's Tale", "The Hobbit",
    "The Fellowship of the Ring", "A Game of Thrones", "Mistborn: The Final Empire",
    "Circe", "The Song of Achilles", "The House in the Cerulean Sea",
    "Murder on the Orient Express", "And Then There Were None", "Gone Girl",
    "The Girl with the Dragon Tattoo", "The Thursday Murder Club", "The Da Vinci Code",
    "The Silent Patient", "To Kill a Mockingbird", "The Great Gatsby",
    "Where the Crawdads Sing", "The Midnight Library", "Pride and Prejudice", "Jane Eyre",
    "The Seven Husbands of Evelyn Hugo", "Fourth Wing", "It", "The Shining", "Dracula",
    "Sapiens: A Brief History of Humankind", "A Brief History of Time", "Educated",
    "Becoming", "Atomic Habits", "Thinking, Fast and Slow", "Salt, Fat, Acid, Heat",
    "Milk and Honey", "Harry Potter and the Philosopher's Stone", "The Hunger Games",
    "The Book Thief",
]

BETA = 1.8            # sharpness of taste-driven picks: weight ~ exp(BETA * affinity)
EXPLORE = 0.08        # share of popularity-only picks
DISLIKE_TRIAL = 0.05  # share of picks forced from the user's disliked books
DRIFT_MAX = 1.5       # affinity bonus for the discovery genre at the end of the year
THEME_WEIGHT = 0.5
DISLIKE_WEIGHT = 2.0
SECONDARY_DAMPING = 0.85


def load_items(path=ITEMS_PATH):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    items = []
    for idx, r in enumerate(rows):
        items.append({
            "idx": idx,
            "item_id": r["item_id"],
            "title": r["title"],
            "author": r["author"].split(",")[0].strip(),
            "year": int(r["year"]),
            "genres": frozenset(r["genres"].split("|")),
            "text": r["text"].lower(),
        })
    return items


def load_personas(path=PERSONAS_PATH):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["personas"]


_SCORE_CACHE = {}


def theme_hits(text, themes):
    """Number of theme phrases that occur as whole words (plural 's' allowed)."""
    return sum(1 for kw in themes if re.search(r"\b" + re.escape(kw) + r"s?\b", text))


def persona_score(item, persona):
    """Static affinity of a persona for a book (roughly -4..4.5)."""
    key = (persona["id"], item["idx"])
    if key not in _SCORE_CACHE:
        g = len(item["genres"].intersection(persona["preferred_genres"]))
        t = theme_hits(item["text"], persona["preferred_themes"])
        d = len(item["genres"].intersection(persona["disliked_genres"]))
        _SCORE_CACHE[key] = min(g, 3) + THEME_WEIGHT * min(t, 3) - DISLIKE_WEIGHT * min(d, 2)
    return _SCORE_CACHE[key]


def jaccard(a, b):
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def round_half(x):
    return min(5.0, max(1.0, math.floor(x * 2 + 0.5) / 2))


class Catalogue:
    def __init__(self, items):
        self.items = items
        self.by_title = {it["title"]: it for it in items}
        self.by_id = {it["item_id"]: it for it in items}
        missing = [c for c in COLD_ITEM_IDS if c not in self.by_id]
        assert not missing, f"unknown cold items: {missing}"
        self.cold = set(COLD_ITEM_IDS)
        # series membership: idx -> (series list of idx, position)
        self.series_of = {}
        for titles in SERIES:
            for t in titles:
                assert t in self.by_title, f"series title not in items.csv: {t}"
            seq = [self.by_title[t]["idx"] for t in titles]
            for pos, i in enumerate(seq):
                self.series_of[i] = (seq, pos)
        # same-author runs ordered by (year, file order)
        self.author_books = {}
        for it in items:
            self.author_books.setdefault(it["author"], []).append(it["idx"])
        for books in self.author_books.values():
            books.sort(key=lambda i: (items[i]["year"], i))
        for t in BESTSELLERS:
            assert t in self.by_title, f"bestseller title not in items.csv: {t}"
        self.bestsellers = {self.by_title[t]["idx"] for t in BESTSELLERS}
        self.main_genres = sorted(
            g for g in {g for it in items for g in it["genres"]}
            if sum(1 for it in items if g in it["genres"]) >= 6
        )

    def available(self, i, seen):
        return i not in seen and self.items[i]["item_id"] not in self.cold

    def next_in_series(self, i, seen):
        if i not in self.series_of:
            return None
        seq, pos = self.series_of[i]
        for j in seq[pos + 1:]:
            if self.available(j, seen):
                return j
        return None

    def first_unread_in_series(self, i, seen):
        seq, _ = self.series_of[i]
        for j in seq:
            if self.available(j, seen):
                return j
        return None

    def next_by_author(self, i, seen):
        books = self.author_books[self.items[i]["author"]]
        pos = books.index(i)
        for j in books[pos + 1:]:
            if self.available(j, seen):
                return j
        return None


def make_users(rng, personas, cat):
    order = list(range(len(personas)))
    rng.shuffle(order)
    users = []
    for u in range(N_USERS):
        primary = personas[order[u % len(order)]]
        secondary = None
        if rng.random() < MIXED_SHARE:
            secondary = personas[rng.choice([k for k in range(len(personas)) if personas[k] is not primary])]
        liked = set(primary["preferred_genres"]) | set(primary["disliked_genres"])
        if secondary:
            liked |= set(secondary["preferred_genres"]) | set(secondary["disliked_genres"])
        drift_options = [g for g in cat.main_genres if g not in liked]
        users.append({
            "user_id": f"u{u + 1:03d}",
            "primary": primary,
            "secondary": secondary,
            "activity": primary["activity_level"],
            "drift_genre": rng.choice(drift_options),
            "bias": rng.gauss(0.0, 0.3),
        })
    return users


def user_static_scores(rng, user, cat):
    scores = []
    for it in cat.items:
        s = persona_score(it, user["primary"])
        if user["secondary"] is not None:
            s = max(s, SECONDARY_DAMPING * persona_score(it, user["secondary"]))
        scores.append(s + rng.gauss(0.0, 0.3))
    return scores


def simulate_user(rng, user, cat, pop):
    lo, hi = ACTIVITY[user["activity"]]
    n = rng.randint(lo, hi)
    static = user_static_scores(rng, user, cat)
    user["static"] = static
    drift = user["drift_genre"]

    def score(i, progress):
        s = static[i]
        if drift in cat.items[i]["genres"]:
            s += DRIFT_MAX * progress
        return s

    def rate(i, progress, reason):
        s = score(i, progress)
        mu = 1.6 if s < -0.5 else 2.9 + 0.5 * min(s, 3.6)
        if reason == "series":
            mu += 0.25
        return round_half(mu + user["bias"] + rng.gauss(0.0, 0.5))

    seen = set()
    history = []  # (idx, rating)
    for step in range(n):
        progress = step / max(1, n - 1)
        pick, reason = None, "taste"
        if history and history[-1][1] >= 3.5:
            last = history[-1][0]
            nxt = cat.next_in_series(last, seen)
            if nxt is not None and rng.random() < 0.85:
                pick, reason = nxt, "series"
            else:
                nxt = cat.next_by_author(last, seen)
                if nxt is not None and rng.random() < 0.35:
                    pick, reason = nxt, "author"
        if pick is None:
            cands = [i for i in range(len(cat.items)) if cat.available(i, seen)]
            disliked = [i for i in cands if static[i] < -0.5]
            r = rng.random()
            if r < DISLIKE_TRIAL and disliked:
                # book-club pick / gift outside their taste
                reason, cands = "explore", disliked
                weights = [pop[i] for i in cands]
            elif r < DISLIKE_TRIAL + EXPLORE:
                reason = "explore"
                weights = [pop[i] for i in cands]
            else:
                prev_genres = cat.items[history[-1][0]]["genres"] if history else frozenset()
                weights = [
                    math.exp(BETA * min(score(i, progress), 4.0)) * pop[i]
                    * (1.0 + 1.5 * jaccard(prev_genres, cat.items[i]["genres"]))
                    for i in cands
                ]
            pick = rng.choices(cands, weights=weights, k=1)[0]
            if pick in cat.series_of and rng.random() < 0.85:
                pick = cat.first_unread_in_series(pick, seen)
        seen.add(pick)
        history.append((pick, rate(pick, progress, reason)))
    return history, rate


def timestamps(rng, n):
    start = YEAR_START + datetime.timedelta(days=rng.uniform(0, 150))
    end = start + (YEAR_END - start) * rng.uniform(0.6, 1.0)
    gaps = [rng.expovariate(1.0) for _ in range(n + 1)]
    total = sum(gaps)
    span = (end - start).total_seconds()
    out, acc = [], 0.0
    for g in gaps[:n]:
        acc += g
        out.append(start + datetime.timedelta(seconds=int(span * acc / total)))
    return out


def main():
    rng = random.Random(SEED)
    items = load_items()
    personas = load_personas()
    cat = Catalogue(items)
    pop = [math.exp(rng.gauss(0.0, 0.5)) * (3.0 if i in cat.bestsellers else 1.0)
           for i in range(len(items))]
    users = make_users(rng, personas, cat)

    rows = []  # (user_id, idx, rating, datetime)
    raters = {}
    for user in users:
        history, rate = simulate_user(rng, user, cat, pop)
        raters[user["user_id"]] = rate
        for (i, r), ts in zip(history, timestamps(rng, len(history))):
            rows.append([user["user_id"], i, r, ts])

    # Coverage pass: every non-cold book gets at least one reader.
    read_by = {}
    for uid, i, _, _ in rows:
        read_by.setdefault(i, set()).add(uid)
    counts = {u["user_id"]: 0 for u in users}
    last_ts = {}
    for uid, _, _, ts in rows:
        counts[uid] += 1
        last_ts[uid] = max(last_ts.get(uid, ts), ts)
    for it in items:
        i = it["idx"]
        if it["item_id"] in cat.cold or i in read_by:
            continue
        ranked = sorted((u for u in users if counts[u["user_id"]] < MAX_PER_USER),
                        key=lambda u: -u["static"][i])
        user = rng.choice(ranked[:3])
        uid = user["user_id"]
        lo = last_ts[uid]
        ts = lo + (YEAR_END - lo) * rng.uniform(0.1, 0.9)
        ts = ts.replace(microsecond=0)
        rows.append([uid, i, raters[uid](i, 1.0, "taste"), ts])
        counts[uid] += 1
        last_ts[uid] = ts
        read_by.setdefault(i, set()).add(uid)

    rows.sort(key=lambda r: (r[0], r[3], r[1]))
    with open(OUT_PATH, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["user_id", "item_id", "rating", "timestamp"])
        for uid, i, r, ts in rows:
            w.writerow([uid, items[i]["item_id"], f"{r:.1f}", ts.strftime("%Y-%m-%dT%H:%M:%S")])

    with open(USERS_PATH, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["user_id", "personas", "activity_level"])
        for u in users:
            ids = u["primary"]["id"] + ("|" + u["secondary"]["id"] if u["secondary"] else "")
            w.writerow([u["user_id"], ids, u["activity"]])

    n_items_used = len({r[1] for r in rows})
    print(f"wrote {len(rows)} interactions for {len(users)} users over {n_items_used} items "
          f"({len(items) - n_items_used} cold) -> {os.path.relpath(OUT_PATH)}")


if __name__ == "__main__":
    main()
