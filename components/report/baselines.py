"""The simple models a user would otherwise train, scored on the report's split beside the
networks: does the twin model earn its keep?

- the trivial predictor: the train split's majority class (classification) or the mean of its
  labels (regression);
- a linear model (logistic regression, or least squares) fitted on the same transformed train
  split the networks trained on: Transform's output as the networks see it (numbers z-scored,
  categories one-hot, a text as the share of each word in its first words), read through the
  exported model's `transform_features` signature. The matrix is sparse: its memory grows with the
  rows and the cells they fill, never with the number of categories or words (capped by
  Transform's vocabularies).

Nothing here is fitted on the report's split, and the networks are not refitted.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
from scipy import sparse

from components.report.collect import BATCH, SplitOutputs
from modules import modes, names
from modules.layout import FeatureLayout

MAX_TRAIN_ROWS = 100_000  # the linear model is fitted on at most this many train rows (the first)
TRIVIAL = "trivial"
LINEAR = "linear"


def transformed_matrix(
    transform, files: List[str], layout: FeatureLayout, label_key: str, limit: int
) -> Tuple[sparse.csr_matrix, np.ndarray]:
    """(X [rows, width] sparse, labels) of at most `limit` raw examples, through `transform` (the
    served model's `transform_features` signature): numbers as they are, category ids (one-hot or
    embedded) one-hot, a text's word ids as word shares, sorted by name."""
    columns: Dict[str, List[np.ndarray]] = {}
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").take(limit).batch(BATCH)
    for batch in dataset:
        for key, value in transform(examples=batch).items():
            columns.setdefault(key, []).append(value.numpy())
    values = {key: np.concatenate(parts) for key, parts in columns.items()}
    rows = len(values[label_key])
    parts = [
        sparse.csr_matrix(values[key].reshape(rows, -1).astype(np.float64))
        for key in sorted(layout.numeric)
    ]
    for key, depth in sorted({**layout.categorical, **layout.embedded}.items()):
        parts.append(one_hot(values[key].reshape(rows, 1), depth))
    for key, (depth, _) in sorted(layout.text.items()):
        parts.append(one_hot(values[key].reshape(rows, -1), depth, skip=0))
    if not parts:
        return sparse.csr_matrix((rows, 0)), values[label_key]
    return sparse.hstack(parts, format="csr"), values[label_key]


def one_hot(ids: np.ndarray, depth: int, skip: Optional[int] = None) -> sparse.csr_matrix:
    """[rows, k] ids -> [rows, depth]: each row's ids one-hot, divided by how many it has (one id:
    plain one-hot; a text's words: their shares). Ids equal to `skip` (padding) count for none."""
    rows, k = ids.shape
    row_ids = np.repeat(np.arange(rows), k)
    flat = ids.reshape(-1).astype(np.int64)
    keep = flat != skip if skip is not None else np.ones_like(flat, bool)
    counts = np.bincount(row_ids[keep], minlength=rows).astype(np.float64)
    weights = 1.0 / np.maximum(counts[row_ids[keep]], 1.0)
    return sparse.csr_matrix((weights, (row_ids[keep], flat[keep])), shape=(rows, depth))


def scores(
    serving_model_dir: str,
    train_files: List[str],
    outputs: SplitOutputs,
    evaluation_files: List[str],
    layout: FeatureLayout,
    label_key: str,
) -> Dict[str, Dict[str, float]]:
    """Model -> metric -> value on the report's split: trivial, linear, both networks, combined."""
    transform = tf.saved_model.load(serving_model_dir).signatures[names.TRANSFORM_FEATURES]
    x_train, y_train = transformed_matrix(transform, train_files, layout, label_key, MAX_TRAIN_ROWS)
    x_eval, _ = transformed_matrix(
        transform, evaluation_files, layout, label_key, len(outputs.labels)
    )
    if layout.task == modes.REGRESSION:
        return _regression(x_train, y_train.reshape(len(y_train), -1), x_eval, outputs)
    return _classification(x_train, y_train.reshape(-1).astype(np.int64), x_eval, outputs, layout)


def _classification(x_train, y_train, x_eval, outputs: SplitOutputs, layout) -> dict:
    from sklearn.linear_model import LogisticRegression

    n = layout.n_outputs
    labels = outputs.labels.astype(np.int64)
    prior = np.bincount(y_train, minlength=n) / len(y_train)
    predictions = {TRIVIAL: np.tile(prior, (len(labels), 1))}
    if len(np.unique(y_train)) > 1:  # a logistic regression needs two classes to fit
        linear = LogisticRegression(max_iter=2000).fit(x_train, y_train)
        predictions[LINEAR] = np.zeros((x_eval.shape[0], n))
        predictions[LINEAR][:, linear.classes_] = linear.predict_proba(x_eval)
    predictions.update(outputs.probabilities)
    return {name: _class_figures(p, labels, n) for name, p in predictions.items()}


def _class_figures(probabilities: np.ndarray, labels: np.ndarray, n: int) -> Dict[str, float]:
    figures = {"accuracy": float(np.mean(probabilities.argmax(axis=1) == labels))}
    if n == 2 and 0 < labels.sum() < len(labels):
        from sklearn.metrics import roc_auc_score

        figures["auc"] = float(roc_auc_score(labels, probabilities[:, 1]))
    return figures


def _regression(x_train, y_train, x_eval, outputs: SplitOutputs) -> dict:
    from sklearn.linear_model import LinearRegression

    labels = outputs.labels
    predictions = {
        TRIVIAL: np.tile(y_train.mean(axis=0), (len(labels), 1)),
        LINEAR: LinearRegression().fit(x_train, y_train).predict(x_eval),
        **{n: o.prediction for n, o in outputs.networks.items()},
        names.COMBINED: outputs.combined,
    }
    variance = labels.var(axis=0)
    result = {}
    for name, values in predictions.items():
        mse = np.mean(np.square(np.reshape(values, labels.shape) - labels), axis=0)
        result[name] = {
            "mse": float(mse.mean()),
            "r2": float(np.mean(1 - mse / np.where(variance > 0, variance, 1.0))),
        }
    return result
