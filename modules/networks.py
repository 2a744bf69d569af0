"""Network A, network B and the twin model that normalizes their outputs onto one scale.

`TwinModel` maps Transform's output features to a dict of named outputs; it is what the
Trainer trains and what every serving signature wraps, so training and serving share one graph.
The outputs of each network, each the mean over its ensemble members (modules/mlp.py): `raw`
(before normalization), `scores` (after it; the loss sees each member's) and the prediction read
from the scores through a map fitted after training (modules/calibration.py): class
`probabilities` = softmax(scores / T), or regression `values` in the label's own units (an affine
map, then Transform's scaling inverted).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Mapping, Tuple

import tensorflow as tf
import tf_keras as keras

from modules import modes, names
from modules.hparams import TrainerConfig
from modules.layout import FeatureLayout
from modules.mlp import Network, member_mean, over_members
from modules.network_inputs import FeatureEncoder
from modules.normalization import PopulationAffine, build_normalization


class TwinModel(keras.Model):
    """encoder -> (network_a, network_b) -> normalization -> heads, returning named outputs; the
    combined prediction weighs the two networks' scores (modules/combination.py)."""

    def __init__(self, layout: FeatureLayout, config: TrainerConfig, **kwargs):
        super().__init__(name="twin", **kwargs)
        config = config.for_layout(layout.task, layout.width, layout.n_outputs)
        self.layout = layout
        self.config = config
        self.task = config.task
        # Per served prediction, the affine map (slope, intercept) from normalized scores to the
        # prediction's logits or standardized value; identity until calibration fits it.
        # Slope, intercept per output.
        identity = [[1.0] * layout.n_outputs, [0.0] * layout.n_outputs]
        self.calibration = {
            name: tf.Variable(identity, trainable=False, name=f"{name}_calibration")
            for name in (*names.NETWORKS, names.COMBINED)
        }
        # Classification: a matrix the scores pass through before the slope (identity unless
        # calibration chose matrix scaling).
        self.mixing = {
            name: tf.Variable(tf.eye(layout.n_outputs), trainable=False, name=f"{name}_mixing")
            for name in (*names.NETWORKS, names.COMBINED)
        }
        # The combined prediction's weight on network A per output (B gets 1 - w): the average
        # until modules/combination.py fits it on the validation split.
        self.combination = tf.Variable(
            [0.5] * layout.n_outputs, trainable=False, name="combination_weights"
        )
        self.encoder = FeatureEncoder(layout.numeric, layout.categorical, name="encoder")
        self.network_a = Network(config.network_a, config.members, layout, names.NETWORK_A)
        self.network_b = Network(config.network_b, config.members, layout, names.NETWORK_B)
        mode = config.normalization
        settings = dict(epsilon=config.epsilon, momentum=config.population_momentum)
        self.pair_normalization = None
        self.network_normalization = {}
        if modes.takes_pair(mode, config.population_shared):
            self.pair_normalization = build_normalization(mode, **settings)
        else:
            self.network_normalization = {
                n: build_normalization(mode, **settings, name=f"{n}_{mode}") for n in names.NETWORKS
            }
        self.shared_affine = (
            PopulationAffine(name=names.SHARED_AFFINE) if modes.MODES[mode].affine else None
        )
        # Integrated gradients' baseline input per part, set after training (attribution.py).
        self.baseline = {
            part: tf.Variable(tf.zeros([width]), trainable=False, name=f"{part}_baseline")
            for part, width in layout.part_widths.items()
        }

    def get_config(self) -> dict:
        return {"layout": dataclasses.asdict(self.layout), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config: dict) -> "TwinModel":
        return cls(FeatureLayout(**config["layout"]), TrainerConfig.from_dict(config["config"]))

    @property
    def networks(self) -> Dict[str, keras.Model]:
        return {names.NETWORK_A: self.network_a, names.NETWORK_B: self.network_b}

    @property
    def variable_groups(self) -> Dict[str, List[tf.Variable]]:
        """Trainable variables by optimizer: each network's own, and the shared scale and shift."""
        groups = {name: net.trainable_variables for name, net in self.networks.items()}
        if self.shared_affine is not None:
            groups[names.SHARED_AFFINE] = self.shared_affine.trainable_variables
        return groups

    def example_inputs(self, batch: int = 1) -> Dict[str, tf.Tensor]:
        """Zero-valued transformed features; calling the model on them creates every variable."""
        features = {
            key: tf.zeros([batch, *self.layout.numeric_widths.get(key, ())], tf.float32)
            for key in self.layout.numeric
        }
        ids = [*self.layout.categorical, *self.layout.embedded]
        features.update({key: tf.zeros([batch], tf.int64) for key in ids})
        features.update(
            {
                key: tf.zeros([batch, tokens], tf.int64)
                for key, (_, tokens) in self.layout.text.items()
            }
        )
        return features

    def normalize(
        self, raw_a: tf.Tensor, raw_b: tf.Tensor, training=None
    ) -> Tuple[tf.Tensor, tf.Tensor]:
        """Member scores [batch, k, n] of both networks, normalized onto the common scale."""
        if self.pair_normalization is not None:
            a, b = normalize_pair(self.pair_normalization, raw_a, raw_b, training)
        else:
            a, b = (
                over_members(
                    lambda x, n=n: self.network_normalization[n](x, training=training), raw
                )
                for n, raw in ((names.NETWORK_A, raw_a), (names.NETWORK_B, raw_b))
            )
        return with_affine(self.shared_affine, a), with_affine(self.shared_affine, b)

    def parts(self, features: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        """The continuous inputs: the shared encoding and each network's embeddings, if any."""
        return continuous_parts(self.encoder, self.networks, features)

    def call(self, features: Mapping[str, tf.Tensor], training=None) -> Dict[str, tf.Tensor]:
        return self.from_parts(self.parts(features), training)

    def from_parts(self, parts: Mapping[str, tf.Tensor], training=None) -> Dict[str, tf.Tensor]:
        raw = {
            name: net.from_parts(parts[names.ENCODED], parts.get(name), training=training)
            for name, net in self.networks.items()
        }
        scores = dict(
            zip(
                names.NETWORKS,
                self.normalize(raw[names.NETWORK_A], raw[names.NETWORK_B], training),
                strict=False,
            )
        )
        if training:  # the loss needs the member scores only: no softmax or argmax here
            return {
                names.output_key(name, kind): value[name]
                for name in names.NETWORKS
                for kind, value in ((names.RAW, raw), (names.SCORES, scores))
            }
        raw = {name: member_mean(value) for name, value in raw.items()}
        scores = {name: member_mean(value) for name, value in scores.items()}
        outputs = {}
        for name in names.NETWORKS:
            outputs.update(network_outputs(self, name, raw[name], scores[name]))
        w = self.combination
        combined = w * scores[names.NETWORK_A] + (1.0 - w) * scores[names.NETWORK_B]
        outputs.update(prediction_outputs(self, names.COMBINED, combined))
        return outputs


def with_affine(layer, scores: tf.Tensor) -> tf.Tensor:
    """The shared scale and shift applied, for modes that have them."""
    return scores if layer is None else layer(scores)


def prediction(model: "TwinModel", name: str, scores: tf.Tensor) -> Tuple[str, tf.Tensor]:
    """(output kind, value) of the prediction `name` serves from its normalized scores: class
    probabilities softmax((scores @ mixing) * slope + intercept) (slope = 1 / temperature,
    intercept a per-class offset), or a value in the label's units,
    (slope * scores + intercept) * label_scale + label_mean."""
    if model.task == modes.REGRESSION:
        return names.VALUES, in_label_units(model.layout, standardized(model, name, scores))
    slope, intercept = model.calibration[name][0], model.calibration[name][1]
    mixed = tf.matmul(scores, model.mixing[name])
    return names.PROBABILITIES, tf.nn.softmax(mixed * slope + intercept)


def standardized(model: "TwinModel", name: str, scores: tf.Tensor) -> tf.Tensor:
    """A regression prediction before it is mapped to the label's units: slope * scores + intercept."""
    return scores * model.calibration[name][0] + model.calibration[name][1]


def in_label_units(layout: FeatureLayout, standardized: tf.Tensor) -> tf.Tensor:
    """standardized * label_scale + label_mean [batch, n], in float64 (a label around 1e12 with a
    spread of 1e5 loses its digits in float32 arithmetic), returned as float32 (relative 6e-8).
    Identity when the layout has no label scaling, as in the article's setting."""
    n = layout.n_outputs
    mean = tf.constant(layout.label_mean or (0.0,) * n, tf.float64)
    scale = tf.constant(layout.label_scale or (1.0,) * n, tf.float64)
    return tf.cast(tf.cast(standardized, tf.float64) * scale + mean, tf.float32)


def network_outputs(
    model: "TwinModel", network: str, raw: tf.Tensor, scores: tf.Tensor
) -> Dict[str, tf.Tensor]:
    """One network's outputs: raw (before normalization), scores (after) and its prediction."""
    kind, value = prediction(model, network, scores)
    return {
        names.output_key(network, names.RAW): raw,
        names.output_key(network, names.SCORES): scores,
        names.output_key(network, kind): value,
    }


def prediction_outputs(model: "TwinModel", name: str, scores: tf.Tensor) -> Dict[str, tf.Tensor]:
    """The served prediction: normalized scores, and values or class probabilities and ids."""
    kind, value = prediction(model, name, scores)
    outputs = {names.SCORES: scores, kind: value}
    if model.task == modes.CLASSIFICATION:  # the most probable class once calibrated
        outputs[names.CLASS_IDS] = tf.argmax(value, axis=-1)
    return outputs


class SingleNetworkModel(keras.Model):
    """One network served on its own, sharing the twin model's layers (and so its weights).

    `shared` normalization standardizes each row over both networks' outputs, so this model
    carries both networks and returns only its own network's outputs. Every other mode needs only
    the network and its normalization (with `population`, the frozen moving statistics).
    """

    def __init__(self, twin: TwinModel, network: str, **kwargs):
        super().__init__(name=f"{network}_model", **kwargs)
        self.network_name = network
        self.task = twin.task
        self.layout = twin.layout
        self.calibration, self.mixing = twin.calibration, twin.mixing
        self.encoder = twin.encoder
        self.needs_partner = modes.needs_both_networks(twin.config.normalization)
        if self.needs_partner:
            self.twin_networks = dict(twin.networks)
        self.network = twin.networks[network]
        self.pair_normalization = twin.pair_normalization
        self.normalization = twin.network_normalization.get(network)
        self.shared_affine = twin.shared_affine
        self.baseline = twin.baseline

    def parts(self, features: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        """The continuous inputs this network's prediction reads (both networks' with `shared`)."""
        nets = self.twin_networks if self.needs_partner else {self.network_name: self.network}
        return continuous_parts(self.encoder, nets, features)

    def call(self, features: Mapping[str, tf.Tensor], training=None) -> Dict[str, tf.Tensor]:
        return self.from_parts(self.parts(features))

    def from_parts(self, parts: Mapping[str, tf.Tensor], training=None) -> Dict[str, tf.Tensor]:
        encoded = parts[names.ENCODED]
        if self.needs_partner:
            raw = {
                name: net.from_parts(encoded, parts.get(name), training=False)
                for name, net in self.twin_networks.items()
            }
            pair = normalize_pair(
                self.pair_normalization, raw[names.NETWORK_A], raw[names.NETWORK_B], False
            )
            raw = raw[self.network_name]
            scores = pair[names.NETWORKS.index(self.network_name)]
        else:
            raw = self.network.from_parts(encoded, parts.get(self.network_name), training=False)
            own = (
                self.pair_normalization.frozen
                if self.pair_normalization is not None
                else lambda x: self.normalization(x, training=False)
            )
            scores = with_affine(self.shared_affine, over_members(own, raw))
        raw, scores = member_mean(raw), member_mean(scores)
        return {
            **network_outputs(self, self.network_name, raw, scores),
            **prediction_outputs(self, self.network_name, scores),
        }


def continuous_parts(
    encoder: FeatureEncoder, networks: Mapping[str, Network], features: Mapping[str, tf.Tensor]
) -> Dict[str, tf.Tensor]:
    """The shared encoding, and the embeddings of each of `networks` that has embedded inputs."""
    parts = {names.ENCODED: encoder(features)}
    parts.update(
        {n: net.embed(features) for n, net in networks.items() if net.embedder is not None}
    )
    return parts


def normalize_pair(
    layer: keras.layers.Layer, raw_a: tf.Tensor, raw_b: tf.Tensor, training
) -> Tuple[tf.Tensor, tf.Tensor]:
    """A mode that takes both networks' member scores [batch, k, n] at once (statistics across
    the pair), applied member by member."""
    return over_members(lambda x, y: layer([x, y], training=training), raw_a, raw_b)
