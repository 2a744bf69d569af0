"""One column through its kind's Transform (tft_beam on tiny rows), then the saved graph applied
to other rows as serving applies it: what the kinds' tests check."""

from __future__ import annotations

import tempfile
from typing import Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from modules.columns import ColumnSpec
from modules.kinds import KINDS

Outputs = Dict[str, np.ndarray]


def run_kind(
    spec: ColumnSpec, train: List[list], dtype=tf.string, served: Optional[List[list]] = None
) -> Tuple[Outputs, tft.TFTransformOutput, Outputs]:
    """(outputs on `train`, the Transform output, outputs of the saved graph on `served`): each
    row a list of 0 or 1 values, the column optional (a VarLenFeature) as ExampleGen types it."""
    feature_spec = {spec.name: tf.io.VarLenFeature(dtype)}
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(feature_spec))
    folder = tempfile.mkdtemp()
    rows = [{spec.name: values} for values in train]
    with tft_beam.Context(temp_dir=tempfile.mkdtemp()):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: KINDS[spec.kind].transform(spec, inputs[spec.name])
        )
        _ = transform_fn | tft_beam.WriteTransformFn(folder)
    output = tft.TFTransformOutput(folder)
    trained = {key: np.array([row[key] for row in transformed]) for key in transformed[0]}
    serving: Outputs = {}
    if served is not None:
        sparse = tf.ragged.constant(served, dtype=dtype).to_sparse()
        values = output.transform_raw_features({spec.name: sparse})
        serving = {key: value.numpy() for key, value in values.items()}
    return trained, output, serving
