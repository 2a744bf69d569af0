"""Raw CSV rows as the client sends them (serving_client/raw_examples.py): typed by the model's
feature spec, an empty cell left out as a missing value."""

import pytest
import tensorflow as tf

from serving_client.raw_examples import read_rows, serialize, typed_cells

SPEC = {
    "island": tf.io.VarLenFeature(tf.string),
    "year": tf.io.VarLenFeature(tf.int64),
    "mass": tf.io.VarLenFeature(tf.float32),
}


def test_cells_are_typed_by_the_spec_and_an_empty_cell_is_missing():
    assert typed_cells({"island": "Dream", "year": "2008", "mass": "3.5"}, SPEC) == {
        "island": "Dream",
        "year": 2008,
        "mass": 3.5,
    }
    assert typed_cells({"island": "", "year": "2008", "mass": ""}, SPEC) == {"year": 2008}


def test_serialized_rows_parse_back_to_the_same_values():
    (example,) = serialize([{"island": "Dream", "year": "2008", "mass": ""}], SPEC)
    parsed = tf.io.parse_single_example(example, SPEC)
    assert parsed["island"].values.numpy().tolist() == [b"Dream"]
    assert parsed["year"].values.numpy().tolist() == [2008]
    assert parsed["mass"].values.numpy().tolist() == []


def test_a_missing_or_empty_csv_is_named(tmp_path):
    with pytest.raises(ValueError, match="CSV file /no/such.csv does not exist"):
        read_rows("/no/such.csv")
    header = tmp_path / "header.csv"
    header.write_text("island,year\n")
    with pytest.raises(ValueError, match=f"CSV file {header} has no data rows"):
        read_rows(str(header))
