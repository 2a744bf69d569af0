"""The report's explanations (components/report/explanations.py) on the embedded penguins' tiny
model: what the report records is what the served explain signature returns for the same rows."""

import os

import numpy as np
import tensorflow as tf

from components import pusher
from components.report.explanations import explain_split
from modules import names
from tests import tf1_session


def eval_files(tiny_penguins, folder) -> list:
    """The eval split as ExampleGen writes it: gzipped TFRecords of raw tf.Examples."""
    path = os.path.join(folder, "data_tfrecord-00000-of-00001.gz")
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for record in tiny_penguins.raw_examples("eval"):
            writer.write(record)
    return [path]


def test_the_reports_attributions_are_the_served_ones_for_the_same_rows(
    tiny_penguins, tiny_model, tmp_path
):
    files = eval_files(tiny_penguins, str(tmp_path))
    sources = pusher.model_sources(os.path.dirname(tiny_model.serving_model_dir))
    record = explain_split(sources, files, "eval").to_dict()
    examples = tiny_penguins.raw_examples("eval")
    assert record["rows"] == len(examples) and len(record["examples"]) == 4
    feed = {names.EXAMPLES_INPUT: np.array(examples)}
    served = {m: tf1_session.run(folder, names.EXPLAIN, feed) for m, folder in sources.items()}
    columns = [c.decode() for c in served[names.COMBINED][names.ATTRIBUTED_COLUMNS]]
    assert record["columns"] == columns
    for model, outputs in served.items():  # as TF Serving runs it, to 1e-5
        np.testing.assert_allclose(
            record["importance"][model],
            np.abs(outputs[names.ATTRIBUTIONS]).mean(axis=0),
            rtol=1e-5,
            atol=1e-7,
        )
        for example in record["examples"]:
            mine, i = example["models"][model], example["index"]
            np.testing.assert_allclose(
                mine["attributions"], outputs[names.ATTRIBUTIONS][i], atol=1e-5
            )
            assert abs(mine["prediction"] - outputs[names.PREDICTION][i]) < 1e-5
            assert abs(mine["baseline_prediction"] - outputs[names.BASELINE_PREDICTION][i]) < 1e-5
    gap = np.abs(
        served[names.NETWORK_A][names.ATTRIBUTIONS] - served[names.NETWORK_B][names.ATTRIBUTIONS]
    )
    np.testing.assert_allclose(record["disagreement"], gap.mean(axis=0), rtol=1e-4, atol=1e-7)
    worst = np.sort(gap.sum(axis=1))[::-1][:4]
    np.testing.assert_allclose(
        [gap[e["index"]].sum() for e in record["examples"]], worst, rtol=1e-4
    )
    first = record["examples"][0]  # the row's values as the CSV gave them
    row = {k: np.ravel(v)[0] for k, v in tiny_penguins.splits["eval"][first["index"]].items()}
    assert first["values"]["island"] == row["island"].decode()
    assert np.float32(first["values"]["bill_length_mm"]) == np.float32(row["bill_length_mm"])


def test_only_the_first_rows_are_explained_when_the_split_is_larger(
    tiny_penguins, tiny_model, tmp_path
):
    files = eval_files(tiny_penguins, str(tmp_path))
    sources = pusher.model_sources(os.path.dirname(tiny_model.serving_model_dir))
    record = explain_split(sources, files, "eval", limit=5)
    assert record.rows == 5 and all(e["index"] < 5 for e in record.examples)
