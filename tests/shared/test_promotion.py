"""Promotion: significant on new data (paired bootstrap of macro-F1), within max_regression on old data."""

import numpy as np
import pytest

from shared.promotion import Scores, decide, macro_f1, paired_bootstrap


def _synthetic(n: int, champion_right: float, challenger_right: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    names = np.array(["negative", "neutral", "positive"])
    gold = names[rng.choice(3, size=n, p=[0.2, 0.5, 0.3])]
    def noisy(rate):
        wrong = rng.random(n) > rate
        return np.where(wrong, names[(np.searchsorted(names, gold) + 1) % 3], gold)
    return list(gold), list(noisy(champion_right)), list(noisy(challenger_right))


def test_a_clearly_better_challenger_is_significant():
    gold, a, b = _synthetic(200, 0.6, 0.85)
    delta, p = paired_bootstrap(gold, a, b)
    assert delta > 0.15 and p < 0.01


def test_a_tiny_gain_on_few_labels_is_not_significant():
    gold, a, _ = _synthetic(30, 0.7, 0.7)
    b = list(a)
    wrong = next(i for i, (g, x) in enumerate(zip(gold, a)) if g != x)
    b[wrong] = gold[wrong]  # one more right answer out of 30
    delta, p = paired_bootstrap(gold, a, b)
    assert delta > 0 and p > 0.05


def test_identical_predictions_are_never_significant():
    gold, a, _ = _synthetic(100, 0.7, 0.7)
    assert paired_bootstrap(gold, a, a)[1] == 1.0


def test_majority_class_predictions_do_not_win_on_macro_f1():
    gold = ["neutral"] * 60 + ["positive"] * 25 + ["negative"] * 15
    champion = gold[:50] + ["positive"] * 10 + gold[60:75] + ["neutral"] * 10 + gold[85:95] + ["neutral"] * 5
    majority = ["neutral"] * 100  # 60% accuracy, but one class only
    assert macro_f1(gold, majority) < macro_f1(gold, champion)
    assert paired_bootstrap(gold, champion, majority)[0] < 0


def test_per_item_scores_bootstrap_the_mean():
    delta, p = paired_bootstrap(list(range(50)), [0] * 50, [1] * 25 + [0] * 25, per_item=True)
    assert delta == pytest.approx(0.5) and p < 0.01


def test_decide_needs_significance_and_bounded_regression():
    assert decide(Scores(0.80, 0.60), Scores(0.795, 0.75), p_value=0.01, n_new=160).promoted
    regress = decide(Scores(0.80, 0.60), Scores(0.785, 0.75), p_value=0.01, max_regression=0.01)
    assert not regress.promoted and "loses too much on old data" in regress.reason
    weak = decide(Scores(0.80, 0.60), Scores(0.80, 0.62), p_value=0.2)
    assert not weak.promoted and "not significantly better" in weak.reason
    worse = decide(Scores(0.80, 0.60), Scores(0.80, 0.55), p_value=0.9)
    assert not worse.promoted
    assert decide(Scores(0.80, 0.60), Scores(0.78, 0.75), p_value=0.01, max_regression=0.05).promoted
