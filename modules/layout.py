"""What the model needs to know about Transform's output, read from it and never hard-coded.

The Trainer, the report and the benchmarks all read the layout through `feature_layout`, which
needs TF Transform but not Keras or the training code.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from twinnorm.modules import modes, names


@dataclasses.dataclass(frozen=True)
class FeatureLayout:
    numeric: Tuple[str, ...]
    categorical: Mapping[str, int]  # feature -> number of ids (vocabulary + OOV bucket)
    n_outputs: int
    label_vocabulary: Tuple[str, ...] = ()  # class names by id; empty for regression
    numeric_widths: Mapping[str, Tuple[int]] = dataclasses.field(
        default_factory=dict
    )  # only for [batch, k] features
    # Regression: Transform scales each target to (y - label_mean) / label_scale; serving maps back.
    label_mean: Tuple[float, ...] = ()
    label_scale: Tuple[float, ...] = ()
    task: str = modes.CLASSIFICATION

    @property
    def width(self) -> int:
        """Columns of the encoded input: one per numeric value, one-hot ids per categorical."""
        numeric = sum(int(self.numeric_widths.get(key, (1,))[0]) for key in self.numeric)
        return numeric + sum(self.categorical.values())


def feature_layout(
    tf_transform_output: tft.TFTransformOutput,
    feature_keys: Sequence[str],
    label_key: str,
    task: str,
    label_columns: Sequence[str] = (),
) -> FeatureLayout:
    """Reads feature kinds and sizes from Transform's output: floats are numeric, ints are ids.
    `label_columns`: the raw label column(s) (default: `label_key` itself)."""
    spec = tf_transform_output.transformed_feature_spec()
    numeric = tuple(k for k in feature_keys if spec[k].dtype == tf.float32)
    categorical = {
        k: tf_transform_output.num_buckets_for_transformed_feature(k)
        for k in feature_keys
        if spec[k].dtype == tf.int64
    }
    widths = {
        k: tuple(spec[k].shape)
        for k in numeric
        if isinstance(spec[k], tf.io.FixedLenFeature)
        and len(spec[k].shape) == 1
        and spec[k].shape[0] > 1
    }
    if task == modes.REGRESSION:
        mean, scale = label_scaling(
            tf_transform_output, label_key, tuple(label_columns) or (label_key,)
        )
        return FeatureLayout(
            numeric,
            categorical,
            n_outputs=len(mean),
            numeric_widths=widths,
            label_mean=mean,
            label_scale=scale,
            task=task,
        )
    vocabulary = tuple(
        v.decode() for v in tf_transform_output.vocabulary_by_name(names.vocabulary_name(label_key))
    )
    return FeatureLayout(
        numeric,
        categorical,
        n_outputs=len(vocabulary),
        label_vocabulary=vocabulary,
        numeric_widths=widths,
    )


def label_scaling(
    tf_transform_output: tft.TFTransformOutput, label_key: str, label_columns: Sequence[str]
) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """(mean, scale) per target of Transform's label scaling z = (y - mean) / scale, read from the
    Transform graph itself: it is affine, so its values at two labels give both numbers, and
    serving inverts exactly what Transform applied (no second copy of the statistics to drift). A
    first probe at y = 0 and 1 is coarse (z is float32, and z(1) - z(0) = 1 / scale cancels when
    the mean is far from 0); the second probes at mean -+ scale, where z is near -+1."""
    k = len(label_columns)
    specs = {column: tf_transform_output.raw_feature_spec()[column] for column in label_columns}
    layer = (
        tf_transform_output.transform_features_layer()
    )  # loads the Transform graph: once for both probes
    mean, scale = _affine_through(layer, label_key, specs, np.zeros(k), np.ones(k))
    mean, scale = _affine_through(layer, label_key, specs, mean - scale, mean + scale)
    return tuple(float(m) for m in mean), tuple(float(s) for s in scale)


def _affine_through(
    layer, label_key: str, specs: Mapping[str, object], y0: np.ndarray, y1: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """Transform's scaling probed at labels y0 and y1 ([k] each); `specs`: label column -> raw spec."""
    label_columns = list(specs)
    integral = np.array([specs[c].dtype == tf.int64 for c in label_columns])
    y0 = np.where(integral, np.round(y0), y0)
    y1 = np.where(integral, np.maximum(np.round(y1), y0 + 1), y1)
    examples = [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    column: _number(values[i], specs[column].dtype)
                    for i, column in enumerate(label_columns)
                }
            )
        ).SerializeToString()
        for values in (y0, y1)
    ]
    raw = tf.io.parse_example(tf.constant(examples), specs)
    z = tf.reshape(layer(raw)[label_key], [2, -1]).numpy().astype("float64")
    scale = (y1 - y0) / (z[1] - z[0])
    return y0 - z[0] * scale, scale


def _number(value: float, dtype: tf.DType) -> tf.train.Feature:
    value = float(value)
    if dtype == tf.int64:
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))
