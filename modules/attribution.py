"""Integrated gradients (Sundararajan et al., 2017) inside the serving graph: how much each raw
column moved one prediction away from the prediction at a baseline input.

The straight path runs through the model's continuous inputs (`TwinModel.parts`): the shared
encoding (numbers as Transform scaled them, categories one-hot) and each network's embeddings of
its embedded categories and text words. Ids are discrete, so the path moves their one-hot vectors
and embeddings, not the ids. The attribution of one input coordinate is (x - baseline) times the
mean gradient along the path; the coordinates a raw column became (a date's parts, a category's
one-hot, a text's word embeddings, in both networks) are summed, so each column the user gave
gets one number.

The path integral is the trapezoid rule over STEPS equal segments, each segment's column
attributions then shifted to sum to that segment's exact change of the prediction
(`exact_segments`): per-example normalizations have kinks and steep spots the rule alone would
need thousands of steps to cross, and with the shift a row's attributions sum to prediction -
baseline_prediction (completeness) to float precision in every mode (tests/test_export.py).

The baseline is the mean input over up to BASELINE_ROWS train rows (`fit_baseline`): numbers at
their train mean (0 once z-scored), a one-hot category at its train frequencies, embeddings at
their mean.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import numpy as np
import tensorflow as tf

from modules import columns, modes, names
from modules.layout import FeatureLayout
from modules.networks import standardized

STEPS = 24  # segments of the path: STEPS + 1 gradient evaluations per row
BASELINE_ROWS = 4096

Parts = Dict[str, tf.Tensor]


def part_keys(layout: FeatureLayout, part: str) -> List[Tuple[str, int]]:
    """(transformed key, width) of each block of a part, in the order the model concatenates
    them (network_inputs.FeatureEncoder for the encoding, Embedder for embeddings)."""
    if part == names.ENCODED:
        numeric = [(k, int(layout.numeric_widths.get(k, (1,))[0])) for k in sorted(layout.numeric)]
        return numeric + sorted(layout.categorical.items())
    embedded = [(k, columns.embedding_dim(n)) for k, n in sorted(layout.embedded.items())]
    return embedded + [
        (k, columns.embedding_dim(ids)) for k, (ids, _) in sorted(layout.text.items())
    ]


def column_matrix(layout: FeatureLayout, part: str) -> np.ndarray:
    """[part width, raw columns]: 1 where a coordinate of the part comes from that column."""
    index = {column: j for j, column in enumerate(layout.raw_columns)}
    rows = []
    for key, width in part_keys(layout, part):
        if key not in layout.key_columns:
            raise ValueError(f"no raw column is known for the transformed feature {key!r}")
        one = np.zeros(len(index), np.float32)
        one[index[layout.key_columns[key]]] = 1.0
        rows += [one] * width
    return np.stack(rows) if rows else np.zeros((0, len(index)), np.float32)


def fit_baseline(model, batches: Iterable[Tuple[Mapping[str, tf.Tensor], tf.Tensor]]) -> int:
    """Sets the model's baseline to the mean of each part over `batches` (train rows); returns
    the number of rows it averaged."""
    sums: Dict[str, tf.Tensor] = {}
    rows = 0
    for features, _ in batches:
        for part, value in model.parts(features).items():
            total = tf.reduce_sum(value, axis=0)
            sums[part] = sums[part] + total if part in sums else total
        rows += int(tf.shape(next(iter(features.values())))[0])
    for part, variable in model.baseline.items():
        if part in sums:
            variable.assign(sums[part] / max(rows, 1))
    return rows


def explained(model, outputs: Mapping[str, tf.Tensor], class_ids: Optional[tf.Tensor]):
    """The explained quantity [batch]: the probability of the class predicted at the input, or
    the first target's value in the label's units less the label's train mean (the mean, 1e12
    for some labels, is added back in float64 by `in_units`)."""
    if model.task == modes.CLASSIFICATION:
        return tf.gather(outputs[names.PROBABILITIES], class_ids, batch_dims=1)
    name = getattr(model, "network_name", names.COMBINED)
    scale = model.layout.label_scale[0] if model.layout.label_scale else 1.0
    return standardized(model, name, outputs[names.SCORES])[:, 0] * scale


def in_units(model, quantity: tf.Tensor) -> tf.Tensor:
    """The explained quantity as served: a regression value in float64 with the mean added."""
    if model.task == modes.CLASSIFICATION:
        return quantity
    mean = model.layout.label_mean[0] if model.layout.label_mean else 0.0
    return tf.cast(quantity, tf.float64) + mean


def explain(model, features: Mapping[str, tf.Tensor], steps: int = STEPS) -> Dict[str, tf.Tensor]:
    """The `explain` signature's outputs for a batch of transformed features.

    Every point of the path is evaluated in one batch ([points * rows, width]): rows are
    independent, and one wide pass costs far less than `steps` small ones."""
    parts = model.parts(features)
    rows = tf.shape(parts[names.ENCODED])[0]
    base = {
        k: tf.broadcast_to(model.baseline[k][tf.newaxis], tf.shape(v)) for k, v in parts.items()
    }
    alphas = tf.linspace(0.0, 1.0, steps + 1)[:, tf.newaxis, tf.newaxis]
    path = {
        k: tf.reshape(base[k] + alphas * (parts[k] - base[k]), [-1, parts[k].shape[-1]])
        for k in parts
    }
    with tf.GradientTape() as tape:
        tape.watch(list(path.values()))
        outputs = model.from_parts(path)
        class_ids = None
        if model.task == modes.CLASSIFICATION:  # the class predicted at the input, the last point
            at_input = tf.reshape(outputs[names.PROBABILITIES], [steps + 1, rows, -1])[-1]
            class_ids = tf.tile(tf.argmax(at_input, axis=-1), [steps + 1])
        values = explained(model, outputs, class_ids)
    grads = tape.gradient(values, path, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    values = tf.reshape(values, [steps + 1, rows])
    segments = tf.add_n(  # trapezoid per segment, summed into raw columns: [steps, rows, columns]
        [
            tf.einsum(
                "srw,wc->src",
                _trapezoid(tf.reshape(grads[k], [steps + 1, rows, -1])) * (parts[k] - base[k]),
                tf.constant(column_matrix(model.layout, k)),
            )
            for k in parts
        ]
    )
    return {
        names.ATTRIBUTIONS: tf.reduce_sum(exact_segments(segments, values[1:] - values[:-1]), 0),
        names.ATTRIBUTED_COLUMNS: tf.constant(list(model.layout.raw_columns), tf.string),
        names.PREDICTION: in_units(model, values[-1]),
        names.BASELINE_PREDICTION: in_units(model, values[0]),
    }


def _trapezoid(grads: tf.Tensor) -> tf.Tensor:
    """[points, rows, width] gradients -> [segments, rows, width] mean gradient of each segment
    times its length (the path's points are equally spaced on [0, 1])."""
    segments = tf.cast(tf.shape(grads)[0] - 1, grads.dtype)
    return (grads[1:] + grads[:-1]) / (2.0 * segments)


def exact_segments(segments: tf.Tensor, changes: tf.Tensor) -> tf.Tensor:
    """Each segment's column attributions [segments, rows, columns], shifted so that they sum to
    the segment's exact change of the prediction [segments, rows]: the share of each column in
    the shift is its share of the segment's |attributions| (equal shares where all are 0).

    A per-example normalization (`range`, `standardize`) has kinks where outputs swap order and
    is steep where they nearly tie, so the trapezoid rule alone misses completeness by far
    (tests/test_attribution.py measures it); on a smooth path the shift vanishes as the segments
    shrink, leaving integrated gradients."""
    size = tf.abs(segments)
    total = tf.reduce_sum(size, axis=-1, keepdims=True)
    columns = tf.cast(tf.shape(segments)[-1], segments.dtype)
    share = tf.where(total > 0, size / tf.maximum(total, 1e-30), 1.0 / columns)
    missing = changes - tf.reduce_sum(segments, axis=-1)
    return segments + missing[..., tf.newaxis] * share
