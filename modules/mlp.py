"""Each network's MLP as an ensemble of k independent members (TabM's "packed" ensemble).

Members share the network's input encoding and embeddings but have their own weights, computed
together by one batched matmul per layer, so k members cost one wider step rather than k steps.
The joint loop trains each member on its own loss (the mean of the member losses); what a network
serves is the mean of its members' normalized scores. A single network's predictions vary with its
random start by more than small tables' differences between models; averaging members started
apart removes much of that variance at one run's cost.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Mapping, Optional

import tensorflow as tf
import tf_keras as keras

from modules.hparams import NetworkSpec
from modules.layout import FeatureLayout
from modules.network_inputs import Embedder


def build_network(spec: NetworkSpec, n_outputs: int, name: str) -> keras.Sequential:
    """A plain MLP with linear outputs (one member; the article's baseline networks)."""
    return _stack(spec, n_outputs, name, keras.layers.Dense)


def build_members(spec: NetworkSpec, members: int, n_outputs: int, name: str) -> keras.Sequential:
    """k member MLPs with linear outputs: [batch, d] -> raw scores [batch, k, n_outputs]."""
    return _stack(spec, n_outputs, name, functools.partial(MemberDense, members))


def _stack(spec: NetworkSpec, n_outputs: int, name: str, dense: Callable) -> keras.Sequential:
    """`spec`'s hidden layers (each with its dropout), then linear outputs named "raw"."""
    layers = []
    for units in spec.hidden_units:
        layers.append(dense(units, activation=spec.activation))
        if spec.dropout:
            layers.append(keras.layers.Dropout(spec.dropout))
    layers.append(dense(n_outputs, name="raw"))
    return keras.Sequential(layers, name=name)


class MemberDense(keras.layers.Layer):
    """k dense layers at once: [batch, d] (one input for every member) or [batch, k, d] ->
    [batch, k, units], kernel [k, d, units]. Each member's kernel is Glorot-uniform over its own
    (d, units), as a Dense layer's would be (Keras's initializer would count k into the fans)."""

    def __init__(self, members: int, units: int, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.members, self.units = int(members), int(units)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape) -> None:
        depth = int(input_shape[-1])
        limit = math.sqrt(6.0 / (depth + self.units))
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.members, depth, self.units),
            initializer=keras.initializers.RandomUniform(-limit, limit),
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.members, self.units), initializer="zeros"
        )
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        pattern = "bd,kdu->bku" if inputs.shape.rank == 2 else "bkd,kdu->bku"
        return self.activation(tf.einsum(pattern, inputs, self.kernel) + self.bias)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "members": self.members,
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
        }


class Network(keras.Model):
    """One network: its own embeddings of the embedded and text inputs (when the data has any),
    beside the shared encoding, then its member MLPs. Called on (encoded [batch, d], features);
    returns the members' raw scores [batch, k, n]."""

    def __init__(self, spec: NetworkSpec, members: int, layout: FeatureLayout, name: str, **kwargs):
        super().__init__(name=name, **kwargs)
        self.embedder = (
            Embedder(layout.embedded, layout.text, name="embedder")
            if layout.embedded or layout.text
            else None
        )
        self.mlp = build_members(spec, members, layout.n_outputs, "mlp")

    def call(self, inputs, training=None) -> tf.Tensor:
        encoded, features = inputs
        return self.from_parts(encoded, self.embed(features), training)

    def embed(self, features: Mapping[str, tf.Tensor]) -> Optional[tf.Tensor]:
        """This network's embeddings [batch, embedding width], None without embedded inputs."""
        return None if self.embedder is None else self.embedder(features)

    def from_parts(
        self, encoded: tf.Tensor, embedded: Optional[tf.Tensor], training=None
    ) -> tf.Tensor:
        """Member raw scores from the continuous inputs (what integrated gradients varies)."""
        if embedded is not None:
            encoded = tf.concat([encoded, embedded], axis=1)
        return self.mlp(encoded, training=training)


def over_members(normalize: Callable, *raws: tf.Tensor):
    """`normalize`, written for [rows, n] scores, applied to member scores [batch, k, n]: each
    member's row is a row, so per-example modes normalize every member on its own and
    `population` pools the members' statistics (one scale for every member and network)."""
    n = raws[0].shape[-1]
    flat = [tf.reshape(raw, [-1, n]) for raw in raws]
    result = normalize(*flat)
    if isinstance(result, (tuple, list)):
        return tuple(tf.reshape(r, tf.shape(raw)) for r, raw in zip(result, raws, strict=True))
    return tf.reshape(result, tf.shape(raws[0]))


def member_mean(values: tf.Tensor) -> tf.Tensor:
    """[batch, k, n] -> [batch, n]: what a network serves is its members' mean."""
    return tf.reduce_mean(values, axis=1)
