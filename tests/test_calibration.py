"""Calibration maps: the ECE against hand-computed values, the fits minimize what they say, and
a map fitted on validation rows improves the ECE on other rows."""

import numpy as np
import pytest
from scipy.special import log_softmax

from modules import calibration


def probabilities(scores: np.ndarray, temperature: float, offset=0.0) -> np.ndarray:
    return np.exp(log_softmax(scores / temperature + offset, axis=-1))


def test_ece_matches_a_hand_computed_value():
    # Bins of width 1/15. Rows 1-2: confidence 0.9 (bin 13), one right -> |0.5 - 0.9| x 2/4.
    # Rows 3-4: confidence 0.6 (bin 9), both right -> |1 - 0.6| x 2/4. ECE = 0.2 + 0.2.
    p = np.array([[0.9, 0.1], [0.1, 0.9], [0.6, 0.4], [0.4, 0.6]])
    labels = np.array([0, 0, 0, 1])
    assert calibration.expected_calibration_error(p, labels) == pytest.approx(0.4)
    # Perfectly calibrated within one bin: confidence 0.75, three of four right.
    p = np.tile([[0.75, 0.25]], (4, 1))
    assert calibration.expected_calibration_error(p, np.array([0, 0, 0, 1])) == pytest.approx(0.0)


def test_platt_targets_match_hand_computed_values():
    targets = calibration.platt_targets(np.array([0, 0, 0, 1]), 3)
    # Class 0 has 3 rows: (3 + 1) / (3 + 2) = 0.8, the other 0.2 split over two classes.
    np.testing.assert_allclose(targets[0], [0.8, 0.1, 0.1])
    # Class 1 has 1 row: 2 / 3 on it.
    np.testing.assert_allclose(targets[3], [1 / 6, 2 / 3, 1 / 6])
    np.testing.assert_allclose(targets.sum(axis=1), 1.0)


def noisy_scores(rows: int, seed: int, positive_rate: float = 0.5, sharpness: float = 6.0):
    """Binary scores whose softmax is far too confident (a scaled-up noisy margin)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(rows) < positive_rate).astype(np.int64)
    margin = (2 * labels - 1) + rng.normal(scale=1.2, size=rows)
    scores = np.stack([np.zeros(rows), sharpness * margin], axis=1)
    return scores, labels


def test_fitted_temperature_minimizes_the_fitted_loss():
    scores, labels = noisy_scores(400, seed=1)
    t = calibration.fit_temperature(scores, labels)
    targets = calibration.platt_targets(labels, 2)
    best = calibration.fitted_loss(scores, targets, t)
    for factor in (0.9, 0.99, 1.01, 1.1):
        assert calibration.fitted_loss(scores, targets, t * factor) > best
    assert t > 1.5  # over-confident scores need T > 1


def test_fitted_temperature_and_offset_minimize_the_fitted_loss():
    scores, labels = noisy_scores(600, seed=2, positive_rate=0.1)
    t, b = calibration.fit_temperature_offset(scores, labels)
    assert b[0] == 0.0
    targets = calibration.platt_targets(labels, 2)
    best = calibration.fitted_loss(scores, targets, t, b)
    for dt, db in ((1.01, 0.0), (0.99, 0.0), (1.0, 0.01), (1.0, -0.01)):
        assert calibration.fitted_loss(scores, targets, t * dt, b + [0.0, db]) > best
    # It never does worse than the temperature alone (which it starts from).
    alone = calibration.fit_temperature(scores, labels)
    assert best <= calibration.fitted_loss(scores, targets, alone) + 1e-12


def test_calibration_fitted_on_validation_lowers_ece_on_other_rows():
    validation = noisy_scores(4000, seed=3)
    evaluation = noisy_scores(4000, seed=4)
    method, (t, b, _) = calibration.choose_map(*validation)
    before = calibration.expected_calibration_error(
        probabilities(evaluation[0], 1.0), evaluation[1]
    )
    after = calibration.expected_calibration_error(
        probabilities(evaluation[0], t, b), evaluation[1]
    )
    assert before > 0.1 and after < 0.03 and after < before / 4, (method, t, before, after)


def test_offset_learns_a_base_rate_that_a_temperature_cannot():
    # 3 % positives, scores centred as population standardization leaves them: no prior.
    scores, labels = noisy_scores(4000, seed=5, positive_rate=0.03, sharpness=1.0)
    held_out_scores, held_out_labels = noisy_scores(4000, seed=6, positive_rate=0.03, sharpness=1.0)
    shift = scores[:, 1].mean()
    scores[:, 1] -= shift
    held_out_scores[:, 1] -= shift
    method, (t, b, _) = calibration.choose_map(scores, labels)
    assert method == "temperature+offset"
    mean_probability = probabilities(held_out_scores, t, b)[:, 1].mean()
    assert abs(mean_probability - held_out_labels.mean()) < 0.01
    t_alone = calibration.fit_temperature(scores, labels)
    assert abs(probabilities(held_out_scores, t_alone)[:, 1].mean() - 0.03) > 0.1


def test_no_offset_is_kept_when_the_classes_are_symmetric():
    scores, labels = noisy_scores(2000, seed=7)
    scores = np.concatenate([scores, scores[:, ::-1]])
    labels = np.concatenate([labels, 1 - labels])
    method, (_, b, _) = calibration.choose_map(scores, labels)
    assert method == "temperature" and not b.any()


def test_separable_rows_do_not_give_certainty():
    # Three well separated classes of 18 rows each, as on the penguins: hard targets would
    # drive T to its bound; Platt's targets stop at what 18 examples per class can show.
    scores = np.repeat(np.eye(3), 18, axis=0)
    labels = np.repeat(np.arange(3), 18)
    t = calibration.fit_temperature(scores, labels)
    confidence = probabilities(scores, t).max(axis=-1)
    np.testing.assert_allclose(confidence, 19 / 20, atol=1e-3)


def test_affine_fit_is_least_squares():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    slope, intercept = calibration.fit_affine(x, 2 * x + 1)
    assert slope == pytest.approx(2.0) and intercept == pytest.approx(1.0)
    slope, intercept = calibration.fit_affine(np.ones(4), x)  # constant scores: the mean
    assert slope == 1.0 and intercept == pytest.approx(x.mean() - 1.0)


def test_scores_that_are_calibrated_already_keep_the_identity():
    # Labels drawn from softmax(scores) itself: no map can help rows it was not fitted on.
    rng = np.random.default_rng(8)
    scores = rng.normal(scale=2.0, size=(6000, 3))
    p = probabilities(scores, 1.0)
    labels = np.array([rng.choice(3, p=row) for row in p])
    method, (t, b, _) = calibration.choose_map(scores, labels)
    assert method == "none" and t == 1.0 and not b.any()


def many_class_scores(rows: int, seed: int, classes: int = 32):
    """A network right on ~99.7 % of rows of many classes: the true class's score 6 above the
    rest, with noise that rarely overturns it."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, rows)
    return 6.0 * np.eye(classes)[labels] + rng.normal(size=(rows, classes)), labels


def test_many_classes_with_few_rows_each_are_not_under_confident():
    # 32 classes, 12 validation rows each: Platt's per-class targets would hold the confidence
    # near 13/14 where the scores are right 99.7 % of the time (issue 35's leaf table).
    scores, labels = many_class_scores(384, seed=9)
    method, (t, b, _) = calibration.choose_map(scores, labels)
    assert not method.startswith(calibration.SMOOTHED), method
    held_out, held_out_labels = many_class_scores(20_000, seed=10)
    after = calibration.expected_calibration_error(probabilities(held_out, t, b), held_out_labels)
    smoothed_t = calibration.fit_temperature(scores, labels, smoothed=True)
    smoothed = calibration.expected_calibration_error(
        probabilities(held_out, smoothed_t), held_out_labels
    )
    assert after < 0.01 and smoothed > 0.04, (method, t, after, smoothed)
