"""Transform's preprocessing_fn: generic over any CSV, driven by the feature and label names.

Numeric columns: missing values imputed with the training mean, then z-scored with the
training mean and standard deviation (a constant column maps to 0). String columns: a
vocabulary with one out-of-vocabulary bucket; a missing value is its own category. The label
becomes an integer class id (vocabulary, no OOV bucket, unknown -> -1) for classification, or
(y - mean) / std with the training split's statistics for regression: the networks learn on that
scale and every serving signature maps predictions back (modules/layout.py reads mean and std
from this graph).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Union

import tensorflow as tf
import tensorflow_transform as tft

from modules import modes, names

Input = Union[tf.Tensor, tf.SparseTensor]


def preprocessing_fn(
    inputs: Mapping[str, Input], custom_config: Mapping[str, Any]
) -> Dict[str, tf.Tensor]:
    """Raw features -> transformed features; every output is a dense [batch] tensor."""
    label_key = custom_config[names.CONFIG_LABEL]
    label_columns = custom_config.get(names.CONFIG_LABEL_COLUMNS) or [label_key]
    task = custom_config[names.CONFIG_TASK]
    outputs = {}
    for key in custom_config[names.CONFIG_FEATURES]:
        value = inputs[key]
        outputs[key] = (
            categorical_ids(key, value) if value.dtype == tf.string else z_score_imputed(value)
        )
    if task == modes.CLASSIFICATION:
        outputs[label_key] = label_ids(label_key, inputs[label_key])
    elif len(label_columns) == 1:
        outputs[label_key] = scaled_label(label_key, inputs[label_key])
    else:  # several targets: one [batch, k] label, each column with its own statistics
        outputs[label_key] = tf.stack(
            [scaled_label(column, inputs[column]) for column in label_columns], axis=1
        )
    return outputs


def to_dense(x: Input, default: Any) -> tf.Tensor:
    """One value per row, shape [batch]; rows where an optional feature is absent get `default`."""
    if isinstance(x, tf.SparseTensor):
        shape = tf.stack([x.dense_shape[0], tf.constant(1, tf.int64)])
        x = tf.sparse.to_dense(tf.SparseTensor(x.indices, x.values, shape), default_value=default)
    return tf.reshape(x, [-1])


def z_score_imputed(x: Input) -> tf.Tensor:
    """(value - mean) / std over present training values; missing values become the mean (0)."""
    dense, mean, std = _float_statistics(x)
    return tf.cast((tf.where(tf.math.is_nan(dense), mean, dense) - mean) / std, tf.float32)


def scaled_label(column: str, x: Input) -> tf.Tensor:
    """A regression label as (y - mean) / std; a missing label stays NaN (the CLI refuses such
    rows). The float64 mean and std are also written as a one-entry vocabulary asset
    (`store_label_statistics`), so serving maps predictions back with exactly these numbers."""
    dense, mean, std = _float_statistics(x)
    store_label_statistics(column, dense, mean, std)
    return tf.cast((dense - mean) / std, tf.float32)


def store_label_statistics(column: str, dense: tf.Tensor, mean: tf.Tensor, std: tf.Tensor) -> None:
    """Writes "<mean> <std>" (17 significant digits: a float64 read back bit for bit) as the only
    entry of the vocabulary `names.label_statistics_name(column)`. A vocabulary file is the asset
    TF Transform saves beside its graph and TFTransformOutput reads by name; the schema
    annotations it could carry instead are not built into the OSS TF Transform wheel."""
    text = tf.strings.join(
        [
            tf.strings.as_string(mean, precision=17, scientific=True),
            tf.strings.as_string(std, precision=17, scientific=True),
        ],
        separator=" ",
    )
    tft.vocabulary(
        tf.fill(tf.shape(dense), text), vocab_filename=names.label_statistics_name(column)
    )


def _float_statistics(x: Input):
    """(dense values with NaN where missing, mean, std) over present training values, in float64
    so that squares of values near float32's limit do not overflow; a constant column gets std 1
    and a column with no value at all mean 0, so both map to 0 rather than to NaN."""
    if isinstance(x, tf.SparseTensor):
        x = tf.SparseTensor(x.indices, tf.cast(x.values, tf.float64), x.dense_shape)
    else:
        x = tf.cast(x, tf.float64)
    mean, std = tft.mean(x), tf.sqrt(tft.var(x))
    mean = tf.where(tf.math.is_nan(mean), tf.zeros_like(mean), mean)  # a column empty in every row
    return to_dense(x, float("nan")), mean, tf.where(std > 0, std, tf.ones_like(std))


def categorical_ids(key: str, x: Input) -> tf.Tensor:
    """Vocabulary id; unseen values share one OOV bucket, so the id range is vocabulary + 1."""
    dense = to_dense(x, names.MISSING_CATEGORY)
    return tft.compute_and_apply_vocabulary(
        dense, num_oov_buckets=1, vocab_filename=names.vocabulary_name(key)
    )


def label_ids(key: str, x: Input) -> tf.Tensor:
    """Class id from the label's vocabulary; a value absent from training maps to -1."""
    dense = to_dense(x, "" if x.dtype == tf.string else -1)
    if dense.dtype != tf.string:
        dense = tf.strings.as_string(dense)
    return tft.compute_and_apply_vocabulary(
        dense, num_oov_buckets=0, default_value=-1, vocab_filename=names.vocabulary_name(key)
    )
