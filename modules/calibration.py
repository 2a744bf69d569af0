"""Reading predictions from normalized scores: a map per served prediction, fitted after training
on the eval split and stored in the model, so every serving signature applies it.

- Classification, temperature scaling (Guo et al., 2017): normalized scores are not logits
  (`range` scores lie in [0, 1], so softmax(scores) can never be confident), so one scalar T per
  prediction minimizes the negative log-likelihood of softmax(scores / T). T keeps the argmax:
  accuracy is unchanged, only the probabilities move.
- Regression, an affine map (least squares of the standardized label on the scores):
  `population` training forces each output to unit variance over the batch, while the best
  prediction of a label it cannot explain fully has less spread (variance R^2); the slope
  restores that shrinkage, the intercept any offset.
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import tensorflow as tf
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from twinnorm.modules import modes, names

BINS = 15
LOG_T_BOUNDS = (
    -8.0,
    8.0,
)  # T from 3e-4 to 3e3: range scores need a small T, wild logits a large one


class UnseenLabelError(ValueError):
    """The eval split holds a label value that training never saw: it belongs to no class."""


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


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    return np.exp(log_softmax(scores.astype(np.float64) / temperature, axis=-1))


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """argmin over T of the mean NLL of softmax(scores / T), searched on log T."""
    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        return float(
            -log_softmax(scores.astype(np.float64) / np.exp(log_t), axis=-1)[rows, labels].mean()
        )

    return float(np.exp(minimize_scalar(nll, bounds=LOG_T_BOUNDS, method="bounded").x))


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


def check_labels_known(labels: np.ndarray, vocabulary) -> None:
    unseen = int((labels < 0).sum())
    if unseen:
        raise UnseenLabelError(
            f"{unseen} eval example(s) have a label value that the training split does not contain "
            f"(training classes: {', '.join(vocabulary)}); each class needs examples in the training split, "
            "so add rows of that class or drop them"
        )


def calibrate(model, dataset: tf.data.Dataset) -> Dict[str, Dict[str, float]]:
    """Fits and sets each prediction's map; returns what was fitted and what it changed:
    temperature and ECE before/after (classification), slope, intercept and MSE in the label's
    units before/after (regression)."""
    scores, labels = collect_scores(model, dataset)
    regression = model.task == modes.REGRESSION
    if not regression:
        check_labels_known(labels, model.layout.label_vocabulary)
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
) -> Dict[str, float]:
    temperature = fit_temperature(scores, labels)
    n = scores.shape[-1]
    model.calibration[name].assign([[1.0 / temperature] * n, [0.0] * n])
    return {
        "temperature": temperature,
        "ece_before": expected_calibration_error(softmax(scores), labels),
        "ece_after": expected_calibration_error(softmax(scores, temperature), labels),
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
