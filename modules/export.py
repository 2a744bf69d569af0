"""Serving SavedModels: the Transform graph, the twin model and its normalization in one graph.

Signatures (all take a batch of serialized tf.Example, DT_STRING shape [-1], as `examples`):
- `serving_default`: raw features -> every model output (raw, normalized, predictions).
- `transform_features`: raw features (label optional) -> Transform's output, for skew checks;
  the Evaluator runs it to read the label id.
- `evaluation`: the predictions keyed by TFMA output name (network_a, network_b, combined).
The Transform layer is attached to the saved module so its tables initialize at serving.
"""
from __future__ import annotations

from typing import Dict, Mapping

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from modules import names
from modules.networks import TwinModel


def evaluated_outputs(task: str) -> Dict[str, str]:
    """TFMA output name -> serving output key of the prediction it evaluates."""
    kind = names.PROBABILITIES if task == "classification" else names.VALUES
    outputs = {network: names.output_key(network, kind) for network in names.NETWORKS}
    outputs[names.COMBINED] = kind
    return outputs


class ServingModule(tf.Module):
    """Raw tf.Examples in, named outputs out; saved as the Trainer's serving model."""

    def __init__(self, model: TwinModel, tf_transform_output: tft.TFTransformOutput, label_key: str):
        super().__init__(name="twinnorm_serving")
        self.model = model
        self.tft_layer = tf_transform_output.transform_features_layer()
        self.label_key = label_key
        raw_spec = dict(tf_transform_output.raw_feature_spec())
        label_spec = raw_spec.pop(label_key)
        self.feature_spec = raw_spec
        missing_label = "" if label_spec.dtype == tf.string else -1
        size = int(np.prod(label_spec.shape)) if isinstance(label_spec, tf.io.FixedLenFeature) else 1
        self.labelled_spec = {**raw_spec, label_key: tf.io.FixedLenFeature(
            label_spec.shape if size == 1 else [], label_spec.dtype, default_value=[missing_label] * size)}
        self.label_vocabulary = tf.constant(list(model.layout.label_vocabulary) or [""], tf.string)

    def outputs_from_raw(self, raw_features: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        transformed = self.tft_layer(dict(raw_features))
        transformed.pop(self.label_key, None)
        outputs = dict(self.model(transformed, training=False))
        if names.CLASS_IDS in outputs:
            outputs[names.PREDICTED_LABEL] = tf.gather(self.label_vocabulary, outputs[names.CLASS_IDS])
        return outputs

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=names.EXAMPLES_INPUT)])
    def serve_examples(self, examples: tf.Tensor) -> Dict[str, tf.Tensor]:
        return self.outputs_from_raw(tf.io.parse_example(examples, self.feature_spec))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=names.EXAMPLES_INPUT)])
    def transform_examples(self, examples: tf.Tensor) -> Dict[str, tf.Tensor]:
        return self.tft_layer(tf.io.parse_example(examples, self.labelled_spec))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=names.EXAMPLES_INPUT)])
    def evaluation_outputs(self, examples: tf.Tensor) -> Dict[str, tf.Tensor]:
        outputs = self.outputs_from_raw(tf.io.parse_example(examples, self.feature_spec))
        return {output: outputs[key] for output, key in evaluated_outputs(self.model.task).items()}

    def signatures(self) -> Dict[str, tf.types.experimental.ConcreteFunction]:
        return {
            names.SERVING_DEFAULT: self.serve_examples.get_concrete_function(),
            names.TRANSFORM_FEATURES: self.transform_examples.get_concrete_function(),
            names.EVALUATION: self.evaluation_outputs.get_concrete_function(),
        }


def save_serving_model(module: ServingModule, export_dir: str) -> None:
    """Writes one SavedModel at `export_dir` (what the Evaluator and Pusher read)."""
    tf.saved_model.save(module, export_dir, signatures=module.signatures())
