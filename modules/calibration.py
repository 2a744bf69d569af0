"""Reading predictions from normalized scores: a map per served prediction, fitted after training
on the validation split (never on the eval split the Evaluator blesses on) and stored in the
model, so every serving signature applies it.

- Classification: temperature scaling (Guo et al., 2017), softmax(scores / T), and where it helps
  a per-class offset too, softmax(scores / T + b) (a bias-corrected temperature scaling): scores
  are not logits (`range` scores lie in [0, 1], so softmax(scores) can never be confident), and a
  temperature alone cannot move a class prior; matrix scaling, softmax(scores @ W + b)
  (modules/matrix_scaling.py), where many rows per class pay for its n^2 + n parameters.
  `choose_map` keeps no map, a temperature, a temperature and offsets, or a matrix, whichever
  has the lowest NLL on held-out validation rows (2-fold cross-fitting, 1/N charged per
  parameter).
- Regression, an affine map (least squares of the standardized label on the scores):
  `population` training forces each output to unit variance over the batch, while the best
  prediction of a label it cannot explain fully has less spread (variance R^2); the slope
  restores that shrinkage, the intercept any offset.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import tensorflow as tf
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax

from modules import modes, names
from modules.matrix_scaling import cross_entropy, fit_matrix

BINS = 15
OFFSET_BOUND = 20.0  # per-class offsets in logits: a prior of 1e-9 is still expressible
# T from 3e-4 to 3e3: range scores need a small T, wild logits a large one.
LOG_T_BOUNDS = (-8.0, 8.0)
Map = Tuple[float, np.ndarray, Optional[np.ndarray]]  # (T, b, W; None: the identity)


class UnseenLabelError(ValueError):
    """The validation split holds a label value that training never saw: it belongs to no class."""


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS
) -> float:
    """Top-label ECE: sum over equal-width confidence bins of |accuracy - confidence| x bin share."""
    confidence = probabilities.max(axis=-1)
    correct = (probabilities.argmax(axis=-1) == labels).astype(np.float64)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


def softmax(scores: np.ndarray, temperature: float = 1.0, offset=0.0, matrix=None) -> np.ndarray:
    """softmax((scores @ matrix) / T + offset): the served probabilities of a calibration map
    (no matrix: the identity)."""
    return np.exp(log_softmax(_logits(scores, temperature, offset, matrix), axis=-1))


def served_map(record: Dict[str, object]) -> Map:
    """(T, b, W) of a calibration.json entry, for `softmax`."""
    matrix = record.get("matrix")
    offset = np.array(record["offset"], np.float64)
    return record["temperature"], offset, None if matrix is None else np.array(matrix)


def _logits(scores: np.ndarray, temperature: float, offset, matrix) -> np.ndarray:
    x = scores.astype(np.float64)
    return (x if matrix is None else x @ matrix) / temperature + offset


def platt_targets(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Soft targets [rows, n]: (N_y + 1) / (N_y + 2) on each row's class y, the rest shared by
    the other classes (Platt, 1999). With hard 0/1 targets, rows that the scores separate
    perfectly drive T to 0 and the probabilities to 0 or 1; these cap the confidence at what
    N_y examples can show, and change nothing measurable for large N_y."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    true = (counts[labels] + 1.0) / (counts[labels] + 2.0)
    targets = np.repeat(((1.0 - true) / max(1, n_classes - 1))[:, None], n_classes, axis=1)
    targets[np.arange(len(labels)), labels] = true
    return targets


def fitted_loss(scores: np.ndarray, targets: np.ndarray, temperature: float, offset=0.0) -> float:
    """What the calibration fits minimize: mean cross-entropy of softmax(scores / T + offset)
    against `targets` (platt_targets)."""
    logits = scores.astype(np.float64) / temperature + offset
    return float(-(targets * log_softmax(logits, axis=-1)).sum(axis=-1).mean())


def targets_for(labels: np.ndarray, n_classes: int, smoothed: bool) -> np.ndarray:
    """Platt's targets (smoothed by each class's row count N_y), or the labels themselves with
    (N + 1) / (N + 2) on the true class, N counting all rows: as sure as N rows can show, so
    separable rows do not drive T to its bound, yet not held near (N_y + 1) / (N_y + 2) when
    each class has few rows and the network is right far more often than that."""
    if smoothed:
        return platt_targets(labels, n_classes)
    rows = len(labels)
    true = (rows + 1.0) / (rows + 2.0)
    targets = np.full((rows, n_classes), (1.0 - true) / max(1, n_classes - 1))
    targets[np.arange(rows), labels] = true
    return targets


def fit_temperature(scores: np.ndarray, labels: np.ndarray, smoothed: bool = True) -> float:
    """argmin over T of `fitted_loss` of softmax(scores / T), searched on log T."""
    targets = targets_for(labels, scores.shape[-1], smoothed)
    result = minimize_scalar(
        lambda log_t: fitted_loss(scores, targets, float(np.exp(log_t))),
        bounds=LOG_T_BOUNDS,
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(np.exp(result.x))


def nll(
    scores: np.ndarray, labels: np.ndarray, temperature: float, offset=0.0, matrix=None
) -> float:
    """Mean negative log-likelihood of `softmax` at the labels (class ids)."""
    logits = _logits(scores, temperature, offset, matrix)
    return float(-log_softmax(logits, axis=-1)[np.arange(len(labels)), labels].mean())


def fit_temperature_offset(
    scores: np.ndarray, labels: np.ndarray, smoothed: bool = True
) -> Tuple[float, np.ndarray]:
    """(T, b) minimizing `fitted_loss` of softmax(scores / T + b), b[0] = 0 (softmax ignores a
    common shift); L-BFGS on (log T, b[1:]) with the exact gradient, from the temperature fit."""
    x = scores.astype(np.float64)
    n = x.shape[-1]
    targets = targets_for(labels, n, smoothed)

    def objective(theta: np.ndarray) -> Tuple[float, np.ndarray]:
        inverse_t = np.exp(-theta[0])
        value, error = cross_entropy(x * inverse_t + np.concatenate([[0.0], theta[1:]]), targets)
        grad_log_t = -(error * x * inverse_t).sum()
        return value, np.concatenate([[grad_log_t], error.sum(axis=0)[1:]])

    start = np.concatenate([[np.log(fit_temperature(x, labels, smoothed))], np.zeros(n - 1)])
    bounds = [LOG_T_BOUNDS] + [(-OFFSET_BOUND, OFFSET_BOUND)] * (n - 1)
    result = minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-9}
    )
    return float(np.exp(result.x[0])), np.concatenate([[0.0], result.x[1:]])


NONE, TEMPERATURE, TEMPERATURE_OFFSET = "none", "temperature", "temperature+offset"
MATRIX = "matrix"
SMOOTHED = "smoothed "  # prefix of a map fitted on Platt's targets rather than the labels
# Each candidate map: (fitted on smoothed targets, parameters besides the identity's for n
# classes; softmax ignores a shift common to every logit).
MAPS = {
    NONE: (False, lambda n: 0),
    TEMPERATURE: (False, lambda n: 1),
    SMOOTHED + TEMPERATURE: (True, lambda n: 1),
    TEMPERATURE_OFFSET: (False, lambda n: n),
    SMOOTHED + TEMPERATURE_OFFSET: (True, lambda n: n),
    MATRIX: (False, lambda n: n * n - 1),
}


def _fit(method: str, scores: np.ndarray, labels: np.ndarray) -> Map:
    """(T, b, W) of one map fitted on these rows; "none" is the identity (T = 1, b = 0)."""
    smoothed = MAPS[method][0]
    n = scores.shape[-1]
    if method == MATRIX:
        start = fit_temperature_offset(scores, labels, smoothed)
        matrix, offset = fit_matrix(scores, targets_for(labels, n, smoothed), *start)
        return 1.0, offset, matrix
    if method.endswith(TEMPERATURE_OFFSET):
        return (*fit_temperature_offset(scores, labels, smoothed), None)
    if method.endswith(TEMPERATURE):
        return fit_temperature(scores, labels, smoothed), np.zeros(n), None
    return 1.0, np.zeros(n), None


def choose_map(scores: np.ndarray, labels: np.ndarray, seed: int = 0) -> Tuple[str, Map]:
    """(method, (T, b, W)) of the map with the lowest plain NLL on held-out rows: each candidate
    (none, a temperature, a temperature and offsets, each fitted on the labels or on Platt's
    smoothed targets; a matrix, on the labels) is fitted on one half of the rows and scored on
    the other, both ways, and charged 1/N
    of NLL per parameter (AIC's rate), so extra parameters (or any map at all: a network trained
    with cross-entropy may be calibrated already) are kept only where rows they were not fitted on
    clearly prefer them, and smoothed targets only where they beat the labels (they hold the
    confidence near (N_y + 1) / (N_y + 2), under-confident when classes have few rows); the chosen
    map is then refitted on every row. Ties keep the simpler map."""
    order = np.random.default_rng(seed).permutation(len(labels))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    if min(len(h) for h in halves) == 0:
        return SMOOTHED + TEMPERATURE, _fit(SMOOTHED + TEMPERATURE, scores, labels)
    held_out = {}
    for method, (_, parameters) in MAPS.items():
        count = parameters(scores.shape[-1])
        held_out[method] = sum(
            nll(scores[score_rows], labels[score_rows], *_fit(method, scores[fit], labels[fit]))
            for fit, score_rows in (halves, halves[::-1])
        ) / 2 + count / len(labels)  # mean held-out NLL, plus 1/N a parameter (as AIC / 2N)
    method = min(held_out, key=held_out.get)  # the first (simplest) of equal ones
    return method, _fit(method, scores, labels)


def fit_affine(scores: np.ndarray, targets: np.ndarray) -> Tuple[float, float]:
    """(slope, intercept) minimizing the squared error of slope * scores + intercept."""
    x, y = scores.reshape(-1).astype(np.float64), targets.reshape(-1).astype(np.float64)
    spread = x.var()
    slope = float(((x - x.mean()) * (y - y.mean())).mean() / spread) if spread > 0 else 1.0
    return slope, float(y.mean() - slope * x.mean())


def collect_scores(model, dataset: tf.data.Dataset) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """Normalized scores of each served prediction and the labels (Transform's), over a finite dataset."""
    parts: Dict[str, list] = {}
    for features, labels in dataset:
        outputs = model(features, training=False)
        parts.setdefault("labels", []).append(np.reshape(labels.numpy(), [-1]))
        for name in names.NETWORKS:
            parts.setdefault(name, []).append(outputs[names.output_key(name, names.SCORES)].numpy())
        parts.setdefault(names.COMBINED, []).append(outputs[names.SCORES].numpy())
    arrays = {key: np.concatenate(value) for key, value in parts.items()}
    return arrays, arrays.pop("labels")


def check_labels_known(labels: np.ndarray, vocabulary, split: str) -> None:
    """A label id of -1 (a value the training split lacks) would be scored as a class of its
    own that no network can predict: refused, naming the split and the count."""
    check_unknown_count(int((labels < 0).sum()), vocabulary, split)


def check_unknown_count(unseen: int, vocabulary, split: str) -> None:
    """`check_labels_known` for a count of -1 labels (a split counted in chunks)."""
    if unseen:
        raise UnseenLabelError(
            f"{unseen} {split} example(s) have a label value that the training split does not "
            f"contain (training classes: {', '.join(vocabulary)}); each class needs examples in "
            "the training split, so add rows of that class or drop them"
        )


def calibrate(
    model, scores: Dict[str, np.ndarray], labels: np.ndarray
) -> Dict[str, Dict[str, float]]:
    """Fits and sets each prediction's map on its validation scores (`collect_scores`); returns
    what was fitted and what it changed on those rows: the map and NLL/ECE before and after
    (classification), slope, intercept and MSE in the label's units before/after (regression)."""
    regression = model.task == modes.REGRESSION
    if not regression:
        check_labels_known(labels, model.layout.label_vocabulary, names.VALIDATION_SPLIT)
    result = {}
    for name, values in scores.items():
        result[name] = (
            _calibrate_values(model, name, values, labels)
            if regression
            else _calibrate_probabilities(model, name, values, labels.astype(np.int64))
        )
        result[name]["examples"] = int(len(labels))
    return result


def _calibrate_probabilities(
    model, name: str, scores: np.ndarray, labels: np.ndarray
) -> Dict[str, object]:
    method, fitted = choose_map(scores, labels, model.config.seed)
    temperature, offset, matrix = fitted
    n = scores.shape[-1]
    model.calibration[name].assign([[1.0 / temperature] * n, offset.astype(np.float32).tolist()])
    model.mixing[name].assign(np.eye(n) if matrix is None else matrix.astype(np.float32))
    return {
        "method": method,
        "temperature": temperature,
        "offset": offset.tolist(),
        **({} if matrix is None else {"matrix": matrix.tolist()}),
        "nll_before": nll(scores, labels, 1.0),
        "nll_after": nll(scores, labels, *fitted),
        "ece_before": expected_calibration_error(softmax(scores), labels),
        "ece_after": expected_calibration_error(softmax(scores, *fitted), labels),
    }


def _calibrate_values(model, name: str, scores: np.ndarray, labels: np.ndarray) -> Dict[str, float]:
    """One affine map per target; MSE in the label's units, averaged over targets."""
    labels = labels.reshape(scores.shape)
    fits = [fit_affine(scores[:, j], labels[:, j]) for j in range(scores.shape[1])]
    slope, intercept = np.array(fits, np.float64).T
    model.calibration[name].assign(np.stack([slope, intercept]).astype(np.float32))
    units = np.square(np.array(model.layout.label_scale or (1.0,) * scores.shape[1]))
    return {
        "slope": slope.tolist(),
        "intercept": intercept.tolist(),
        "mse_before": float(np.mean(np.square(scores - labels) * units)),
        "mse_after": float(np.mean(np.square(scores * slope + intercept - labels) * units)),
    }
