"""The label-quality gate: learnable labels pass, shuffled or single-class labels are refused."""

import numpy as np

from shared.gate import check_labels, sign_test


def _clusters(n: int = 300, seed: int = 0):
    """Three noisy clusters in 16 dimensions, skewed 60/25/15 like sentiment labels."""
    rng = np.random.default_rng(seed)
    names = np.array(["neutral", "positive", "negative"])
    y = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    centres = rng.normal(size=(3, 16)) * 1.5
    return centres[y] + rng.normal(size=(n, 16)), list(names[y])


def test_learnable_labels_pass():
    x, y = _clusters()
    result = check_labels(x, y)
    assert result.ok and result.probe_accuracy > result.majority_accuracy and result.p_value < 0.05
    assert "learnable" in result.reason


def test_shuffled_labels_are_refused_with_the_reason():
    x, y = _clusters()
    shuffled = list(np.random.default_rng(1).permutation(y))
    result = check_labels(x, shuffled)
    assert not result.ok
    assert "not learnable" in result.reason and "'neutral'" in result.reason


def test_too_few_or_one_class_is_refused():
    x, y = _clusters(40)
    assert not check_labels(x[:5], y[:5]).ok
    result = check_labels(x, ["neutral"] * 40)
    assert not result.ok and "every label is 'neutral'" in result.reason


def test_sign_test():
    assert sign_test(0, 0) == 1.0
    assert sign_test(20, 2) < 0.001
    assert sign_test(5, 5) > 0.5
