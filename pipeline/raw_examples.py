"""Raw CSV rows -> serialized tf.Examples typed by a feature spec, as a serving client sends them."""
from __future__ import annotations

import csv
from typing import Dict, Iterable, List, Mapping

import tensorflow as tf


def read_rows(path: str) -> List[Dict[str, str]]:
    with tf.io.gfile.GFile(path) as handle:
        return list(csv.DictReader(handle))


def to_example(row: Mapping[str, str], feature_spec: Mapping[str, tf.io.FixedLenFeature]) -> tf.train.Example:
    """Empty cells are left out (a missing value); other cells are typed by `feature_spec`."""
    features = {}
    for key, spec in feature_spec.items():
        text = row.get(key, "")
        if text == "":
            continue
        if spec.dtype == tf.string:
            features[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode()]))
        elif spec.dtype == tf.int64:
            features[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(text)]))
        else:
            features[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(text)]))
    return tf.train.Example(features=tf.train.Features(feature=features))


def serialize(rows: Iterable[Mapping[str, str]], feature_spec) -> List[bytes]:
    return [to_example(row, feature_spec).SerializeToString() for row in rows]
