"""Batch predictions a user opens: a pipeline run with `--key-columns` and `--explain all` writes
every unlabelled row's predictions and attributions as CSV and Parquet shards, each row once with
its key, equal to what the pushed models serve for that row."""

import csv
import glob
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
import tensorflow as tf

from modules import names
from pipeline.config import DEFAULT_DATA, DEFAULT_INFERENCE_DATA
from pipeline.summary import summarize
from serving_client.__main__ import feature_spec_of
from serving_client.raw_examples import read_rows, serialize
from tests.pipeline_runs import PipelineRun

KEY = "penguin_id"


def with_keys(source: str, target: str, key_of) -> list:
    rows = read_rows(source)
    keyed = [{KEY: key_of(i), **row} for i, row in enumerate(rows)]
    with open(target, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(keyed[0]))
        writer.writeheader()
        writer.writerows(keyed)
    return keyed


@pytest.fixture(scope="module")
def keyed_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keyed")
    with_keys(DEFAULT_DATA, str(folder / "train.csv"), lambda i: f"T{i}")
    # Keys a CSV must quote, and rows several times over (shards hold many rows each).
    new = [row for _ in range(5) for row in read_rows(DEFAULT_INFERENCE_DATA)]
    path = str(folder / "new.csv")
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(new[0]))
        writer.writeheader()
        writer.writerows(new)
    rows = with_keys(path, path, lambda i: f'N{i}, "unlabelled"')
    run = PipelineRun(str(folder / "out"), [])
    run.run(
        "--data", str(folder / "train.csv"), "--label", "species", "--inference-data", path,
        "--key-columns", KEY, "--explain", "all",
    )  # fmt: skip
    return run, summarize(run.metadata_path), rows


def test_every_row_is_written_once_with_its_key_and_the_served_models_outputs(keyed_run):
    run, summary, rows = keyed_run
    assert f"batch inference: {summary.predictions} (and .parquet)" in run.stdout[0]
    written = []
    for path in sorted(glob.glob(summary.predictions)):
        with open(path, newline="") as handle:
            written += list(csv.DictReader(handle))
    assert sorted(r[KEY] for r in written) == sorted(r[KEY] for r in rows)  # each once
    by_key = {r[KEY]: r for r in rows}
    served = tf.saved_model.load(summary.pushed_to).signatures[names.SERVING_DEFAULT]
    spec = feature_spec_of(summary.pushed_to)
    examples = serialize([by_key[r[KEY]] for r in written], spec)
    expected = {k: v.numpy() for k, v in served(examples=tf.constant(examples)).items()}
    classes = [c[len("probability_") :] for c in written[0] if c.startswith("probability_")]
    assert sorted(classes) == ["Adelie", "Chinstrap", "Gentoo"]
    for prefix, output in (
        ("", names.PROBABILITIES),
        *((f"{n}_", names.output_key(n, names.PROBABILITIES)) for n in names.NETWORKS),
    ):
        table = np.array([[float(r[f"{prefix}probability_{c}"]) for c in classes] for r in written])
        np.testing.assert_allclose(table, expected[output], atol=1e-5, rtol=0, err_msg=output)
        assert [r[f"{prefix}predicted_class"] for r in written] == [
            classes[i] for i in expected[output].argmax(axis=1)
        ]


def test_every_row_carries_each_pushed_models_attributions_as_served(keyed_run, tmp_path):
    """Each model's `<prefix>attribution_<column>` columns equal its pushed explain signature's
    attributions for that row in a TF1 session, as TF Serving runs it."""
    from components.pusher import versions
    from tests.tf1_subprocess import run_tf1_session

    _, summary, rows = keyed_run
    written = []
    for path in sorted(glob.glob(summary.predictions)):
        with open(path, newline="") as handle:
            written += list(csv.DictReader(handle))
    by_key = {r[KEY]: r for r in rows}
    spec = feature_spec_of(summary.pushed_to)
    examples = np.array(serialize([by_key[r[KEY]] for r in written], spec))
    for model in names.SERVED_MODELS:
        folder = os.path.join(summary.serving_root, model)
        served = run_tf1_session(
            os.path.join(folder, str(versions(folder)[-1])),
            names.EXPLAIN,
            {names.EXAMPLES_INPUT: examples},
            str(tmp_path),
        )
        columns = [c.decode() for c in served[names.ATTRIBUTED_COLUMNS]]
        assert "island" in columns and KEY not in columns
        prefix = "" if model == names.COMBINED else f"{model}_"
        table = np.array([[float(r[f"{prefix}attribution_{c}"]) for c in columns] for r in written])
        np.testing.assert_allclose(table, served[names.ATTRIBUTIONS], atol=1e-5, err_msg=model)
        change = served[names.PREDICTION] - served[names.BASELINE_PREDICTION]
        gap = np.abs(table.sum(axis=1) - change)
        np.testing.assert_array_less(gap, 2e-3 + 0.02 * np.abs(change), err_msg=model)


def test_the_parquet_shards_hold_the_same_rows(keyed_run):
    _, summary, _ = keyed_run
    folder = os.path.dirname(summary.predictions)
    table = pq.ParquetDataset(glob.glob(os.path.join(folder, "*.parquet"))).read().to_pylist()
    with_csv = {}
    for path in glob.glob(summary.predictions):
        with open(path, newline="") as handle:
            with_csv.update({r[KEY]: r for r in csv.DictReader(handle)})
    assert len(table) == len(with_csv)
    for row in table:
        text = with_csv[row[KEY]]
        for column, value in row.items():
            if isinstance(value, float):
                assert np.float32(text[column]) == np.float32(value), column
            else:
                assert text[column] == value, column
