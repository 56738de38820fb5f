"""Build the ORG tagging set for the shipped ``ner/orgs`` adapter: orgs/train.jsonl and orgs/dev.jsonl.

    .venv/bin/python data/ner/make_orgs.py        # deterministic: rewrites the two files byte for byte
    .venv/bin/python data/ner/make_orgs.py OUT_DIR REPEAT CAP   # variants (CAP 0: headlines only)

Sources (all shippable, see ATTRIBUTION.md); the default build uses the headlines only (see below):
- headlines_orgs/annotations.jsonl: 530 finance headlines/tweets from Twitter Financial News
  (MIT) with organisation names annotated by the lorasuite project. Rows marked "dev" (100)
  are the dev set; the 430 "train" rows are training data.
- wnut17/: WNUT-17 train + dev (CC BY 4.0): ``corporation`` and ``group`` become ORG.
- sec_fin5/FIN5.txt: SEC loan agreements (CC BY 3.0): ``ORG`` stays ORG.
  From the general sets we take a seeded sample of sentences with an ORG (GENERAL_CAP) and half
  as many without one, and the headlines are repeated (HEADLINE_REPEAT), so the headline domain
  is not drowned out.

Headlines are split into words with ``shared.tagging.split_words`` (what the backbone does at
prediction time); every word-aligned occurrence of an annotated name is tagged, longest names
first. An annotated name with no aligned occurrence is an error (a typo in the annotations).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from shared.conll import read_tagged  # noqa: E402
from shared.tagging import split_words  # noqa: E402

WNUT_ORG = {"corporation", "group"}
# Measured on the 100 dev headlines (lorasuite train ner, 6 epochs): the 430 headlines alone 0.805 entity F1;
# headlines x2 + WNUT/FIN5 (cap 200) 0.730; 230 headlines + all WNUT/FIN5 ORG sentences 0.667. So the shipped
# set is the headlines alone; the general data stays available: make_orgs.py OUT 2 200.
HEADLINE_REPEAT = 1
GENERAL_CAP = 0  # sentences with an ORG from WNUT-17 train (FIN5: half that), plus half as many without


def headline_rows(split: str) -> list[dict]:
    rows = []
    for number, line in enumerate((HERE / "headlines_orgs" / "annotations.jsonl").read_text().splitlines(), 1):
        item = json.loads(line)
        if item["split"] == split:
            rows.append(tag_headline(item["text"], item["orgs"], number))
    return rows


def tag_headline(text: str, orgs: list[str], number: int) -> dict:
    words = split_words(text)
    tags = ["O"] * len(words)
    starts = {s: i for i, (_, s, _) in enumerate(words)}
    ends = {e: i for i, (_, _, e) in enumerate(words)}
    for org in sorted(set(orgs), key=len, reverse=True):
        hits, at = 0, text.find(org)
        while at >= 0:
            first, last = starts.get(at), ends.get(at + len(org))
            if first is not None and last is not None and all(t == "O" for t in tags[first : last + 1]):
                tags[first : last + 1] = ["B-ORG"] + ["I-ORG"] * (last - first)
                hits += 1
            at = text.find(org, at + 1)
        if not hits:
            raise SystemExit(f"annotations.jsonl line {number}: {org!r} is not a whole-word span of {text!r}")
    return {"tokens": [w for w, _, _ in words], "tags": tags}


def general_rows(path: Path, keep: set[str], rng: random.Random, cap: int) -> list[dict]:
    with_org, without = [], []
    for sentence in read_tagged(path):
        tags = [f"{t[:2]}ORG" if t != "O" and t[2:] in keep else "O" for t in sentence.tags]
        (with_org if any(t != "O" for t in tags) else without).append({"tokens": sentence.tokens, "tags": tags})
    with_org = rng.sample(with_org, min(cap, len(with_org)))
    return with_org + rng.sample(without, min(len(without), len(with_org) // 2))


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{path}: {len(rows)} sentences, "
          f"{sum(t == 'B-ORG' for r in rows for t in r['tags'])} ORG entities")


def main(out: Path = HERE / "orgs", repeat: int = HEADLINE_REPEAT, cap: int = GENERAL_CAP) -> None:
    rng = random.Random(13)
    train = headline_rows("train") * repeat
    if cap:
        train += general_rows(HERE / "wnut17" / "wnut17train.conll", WNUT_ORG, rng, cap)
        train += general_rows(HERE / "sec_fin5" / "FIN5.txt", {"ORG"}, rng, cap // 2)
    if cap:
        rng.shuffle(train)
    out.mkdir(exist_ok=True)
    write(out / "train.jsonl", train)
    write(out / "dev.jsonl", headline_rows("dev"))


if __name__ == "__main__":
    main(*(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) == 4 else ())
