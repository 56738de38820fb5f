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
    assert MixPlan(min_new_per_epoch=100).sizes(40, 1000) == (100, 200)  # few labels are oversampled
    assert MixPlan.from_weight(0).share == pytest.approx(1 / 3) and MixPlan.from_weight(3.0).share == pytest.approx(0.75)
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


def test_distillation_adds_a_kl_term_on_old_rows_only():
    import torch

    from shared.continual import Distilled

    class Fixed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.out = torch.nn.Parameter(torch.tensor([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]))

        def logits(self, batch):
            return self.out

    batch = {"labels": torch.tensor([0, 1]), "teacher": torch.tensor([[0.0, 0.0, 3.0], [0.0, 0.0, 0.0]]),
             "teacher_mask": torch.tensor([True, False])}
    plain = Distilled(Fixed(), 0.0)(batch)
    distilled = Distilled(Fixed(), 1.0)(batch)
    assert distilled > plain  # the first row disagrees with its teacher
    same = dict(batch, teacher=torch.tensor([[2.0, 0.0, 0.0], [9.0, 9.0, 9.0]]))
    assert float(Distilled(Fixed(), 1.0)(same)) == pytest.approx(float(plain), abs=1e-5)  # agreeing teacher, masked row
