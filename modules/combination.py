"""The combined prediction: a convex weight per output between the two networks' normalized scores,

    combined = w * scores_a + (1 - w) * scores_b,

fitted on the validation split after training, before calibration (which then fits its map on
the combined scores), and stored in the model, so every serving signature applies it.

An unweighted average serves a weak network's errors at half strength; the weight is chosen on a
grid that holds network B alone (w = 0), the equal weight (0.5) and network A alone (1), by the
validation loss each candidate has once its own calibration map is fitted: the NLL after a
temperature (classification; one weight for every class, so the class scores stay on one scale)
or the MSE after an affine map (regression; a weight per target, each chosen on its own). On the
validation rows the combined model is so never worse than the better network or the average.
Both networks' scores are on one scale (the normalization), so the weight means the same for any
raw output size. Ties keep the weight nearest to the equal one.
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np

from modules import modes, names
from modules.calibration import fit_affine, fit_temperature, nll

# Candidates, nearest to the equal weight first (ties keep it): 0 (B alone) to 1 (A alone).
GRID = tuple(sorted(np.round(np.linspace(0.0, 1.0, 21), 2), key=lambda w: (abs(w - 0.5), w)))
EQUAL = 0.5
# The report's candidates besides the fitted weight: network A alone, B alone, the average.
NAMED = {names.NETWORK_A: 1.0, names.NETWORK_B: 0.0, "equal": EQUAL}


def combined_scores(weights: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray) -> np.ndarray:
    """What `TwinModel` serves before calibration (weights broadcast over the batch)."""
    return weights * scores_a + (1.0 - weights) * scores_b


def classification_loss(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean NLL at the labels after the best temperature on these rows (hard targets)."""
    return nll(scores, labels, fit_temperature(scores, labels, smoothed=False))


def regression_loss(scores: np.ndarray, labels: np.ndarray) -> float:
    """MSE (standardized units) of one target after the best affine map on these rows."""
    slope, intercept = fit_affine(scores, labels)
    return float(np.mean(np.square(scores * slope + intercept - labels)))


def fit_weights(
    task: str, scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray
) -> Dict[str, object]:
    """The fitted weight per output [n] and the validation loss of each candidate the report
    names (network A alone, B alone, equal, fitted); losses summed over regression targets."""
    n = scores_a.shape[-1]
    if task == modes.CLASSIFICATION:
        labels = labels.reshape(-1).astype(np.int64)
        loss = {
            w: classification_loss(combined_scores(w, scores_a, scores_b), labels) for w in GRID
        }
        best = min(GRID, key=loss.get)
        weights: List[float] = [float(best)] * n
        losses = {name: loss[w] for name, w in NAMED.items()}
        losses["fitted"] = loss[best]
    else:
        labels = labels.reshape(scores_a.shape)
        per_target = [
            {
                w: regression_loss(combined_scores(w, scores_a[:, j], scores_b[:, j]), labels[:, j])
                for w in GRID
            }
            for j in range(n)
        ]
        weights = [float(min(GRID, key=loss.get)) for loss in per_target]
        losses = {name: sum(loss[w] for loss in per_target) for name, w in NAMED.items()}
        losses["fitted"] = sum(loss[w] for loss, w in zip(per_target, weights, strict=True))
    return {
        "weights": weights,
        "criterion": "NLL after a temperature"
        if task == modes.CLASSIFICATION
        else "MSE after an affine map (standardized label)",
        "validation_loss": losses,
        "examples": int(len(labels)),
    }


def fit(model, scores: Dict[str, np.ndarray], labels: np.ndarray) -> Dict[str, object]:
    """Fits and sets the model's combination weights on validation scores (`calibration.
    collect_scores`), and replaces the combined scores there with the fitted combination's, so
    calibration then fits on what the model serves."""
    a, b = scores[names.NETWORK_A], scores[names.NETWORK_B]
    record = fit_weights(model.task, a, b, labels)
    weights = np.asarray(record["weights"], np.float32)
    model.combination.assign(weights)
    scores[names.COMBINED] = combined_scores(weights, a, b).astype(np.float32)
    return record
