"""Build the demo news feeds for the sentiment app from real headlines.

Run it from the repository root (standard library only, Python >= 3.10)::

    python data/sentiment/make_demo_feeds.py

It reads ``twitter_fin_news_train.csv`` (Twitter Financial News Sentiment, MIT) and
``watchlist.csv`` next to this file and (re)writes, in ``data/sentiment/feeds/``:

* ``markets.xml``, ``companies.xml``, ``tech.xml``, ``macro.xml``: RSS 2.0 feeds;
* ``analyst_ratings.xml``: an Atom 1.0 feed (upgrades, downgrades, price targets);
* ``labels.csv``: ``guid,label`` with the dataset's own label (negative/neutral/positive)
  of every item in the feeds, for tests.

600 items in all, each a real headline of the CSV (t.co links removed) used as the title,
a description that repeats it and adds the desk and day, a guid
``tag:news.example.com,2026:item-NNNNN`` (NNNNN = 0-based data row of the CSV), a link
``https://news.example.com/<slug>-NNNNN`` and a publication date. Dates span four weeks,
Monday 2026-10-05 00:00 UTC to Sunday 2026-11-01 24:00 UTC, about 24 items a weekday and
6 a weekend day, most of them in US market hours.

The episode (what a spike detector on negative counts must find)
-----------------------------------------------------------------
Company ``Boeing`` (watchlist aliases ``$BA|Boeing``). From 2026-10-20 12:00 UTC (Tuesday
of week 3) to 2026-10-22 00:00 UTC (36 hours) the feeds carry 14 real negative Boeing
headlines (737 MAX production halt, NTSB redesign call, lawsuits...). Before that Boeing
gets a trickle of 1-3 headlines a weekday (0-1 on weekends) that are neutral or positive,
with one negative headline in each of weeks 1 and 2; after it, about one a day, one of
them negative. No other watched company has two negative items within 48 hours of each
other, so the only burst of negative news about a watched company is Boeing's.

Everything is drawn from ``random.Random(SEED)``: the same inputs give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import os
import random
import re
from xml.sax.saxutils import escape, quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_CSV = os.path.join(HERE, "twitter_fin_news_train.csv")
WATCHLIST_CSV = os.path.join(HERE, "watchlist.csv")
OUT_DIR = os.path.join(HERE, "feeds")

SEED = 20261005
TOTAL_ITEMS = 600
UTC = dt.timezone.utc
START = dt.datetime(2026, 10, 5, tzinfo=UTC)  # a Monday
DAYS = 28  # to Sunday 2026-11-01 included

EPISODE_TOPIC = "Boeing"
EPISODE_START = dt.datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
EPISODE_END = dt.datetime(2026, 10, 22, 0, 0, tzinfo=UTC)
EPISODE_NEGATIVES = 14
PRE_EPISODE_NEGATIVES = 2  # one in week 1, one in week 2
POST_EPISODE_NEGATIVES = 1
OTHER_TOPIC_ITEMS = 8  # at most this many items per other watched company
NEGATIVE_GAP = dt.timedelta(hours=48)  # min gap between negatives of one other company

SITE = "https://news.example.com"
# (file, title, format, desk) - the classifier below routes each headline to one feed.
FEEDS = [
    ("markets.xml", "Example News - Markets and Top Stories", "rss", "markets"),
    ("companies.xml", "Example News - Companies", "rss", "companies"),
    ("tech.xml", "Example News - Technology", "rss", "technology"),
    ("macro.xml", "Example News - Economy", "rss", "economy"),
    ("analyst_ratings.xml", "Example News - Analyst Ratings", "atom", "analyst ratings"),
]

# Hour-of-day weights (UTC): quiet overnight, Europe in the morning, US market hours busiest.
HOUR_WEIGHTS = [0.3] * 5 + [0.6] * 6 + [1.5] * 3 + [2.0] * 8 + [1.0] * 2

RATINGS_RE = re.compile(
    r"upgrade|downgrade|price target|\bPT\b|initiat|reiterat|outperform|underperform|overweight|"
    r"underweight|\bcuts? to\b|\braised? to\b|\blowered to\b|buy rating|sell rating|neutral rating",
    re.I,
)
MACRO_RE = re.compile(
    r"\bFed\b|Federal Reserve|inflation|\bGDP\b|payroll|jobless|unemployment|Treasur|\byields?\b|"
    r"\bECB\b|central bank|interest rate|\brates?\b|econom|tariff|trade war|trade deal|\bOPEC\b|"
    r"crude|\boil\b|dollar|\byuan\b|\beuro\b|recession|Brexit|\bIMF\b|deficit|consumer spending|"
    r"manufacturing|\bPMI\b|housing|retail sales|\bCPI\b|stimulus|\bBOJ\b|Bank of England",
    re.I,
)
TECH_RE = re.compile(
    r"\btech|software|\bchips?\b|semiconductor|\bcloud\b|\bAI\b|artificial intelligence|"
    r"smartphone|iPhone|\bapps?\b|streaming|electric vehicle|\bEVs?\b|self-driving|autonomous|"
    r"\b5G\b|cyber|crypto|bitcoin|blockchain|Apple|Google|Alphabet|Microsoft|Facebook|Amazon|"
    r"Netflix|Nvidia|Tesla|Uber|Lyft|Twitter|Intel\b|\bAMD\b|Samsung|Huawei|IBM|Oracle|Snap\b",
    re.I,
)
COMPANY_RE = re.compile(
    r"\$[A-Z]{1,5}\b|\bInc\b|\bCorp|\bLtd\b|\bplc\b|earnings|revenue|profit|quarter|\bQ[1-4]\b|\bEPS\b|"
    r"\bCEO\b|\bCFO\b|merger|acqui|takeover|\bbuys?\b|\bdeal\b|\bIPO\b|dividend|guidance|outlook|"
    r"layoffs?|\bjobs\b|recall|lawsuit|settle|bankrupt|\bstake\b|shareholders?|\bsales\b|"
    r"\bboard\b|\bunit\b|subsidiary|launch|\bplant\b|production|deliveries|orders?\b",
    re.I,
)
URL_RE = re.compile(r"https?://\S+")


def clean_title(text: str) -> str:
    """The headline without t.co links and with single spaces."""
    return re.sub(r"\s+", " ", URL_RE.sub(" ", text)).strip()


def load_rows() -> list[dict]:
    """CSV rows as dicts (row = 0-based data row), deduplicated on the cleaned title."""
    rows, seen = [], {}
    with open(SOURCE_CSV, newline="", encoding="utf-8") as fh:
        for i, rec in enumerate(csv.DictReader(fh)):
            title = clean_title(rec["text"])
            key = title.lower()
            if len(title) < 20 or key in seen:
                continue
            seen[key] = True
            rows.append({"row": i, "title": title, "label": rec["label"]})
    return rows


def alias_pattern(aliases: str) -> re.Pattern:
    """``$TICK`` aliases: the cashtag not followed by a letter; words: whole word, any case."""
    parts = []
    for alias in aliases.split("|"):
        alias = alias.strip()
        if alias.startswith("$"):
            parts.append(re.escape(alias) + r"(?![A-Za-z])")
        elif alias:
            parts.append(r"(?<![\w$])" + re.escape(alias) + r"(?!\w)")
    return re.compile("|".join(parts), re.I)


def load_watchlist() -> list[tuple[str, re.Pattern]]:
    with open(WATCHLIST_CSV, newline="", encoding="utf-8") as fh:
        return [(r["topic"], alias_pattern(r["aliases"])) for r in csv.DictReader(fh)]


def topics_of(title: str, watchlist: list[tuple[str, re.Pattern]]) -> list[str]:
    return [topic for topic, pat in watchlist if pat.search(title)]


def random_time(rng: random.Random, day: dt.datetime, lo: int = 0, hi: int = 24) -> dt.datetime:
    hour = rng.choices(range(lo, hi), weights=HOUR_WEIGHTS[lo:hi])[0]
    return day + dt.timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))


def day_counts(rng: random.Random, total: int) -> list[int]:
    """Split ``total`` over the days: weekdays ~4x a weekend day, +-15% jitter."""
    weights = []
    for d in range(DAYS):
        weekend = (START + dt.timedelta(days=d)).weekday() >= 5
        weights.append((0.27 if weekend else 1.0) * rng.uniform(0.85, 1.15))
    raw = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in raw]
    by_remainder = sorted(range(DAYS), key=lambda d: raw[d] - counts[d], reverse=True)
    for d in by_remainder[: total - sum(counts)]:
        counts[d] += 1
    return counts


def episode_items(rng: random.Random, pool: list[dict]) -> list[dict]:
    """The episode company's items with their times: trickle, burst, trickle."""
    negatives = [r for r in pool if r["label"] == "negative"]
    others = [r for r in pool if r["label"] != "negative"]
    rng.shuffle(negatives)
    rng.shuffle(others)
    need = EPISODE_NEGATIVES + PRE_EPISODE_NEGATIVES + POST_EPISODE_NEGATIVES
    if len(negatives) < need:
        raise SystemExit(f"{EPISODE_TOPIC}: only {len(negatives)} negative headlines, need {need}")
    burst = negatives[:EPISODE_NEGATIVES]
    pre_neg = negatives[EPISODE_NEGATIVES : EPISODE_NEGATIVES + PRE_EPISODE_NEGATIVES]
    post_neg = negatives[EPISODE_NEGATIVES + PRE_EPISODE_NEGATIVES : need]
    items = []

    # Burst: 14 negatives inside the 36-hour window, denser in market hours.
    span_h = int((EPISODE_END - EPISODE_START).total_seconds() // 3600)
    hours = [EPISODE_START + dt.timedelta(hours=h) for h in range(span_h)]
    weights = [HOUR_WEIGHTS[h.hour] for h in hours]
    for r in burst:
        t = rng.choices(hours, weights=weights)[0]
        items.append(dict(r, time=t + dt.timedelta(minutes=rng.randrange(60), seconds=rng.randrange(60))))

    # Trickle before (weeks 1-3 up to the window) and after the window.
    pre_days = [START + dt.timedelta(days=d) for d in range((EPISODE_START - START).days)]
    post_days = [
        START + dt.timedelta(days=d) for d in range(DAYS) if START + dt.timedelta(days=d) >= EPISODE_END
    ]
    for day in pre_days:
        weekend = day.weekday() >= 5
        for _ in range(rng.randint(0, 1) if weekend else rng.randint(1, 3)):
            if others:
                items.append(dict(others.pop(), time=random_time(rng, day)))
    # one pre-episode negative in each of weeks 1 and 2, on a weekday
    for week, r in enumerate(pre_neg):
        day = START + dt.timedelta(days=7 * week + rng.randrange(5))
        items.append(dict(r, time=random_time(rng, day, 11, 22)))
    for day in post_days:
        weekend = day.weekday() >= 5
        for _ in range(rng.randint(0, 1) if weekend else rng.randint(1, 2)):
            if others:
                items.append(dict(others.pop(), time=random_time(rng, day)))
    for r in post_neg:  # a lone negative late in week 4
        day = START + dt.timedelta(days=24 + rng.randrange(2))
        items.append(dict(r, time=random_time(rng, day, 11, 22)))
    return items


def background_items(rng, rows, watchlist, n, blocked):
    """``n`` items not about the episode company, with times; other companies get a few each."""
    chosen, used = [], dict.fromkeys(blocked)
    for topic, pat in watchlist:
        if topic == EPISODE_TOPIC:
            continue
        about = [r for r in rows if r["row"] not in used and pat.search(r["title"])]
        rng.shuffle(about)
        for r in about[:OTHER_TOPIC_ITEMS]:
            chosen.append(r)
            used[r["row"]] = True
    rest = [r for r in rows if r["row"] not in used]
    chosen += rng.sample(rest, n - len(chosen))

    counts = day_counts(rng, n)
    times = sorted(
        random_time(rng, START + dt.timedelta(days=d)) for d in range(DAYS) for _ in range(counts[d])
    )
    rng.shuffle(chosen)
    items = [dict(r, time=t) for r, t in zip(chosen, times, strict=True)]

    # Keep other watched companies calm: no two negatives of one company within 48 h.
    def conflicts(idx: int, t: dt.datetime) -> bool:
        for topic in items[idx]["topics"]:
            for j, other in enumerate(items):
                if j != idx and other["label"] == "negative" and topic in other["topics"]:
                    if abs(other["time"] - t) < NEGATIVE_GAP:
                        return True
        return False

    for i in range(len(items)):
        if items[i]["label"] != "negative" or not items[i]["topics"]:
            continue
        tries = 0
        while conflicts(i, items[i]["time"]):
            j = rng.randrange(len(items))
            if items[j]["topics"] or items[j]["label"] == "negative":
                continue  # swap only with an untopical, non-negative item
            items[i]["time"], items[j]["time"] = items[j]["time"], items[i]["time"]
            tries += 1
            if tries > 1000:
                raise SystemExit("could not spread negatives of watched companies")
    return items


def feed_of(item: dict) -> str:
    """Ratings, then economy, then technology, then company news; the rest is markets/top news."""
    title = item["title"]
    if RATINGS_RE.search(title):
        return "analyst_ratings.xml"
    if MACRO_RE.search(title):
        return "macro.xml"
    if TECH_RE.search(title):
        return "tech.xml"
    if item["topics"] or COMPANY_RE.search(title):
        return "companies.xml"
    return "markets.xml"


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if len(slug) > 60:
        slug = slug[:60].rsplit("-", 1)[0]
    return slug or "item"


def guid_of(row: int) -> str:
    return f"tag:news.example.com,2026:item-{row:05d}"


def description_of(item: dict, desk: str) -> str:
    title = item["title"]
    sep = " " if title[-1] in ".!?…" else ". "
    when = item["time"].strftime("%A, %B ") + str(item["time"].day)
    return f"{title}{sep}Filed by the Example News {desk} desk on {when}."


def write_rss(path: str, title: str, desk: str, items: list[dict]) -> None:
    name = os.path.basename(path)
    last = max(i["time"] for i in items)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"  <title>{escape(title)}</title>",
        f"  <link>{SITE}/{desk.replace(' ', '-')}</link>",
        f'  <atom:link href={quoteattr(SITE + "/feeds/" + name)} rel="self" type="application/rss+xml"/>',
        f"  <description>{escape(title)}: demo headlines for lorasuite (real tweets of the "
        f"Twitter Financial News Sentiment dataset, invented dates).</description>",
        "  <language>en-us</language>",
        f"  <lastBuildDate>{email.utils.format_datetime(last, usegmt=True)}</lastBuildDate>",
        "  <ttl>15</ttl>",
    ]
    for it in items:
        out += [
            "  <item>",
            f"    <title>{escape(it['title'])}</title>",
            f"    <link>{SITE}/{slugify(it['title'])}-{it['row']:05d}</link>",
            f"    <description>{escape(description_of(it, desk))}</description>",
            f'    <guid isPermaLink="false">{guid_of(it["row"])}</guid>',
            f"    <pubDate>{email.utils.format_datetime(it['time'], usegmt=True)}</pubDate>",
            "  </item>",
        ]
    out += ["</channel>", "</rss>", ""]
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(out))


def rfc3339(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_atom(path: str, title: str, desk: str, items: list[dict]) -> None:
    name = os.path.basename(path)
    last = max(i["time"] for i in items)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us">',
        f"  <title>{escape(title)}</title>",
        f"  <subtitle>{escape(title)}: demo headlines for lorasuite (real tweets of the Twitter "
        f"Financial News Sentiment dataset, invented dates).</subtitle>",
        f"  <id>tag:news.example.com,2026:feed-{desk.replace(' ', '-')}</id>",
        f'  <link rel="alternate" type="text/html" href="{SITE}/{desk.replace(" ", "-")}"/>',
        f'  <link rel="self" type="application/atom+xml" href={quoteattr(SITE + "/feeds/" + name)}/>',
        f"  <updated>{rfc3339(last)}</updated>",
        "  <author><name>Example News</name></author>",
    ]
    for it in items:
        out += [
            "  <entry>",
            f'    <title type="text">{escape(it["title"])}</title>',
            f'    <link rel="alternate" type="text/html" href="{SITE}/{slugify(it["title"])}-{it["row"]:05d}"/>',
            f"    <id>{guid_of(it['row'])}</id>",
            f"    <published>{rfc3339(it['time'])}</published>",
            f"    <updated>{rfc3339(it['time'])}</updated>",
            f'    <summary type="text">{escape(description_of(it, desk))}</summary>',
            "  </entry>",
        ]
    out += ["</feed>", ""]
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(out))


def main() -> None:
    rng = random.Random(SEED)
    watchlist = load_watchlist()
    rows = load_rows()
    for r in rows:
        r["topics"] = topics_of(r["title"], watchlist)

    # Every headline about the episode company (or its 737 jets) is held back for the script.
    about_episode = [r for r in rows if EPISODE_TOPIC in r["topics"] or re.search(r"\b737\b", r["title"])]
    pool = [r for r in about_episode if EPISODE_TOPIC in r["topics"]]
    episode = episode_items(rng, pool)
    blocked = [r["row"] for r in about_episode]
    background = background_items(rng, rows, watchlist, TOTAL_ITEMS - len(episode), blocked)
    items = sorted(episode + background, key=lambda i: (i["time"], i["row"]))

    os.makedirs(OUT_DIR, exist_ok=True)
    by_feed: dict[str, list[dict]] = {f[0]: [] for f in FEEDS}
    for it in items:
        by_feed[feed_of(it)].append(it)
    for name, title, fmt, desk in FEEDS:
        newest_first = sorted(by_feed[name], key=lambda i: (i["time"], i["row"]), reverse=True)
        writer = write_atom if fmt == "atom" else write_rss
        writer(os.path.join(OUT_DIR, name), title, desk, newest_first)

    with open(os.path.join(OUT_DIR, "labels.csv"), "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["guid", "label"])
        for it in sorted(items, key=lambda i: i["row"]):
            w.writerow([guid_of(it["row"]), it["label"]])

    print(f"{len(items)} items written to {OUT_DIR}")
    for name, *_ in FEEDS:
        print(f"  {name:22s} {len(by_feed[name]):4d}")
    labels = [it["label"] for it in items]
    print("  labels:", {k: labels.count(k) for k in ("negative", "neutral", "positive")})
    in_window = [
        it for it in episode if it["label"] == "negative" and EPISODE_START <= it["time"] < EPISODE_END
    ]
    print(
        f"  episode: {EPISODE_TOPIC}, {len(in_window)} negative headlines between "
        f"{EPISODE_START:%Y-%m-%d %H:%M} and {EPISODE_END:%Y-%m-%d %H:%M} UTC; "
        f"{len(episode)} {EPISODE_TOPIC} items in all"
    )


if __name__ == "__main__":
    main()
