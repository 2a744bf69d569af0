"""A tiny Transform output built as TFX's Transform builds one (conftest.py's fixtures), and
raw rows serialized as ExampleGen writes them."""

import csv
import os
import tempfile
from typing import Dict, List

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from modules.preprocessing import preprocessing_fn


def serialize(rows: List[dict], spec: dict) -> List[bytes]:
    """TFT instance dicts (a list for a VarLen feature, a value for a FixedLen one) as tf.Examples."""

    def feature(value, dtype) -> tf.train.Feature:
        values = value if isinstance(value, list) else [value]
        if dtype == tf.string:
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        if dtype == tf.int64:
            return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    return [
        tf.train.Example(
            features=tf.train.Features(
                feature={k: feature(row[k], s.dtype) for k, s in spec.items()}
            )
        ).SerializeToString()
        for row in rows
    ]


def _transformed_records(output: tft.TFTransformOutput, examples: List[bytes], spec: dict):
    """Transform's output rows for raw `examples`, as the tf.Examples TFX's Transform writes."""
    values = output.transform_raw_features(
        tf.io.parse_example(examples, spec), drop_unused_features=True
    )
    for i in range(len(examples)):
        feature = {}
        for key, value in values.items():
            row = np.reshape(value[i].numpy(), [-1])
            feature[key] = (
                tf.train.Feature(int64_list=tf.train.Int64List(value=row))
                if value.dtype == tf.int64
                else tf.train.Feature(float_list=tf.train.FloatList(value=row))
            )
        yield tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_transform_output(folder: str, splits: Dict[str, List[dict]], spec: dict, config: dict):
    """preprocessing_fn analyzed on `splits["train"]` (tft_beam) and applied to every split, laid
    out as TFX's Transform lays out its outputs: `<folder>/transform_graph` (with the raw
    metadata) and gzipped `<folder>/transformed_examples/Split-<name>/` records. Returns the
    TFTransformOutput."""
    graph = os.path.join(folder, "transform_graph")
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tft_beam.Context(temp_dir=tempfile.mkdtemp(dir=folder)):
        (_, _), transform_fn = (splits["train"], metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, config)
        )
        _ = transform_fn | tft_beam.WriteTransformFn(graph)
    metadata_io.write_metadata(
        metadata, os.path.join(graph, tft.TFTransformOutput.RAW_METADATA_DIR)
    )
    output = tft.TFTransformOutput(graph)
    for split, rows in splits.items():
        directory = os.path.join(folder, "transformed_examples", f"Split-{split}")
        os.makedirs(directory)
        path = os.path.join(directory, "transformed_examples-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, "GZIP") as writer:
            for record in _transformed_records(output, serialize(rows, spec), spec):
                writer.write(record)
    return output


def csv_instances(path: str, spec: dict, rows: int) -> List[dict]:
    """The first `rows` rows of a CSV as TFT instance dicts typed by `spec` (an empty cell is a
    missing value, as CsvExampleGen reads it)."""
    cast = {tf.string: str.encode, tf.int64: int, tf.float32: float}
    with open(path, newline="") as handle:
        table = list(csv.DictReader(handle))[:rows]
    return [
        {key: [cast[s.dtype](row[key])] if row[key] else [] for key, s in spec.items()}
        for row in table
    ]
