"""What the networks read: the shared encoding (numbers as they are, ids one-hot) and each
network's own inputs beyond it, learned embeddings of the embedded categories and of the words of
text columns (modules/kinds/categorical.py, text.py).

`unseen_masked` sends a small share of training category ids to the out-of-vocabulary bucket,
so a value first seen at serving meets trained weights, not their random initial values (no
training row would otherwise ever land in that bucket when every value is frequent).

An embedding belongs to one network (each network learns its own, with its own optimizer), so
network A's and network B's SavedModels stay independent and a warm start of one network
restores its embeddings with its layers.
"""

from __future__ import annotations

from typing import Dict, Mapping, Tuple

import tensorflow as tf
import tf_keras as keras

from modules import columns


class FeatureEncoder(keras.layers.Layer):
    """Transformed features -> one float matrix [batch, d]: numerics as they are, ids one-hot."""

    def __init__(self, numeric: Tuple[str, ...], categorical: Mapping[str, int], **kwargs):
        super().__init__(**kwargs)
        # Column order never depends on how features were listed.
        self.numeric = tuple(sorted(numeric))
        self.categorical = dict(sorted(categorical.items()))

    def call(self, features: Mapping[str, tf.Tensor]) -> tf.Tensor:
        columns = [_as_matrix(tf.cast(features[key], tf.float32)) for key in self.numeric]
        columns += [
            tf.one_hot(tf.reshape(features[key], [-1]), depth)
            for key, depth in self.categorical.items()
        ]
        return tf.concat(columns, axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "numeric": self.numeric, "categorical": self.categorical}


def _as_matrix(x: tf.Tensor) -> tf.Tensor:
    """[batch] -> [batch, 1]; a [batch, k] feature (k values per example) stays as it is."""
    return tf.expand_dims(x, -1) if x.shape.rank == 1 else x


class Embedder(keras.layers.Layer):
    """{embedded id [batch], text ids [batch, tokens]} -> [batch, sum of embedding widths]: an
    embedding per category id, the mean of the word embeddings per text (no word: zeros)."""

    def __init__(self, embedded: Mapping[str, int], text: Mapping[str, Tuple[int, int]], **kwargs):
        super().__init__(**kwargs)
        self.embedded = dict(sorted(embedded.items()))
        self.text = {key: tuple(value) for key, value in sorted(text.items())}
        self.tables = {
            key: keras.layers.Embedding(ids, columns.embedding_dim(ids), name=f"embedding_{i}")
            for i, (key, ids) in enumerate(
                [*self.embedded.items(), *((k, v[0]) for k, v in self.text.items())]
            )
        }

    def call(self, features: Mapping[str, tf.Tensor]) -> tf.Tensor:
        parts = [self.tables[key](tf.reshape(features[key], [-1])) for key in self.embedded]
        for key in self.text:
            ids = features[key]
            present = tf.cast(tf.not_equal(ids, 0), tf.float32)[..., tf.newaxis]
            total = tf.reduce_sum(self.tables[key](ids) * present, axis=1)
            parts.append(total / tf.maximum(tf.reduce_sum(present, axis=1), 1.0))
        return tf.concat(parts, axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "embedded": self.embedded, "text": self.text}


# Share of training category ids replaced by the out-of-vocabulary id, per column and step.
OOV_RATE = 0.02


def unseen_masked(
    features: Mapping[str, tf.Tensor], buckets: Mapping[str, int], seed: int, step: tf.Tensor
) -> Dict[str, tf.Tensor]:
    """Training features with each id of the `buckets` columns (key -> buckets, the last one the
    OOV bucket) replaced by the OOV id with probability OOV_RATE. Stateless draws keyed by
    (seed, step, column): a resumed run masks exactly as an uninterrupted one."""
    masked = dict(features)
    for index, (key, depth) in enumerate(sorted(buckets.items())):
        ids = features[key]
        draw = tf.random.stateless_uniform(
            tf.shape(ids),
            seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(step, tf.int64) * 1024 + index]),
        )
        masked[key] = tf.where(draw < OOV_RATE, tf.constant(depth - 1, ids.dtype), ids)
    return masked
