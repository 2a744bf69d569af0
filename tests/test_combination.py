"""The combination fitted on validation: never worse there than either network or the average,
and weighting the stronger network more."""

import numpy as np
import pytest

from modules import combination, modes, names


def class_scores(rows: int, noise: float, rng: np.random.Generator, labels: np.ndarray):
    """Scores of a 3-class network: the true class lifted by 1, plus noise of this size."""
    return np.eye(3)[labels] + rng.normal(scale=noise, size=(rows, 3))


@pytest.mark.parametrize("noise_b", [0.6, 1.0, 3.0])
def test_fitted_classification_weight_is_never_worse_on_validation(noise_b):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 2000)
    a, b = class_scores(2000, 0.6, rng, labels), class_scores(2000, noise_b, rng, labels)
    record = combination.fit_weights(modes.CLASSIFICATION, a, b, labels)
    loss = record["validation_loss"]
    assert loss["fitted"] <= min(loss[names.NETWORK_A], loss[names.NETWORK_B], loss["equal"])
    w = record["weights"][0]
    assert record["weights"] == [w] * 3  # one weight for every class
    # Computed the way the record says: NLL after a temperature of the weighted scores.
    assert loss["fitted"] == pytest.approx(
        combination.classification_loss(combination.combined_scores(w, a, b), labels)
    )
    if noise_b >= 3.0:  # a far weaker B is (nearly) left out
        assert w >= 0.85 and loss["fitted"] < loss["equal"] - 0.01
    if noise_b == 0.6:
        assert 0.3 <= w <= 0.7


def test_fitted_regression_weight_is_chosen_per_target():
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(3000, 2))
    # Target 0: A is exact and B noise; target 1: the other way round.
    a = np.stack([truth[:, 0], rng.normal(size=3000)], axis=1)
    b = np.stack([rng.normal(size=3000), truth[:, 1] + rng.normal(scale=0.1, size=3000)], axis=1)
    record = combination.fit_weights(modes.REGRESSION, a, b, truth)
    assert record["weights"][0] == 1.0 and record["weights"][1] <= 0.05
    loss = record["validation_loss"]
    assert loss["fitted"] <= min(loss[names.NETWORK_A], loss[names.NETWORK_B], loss["equal"])
    assert loss["fitted"] < 0.5 * loss["equal"]


def test_equal_networks_keep_the_equal_weight():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 500)
    a = class_scores(500, 0.8, rng, labels)
    record = combination.fit_weights(modes.CLASSIFICATION, a, a.copy(), labels)
    assert record["weights"] == [0.5] * 3  # every weight ties: the nearest to equal is kept


def test_grid_holds_each_network_alone_and_the_average():
    assert {0.0, 0.5, 1.0} <= set(combination.GRID)
    assert combination.GRID[0] == 0.5
