"""The simple models a user would otherwise train, scored on the report's split beside the
networks: does the twin model earn its keep?

- the trivial predictor: the train split's majority class (classification) or the mean of its
  labels (regression);
- a linear model (logistic regression, or least squares) fitted on the same transformed train
  split the networks trained on: Transform's output as the networks see it (numbers z-scored,
  categories one-hot), read through the exported model's `transform_features` signature.

Nothing here is fitted on the report's split, and the networks are not refitted.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import tensorflow as tf

from components.report.collect import BATCH, SplitOutputs
from modules import modes, names
from modules.layout import FeatureLayout

MAX_TRAIN_ROWS = 100_000  # the linear model is fitted on at most this many train rows (the first)
TRIVIAL = "trivial"
LINEAR = "linear"


def transformed_matrix(
    transform, files: List[str], layout: FeatureLayout, label_key: str, limit: int
) -> Tuple[np.ndarray, np.ndarray]:
    """(X [rows, width], labels) of at most `limit` raw examples, through `transform` (the served
    model's `transform_features` signature): Transform's output encoded as the networks'
    FeatureEncoder does (numbers as they are, ids one-hot, sorted by name)."""
    columns: Dict[str, List[np.ndarray]] = {}
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").take(limit).batch(BATCH)
    for batch in dataset:
        for key, value in transform(examples=batch).items():
            columns.setdefault(key, []).append(value.numpy())
    values = {key: np.concatenate(parts) for key, parts in columns.items()}
    rows = len(values[label_key])
    parts = [values[key].reshape(rows, -1).astype(np.float64) for key in sorted(layout.numeric)]
    for key, depth in sorted(layout.categorical.items()):
        parts.append(np.eye(depth)[values[key].reshape(-1).astype(np.int64)])
    features = np.concatenate(parts, axis=1) if parts else np.zeros((rows, 0))
    return features, values[label_key]


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
        predictions[LINEAR] = np.zeros((len(x_eval), n))
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
