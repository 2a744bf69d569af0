"""BatchPredictions' rows (components/predictions.py): a PredictionLog as BulkInferrer writes it
becomes one table row with the key columns, each model's class and probabilities or values, and
with --explain each explained model's attributions, as its served explain signature gives them."""

import csv
import io
import os

import numpy as np
import pyarrow as pa
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from components.predictions import TableRows, columns, csv_line, parquet_schema, table_row
from modules import modes, names
from tests import tf1_session

UNEXPLAINED = {"explained_models": [], "explained_columns": []}
CLASSES = {
    "task": modes.CLASSIFICATION,
    "classes": ["no", "yes, sure"],
    "key_columns": ["id"],
    **UNEXPLAINED,
}
TARGETS = {
    "task": modes.REGRESSION,
    "label_columns": ["height", "weight"],
    "key_columns": [],
    **UNEXPLAINED,
}


def prediction_log(outputs: dict, features: dict) -> bytes:
    """A PredictionLog of one input row, its request and response as BulkInferrer fills them."""
    example = tf.train.Example()
    for key, value in features.items():
        if isinstance(value, bytes):
            example.features.feature[key].bytes_list.value.append(value)
        else:
            example.features.feature[key].int64_list.value.append(value)
    log = prediction_log_pb2.PredictionLog()
    request = log.predict_log.request.inputs[names.EXAMPLES_INPUT]
    request.CopyFrom(tf.make_tensor_proto([example.SerializeToString()]))
    for key, value in outputs.items():
        log.predict_log.response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
    return log.SerializeToString()


def test_a_classification_row_has_the_key_then_each_models_class_and_probabilities():
    outputs = {
        names.PROBABILITIES: np.array([[0.25, 0.75]], np.float32),
        names.output_key(names.NETWORK_A, names.PROBABILITIES): np.array([[0.6, 0.4]], np.float32),
        names.output_key(names.NETWORK_B, names.PROBABILITIES): np.array([[0.1, 0.9]], np.float32),
        names.CLASS_IDS: np.array([1], np.int64),
    }
    row = table_row(prediction_log(outputs, {"id": b"A,7", "x": 3}), CLASSES)
    header = columns(CLASSES)
    assert header[:4] == ["id", "predicted_class", "probability_no", "probability_yes, sure"]
    assert list(row) == header
    assert (row["id"], row["predicted_class"], row["network_a_predicted_class"]) == (
        "A,7",
        "yes, sure",
        "no",
    )
    line = csv_line(row, header)
    assert next(csv.reader(io.StringIO(line)))[:4] == ["A,7", "yes, sure", "0.25", "0.75"]
    assert np.float32(line.split(",")[-1]) == np.float32(0.9)  # reads back as the same float32
    table = pa.Table.from_pylist([row], schema=parquet_schema(CLASSES))
    assert table.column("probability_yes, sure").to_pylist() == [0.75]


def test_a_regression_row_has_each_targets_value_in_the_label_units_and_a_missing_key_is_empty():
    outputs = {
        names.VALUES: np.array([[181.5, 1e12]], np.float32),
        names.output_key(names.NETWORK_A, names.VALUES): np.array([[180.0, 2.0]], np.float32),
        names.output_key(names.NETWORK_B, names.VALUES): np.array([[183.0, 3.0]], np.float32),
    }
    row = table_row(prediction_log(outputs, {"x": 3}), {**TARGETS, "key_columns": ["id"]})
    assert row == {
        "id": "",
        "predicted_height": 181.5,
        "predicted_weight": float(np.float32(1e12)),
        "network_a_predicted_height": 180.0,
        "network_a_predicted_weight": 2.0,
        "network_b_predicted_height": 183.0,
        "network_b_predicted_weight": 3.0,
    }
    assert columns(TARGETS) == [c for c in row if c != "id"]


def test_explained_rows_carry_each_models_served_attributions_of_the_same_row(tiny_model, served):
    """--explain all on the embedded penguins' tiny model: every row gets one attribution per
    feature column for each model, equal (1e-5) to what that model's explain signature returns
    in a TF1 session, as TF Serving runs it, for the same example."""
    from serving_client.raw_examples import serialize

    examples = serialize(served["rows"], served["spec"])
    batch = served["model"].signatures[names.BATCH_INFERENCE](examples=tf.constant(examples))
    records = [
        prediction_log({k: v.numpy()[i : i + 1] for k, v in batch.items()}, {})
        for i in range(len(examples))
    ]
    for i, record in enumerate(records):  # the request holds the row's own example
        log = prediction_log_pb2.PredictionLog.FromString(record)
        log.predict_log.request.inputs[names.EXAMPLES_INPUT].CopyFrom(
            tf.make_tensor_proto([examples[i]])
        )
        records[i] = log.SerializeToString()
    model_uri = os.path.dirname(tiny_model.serving_model_dir)
    explained = tf1_session.run(
        tiny_model.serving_model_dir, names.EXPLAIN, {names.EXAMPLES_INPUT: np.array(examples)}
    )
    feature_columns = [c.decode() for c in explained[names.ATTRIBUTED_COLUMNS]]
    settings = {
        "task": modes.CLASSIFICATION,
        "classes": ["Adelie", "Chinstrap", "Gentoo"],
        "key_columns": [],
        "explained_models": list(names.SERVED_MODELS),
        "explained_columns": feature_columns,
    }
    rows = list(TableRows(settings, model_uri).process(records))
    assert [list(row) for row in rows] == [columns(settings)] * len(examples)
    for model in names.SERVED_MODELS:
        folder = (
            tiny_model.serving_model_dir
            if model == names.COMBINED
            else os.path.join(tiny_model.networks_dir, model)
        )
        expected = tf1_session.run(
            folder, names.EXPLAIN, {names.EXAMPLES_INPUT: np.array(examples)}
        )[names.ATTRIBUTIONS]
        prefix = "" if model == names.COMBINED else f"{model}_"
        got = [[row[f"{prefix}attribution_{c}"] for c in feature_columns] for row in rows]
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=model)
        assert np.abs(expected).sum() > 0
    wrong = {**settings, "explained_columns": feature_columns[::-1]}
    with pytest.raises(ValueError, match="attributes to the columns .* not this run's"):
        list(TableRows(wrong, model_uri).process(records[:1]))
