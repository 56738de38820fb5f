"""The fixed train/dev splits every benchmark and shipped adapter uses (seed 42, stratified 80/20).

    python bench/splits.py OUT_DIR     # writes {phrasebank,twitter,banking77}_{train,dev}.csv

PhraseBank comes pre-split (70/10 of the original); Twitter financial news and BANKING77 train
files are split here with scikit-learn's ``train_test_split(test_size=0.2, random_state=42,
stratify=label)``. Reads ../shared/data (beside the repo); never ships PhraseBank.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_split(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, dev) frames with columns text,label for one data set."""
    if name == "phrasebank":
        return tuple(pd.read_csv(SHARED / f"finance/phrasebank_{part}.csv")[["text", "label"]] for part in ("train", "dev"))
    path = {"twitter": "finance/twitter_fin_news_train.csv", "banking77": "support/banking77_train.csv"}[name]
    frame = pd.read_csv(SHARED / path).rename(columns={"category": "label"})[["text", "label"]]
    train, dev = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["label"])
    return train.reset_index(drop=True), dev.reset_index(drop=True)


def write_splits(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("phrasebank", "twitter", "banking77"):
        train, dev = load_split(name)
        train.to_csv(out / f"{name}_train.csv", index=False)
        dev.to_csv(out / f"{name}_dev.csv", index=False)


if __name__ == "__main__":
    write_splits(Path(sys.argv[1] if len(sys.argv) > 1 else "var/splits"))
