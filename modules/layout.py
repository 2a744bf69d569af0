"""What the model needs to know about Transform's output, read from it and never hard-coded.

The Trainer, the report and the benchmarks all read the layout through `feature_layout`, which
needs TF Transform but not Keras or the training code.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from modules import modes, names


@dataclasses.dataclass(frozen=True)
class FeatureLayout:
    numeric: Tuple[str, ...]
    categorical: Mapping[str, int]  # feature -> number of ids (vocabulary + OOV bucket)
    n_outputs: int
    label_vocabulary: Tuple[str, ...] = ()  # class names by id; empty for regression
    # Only for [batch, k] features.
    numeric_widths: Mapping[str, Tuple[int]] = dataclasses.field(default_factory=dict)
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
        mean, scale = label_scaling(tf_transform_output, tuple(label_columns) or (label_key,))
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
    tf_transform_output: tft.TFTransformOutput, label_columns: Sequence[str]
) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """(mean, scale) per target of Transform's label scaling z = (y - mean) / scale, as Transform
    computed them in float64 (modules/preprocessing.py writes them as an asset): serving inverts
    exactly what Transform applied."""
    mean, scale = [], []
    for column in label_columns:
        (entry,) = tf_transform_output.vocabulary_by_name(names.label_statistics_name(column))
        column_mean, column_scale = (float(v) for v in entry.decode().split())
        mean.append(column_mean)
        scale.append(column_scale)
    return tuple(mean), tuple(scale)
