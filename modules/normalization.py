"""The article's output normalizations, written so that every finite input gives a finite output.

Shapes: a network's raw outputs are ``[batch, n]``. Per-example modes reduce over the output
axis (-1); `population` reduces over the batch axis during training and uses frozen moving
statistics at inference. Inputs are clipped to the dtype's finite range, and every reduction
runs on ``x / max|x|`` so that values near 1e30 or 1e-30 neither overflow nor underflow.
NaN inputs are not hidden: they propagate, and the Trainer refuses a non-finite loss.
"""

from __future__ import annotations

import math
from typing import Sequence, Tuple

import tensorflow as tf
import tf_keras as keras

_PACKAGE = "twinnorm"


_WIDE_LIMIT = 1e150  # float64 values whose squares, summed over any batch, stay finite


def _clip_finite(x: tf.Tensor) -> tf.Tensor:
    limit = x.dtype.max
    return tf.clip_by_value(x, -limit, limit)


def _safe_sqrt(u: tf.Tensor) -> tf.Tensor:
    """sqrt that is never 0, so neither the value nor the gradient divides by zero."""
    positive = u > 0
    return tf.where(positive, tf.sqrt(tf.where(positive, u, tf.ones_like(u))), tf.ones_like(u))


def _scaled(x: tf.Tensor, axis: int) -> Tuple[tf.Tensor, tf.Tensor]:
    """Returns (m, x / m) with m = max|x| along `axis` (1 where the slice is all zeros)."""
    x = _clip_finite(x)
    m = tf.reduce_max(tf.abs(x), axis=axis, keepdims=True)
    m_safe = tf.where(m > 0, m, tf.ones_like(m))
    return m_safe, x / m_safe


def moments(x: tf.Tensor, axis: int = -1) -> Tuple[tf.Tensor, tf.Tensor]:
    """Mean and (biased) variance along `axis`, computed on the scaled values. The variance is
    (m * sqrt(v))^2, not m^2 * v: for a constant slice near float32 max, m^2 is inf and v is 0."""
    m, xs = _scaled(x, axis)
    mean_s = tf.reduce_mean(xs, axis=axis, keepdims=True)
    var_s = tf.reduce_mean(tf.square(xs - mean_s), axis=axis, keepdims=True)
    return m * mean_s, _clip_finite(tf.square(m * tf.sqrt(var_s)))


def standardize(x: tf.Tensor, epsilon: float, axis: int = -1) -> tf.Tensor:
    """(x - mean) / sqrt(var + eps) along `axis` (see `_standardized` for why it cannot overflow)."""
    m, xs = _scaled(x, axis)
    centered = xs - tf.reduce_mean(xs, axis=axis, keepdims=True)
    return _standardized(
        centered, tf.reduce_mean(tf.square(centered), axis=axis, keepdims=True), m, epsilon
    )


def _standardized(centered: tf.Tensor, v: tf.Tensor, m: tf.Tensor, epsilon: float) -> tf.Tensor:
    """With m = max|x|, c = x/m - mean(x/m) and v = mean(c^2), (x - mean) / sqrt(var + eps) is
    m c / sqrt(m^2 v + eps) = c / sqrt(v + (s/m)^2) for m >= s = sqrt(eps), and
    (m/s) c / sqrt(v (m/s)^2 + 1) for m < s: neither branch can overflow, whatever the magnitude
    of x. Each branch's inputs are masked before any risky operation, so the unused branch never
    puts NaN into gradients."""
    s = math.sqrt(epsilon)
    large = m >= s
    inv_r = s / tf.where(large, m, tf.ones_like(m) * s)  # s/m <= 1 where used
    r = tf.where(large, tf.zeros_like(m), m) / s  # m/s < 1 where used
    out_large = centered / _safe_sqrt(v + tf.square(inv_r))
    out_small = centered * r / tf.sqrt(v * tf.square(r) + 1.0)
    return tf.where(large, out_large, out_small)


def replica_standardize(
    x: tf.Tensor, epsilon: float, shift: tf.Tensor
) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """`standardize` over the batch axis of the *global* batch: under a strategy with several
    replicas, one all-reduce sums (count, sum, sum of squares) over every replica, as Keras's
    SyncBatchNormalization does, so N workers compute the statistics one worker computes on the
    whole batch. Computed in float64, where the square of any float32 value is finite, around
    `shift` [n] (the moving mean, equal on every replica) to keep E[d^2] - E[d]^2 from cancelling;
    inputs beyond +-1e150 are clipped. Returns (y, mean [n], variance [n])."""
    context = tf.distribute.get_replica_context()
    wide = tf.clip_by_value(tf.cast(x, tf.float64), -_WIDE_LIMIT, _WIDE_LIMIT)
    shift = tf.stop_gradient(tf.cast(shift, tf.float64))
    d = wide - shift
    sums = [
        tf.reduce_sum(d, axis=0),
        tf.reduce_sum(tf.square(d), axis=0),
        tf.cast(tf.shape(x)[0:1], tf.float64),
    ]
    if context is not None and context.num_replicas_in_sync > 1:
        sums = context.all_reduce(tf.distribute.ReduceOp.SUM, sums)
    offset = sums[0] / sums[2]
    variance = tf.maximum(sums[1] / sums[2] - tf.square(offset), 0.0)
    y = tf.cast((d - offset) / tf.sqrt(variance + epsilon), x.dtype)
    statistics = [
        tf.stop_gradient(_clip_finite(tf.cast(s, x.dtype))) for s in (shift + offset, variance)
    ]
    return y, *statistics


def min_max_scale(x: tf.Tensor, epsilon: float, axis: int = -1) -> tf.Tensor:
    """(x - min) / max(max - min, eps) along `axis`; values in [0, 1].

    Computed on x / 2: halving is exact, so the result rounds exactly as the formula does, and
    max - min of halves cannot overflow even for rows holding +-float32 max. The denominator is
    at least eps / 2, so neither the value nor its gradient can divide by zero. Nine ops: this
    layer runs twice in every training step (benchmarks/train_step.py measured the cost).
    """
    half = _clip_finite(x) * 0.5
    low = tf.reduce_min(half, axis=axis, keepdims=True)
    spread = tf.reduce_max(half, axis=axis, keepdims=True) - low
    return (half - low) / tf.maximum(spread, tf.cast(0.5 * epsilon, x.dtype))


class _EpsilonLayer(keras.layers.Layer):
    def __init__(self, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        if epsilon <= 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon}")
        self.epsilon = float(epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.utils.register_keras_serializable(package=_PACKAGE)
class RangeNormalization(_EpsilonLayer):
    """`range`: per example, y = (x - min_j x_j) / max(max_j x_j - min_j x_j, eps), y in [0, 1]."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return min_max_scale(inputs, self.epsilon)


@keras.utils.register_keras_serializable(package=_PACKAGE)
class Standardization(_EpsilonLayer):
    """`standardize`: per example, y = (x - mean_j x_j) / sqrt(var_j x_j + eps)."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return standardize(inputs, self.epsilon)


@keras.utils.register_keras_serializable(package=_PACKAGE)
class SharedStandardization(_EpsilonLayer):
    """`shared`: per example, mean and variance over concat([a, b], axis=-1), applied to a and b.

    Both outputs depend on both networks, so the gradient of either loss reaches both.
    """

    def call(self, inputs: Sequence[tf.Tensor]) -> Tuple[tf.Tensor, tf.Tensor]:
        a, b = inputs
        joint = standardize(tf.concat([a, b], axis=-1), self.epsilon)
        return joint[:, : tf.shape(a)[-1]], joint[:, tf.shape(a)[-1] :]

    def statistics(self, a: tf.Tensor, b: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
        """Per-example mean and variance over both networks' outputs, shapes [batch, 1]."""
        return moments(tf.concat([a, b], axis=-1))


@keras.utils.register_keras_serializable(package=_PACKAGE)
class PopulationNormalization(_EpsilonLayer):
    """`population`: per output unit, y = (x - mu) / sqrt(sigma^2 + eps).

    Training: mu, sigma^2 are the global batch's statistics (over the batch axis of every replica,
    and over both networks when the layer is shared) and update moving averages
    m <- momentum * m + (1 - momentum) * batch. Inference: the frozen moving statistics, so a
    served prediction never depends on the rest of the request batch.
    Called on one tensor ``[batch, n]``, or on a pair ``[a, b]`` (same n) for shared statistics.
    """

    def __init__(self, momentum: float = 0.9, epsilon: float = 1e-6, **kwargs):
        super().__init__(epsilon=epsilon, **kwargs)
        if not 0.0 < momentum < 1.0:
            raise ValueError(f"momentum must be in (0, 1), got {momentum}")
        self.momentum = float(momentum)

    def build(self, input_shape) -> None:
        shared = isinstance(input_shape, (list, tuple)) and isinstance(
            input_shape[0], (list, tuple, tf.TensorShape)
        )
        units = int((input_shape[0] if shared else input_shape)[-1])
        # Every replica computes the same global statistics, so the first replica's update is
        # everyone's. Mirrored (not ON_READ) variables: reading an ON_READ variable outside a
        # replica puts an all-reduce into the graph, which no serving signature can be saved with.
        make = dict(
            shape=(units,),
            trainable=False,
            synchronization=tf.VariableSynchronization.ON_WRITE,
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )
        self.moving_mean = self.add_weight(name="moving_mean", initializer="zeros", **make)
        self.moving_variance = self.add_weight(name="moving_variance", initializer="ones", **make)
        super().build(input_shape)

    def call(self, inputs, training=None):
        shared = isinstance(inputs, (list, tuple))
        parts = list(inputs) if shared else [inputs]
        if training:
            stacked = tf.concat(parts, axis=0)
            normalized, mean, variance = replica_standardize(
                stacked, self.epsilon, self.moving_mean
            )
            self._update(mean, variance)
            sizes = [tf.shape(p)[0] for p in parts]
            outputs = tf.split(normalized, sizes, axis=0)
        else:
            outputs = [self.frozen(p) for p in parts]
        return tuple(outputs) if shared else outputs[0]

    def frozen(self, x: tf.Tensor) -> tf.Tensor:
        """Inference: (x - moving_mean) / sqrt(moving_variance + eps), row by row."""
        scale = tf.sqrt(tf.cast(self.moving_variance, x.dtype) + self.epsilon)
        return _clip_finite((_clip_finite(x) - tf.cast(self.moving_mean, x.dtype)) / scale)

    def _update(self, mean: tf.Tensor, variance: tf.Tensor) -> None:
        keep = tf.cast(self.momentum, mean.dtype)
        self.moving_mean.assign(_clip_finite(keep * self.moving_mean + (1 - keep) * mean))
        self.moving_variance.assign(
            _clip_finite(keep * self.moving_variance + (1 - keep) * variance)
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum}


@keras.utils.register_keras_serializable(package=_PACKAGE)
class PopulationAffine(keras.layers.Layer):
    """y = scale * x + shift per output unit, one (scale, shift) pair of [n] weights applied to
    both networks' normalized scores.

    Standardized scores have mean 0 and variance 1 per output over the population, so on their
    own they can express neither a class prior (a 3 %-positive label needs an offset) nor a
    confident logit. Batch normalization learns a shift and scale after its standardization for
    the same reason; here one pair is shared by both networks, so their scores stay on one scale.
    """

    def build(self, input_shape) -> None:
        units = int(input_shape[-1])
        self.scale = self.add_weight(name="scale", shape=(units,), initializer="ones")
        self.shift = self.add_weight(name="shift", shape=(units,), initializer="zeros")
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return _clip_finite(
            inputs * tf.cast(self.scale, inputs.dtype) + tf.cast(self.shift, inputs.dtype)
        )


def build_normalization(
    mode: str,
    epsilon: float,
    momentum: float = 0.9,
    population_shared: bool = False,
    name: str = "",
) -> keras.layers.Layer:
    """The layer of `mode`: for a pair mode one layer for both networks, otherwise one per network
    (per-network `population` layers keep their own statistics)."""
    name = name or f"{mode}_normalization"
    if mode == "range":
        return RangeNormalization(epsilon=epsilon, name=name)
    if mode == "standardize":
        return Standardization(epsilon=epsilon, name=name)
    if mode == "shared":
        return SharedStandardization(epsilon=epsilon, name=name)
    if mode == "population":
        return PopulationNormalization(momentum=momentum, epsilon=epsilon, name=name)
    raise ValueError(f"unknown normalization mode {mode!r}")
