"""Build the ORG tagging set for the shipped ``ner/orgs`` adapter: orgs/train.jsonl and orgs/dev.jsonl.

    .venv/bin/python data/ner/make_orgs.py        # deterministic: rewrites the two files byte for byte

Sources (all shippable, see ATTRIBUTION.md):
- headlines_orgs/annotations.jsonl: 330 finance headlines/tweets from Twitter Financial News
  (MIT) with organisation names annotated by the lorasuite project. Rows marked "dev" (100)
  are the dev set; the 230 "train" rows are training data.
- wnut17/: WNUT-17 train + dev (CC BY 4.0): ``corporation`` and ``group`` become ORG.
- sec_fin5/FIN5.txt: SEC loan agreements (CC BY 3.0): ``ORG`` stays ORG.
  From the two general sets we keep every sentence with an ORG and as many again without one
  (seeded sample), so the headline domain is not drowned out.

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


def general_rows(path: Path, keep: set[str], rng: random.Random) -> list[dict]:
    with_org, without = [], []
    for sentence in read_tagged(path):
        tags = [f"{t[:2]}ORG" if t != "O" and t[2:] in keep else "O" for t in sentence.tags]
        (with_org if any(t != "O" for t in tags) else without).append({"tokens": sentence.tokens, "tags": tags})
    return with_org + rng.sample(without, min(len(without), len(with_org)))


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{path.relative_to(HERE)}: {len(rows)} sentences, "
          f"{sum(t == 'B-ORG' for r in rows for t in r['tags'])} ORG entities")


def main() -> None:
    rng = random.Random(13)
    train = headline_rows("train")
    train += general_rows(HERE / "wnut17" / "wnut17train.conll", WNUT_ORG, rng)
    train += general_rows(HERE / "wnut17" / "emerging.dev.conll", WNUT_ORG, rng)
    train += general_rows(HERE / "sec_fin5" / "FIN5.txt", {"ORG"}, rng)
    rng.shuffle(train)
    (HERE / "orgs").mkdir(exist_ok=True)
    write(HERE / "orgs" / "train.jsonl", train)
    write(HERE / "orgs" / "dev.jsonl", headline_rows("dev"))


if __name__ == "__main__":
    main()
