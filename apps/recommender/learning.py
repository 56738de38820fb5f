"""The recommender's learning loop: likes, dislikes and reads become new next-item pairs.

The champion's data are its items and interactions files (``train_data`` in its meta.json; the
shipped ``recommender/next-item`` names the demo files) turned into next-item pairs exactly as
``train.py`` does, each reader's last pair being the frozen dev set. Every interaction stored
since (page likes and dislikes, imports) is folded into the readers' histories; the pairs that
did not exist before are the new data; anonymous page visitors' clicks count only with
``[recommender] learn_from_visitors = true`` (their ids are free to mint). A fixed, seeded 20% of them (by reader and book) is held
back; the challenger starts from the champion's LoRA and trains on the rest mixed with replayed
old pairs. Both are scored by Recall@10 among the whole catalogue, on the old dev pairs and on the
held-back new pairs; ``shared.promotion`` decides (paired bootstrap on per-pair hits).

    lorasuite retrain recommender [--name next-item]
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import Any

from apps.learning import Learner
from shared import adapters, registry
from shared.errors import LorasuiteError
from shared.home import data_dir
from shared.labels import held_back
from shared.storage import content_hash

log = logging.getLogger(__name__)
APP, TASK = "recommender", "next-item"
PAIRS_FILE = "train_pairs.csv"
Pair = tuple[str, str]


def learner(ctx: Any) -> Learner:
    return Learner(APP, TASK, adapter=lambda c: c.settings(APP).adapter or "recommender/next-item", kind="biencoder",
                   retrain=retrain, pending=pending)


def _source_path(source: dict[str, Any], key: str, folder: Path) -> Path:
    name = source[key]
    return folder / name if source.get("in") == "adapter" else Path(name) if Path(name).is_absolute() else data_dir(name)


def old_pairs(meta: dict[str, Any], folder: Path) -> tuple[list[Pair], list[Pair], set[Pair], list[Pair]]:
    """(old train pairs, frozen dev pairs, every pair the champion has seen, the new pairs earlier rounds
    trained on (its ``train_pairs.csv``: carried into the next version's file)) from its recorded data."""
    from apps.recommender.catalog import read_interactions, read_items
    from apps.recommender.train import next_item_pairs, split_pairs
    from shared.traindata import read_source

    data = meta.get("train_data") or {}
    train, dev = [], []
    for source in data.get("sources", []):
        items = read_items(_source_path(source, "items", folder)).rows
        inter = read_interactions(_source_path(source, "interactions", folder), {i.item_id for i in items}).rows
        part_train, part_dev = split_pairs(next_item_pairs(items, inter, float(source.get("min_pref", 0.4))),
                                           max_dev=int(source.get("max_dev", 300)), seed=int(source.get("seed", 42)))
        train, dev = train + part_train, dev + part_dev
    if not dev:
        raise LorasuiteError(f"{folder}/meta.json records no items/interactions (train_data): cannot compare on old data")
    carried = read_source({"file": data["pairs"], "in": "adapter", "text_col": "query", "label_col": "positive"},
                          folder) if data.get("pairs") else []
    train += carried
    return train, dev, set(train) | set(dev), carried


def new_pairs(ctx: Any, meta: dict[str, Any], folder: Path, seen: set[Pair]) -> list[tuple[str, Pair]]:
    """(reader, pair) for every next-item pair of the stored interactions the champion has not seen."""
    from apps.recommender.store import VISITOR, Store
    from apps.recommender.train import next_item_pairs

    snapshot = Store(ctx.db).snapshot()
    interactions = snapshot.interactions
    if not ctx.settings(APP).learn_from_visitors:  # anonymous ids are free to mint: no training on them
        interactions = [i for i in interactions if not i.user_id.startswith(VISITOR)]
    by_user = next_item_pairs(snapshot.items, interactions, float(meta.get("min_pref", 0.4)))
    return [(user, pair) for user, pairs in sorted(by_user.items()) for pair in pairs if pair not in seen]


def pending(ctx: Any, name: str) -> int:
    version = registry.resolve(registry.Ref(APP, name))
    meta = adapters.read_meta(version.path)
    return len(new_pairs(ctx, meta, version.path, old_pairs(meta, version.path)[2]))


def retrain(ctx: Any, name: str, knobs: Any, progress: Any = None) -> dict[str, Any]:
    """One champion/challenger round of the bi-encoder; returns the report (see ``shared.retrain``)."""
    from shared.continual import MixPlan, continue_biencoder, hits_at_k, load_biencoder
    from shared.settings import LoraSettings

    started = time.perf_counter()
    champion = registry.resolve(registry.Ref(APP, name))
    meta = adapters.read_meta(champion.path)
    if meta.get("task") != "biencoder":
        raise LorasuiteError(f"{APP}/{name} is a {meta.get('task')} adapter, not the next-item bi-encoder")
    old_train, old_dev, seen, carried = old_pairs(meta, champion.path)
    found = new_pairs(ctx, meta, champion.path, seen)
    if not found:
        raise LorasuiteError(f"{APP}/{name}: no new likes or reads since v{champion.version} was trained")
    held = [p for user, p in found if held_back(content_hash(user, p[1]), knobs.holdout, knobs.seed)]
    train = [p for user, p in found if not held_back(content_hash(user, p[1]), knobs.holdout, knobs.seed)]
    if not train or not held:
        raise LorasuiteError(f"{APP}/{name}: {len(found)} new pair(s) are too few to train on and hold back some")
    mix = MixPlan.from_weight(knobs.new_label_weight, epochs=knobs.epochs, replay_cap=knobs.replay_cap,
                              seed=knobs.seed)
    note = (f"retrain {APP}/{name}: champion v{champion.version}; {len(train)} new pairs to train on + {len(held)} "
            f"held back; {len(old_train)} old pairs (replay up to {knobs.replay_cap}/epoch), {len(old_dev)} old dev")
    log.info("%s", note)
    if progress is not None:
        progress(note)
    candidates = _candidates(ctx)
    frozen, tokenizer, _ = load_biencoder(champion.path)
    length = int(meta.get("max_length", 64))
    before = {"old": hits_at_k(frozen, tokenizer, old_dev, candidates, length),
              "new": hits_at_k(frozen, tokenizer, held, candidates, length)}
    settings = LoraSettings.from_dict(dict(meta.get("settings", {}), lr=knobs.lr, seed=knobs.seed,
                                           early_stopping_patience=0))
    trained = continue_biencoder(champion.path, train, old_train, mix, settings)
    after = {"old": hits_at_k(trained.task, tokenizer, old_dev, candidates, length),
             "new": hits_at_k(trained.task, tokenizer, held, candidates, length)}
    return _decide_and_save(champion, meta, trained, (carried, train), held, before, after, knobs, started)


def _candidates(ctx: Any) -> list[str]:
    from apps.recommender.catalog import embed_text
    from apps.recommender.store import Store

    return [embed_text(item) for item in Store(ctx.db).snapshot().items]


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def _decide_and_save(champion: Any, meta: dict, trained: Any, pairs: tuple[list[Pair], list[Pair]], held: list[Pair],
                     before: dict, after: dict, knobs: Any, started: float) -> dict[str, Any]:
    from shared.promotion import Scores, decide, paired_bootstrap
    from shared.traindata import child_train_data, labels_csv

    carried, train = pairs
    _, p = paired_bootstrap(held, before["new"], after["new"], per_item=True, seed=knobs.seed)
    old = {k: _mean(v["old"]) for k, v in (("champion", before), ("challenger", after))}
    new = {k: _mean(v["new"]) for k, v in (("champion", before), ("challenger", after))}
    verdict = decide(Scores(old["champion"], new["champion"]), Scores(old["challenger"], new["challenger"]), p,
                     knobs.max_regression, knobs.alpha, n_new=len(held))
    lineage = child_train_data(meta, champion.path)
    lineage.pop("labels", None)
    trained.meta.update(train_data=dict(lineage, pairs=PAIRS_FILE), dev_data=meta.get("dev_data"),
                        metrics={"old_dev_recall_at_10": old["challenger"], "new_dev_recall_at_10": new["challenger"],
                                 "dev_recall_at_10": old["challenger"]},
                        decision={"promoted": verdict.promoted, "reason": verdict.reason, "p_value": p},
                        pairs=len(train), data_hash=content_hash(*sorted(map(str, train))))
    trained.files = {PAIRS_FILE: labels_csv(carried + train).replace("text,label\n", "query,positive\n", 1)}
    status = "champion" if verdict.promoted else "rejected"
    path = adapters.save(APP, champion.name, trained, status=status, parent=champion.version, reason=verdict.reason)
    return {"app": APP, "name": champion.name,
            "champion": {"version": champion.version, "old_dev": old["champion"], "new_dev": new["champion"]},
            "challenger": {"version": int(path.name[1:]), "old_dev": old["challenger"], "new_dev": new["challenger"]},
            "promoted": verdict.promoted, "reason": verdict.reason,
            "details": {"metric": "recall_at_10", "p_value": p, "new_pairs_train": len(train), "held_back": len(held),
                        "seconds": round(time.perf_counter() - started, 1),
                        "sample": random.Random(0).sample(held, min(3, len(held)))}}
