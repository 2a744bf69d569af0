"""Matrix scaling (Guo et al., 2017): class probabilities softmax(scores @ W + b), a full affine
map of the normalized scores, for when a temperature and offsets cannot read the confidence back.

`range` scores are each row min-max scaled: the top class is always 1 and the last 0, so how sure
a network was survives only in where the other classes fall, and one temperature for every class
reads that back poorly. W lets each class's logit weigh every class's score. It has n^2 + n
parameters, so `modules.calibration.choose_map` keeps it only where held-out validation rows
prefer it after a charge for each one (many rows per class).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax
from scipy.special import softmax as _softmax

MAX_ITERATIONS = 500


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> Tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against `targets` [rows, n], and its gradient with
    respect to the logits: what every calibration map's L-BFGS fit minimizes."""
    value = -(targets * log_softmax(logits, axis=-1)).sum(axis=-1).mean()
    return float(value), (_softmax(logits, axis=-1) - targets) / len(logits)


def fit_matrix(
    scores: np.ndarray, targets: np.ndarray, temperature: float, offset: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """(W [n, n], b [n]) minimizing the cross-entropy of softmax(scores @ W + b) against
    `targets` [rows, n]; L-BFGS with the exact gradient from the temperature-and-offset map
    (W = I / T), so the fit starts where the simpler map ended and only improves on it."""
    x = scores.astype(np.float64)
    n = x.shape[-1]

    def objective(theta: np.ndarray) -> Tuple[float, np.ndarray]:
        w, b = theta[: n * n].reshape(n, n), theta[n * n :]
        value, error = cross_entropy(x @ w + b, targets)
        return value, np.concatenate([(x.T @ error).ravel(), error.sum(axis=0)])

    start = np.concatenate([(np.eye(n) / temperature).ravel(), np.asarray(offset, np.float64)])
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-9, "maxiter": MAX_ITERATIONS},
    )
    return result.x[: n * n].reshape(n, n), result.x[n * n :]
