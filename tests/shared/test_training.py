"""The shared loop's guards: NaN / climbing loss and a dev score stuck at its floor fail; time budget; long-run lr."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from shared.errors import LorasuiteError
from shared.settings import LoraSettings
from shared.training import LossGuard, fit, peak_lr_scale


class Toy(nn.Module):
    """A linear regressor whose ``forward(batch)`` returns its loss (optionally poisoned)."""

    def __init__(self, poison_at: int | None = None) -> None:
        super().__init__()
        self.head = nn.Linear(2, 1)
        self.calls, self.poison_at = 0, poison_at

    def forward(self, batch: dict) -> torch.Tensor:
        self.calls += 1
        loss = ((self.head(batch["x"]).squeeze(-1) - batch["y"]) ** 2).mean()
        return loss * float("nan") if self.poison_at and self.calls >= self.poison_at else loss


def collate(rows):
    return {"x": torch.tensor([r[0] for r in rows]), "y": torch.tensor([r[1] for r in rows])}


ROWS = [([float(i), 1.0], float(i)) for i in range(16)]


def test_nan_loss_fails_the_run():
    with pytest.raises(LorasuiteError, match="loss became nan at step 3"):
        fit(Toy(poison_at=3), ROWS, collate, LoraSettings(epochs=2, batch_size=4, lr=0.01))


def test_dev_score_stuck_at_its_floor_fails_and_early_stopping_waits_for_it():
    settings = LoraSettings(epochs=4, batch_size=4, lr=0.01, early_stopping_patience=1)
    with pytest.raises(LorasuiteError, match="never rose above its floor 0.0000 .* in 16 steps"):
        fit(Toy(), ROWS, collate, settings, evaluate=lambda: 0.0, floor=0.0)  # all 4 epochs ran first
    result = fit(Toy(), ROWS, collate, settings, evaluate=lambda: 0.5, floor=0.0)
    assert result.best_dev == 0.5 and result.steps == 8  # left the floor: patience 1 stops after epoch 2


def test_a_climbing_loss_fails():
    guard = LossGuard("tag", min_window=2)
    for value in (1.0, 0.8):
        guard.step(value, 1)
    guard.check()
    for value in (0.4, 0.3):
        guard.step(value, 2)
    guard.check()
    for value in (0.9, 1.1):
        guard.step(value, 3)
    with pytest.raises(LorasuiteError, match="climbed from 0.3500 to 1.0000"):
        guard.check()


def test_time_budget_stops_early_and_keeps_the_evaluated_weights():
    settings = LoraSettings(epochs=50, batch_size=4, lr=0.01, max_minutes=1e-9)
    scores = iter(range(100))
    result = fit(Toy(), ROWS, collate, settings, evaluate=lambda: float(next(scores)))
    assert result.steps == 1 and result.history[-1]["dev"] == 0.0 and result.best_step == 1


def test_long_runs_lower_the_peak_lr_down_to_long_run_lr():
    settings = LoraSettings(lr=1e-3, long_run_steps=500, long_run_lr=3e-4)
    assert peak_lr_scale(settings, 300) == 1.0
    assert peak_lr_scale(settings, 1000) == pytest.approx(0.5)
    assert peak_lr_scale(settings, 8775) == pytest.approx(0.3)
    assert peak_lr_scale(LoraSettings(), 10**6) == 1.0  # off by default


@pytest.mark.parametrize("field,value", [("max_grad_norm", -1.0), ("distill_temperature", 0.0),
                                         ("distill_alpha", 1.5), ("max_minutes", -2.0), ("long_run_lr", 0.0)])
def test_new_settings_are_validated(field, value):
    with pytest.raises(ValueError, match=field):
        LoraSettings(**{field: value})


def test_every_run_says_its_plan_then_an_estimate(caplog):
    caplog.set_level("INFO", logger="shared.training")
    fit(Toy(), ROWS, collate, LoraSettings(epochs=3, batch_size=4, lr=0.01, max_minutes=30), desc="toy")
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("toy plan: 16 examples, 3 epoch(s) x 4 batches of 4 = 12 steps")
    assert "stops after 30 min" in lines[0]
    assert any(line.startswith("toy estimate: about ") and "for 12 steps" in line for line in lines)
