"""The joint step's loss (modules/losses.py) against NumPy, and a diverged run refused."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from modules import names
from modules.hparams import NetworkSpec, TrainerConfig
from modules.losses import NonFiniteLossError, check_finite, learning_rates, per_example_loss

SCORES = np.array([[0.2, 0.7, 0.1], [0.5, 0.1, 0.9]], np.float32)
LABELS = np.array([1, 2])


def test_mse_against_the_one_hot_class_and_cross_entropy_on_the_scores_as_logits():
    mse = dataclasses.replace(TrainerConfig(), task="classification", loss="mse")
    one_hot = np.eye(3)[LABELS]
    np.testing.assert_allclose(
        per_example_loss(tf.constant(SCORES), tf.constant(LABELS), mse),
        ((SCORES - one_hot) ** 2).mean(axis=1),
        rtol=1e-6,
    )
    cross = dataclasses.replace(mse, loss="cross_entropy")
    logits = SCORES - SCORES.max(axis=1, keepdims=True)
    expected = -(logits[[0, 1], LABELS] - np.log(np.exp(logits).sum(axis=1)))
    np.testing.assert_allclose(
        per_example_loss(tf.constant(SCORES), tf.constant(LABELS), cross), expected, rtol=1e-6
    )


def test_regression_mse_is_against_each_target():
    config = dataclasses.replace(TrainerConfig(), task="regression", loss="mse")
    targets = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5]], np.float32)
    np.testing.assert_allclose(
        per_example_loss(tf.constant(SCORES), tf.constant(targets), config),
        ((SCORES - targets) ** 2).mean(axis=1),
        rtol=1e-6,
    )


def test_the_shared_parameters_learn_at_the_geometric_mean_of_the_two_rates():
    config = dataclasses.replace(
        TrainerConfig(),
        network_a=NetworkSpec(learning_rate=0.01),
        network_b=NetworkSpec(learning_rate=0.0001),
    )
    rates = learning_rates(config, [names.NETWORK_A, names.NETWORK_B, names.SHARED_AFFINE])
    assert rates == {
        names.NETWORK_A: 0.01,
        names.NETWORK_B: 0.0001,
        names.SHARED_AFFINE: pytest.approx(0.001),
    }


@pytest.mark.parametrize("total", [float("nan"), float("inf")])
def test_a_non_finite_loss_stops_training_naming_the_step_and_settings(total):
    check_finite(1.5, 3, TrainerConfig())
    with pytest.raises(NonFiniteLossError, match=f"became {total} at step 7 .normalization"):
        check_finite(total, 7, TrainerConfig())
