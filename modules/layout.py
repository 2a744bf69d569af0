"""What the model needs to know about Transform's output, read from it and never hard-coded.

The Trainer, the report and the benchmarks all read the layout through `feature_layout`, which
needs TF Transform but not Keras or the training code.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Mapping, Sequence, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from modules import columns, modes, names
from modules.kinds import KINDS, LayoutPart


@dataclasses.dataclass(frozen=True)
class FeatureLayout:
    numeric: Tuple[str, ...]
    categorical: Mapping[str, int]  # one-hot feature -> number of ids (vocabulary + OOV bucket)
    n_outputs: int
    label_vocabulary: Tuple[str, ...] = ()  # class names by id; empty for regression
    # Only for [batch, k] features.
    numeric_widths: Mapping[str, Tuple[int]] = dataclasses.field(default_factory=dict)
    # Regression: Transform scales each target to (y - label_mean) / label_scale; serving maps back.
    label_mean: Tuple[float, ...] = ()
    label_scale: Tuple[float, ...] = ()
    task: str = modes.CLASSIFICATION
    # Embedded category -> ids; each network learns its own embedding of them.
    embedded: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # Text -> (ids, tokens): [batch, tokens] word ids, 0 = no word; a mean of word embeddings.
    text: Mapping[str, Tuple[int, int]] = dataclasses.field(default_factory=dict)
    # The raw columns (the user's names) the model reads: what every serving signature asks for.
    raw_columns: Tuple[str, ...] = ()
    # Transformed feature key -> the raw column it comes from (a date's parts -> the date).
    key_columns: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def category_buckets(self) -> Dict[str, int]:
        """Every category id input (one-hot or embedded) -> its bucket count, the last the OOV."""
        return {**self.categorical, **self.embedded}

    @property
    def encoded_width(self) -> int:
        """Columns of the shared encoding: one per numeric value, one-hot ids per category."""
        numeric = sum(int(self.numeric_widths.get(key, (1,))[0]) for key in self.numeric)
        return numeric + sum(self.categorical.values())

    @property
    def embedding_width(self) -> int:
        """Columns each network's own embeddings add (modules/network_inputs.py)."""
        ids = [*self.embedded.values(), *(ids for ids, _ in self.text.values())]
        return sum(columns.embedding_dim(n) for n in ids)

    @property
    def part_widths(self) -> Dict[str, int]:
        """Width of each continuous input part: the shared encoding, each network's embeddings."""
        widths = {names.ENCODED: self.encoded_width}
        if self.embedding_width:
            widths.update({name: self.embedding_width for name in names.NETWORKS})
        return widths

    @property
    def width(self) -> int:
        """Inputs of each network's first dense layer."""
        return self.encoded_width + self.embedding_width


def feature_layout(
    tf_transform_output: tft.TFTransformOutput,
    specs: Sequence[object],
    label_key: str,
    task: str,
    label_columns: Sequence[str] = (),
) -> FeatureLayout:
    """Reads feature sizes from Transform's output, each column through its kind. `specs`: the
    ColumnSpecs (or their dicts) Transform ran with; `label_columns`: the raw label column(s)."""
    used = columns.used(specs)
    parts = [KINDS[s.kind].layout(s, tf_transform_output) for s in used]
    key_columns = {
        key: spec.name
        for spec, part in zip(used, parts, strict=True)
        for keys in (part.numeric, part.one_hot, part.embedded, part.text)
        for key in keys
    }
    merged = LayoutPart(
        numeric=tuple(k for p in parts for k in p.numeric),
        one_hot={k: v for p in parts for k, v in p.one_hot.items()},
        embedded={k: v for p in parts for k, v in p.embedded.items()},
        text={k: v for p in parts for k, v in p.text.items()},
    )
    spec = tf_transform_output.transformed_feature_spec()
    widths = {
        k: tuple(spec[k].shape)
        for k in merged.numeric
        if isinstance(spec[k], tf.io.FixedLenFeature)
        and len(spec[k].shape) == 1
        and spec[k].shape[0] > 1
    }
    features = dict(
        numeric=merged.numeric,
        categorical=merged.one_hot,
        numeric_widths=widths,
        embedded=merged.embedded,
        text=merged.text,
        raw_columns=tuple(s.name for s in used),
        key_columns=key_columns,
    )
    if task == modes.REGRESSION:
        mean, scale = label_scaling(tf_transform_output, tuple(label_columns) or (label_key,))
        return FeatureLayout(
            **features, n_outputs=len(mean), label_mean=mean, label_scale=scale, task=task
        )
    vocabulary = tuple(
        v.decode() for v in tf_transform_output.vocabulary_by_name(names.vocabulary_name(label_key))
    )
    return FeatureLayout(**features, n_outputs=len(vocabulary), label_vocabulary=vocabulary)


def label_scaling(
    tf_transform_output: tft.TFTransformOutput, label_columns: Sequence[str]
) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """(mean, scale) per target of Transform's label scaling z = (y - mean) / scale, as Transform
    computed them in float64 (modules/preprocessing.py writes them as an asset): serving inverts
    exactly what Transform applied. `label_columns` are the raw column names."""
    mean, scale = [], []
    for column in label_columns:
        name = names.label_statistics_name(columns.internal_key(column))
        (entry,) = tf_transform_output.vocabulary_by_name(name)
        column_mean, column_scale = (float(v) for v in entry.decode().split())
        mean.append(column_mean)
        scale.append(column_scale)
    return tuple(mean), tuple(scale)
