"""Raw CSV rows -> serialized tf.Examples typed by a feature spec, as a serving client sends them."""

from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Union

import tensorflow as tf

from modules import paths
from pipeline import csv_reading


def read_rows(path: str) -> List[Dict[str, str]]:
    """The CSV's rows as column -> text, in any form the pipeline reads (gzip, a byte-order mark,
    tabs or semicolons); a missing file or one without rows is a ValueError."""
    if not paths.exists(path):
        raise ValueError(f"CSV file {path} does not exist")
    form = csv_reading.sniff(path)
    rows = [
        dict(zip(form.header, csv_reading.plain_numbers(cells, form.delimiter), strict=True))
        for _, cells in csv_reading.rows(form)
    ]
    if not rows:
        raise ValueError(f"CSV file {path} has no data rows")
    return rows


def typed_cells(
    row: Mapping[str, str], feature_spec: Mapping[str, object]
) -> Dict[str, Union[str, int, float]]:
    """The row's non-empty cells typed by `feature_spec` (str, int or float); an empty cell is a
    missing value and is left out. Every request the client builds starts from this."""
    cells = {}
    for key, spec in feature_spec.items():
        text = row.get(key, "")
        if text != "":
            cells[key] = (
                text
                if spec.dtype == tf.string
                else int(text)
                if spec.dtype == tf.int64
                else float(text)
            )
    return cells


def to_example(row: Mapping[str, str], feature_spec: Mapping[str, object]) -> tf.train.Example:
    features = {}
    for key, value in typed_cells(row, feature_spec).items():
        if isinstance(value, str):
            features[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        elif isinstance(value, int):
            features[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        else:
            features[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
    return tf.train.Example(features=tf.train.Features(feature=features))


def serialize(rows: Iterable[Mapping[str, str]], feature_spec) -> List[bytes]:
    return [to_example(row, feature_spec).SerializeToString() for row in rows]
