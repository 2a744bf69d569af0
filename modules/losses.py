"""The joint step's per-example loss and each variable group's learning rate."""

from __future__ import annotations

import math
from typing import Dict, Mapping

import tensorflow as tf

from modules import modes, names
from modules.hparams import TrainerConfig


class NonFiniteLossError(RuntimeError):
    """Training diverged; nothing may be exported from this run."""


def check_finite(total: float, step: int, config: TrainerConfig) -> None:
    if not math.isfinite(total):
        raise NonFiniteLossError(
            f"training loss became {total} at step {step} (normalization "
            f"{config.normalization!r}, loss {config.loss!r}); refusing to export. "
            "Lower the learning rates or check the input data for extreme values."
        )


def per_example_loss(scores: tf.Tensor, labels: tf.Tensor, config: TrainerConfig) -> tf.Tensor:
    """Loss per example, shape [batch]: MSE against the (one-hot) target, or softmax cross-entropy
    with the normalized scores as logits. Member scores [batch, k, n] give the mean of the k
    members' losses, so each member learns on its own (modules/mlp.py)."""
    if scores.shape.rank == 3:
        members = tf.shape(scores)[1]
        flat = tf.reshape(scores, [-1, scores.shape[-1]])
        each = per_example_loss(flat, tf.repeat(labels, members, axis=0), config)
        return tf.reduce_mean(tf.reshape(each, [-1, members]), axis=1)
    n_outputs = tf.shape(scores)[-1]
    if config.task == modes.CLASSIFICATION:
        ids = tf.reshape(tf.cast(labels, tf.int32), [-1])
        if config.loss == "cross_entropy":
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=scores)
        target = tf.one_hot(ids, n_outputs, dtype=scores.dtype)
    else:
        target = tf.reshape(tf.cast(labels, scores.dtype), tf.shape(scores))
    return tf.reduce_mean(tf.square(scores - target), axis=-1)


def learning_rates(config: TrainerConfig, groups: Mapping[str, object]) -> Dict[str, float]:
    """Each variable group's Adam learning rate: a network's own, and for the scale and shift
    both networks share (`population`), the geometric mean of the two."""
    own = {
        names.NETWORK_A: config.network_a.learning_rate,
        names.NETWORK_B: config.network_b.learning_rate,
    }
    shared = math.sqrt(own[names.NETWORK_A] * own[names.NETWORK_B])
    return {name: own.get(name, shared) for name in groups}
