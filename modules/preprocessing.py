"""Transform's preprocessing_fn: generic over any CSV, driven by the column specs the front door
decided (modules/columns.py) and each kind's own encoding (modules/kinds/).

Every output is keyed by an internal key, whatever the user's header. The label becomes an
integer class id (its values stripped of surrounding spaces; vocabulary, no OOV bucket, unknown
-> -1) for classification, or (y - mean) / std with the training split's statistics for
regression: the networks learn on that scale and every serving signature maps predictions back
(modules/layout.py reads mean and std from this graph).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping

import tensorflow as tf
import tensorflow_transform as tft

from modules import modes, names
from modules.columns import internal_key, used
from modules.kinds import KINDS
from modules.transform_ops import Input, as_strings, float_statistics, numbers


def preprocessing_fn(
    inputs: Mapping[str, Input], custom_config: Mapping[str, Any]
) -> Dict[str, tf.Tensor]:
    """Raw features (keyed by the user's column names) -> transformed features (internal keys)."""
    label_key = custom_config[names.CONFIG_LABEL]
    label_columns = custom_config[names.CONFIG_LABEL_COLUMNS]
    task = custom_config[names.CONFIG_TASK]
    outputs: Dict[str, tf.Tensor] = {}
    for spec in used(custom_config[names.CONFIG_FEATURES]):
        outputs.update(KINDS[spec.kind].transform(spec, inputs[spec.name]))
    if task == modes.CLASSIFICATION:
        outputs[label_key] = label_ids(label_key, inputs[label_columns[0]])
    elif len(label_columns) == 1:
        outputs[label_key] = scaled_label(label_key, inputs[label_columns[0]])
    else:  # several targets: one [batch, k] label, each column with its own statistics
        outputs[label_key] = tf.stack(
            [scaled_label(internal_key(c), inputs[c]) for c in label_columns], axis=1
        )
    return outputs


def scaled_label(key: str, x: Input) -> tf.Tensor:
    """A regression label as (y - mean) / std. The float64 mean and std are also written as a
    one-entry vocabulary asset (`store_label_statistics`), so serving maps predictions back with
    exactly these numbers. Rows without a label never reach Transform (the front door sets them
    aside); an unlabelled served example gets NaN here, which no prediction reads."""
    dense = numbers(x)
    mean, std = float_statistics(dense)
    store_label_statistics(key, dense, mean, std)
    return tf.cast((dense - mean) / std, tf.float32)


def store_label_statistics(key: str, dense: tf.Tensor, mean: tf.Tensor, std: tf.Tensor) -> None:
    """Writes "<mean> <std>" (17 significant digits: a float64 read back bit for bit) as the only
    entry of the vocabulary `names.label_statistics_name(key)`. A vocabulary file is the asset
    TF Transform saves beside its graph and TFTransformOutput reads by name; the schema
    annotations it could carry instead are not built into the OSS TF Transform wheel."""
    text = tf.strings.join(
        [
            tf.strings.as_string(mean, precision=17, scientific=True),
            tf.strings.as_string(std, precision=17, scientific=True),
        ],
        separator=" ",
    )
    tft.vocabulary(tf.fill(tf.shape(dense), text), vocab_filename=names.label_statistics_name(key))


def label_ids(key: str, x: Input) -> tf.Tensor:
    """Class id from the label's vocabulary (values stripped, as the command line's checks strip
    them); a value absent from training maps to -1."""
    return tft.compute_and_apply_vocabulary(
        as_strings(x),
        num_oov_buckets=0,
        default_value=-1,
        vocab_filename=names.vocabulary_name(key),
    )
