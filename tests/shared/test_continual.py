"""The mix of new labels and replayed old rows a retrain sees, and the shipped adapters' data references."""

import pytest

from shared.continual import MixPlan, mixed_examples
from shared.traindata import locate


def test_new_labels_are_a_fixed_share_of_each_epoch():
    new = [(f"n{i}", "a") for i in range(40)]
    old = [(f"o{i}", "b") for i in range(1000)]
    plan = MixPlan(epochs=2, share=0.5, replay_cap=500)
    assert plan.sizes(40, 1000) == (40, 40)
    mix = mixed_examples(new, old, plan)
    assert len(mix) == 160 and sum(1 for t, _ in mix if t.startswith("n")) == 80
    assert len({t for t, _ in mix[40:80]} & {t for t, _ in mix[120:160]}) < 40  # a fresh old sample each epoch
    assert MixPlan(share=0.25, replay_cap=100).sizes(40, 1000) == (40, 100)  # capped: the new share grows
    assert MixPlan(min_new_per_epoch=100).sizes(40, 1000) == (100, 100)  # few labels are oversampled
    assert MixPlan.from_weight(0).share == 0.5 and MixPlan.from_weight(3.0).share == pytest.approx(0.75)
    with pytest.raises(ValueError, match="share"):
        MixPlan(share=0)


def test_the_shipped_adapters_locate_their_training_data():
    from shared.adapters import read_meta
    from shared.home import data_dir

    folder = data_dir("adapters", "sentiment", "finance")
    train, dev = locate(read_meta(folder), folder)
    assert (len(train), len(dev)) == (7634, 1909)  # bench/splits.py: stratified 80/20, seed 42
    assert {y for _, y in dev} == {"negative", "neutral", "positive"}
    folder = data_dir("adapters", "support", "intent")
    train, dev = locate(read_meta(folder), folder)
    assert (len(train), len(dev)) == (8002, 2001)
