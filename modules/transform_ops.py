"""TensorFlow pieces every column kind's Transform uses: densify, read numbers and strings,
z-score with the training split's statistics. All run inside Transform's graph, and so inside
every serving signature: what a served request gets is what training got."""

from __future__ import annotations

from typing import Any, Tuple, Union

import tensorflow as tf
import tensorflow_transform as tft

from modules import names

Input = Union[tf.Tensor, tf.SparseTensor]
# A number as CSV exports write it (no thousands separator: the front door removes those).
NUMBER_PATTERN = r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?"


def to_dense(x: Input, default: Any) -> tf.Tensor:
    """One value per row, shape [batch]; rows where an optional feature is absent get `default`."""
    if isinstance(x, tf.SparseTensor):
        shape = tf.stack([x.dense_shape[0], tf.constant(1, tf.int64)])
        x = tf.sparse.to_dense(tf.SparseTensor(x.indices, x.values, shape), default_value=default)
    return tf.reshape(x, [-1])


def as_strings(x: Input, missing: str = "") -> tf.Tensor:
    """Each row's value as stripped text, [batch]; absent (or blank) -> `missing`. Numbers are
    written shortest (`3`, `2.5`), as a user reads them in the CSV."""
    if x.dtype != tf.string:
        values = x.values if isinstance(x, tf.SparseTensor) else x
        text = tf.strings.as_string(values, shortest=x.dtype.is_floating)
        x = (
            tf.SparseTensor(x.indices, text, x.dense_shape)
            if isinstance(x, tf.SparseTensor)
            else text
        )
    dense = tf.strings.strip(to_dense(x, ""))
    return tf.where(tf.equal(dense, ""), tf.constant(missing), dense) if missing else dense


def numbers(x: Input) -> tf.Tensor:
    """float64 [batch], NaN where the value is absent or (for a text column read as numbers) not a
    number: a stray word never stops Transform or a served request."""
    if x.dtype != tf.string:
        values = x.values if isinstance(x, tf.SparseTensor) else x
        values = tf.cast(values, tf.float64)
        x = (
            tf.SparseTensor(x.indices, values, x.dense_shape)
            if isinstance(x, tf.SparseTensor)
            else values
        )
        return to_dense(x, float("nan"))
    text = as_strings(x)
    valid = tf.strings.regex_full_match(text, NUMBER_PATTERN)
    parsed = tf.strings.to_number(tf.where(valid, text, "0"), tf.float64)
    return tf.where(valid, parsed, tf.constant(float("nan"), tf.float64))


def float_statistics(dense: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """(mean, std) over the present (non-NaN) training values of a float64 [batch] tensor; a
    constant column gets std 1 and a column with no value at all mean 0, so both map to 0 rather
    than to NaN. float64, so that squares of values near float32's limit do not overflow."""
    present = tf.math.logical_not(tf.math.is_nan(dense))
    rows = tf.where(present)
    values = tf.SparseTensor(
        tf.concat([rows, tf.zeros_like(rows)], axis=1),
        tf.boolean_mask(dense, present),
        tf.stack([tf.size(dense, out_type=tf.int64), tf.constant(1, tf.int64)]),
    )
    mean, std = tft.mean(values), tf.sqrt(tft.var(values))
    mean = tf.where(tf.math.is_nan(mean), tf.zeros_like(mean), mean)
    return mean, tf.where(std > 0, std, tf.ones_like(std))


def z_score(dense: tf.Tensor) -> tf.Tensor:
    """(value - mean) / std with the training statistics; a missing (NaN) value becomes 0, the
    mean. float32 [batch]."""
    mean, std = float_statistics(dense)
    return tf.cast((tf.where(tf.math.is_nan(dense), mean, dense) - mean) / std, tf.float32)


def vocabulary_ids(text: tf.Tensor, key: str, top_k: int) -> tf.Tensor:
    """Ids in the `top_k` most frequent training values (most frequent first), every other value
    in the OOV bucket after them. Misra-Gries counting (TFT's approximate vocabulary) keeps at
    most `top_k` counters, so Transform's memory does not grow with the distinct values; with
    fewer distinct values than `top_k` the vocabulary is exact."""
    return tft.experimental.compute_and_apply_approximate_vocabulary(
        text,
        top_k=top_k,
        num_oov_buckets=1,
        vocab_filename=names.vocabulary_name(key),
    )
