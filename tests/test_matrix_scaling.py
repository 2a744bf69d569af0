"""Matrix scaling: the fit against a finite-difference gradient and its starting point, and the
choice between maps on range-normalized scores, where it reads back what a temperature cannot."""

import numpy as np
from scipy.special import log_softmax

from modules import calibration
from modules.matrix_scaling import fit_matrix


def range_scores(rows: int, seed: int, classes: int = 5):
    """Ordered classes (as diamonds' cut grades): a latent value t, each class likelier the
    nearer t is to its centre; the network sees t with noise and scores each class by minus the
    squared distance, min-max scaled per row (the `range` mode). How sure a row is survives
    only in where the middle classes fall, which one temperature reads back poorly."""
    rng = np.random.default_rng(seed)
    t = rng.normal(scale=1.2, size=rows)
    centres = np.linspace(-2.0, 2.0, classes)
    p = np.exp(log_softmax(-2.0 * (t[:, None] - centres) ** 2, axis=-1))
    labels = np.array([rng.choice(classes, p=row) for row in p])
    z = -((t[:, None] + rng.normal(scale=0.3, size=(rows, 1)) - centres) ** 2)
    low, high = z.min(axis=-1, keepdims=True), z.max(axis=-1, keepdims=True)
    return (z - low) / (high - low), labels


def cross_entropy(scores, labels, matrix, offset) -> float:
    logits = scores @ matrix + offset
    return float(-log_softmax(logits, axis=-1)[np.arange(len(labels)), labels].mean())


def test_the_fit_ends_no_worse_than_its_start_at_a_stationary_point():
    scores, labels = range_scores(3000, seed=1)
    targets = np.eye(5)[labels]
    t, b = calibration.fit_temperature_offset(scores, labels, smoothed=False)
    matrix, offset = fit_matrix(scores, targets, t, b)
    fitted = cross_entropy(scores, labels, matrix, offset)
    assert fitted < cross_entropy(scores, labels, np.eye(5) / t, b) - 1e-3
    for i, j in ((0, 0), (1, 3), (4, 2)):  # each direction raises the loss: a minimum
        for step in (1e-3, -1e-3):
            moved = matrix.copy()
            moved[i, j] += step
            assert cross_entropy(scores, labels, moved, offset) >= fitted - 1e-9


def test_many_rows_of_range_scores_choose_the_matrix_and_it_holds_on_other_rows():
    scores, labels = range_scores(5000, seed=2)
    method, fitted = calibration.choose_map(scores, labels)
    assert method == calibration.MATRIX
    held_out, held_out_labels = range_scores(20_000, seed=3)
    ece = calibration.expected_calibration_error
    matrix = ece(calibration.softmax(held_out, *fitted), held_out_labels)
    t, b = calibration.fit_temperature_offset(scores, labels, smoothed=False)
    simpler = ece(calibration.softmax(held_out, t, b), held_out_labels)
    assert matrix < 0.015 and matrix < simpler / 2, (matrix, simpler)


def test_few_rows_per_class_keep_a_simpler_map():
    scores, labels = range_scores(100, seed=4)  # 20 rows a class for 24 parameters
    method, (_, _, matrix) = calibration.choose_map(scores, labels)
    assert method != calibration.MATRIX and matrix is None
