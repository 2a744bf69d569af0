"""Transform's preprocessing_fn: generic over any CSV, driven by the feature and label names.

Numeric columns: missing values imputed with the training mean, then z-scored with the
training mean and standard deviation (a constant column maps to 0). String columns: a
vocabulary with one out-of-vocabulary bucket; a missing value is its own category. The label
becomes an integer class id (vocabulary, no OOV bucket, unknown -> -1) for classification, or
stays a float for regression.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Union

import tensorflow as tf
import tensorflow_transform as tft

from modules import names

Input = Union[tf.Tensor, tf.SparseTensor]


def preprocessing_fn(inputs: Mapping[str, Input], custom_config: Mapping[str, Any]) -> Dict[str, tf.Tensor]:
    """Raw features -> transformed features; every output is a dense [batch] tensor."""
    label_key = custom_config[names.CONFIG_LABEL]
    task = custom_config.get("task", "classification")
    outputs = {}
    for key in custom_config[names.CONFIG_FEATURES]:
        value = inputs[key]
        outputs[key] = categorical_ids(key, value) if value.dtype == tf.string else z_score_imputed(value)
    outputs[label_key] = label_ids(label_key, inputs[label_key]) if task == "classification" \
        else tf.cast(to_dense(inputs[label_key], float("nan")), tf.float32)
    return outputs


def to_dense(x: Input, default: Any) -> tf.Tensor:
    """One value per row, shape [batch]; rows where an optional feature is absent get `default`."""
    if isinstance(x, tf.SparseTensor):
        shape = tf.stack([x.dense_shape[0], tf.constant(1, tf.int64)])
        x = tf.sparse.to_dense(tf.SparseTensor(x.indices, x.values, shape), default_value=default)
    return tf.reshape(x, [-1])


def z_score_imputed(x: Input) -> tf.Tensor:
    """(value - mean) / std over present training values; missing values become the mean (0)."""
    if isinstance(x, tf.SparseTensor):
        x = tf.SparseTensor(x.indices, tf.cast(x.values, tf.float32), x.dense_shape)
    else:
        x = tf.cast(x, tf.float32)
    mean = tft.mean(x)
    std = tf.sqrt(tft.var(x))
    dense = to_dense(x, float("nan"))
    filled = tf.where(tf.math.is_nan(dense), mean, dense)
    return (filled - mean) / tf.where(std > 0, std, tf.ones_like(std))


def categorical_ids(key: str, x: Input) -> tf.Tensor:
    """Vocabulary id; unseen values share one OOV bucket, so the id range is vocabulary + 1."""
    dense = to_dense(x, names.MISSING_CATEGORY)
    return tft.compute_and_apply_vocabulary(
        dense, num_oov_buckets=1, vocab_filename=names.vocabulary_name(key))


def label_ids(key: str, x: Input) -> tf.Tensor:
    """Class id from the label's vocabulary; a value absent from training maps to -1."""
    dense = to_dense(x, "" if x.dtype == tf.string else -1)
    if dense.dtype != tf.string:
        dense = tf.strings.as_string(dense)
    return tft.compute_and_apply_vocabulary(
        dense, num_oov_buckets=0, default_value=-1, vocab_filename=names.vocabulary_name(key))
