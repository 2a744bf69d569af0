"""The report's simple models: the trivial predictor and a linear model, scored on the report's
split beside the networks, fitted only on the train split."""

import numpy as np
import pytest

from components.report import baselines, collect
from modules import names
from modules.layout import FeatureLayout


def split(labels, predictions, probabilities=None) -> collect.SplitOutputs:
    networks = {
        n: collect.NetworkOutputs(np.zeros_like(predictions), np.zeros_like(predictions), p)
        for n, p in zip(names.NETWORKS, (predictions, predictions), strict=True)
    }
    outputs = collect.SplitOutputs("eval", labels, networks, predictions)
    if probabilities is not None:
        outputs.probabilities.update({n: probabilities for n in (*names.NETWORKS, names.COMBINED)})
    return outputs


def test_regression_figures_against_hand_computed_values():
    x_train = np.array([[0.0], [1.0], [2.0], [3.0]])
    y_train = np.array([[1.0], [3.0], [5.0], [7.0]])  # y = 2x + 1, mean 4
    x_eval = np.array([[4.0], [5.0]])
    labels = np.array([[9.0], [11.0]])
    outputs = split(labels, np.array([9.0, 12.0]))  # errors 0 and 1: MSE 0.5
    result = baselines._regression(x_train, y_train, x_eval, outputs)
    assert result["trivial"]["mse"] == pytest.approx((25 + 49) / 2)  # predicts 4
    assert result["linear"]["mse"] == pytest.approx(0.0, abs=1e-12)
    assert result["linear"]["r2"] == pytest.approx(1.0)
    assert result[names.NETWORK_A]["mse"] == pytest.approx(0.5)
    assert result[names.COMBINED]["r2"] == pytest.approx(1 - 0.5 / 1.0)  # eval variance 1


def test_classification_uses_the_train_split_majority_and_its_prior():
    rng = np.random.default_rng(0)
    y_train = (rng.random(400) < 0.2).astype(np.int64)  # class 0 is the majority
    x_train = (y_train[:, None] * 2.0 + rng.normal(size=(400, 1))).astype(np.float64)
    labels = np.array([1, 1, 1, 0])  # class 1 is the majority of these eval rows
    x_eval = np.array([[2.0], [2.5], [3.0], [-1.0]])
    served = np.array([[0.1, 0.9], [0.2, 0.8], [0.6, 0.4], [0.9, 0.1]])
    layout = FeatureLayout(numeric=("x",), categorical={}, n_outputs=2)
    result = baselines._classification(
        x_train, y_train, x_eval, split(labels, served.argmax(1), served), layout
    )
    assert result["trivial"] == {"accuracy": 0.25, "auc": 0.5}  # always class 0, constant score
    assert result["linear"]["accuracy"] == 1.0 and result["linear"]["auc"] == 1.0
    assert result[names.COMBINED] == {"accuracy": 0.75, "auc": 1.0}


def test_ids_become_sparse_one_hot_rows_and_words_their_shares():
    ids = np.array([[2], [0], [2]])
    assert baselines.one_hot(ids, 4).toarray().tolist() == [
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 0, 1, 0],
    ]
    words = np.array([[3, 1, 3, 0], [0, 0, 0, 0]])  # 0 pads: no word
    shares = baselines.one_hot(words, 5, skip=0).toarray()
    np.testing.assert_allclose(shares, [[0, 1 / 3, 0, 2 / 3, 0], [0, 0, 0, 0, 0]])
    wide = baselines.one_hot(np.arange(100_000).reshape(-1, 1), 100_000)
    assert wide.nnz == 100_000  # stored cells grow with rows, not with rows x values


def test_the_linear_model_fits_on_a_sparse_matrix():
    from scipy import sparse

    rng = np.random.default_rng(1)
    ids = rng.integers(0, 1000, size=(600, 1))
    y_train = (ids[:, 0] % 2).astype(np.int64)  # the parity of a 1,000-value category
    x = sparse.hstack([baselines.one_hot(ids, 1000)], format="csr")
    layout = FeatureLayout(numeric=(), categorical={}, n_outputs=2, embedded={"c": 1000})
    served = np.tile([0.5, 0.5], (600, 1))
    result = baselines._classification(
        x, y_train, x, split(y_train, served.argmax(1), served), layout
    )
    assert result["linear"]["accuracy"] > 0.9  # scored on its own train rows: it fits them
