"""NumPy references of the normalizations, written straight from the formulas.

Means and variances are computed in exact rational arithmetic (`fractions.Fraction`), so the
reference itself has no cancellation error on rows such as ten copies of 1e30.
"""

from fractions import Fraction

import numpy as np


def _exact_standardize_1d(values: np.ndarray, eps: float) -> np.ndarray:
    exact = [Fraction(float(v)) for v in values]
    mean = sum(exact) / len(exact)
    var = sum((v - mean) ** 2 for v in exact) / len(exact)
    scale = np.sqrt(float(var + Fraction(eps)))
    return np.array([float(v - mean) / scale for v in exact])


def moments_reference(x: np.ndarray) -> tuple:
    """Exact per-row mean and (biased) variance over the last axis."""
    means, variances = [], []
    for row in np.asarray(x, np.float64):
        exact = [Fraction(float(v)) for v in row]
        mean = sum(exact) / len(exact)
        means.append(float(mean))
        variances.append(float(sum((v - mean) ** 2 for v in exact) / len(exact)))
    return np.array(means), np.array(variances)


def range_reference(x: np.ndarray, eps: float) -> np.ndarray:
    x = np.asarray(x, np.float64)
    low, high = x.min(axis=-1, keepdims=True), x.max(axis=-1, keepdims=True)
    return (x - low) / np.maximum(high - low, eps)


def standardize_reference(x: np.ndarray, eps: float, axis: int = -1) -> np.ndarray:
    return np.apply_along_axis(_exact_standardize_1d, axis, np.asarray(x, np.float64), eps)


def shared_reference(a: np.ndarray, b: np.ndarray, eps: float):
    joint = standardize_reference(np.concatenate([a, b], axis=-1), eps)
    return joint[:, : a.shape[-1]], joint[:, a.shape[-1] :]


def population_reference(
    x: np.ndarray, mean: np.ndarray, variance: np.ndarray, eps: float
) -> np.ndarray:
    return (np.asarray(x, np.float64) - mean) / np.sqrt(variance + eps)
