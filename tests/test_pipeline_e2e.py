"""The whole local pipeline on the embedded penguins, run twice from the command line."""
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from modules import names
from pipeline.config import DEFAULT_DATA, REPO_ROOT
from pipeline.raw_examples import read_rows, serialize
from pipeline.summary import open_store, summarize

pytestmark = pytest.mark.slow

COMPONENTS = ("CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer",
              "latest_blessed_model_resolver", "Evaluator", "Pusher")
UPSTREAM_OF_EVALUATOR = COMPONENTS[:6]


def run_local(output_dir, *args) -> str:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "local_runner.py", "--output", str(output_dir), *args],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("tfx_runs")
    first = run_local(output_dir)
    first_summary = summarize(str(output_dir / "metadata/twinnorm/metadata.sqlite"))
    second = run_local(output_dir)
    return output_dir, first, first_summary, second


def test_every_component_ran_and_the_model_was_blessed_and_pushed(runs):
    _, stdout, summary, _ = runs
    for component in COMPONENTS:
        assert summary.executions[component] == ["COMPLETE"], (component, summary.executions)
    assert summary.blessed is True
    assert summary.pushed_to and os.path.isfile(os.path.join(summary.pushed_to, "saved_model.pb"))
    assert f"pushed model: {summary.pushed_to}" in stdout


def test_each_network_reaches_the_accuracy_bar(runs):
    _, stdout, summary, _ = runs
    for network in names.NETWORKS:
        assert summary.metrics[network]["sparse_categorical_accuracy"] >= 0.95, summary.metrics
        assert f"{network}: sparse_categorical_accuracy=" in stdout


def test_second_run_reuses_cached_artifacts(runs):
    output_dir, _, _, _ = runs
    executions = summarize(str(output_dir / "metadata/twinnorm/metadata.sqlite")).executions
    for component in UPSTREAM_OF_EVALUATOR:
        assert executions[component] == ["COMPLETE", "CACHED"], (component, executions[component])


def _pushed_model_and_rows(runs):
    output_dir, _, summary, _ = runs
    transform_dir = os.path.join(output_dir, "pipelines/twinnorm/Transform/transform_graph")
    transform_dir = os.path.join(transform_dir, sorted(os.listdir(transform_dir))[0])
    spec = tft.TFTransformOutput(transform_dir).raw_feature_spec()
    rows = read_rows(DEFAULT_DATA)
    return summary.pushed_to, rows, spec


def test_pushed_model_gives_finite_predictions_for_raw_rows_with_missing_values(runs):
    model_dir, rows, spec = _pushed_model_and_rows(runs)
    loaded = tf.saved_model.load(model_dir)
    examples = serialize(rows, {k: v for k, v in spec.items()})
    assert any(row["sex"] == "" for row in rows) and any(row["bill_length_mm"] == "" for row in rows)
    outputs = loaded.signatures[names.SERVING_DEFAULT](examples=tf.constant(examples))
    for key in ("network_a_raw", "network_b_raw", "network_a_scores", "network_b_scores", "probabilities"):
        value = outputs[key].numpy()
        assert value.shape == (len(rows), 3), key
        assert np.isfinite(value).all(), key
    predicted = [p.decode() for p in outputs[names.PREDICTED_LABEL].numpy()]
    accuracy = np.mean([p == row["species"] for p, row in zip(predicted, rows)])
    assert accuracy >= 0.95


def test_pushed_model_runs_in_a_tf1_session_like_tf_serving(runs, tmp_path):
    model_dir, rows, spec = _pushed_model_and_rows(runs)
    records = str(tmp_path / "rows.tfrecord")
    with tf.io.TFRecordWriter(records) as writer:
        for example in serialize(rows[:20], spec):
            writer.write(example)
    out = str(tmp_path / "out.npz")
    script = os.path.join(REPO_ROOT, "tests", "tf1_session.py")
    result = subprocess.run([sys.executable, script, model_dir, names.SERVING_DEFAULT, names.EXAMPLES_INPUT,
                             records, out], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    values = np.load(out, allow_pickle=True)
    scores = values["network_a_scores"]
    assert scores.shape == (20, 3) and np.isfinite(scores).all()
    assert np.allclose(scores.min(axis=1), 0.0) and np.allclose(scores.max(axis=1), 1.0)  # `range` mode
