"""The two training baselines our joint step is measured against, built on the same networks.

- `ArticleLoop`: the seed article's Example 1 as written: a persistent GradientTape, one
  `tape.gradient` call per network, two optimizers, and its unguarded min-max layer.
- `functional_twin`: the same two networks and our `range` layer as a two-output functional
  Keras model, trained by `model.fit` (one optimizer: fit has no per-network optimizers).
"""

from __future__ import annotations

from typing import Dict, Tuple

import tensorflow as tf
import tf_keras as keras

from modules import names
from modules.hparams import TrainerConfig
from modules.layout import FeatureLayout
from modules.mlp import build_network
from modules.network_inputs import FeatureEncoder
from modules.normalization import build_normalization


class ArticleRangeNormalizer(keras.layers.Layer):
    """Example 1's layer, verbatim: no guard, so a constant row gives NaN."""

    def call(self, inputs):
        min_val = tf.reduce_min(inputs, axis=1, keepdims=True)
        max_val = tf.reduce_max(inputs, axis=1, keepdims=True)
        return (inputs - min_val) / (max_val - min_val)


class ArticleLoop:
    """Example 1's train_step on our feature encoding and our two network architectures."""

    def __init__(self, layout: FeatureLayout, config: TrainerConfig):
        config = config.for_layout(
            layout.task, layout.width, layout.n_outputs
        )  # as the twin model sizes them
        self.n_outputs = layout.n_outputs
        self.encoder = FeatureEncoder(layout.numeric, layout.categorical)
        self.network1 = build_network(config.network_a, layout.n_outputs, "network1")
        self.network2 = build_network(config.network_b, layout.n_outputs, "network2")
        self.normalizer1 = ArticleRangeNormalizer()
        self.normalizer2 = ArticleRangeNormalizer()
        self.optimizer1 = keras.optimizers.Adam(learning_rate=config.network_a.learning_rate)
        self.optimizer2 = keras.optimizers.Adam(learning_rate=config.network_b.learning_rate)
        self.loss_fn = keras.losses.MeanSquaredError()

    @tf.function
    def train_step(self, batch) -> tf.Tensor:
        features, labels = batch
        x = self.encoder(features)
        y = tf.one_hot(tf.reshape(labels, [-1]), self.n_outputs)
        with tf.GradientTape(persistent=True) as tape:
            out1 = self.network1(x)
            out2 = self.network2(x)
            normalized_out1 = self.normalizer1(out1)
            normalized_out2 = self.normalizer2(out2)
            loss = self.loss_fn(normalized_out1, y) + self.loss_fn(normalized_out2, y)
        grads1 = tape.gradient(loss, self.network1.trainable_variables)
        grads2 = tape.gradient(loss, self.network2.trainable_variables)
        self.optimizer1.apply_gradients(
            zip(grads1, self.network1.trainable_variables, strict=False)
        )
        self.optimizer2.apply_gradients(
            zip(grads2, self.network2.trainable_variables, strict=False)
        )
        del tape
        return loss


def model_inputs(layout: FeatureLayout) -> Dict[str, keras.Input]:
    inputs = {
        key: keras.Input(shape=layout.numeric_widths.get(key, ()), dtype=tf.float32, name=key)
        for key in layout.numeric
    }
    inputs.update(
        {key: keras.Input(shape=(), dtype=tf.int64, name=key) for key in layout.categorical}
    )
    return inputs


def functional_twin(
    layout: FeatureLayout, config: TrainerConfig, steps_per_execution: int = 1
) -> keras.Model:
    """Encoder -> network A and B -> `config.normalization` per network, as a compiled two-output
    functional model whose outputs are named after the networks; `steps_per_execution` steps
    run per `tf.function` call, as our loop runs `log_every`."""
    config = config.for_layout(layout.task, layout.width, layout.n_outputs)
    inputs = model_inputs(layout)
    encoded = FeatureEncoder(layout.numeric, layout.categorical)(inputs)
    outputs = {}
    for name, spec in ((names.NETWORK_A, config.network_a), (names.NETWORK_B, config.network_b)):
        raw = build_network(spec, layout.n_outputs, f"{name}_mlp")(encoded)
        normalization = build_normalization(config.normalization, epsilon=config.epsilon, name=name)
        outputs[name] = normalization(raw)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(config.network_a.learning_rate),
        loss={name: "mse" for name in names.NETWORKS},
        steps_per_execution=steps_per_execution,
    )
    return model


def fit_targets(features, labels, n_outputs: int) -> Tuple[dict, dict]:
    """(features, label ids) -> (features, {network: one-hot target}) for `model.fit`."""
    target = tf.one_hot(tf.reshape(labels, [-1]), n_outputs)
    return features, {name: target for name in names.NETWORKS}
