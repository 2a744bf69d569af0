"""Serving SavedModels: the Transform graph, the networks and the normalization in one graph.

Every model (combined, network A, network B) has the same signatures:
- `serving_default`: `examples`, a batch of serialized tf.Example (DT_STRING, shape [-1]).
- `serving_raw`: one tensor per raw feature, shape [-1], named by the column's internal key
  (`modules.columns.internal_key`: the CSV header itself when it is a plain lower-case name, else
  a slug with a short hash; serving_client maps a CSV's header to them). A missing value is NaN
  (numbers) or "" (strings) for columns that may be missing; an integer column that may be
  missing takes float64, so that NaN can say so.
- `transform_features`: `examples` (label optional) -> Transform's output, to check for skew.
- `explain`: `examples` -> integrated gradients of the served prediction (modules/attribution.py):
  `attributions` [batch, columns], `columns` [columns], `prediction` and `baseline_prediction`.
Classification models also have `classification` (method tensorflow/serving/classify, input
`inputs`, outputs `classes` and `scores`) for TF Serving's `:classify` API.
The combined model also has `evaluation` (the predictions keyed by TFMA output name),
`evaluation_labels` (the labels as `transform_features` gives them, nothing else) and
`batch_inference` (serving_default's numeric outputs, for BulkInferrer).
The Transform layer is attached to each saved module, so its tables initialize at serving.
Everything that loads these models (TF Serving, TFMA, BulkInferrer, the report) calls signatures
only, so Keras's own per-layer call traces are not saved (`_without_keras_traces`).
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Dict, Mapping, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.saved_model import fingerprinting_utils

from modules import attribution, modes, names
from modules.columns import internal_key
from modules.networks import SingleNetworkModel, TwinModel, in_label_units
from modules.warm_start import vocabularies, write_vocabularies

Outputs = Dict[str, tf.Tensor]


def evaluated_outputs(task: str) -> Dict[str, str]:
    """TFMA output name -> serving output key of the prediction it evaluates (one output per
    prediction; with several regression targets, `evaluation` splits each into one per target)."""
    kind = names.PROBABILITIES if task == modes.CLASSIFICATION else names.VALUES
    outputs = {network: names.output_key(network, kind) for network in names.NETWORKS}
    outputs[names.COMBINED] = kind
    return outputs


def _traced(fn: Callable) -> Callable:
    """A signature function, traced without autograph: no signature has tensor-dependent Python
    control flow, so autograph would only re-write the Keras call tree (as it did, seconds long,
    for the training step)."""
    return tf.function(fn, autograph=False)


def _examples_signature(fn: Callable) -> tf.types.experimental.ConcreteFunction:
    return _traced(fn).get_concrete_function(
        tf.TensorSpec([None], tf.string, name=names.EXAMPLES_INPUT)
    )


class ServingModule(tf.Module):
    """Raw features in, named outputs out. `select` picks the outputs of the model being served."""

    def __init__(
        self,
        model: TwinModel,
        tf_transform_output: tft.TFTransformOutput,
        label_key: str,
        label_columns: Sequence[str],
        network: str = names.COMBINED,
    ):
        super().__init__(name=f"{network}_serving")
        self.network = network
        self.task = model.task
        self.model = model if network == names.COMBINED else SingleNetworkModel(model, network)
        self.tft_layer = tf_transform_output.transform_features_layer()
        self.label_key = label_key
        self.label_columns = tuple(label_columns)
        raw_spec = tf_transform_output.raw_feature_spec()
        label_specs = {column: _optional(raw_spec[column]) for column in label_columns}
        # The model's features only: a column the schema holds but `--features` left out (an id,
        # another label) is neither asked of a client nor required in an example.
        self.feature_spec = {name: raw_spec[name] for name in model.layout.raw_columns}
        self.labelled_spec = {**self.feature_spec, **label_specs}
        self.label_vocabulary = tf.constant(list(model.layout.label_vocabulary) or [""], tf.string)

    def features_from_raw(self, raw_features: Mapping[str, tf.Tensor]) -> Outputs:
        transformed = self.tft_layer(dict(raw_features))
        transformed.pop(self.label_key, None)
        return transformed

    def outputs_from_raw(self, raw_features: Mapping[str, tf.Tensor]) -> Outputs:
        outputs = dict(self.model(self.features_from_raw(raw_features), training=False))
        if names.CLASS_IDS in outputs:
            outputs[names.PREDICTED_LABEL] = tf.gather(
                self.label_vocabulary, outputs[names.CLASS_IDS]
            )
        return outputs

    def parsed(self, examples: tf.Tensor) -> Outputs:
        """The raw features of a non-empty batch of serialized examples."""
        with tf.control_dependencies([_non_empty(tf.size(examples))]):
            return tf.io.parse_example(tf.identity(examples), self.feature_spec)

    def serve_examples(self, examples: tf.Tensor) -> Outputs:
        return self.outputs_from_raw(self.parsed(examples))

    def explain_examples(self, examples: tf.Tensor) -> Outputs:
        """Integrated gradients of the served prediction, one attribution per raw column."""
        return attribution.explain(self.model, self.features_from_raw(self.parsed(examples)))

    def serve_raw(self, features: Mapping[str, tf.Tensor]) -> Outputs:
        """`features` keyed by internal key (the signature's input names)."""
        features = {name: features[internal_key(name)] for name in self.feature_spec}
        sizes = tf.stack([tf.size(features[k]) for k in sorted(self.feature_spec)])
        checks = [
            _non_empty(sizes[0]),
            tf.debugging.assert_equal(
                sizes,
                sizes[0],
                message=f"twinnorm: inputs {', '.join(sorted(map(internal_key, self.feature_spec)))} "
                "must all have the same number of values (one per example)",
            ),
        ]
        with tf.control_dependencies(checks):
            return self.outputs_from_raw(
                {
                    k: _as_parsed(tf.identity(features[k]), spec)
                    for k, spec in self.feature_spec.items()
                }
            )

    def transform_examples(self, examples: tf.Tensor) -> Outputs:
        """Transform's output; a regression label is mapped back to its own units, so that the
        Evaluator compares it with `values` and its bars are in the label's units."""
        transformed = dict(self.tft_layer(tf.io.parse_example(examples, self.labelled_spec)))
        if self.task == modes.REGRESSION:
            transformed[self.label_key] = in_label_units(
                self.model.layout, transformed[self.label_key]
            )
            if len(self.label_columns) > 1:  # each target on its own too, for a bar per target
                transformed.update(
                    {
                        internal_key(column): transformed[self.label_key][:, j]
                        for j, column in enumerate(self.label_columns)
                    }
                )
        return transformed

    def evaluation_labels(self, examples: tf.Tensor) -> Outputs:
        """Only the label entries of `transform_examples`: the Evaluator's labels. TFMA slices on
        a preprocessing function's outputs before the raw features, so with every transformed
        feature there, `--slice-by island` would slice on vocabulary ids instead of island names."""
        transformed = self.transform_examples(examples)
        keys = {self.label_key, *map(internal_key, self.label_columns)}
        return {k: transformed[k] for k in keys if k in transformed}

    def evaluation_outputs(self, examples: tf.Tensor) -> Outputs:
        outputs = self.serve_examples(examples)
        evaluated = {output: outputs[key] for output, key in evaluated_outputs(self.task).items()}
        if len(self.label_columns) == 1:
            return evaluated
        return {
            names.target_output(output, internal_key(column)): value[:, j]
            for output, value in evaluated.items()
            for j, column in enumerate(self.label_columns)
        }

    def numeric_outputs(self, examples: tf.Tensor) -> Outputs:
        return {k: v for k, v in self.serve_examples(examples).items() if v.dtype != tf.string}

    def classify_examples(self, inputs: tf.Tensor) -> Outputs:
        """TF Serving's Classify API: `classes` (names) and `scores` (probabilities), [batch, n]."""
        scores = self.serve_examples(inputs)[names.PROBABILITIES]
        classes = tf.tile(self.label_vocabulary[tf.newaxis, :], [tf.shape(scores)[0], 1])
        return {names.CLASSIFY_CLASSES: classes, names.CLASSIFY_SCORES: scores}

    def signatures(self) -> Dict[str, tf.types.experimental.ConcreteFunction]:
        raw_inputs = {
            internal_key(name): tf.TensorSpec(
                [None], raw_input_dtype(spec), name=internal_key(name)
            )
            for name, spec in self.feature_spec.items()
        }
        signatures = {
            names.SERVING_DEFAULT: _examples_signature(self.serve_examples),
            names.SERVING_RAW: _traced(self.serve_raw).get_concrete_function(raw_inputs),
            names.TRANSFORM_FEATURES: _examples_signature(self.transform_examples),
            names.EXPLAIN: _examples_signature(self.explain_examples),
        }
        if self.task == modes.CLASSIFICATION:
            signatures[names.CLASSIFICATION] = _traced(
                self.classify_examples
            ).get_concrete_function(tf.TensorSpec([None], tf.string, name=names.CLASSIFY_INPUTS))
        if self.network == names.COMBINED:
            signatures[names.EVALUATION] = _examples_signature(self.evaluation_outputs)
            signatures[names.EVALUATION_LABELS] = _examples_signature(self.evaluation_labels)
            signatures[names.BATCH_INFERENCE] = _examples_signature(self.numeric_outputs)
        return signatures


def _non_empty(batch_size: tf.Tensor) -> tf.Operation:
    """An empty request is an error with a message, not an empty answer the client may misread."""
    return tf.debugging.assert_positive(
        batch_size, message="twinnorm: empty batch: the request has no examples"
    )


def _optional(spec) -> tf.io.FixedLenFeature:
    """The label's parse spec with a default, so unlabelled examples parse (label id -1)."""
    missing = "" if spec.dtype == tf.string else -1
    size = int(np.prod(spec.shape)) if isinstance(spec, tf.io.FixedLenFeature) else 1
    return tf.io.FixedLenFeature(
        spec.shape if size == 1 else [], spec.dtype, default_value=[missing] * size
    )


def raw_input_dtype(spec) -> tf.DType:
    """`serving_raw`'s dtype for a column: its own, except an integer column that may be missing,
    which is float64 so that NaN can say "missing" (float64 holds every integer up to 2^53)."""
    may_be_missing = not isinstance(spec, tf.io.FixedLenFeature)
    return tf.float64 if may_be_missing and spec.dtype == tf.int64 else spec.dtype


def _as_parsed(values: tf.Tensor, spec) -> tf.Tensor:
    """A dense [batch] column -> what tf.io.parse_example gives for `spec` (NaN / "" = missing)."""
    if isinstance(spec, tf.io.FixedLenFeature):
        return tf.reshape(values, [-1, *spec.shape])
    present = (
        tf.math.logical_not(tf.math.is_nan(values))
        if values.dtype.is_floating
        else tf.not_equal(values, "")
        if values.dtype == tf.string
        else tf.ones_like(values, tf.bool)
    )
    rows = tf.where(present)
    indices = tf.concat([rows, tf.zeros_like(rows)], axis=1)
    return tf.SparseTensor(
        indices,
        tf.cast(tf.boolean_mask(values, present), spec.dtype),
        tf.stack([tf.shape(values, out_type=tf.int64)[0], tf.constant(1, tf.int64)]),
    )


def save_serving_models(
    model: TwinModel,
    tf_transform_output: tft.TFTransformOutput,
    label_key: str,
    label_columns: Sequence[str],
    combined_dir: str,
    networks_dir: str,
) -> Dict[str, str]:
    """Writes the combined model at `combined_dir` (what the Evaluator and Pusher read) and each
    network's model at `<networks_dir>/<network>`; returns model name -> folder."""
    folders = {names.COMBINED: combined_dir}
    folders.update({network: f"{networks_dir}/{network}" for network in names.NETWORKS})
    values = vocabularies(model.layout, tf_transform_output)  # what a warm start matches by
    for network, folder in folders.items():
        module = ServingModule(model, tf_transform_output, label_key, label_columns, network)
        with _without_keras_traces():
            tf.saved_model.save(module, folder, signatures=module.signatures())
        if model.task == modes.CLASSIFICATION:
            _mark_classify_method(folder)
        write_vocabularies(folder, values)
    return folders


def _without_keras_traces() -> ContextManager:
    """tf_keras re-traces every layer's call functions into a SavedModel for Keras reloading;
    nothing here reloads through Keras, and those traces were half the Trainer's time
    (docs/benchmarks.md). tf_keras exposes the switch only as `model.save(save_traces=)`,
    so this uses its internal scope, pinned with the stack; elsewhere the traces are kept."""
    try:
        from tf_keras.src.saving.legacy.saved_model.utils import keras_option_scope
    except ImportError:  # another tf_keras layout: save as before
        return contextlib.nullcontext()
    return keras_option_scope(save_traces=False)


def _mark_classify_method(folder: str) -> None:
    """tf.saved_model.save writes every signature as a Predict one; TF Serving's Classify API
    accepts only a signature whose method name says classify, so set it in saved_model.pb."""
    path = f"{folder}/saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(tf.io.gfile.GFile(path, "rb").read())
    for meta_graph in saved.meta_graphs:
        meta_graph.signature_def[names.CLASSIFICATION].method_name = names.CLASSIFY_METHOD
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(saved.SerializeToString())
    # fingerprint.pb hashes saved_model.pb: written again, so it matches the edited file (TF's
    # own writer, as tf.saved_model.save calls it; a stale one fails fingerprint checks).
    fingerprinting_utils.write_fingerprint(folder)
