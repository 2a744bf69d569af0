"""The whole local pipeline on the embedded penguins, run from the command line."""
import os

import numpy as np
import pytest
import tensorflow as tf

from components.pusher import versions
from modules import names
from pipeline.config import DEFAULT_DATA, DEFAULT_INFERENCE_DATA
from pipeline.raw_examples import read_rows, serialize
from pipeline.summary import summarize
from serving_client.__main__ import feature_spec_of
from tests.pipeline_runs import PipelineRun, run_tf1_session

pytestmark = pytest.mark.slow

COMPONENTS = ("CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "DataGate", "Transform",
              "Trainer", "latest_blessed_model_resolver", "Evaluator", "Pusher", "RunReport", "InferenceExampleGen",
              "BulkInferrer")
UPSTREAM_OF_EVALUATOR = COMPONENTS[:7]


def test_every_component_ran_and_the_model_was_blessed_and_pushed(penguin_run):
    summary = penguin_run.first_summary
    for component in COMPONENTS:
        assert summary.executions[component] == ["COMPLETE"], (component, summary.executions)
    assert summary.blessed is True
    assert summary.pushed_to == os.path.join(penguin_run.serving_root, names.COMBINED, "1")
    assert os.path.isfile(os.path.join(summary.pushed_to, "saved_model.pb"))
    assert f"pushed model: {summary.pushed_to}" in penguin_run.stdout[0]
    for model in names.SERVED_MODELS:
        assert versions(os.path.join(penguin_run.serving_root, model)) == [1], model


def test_each_network_reaches_the_accuracy_bar(penguin_run):
    metrics = penguin_run.first_summary.metrics
    for network in names.NETWORKS:
        assert metrics[network]["sparse_categorical_accuracy"] >= 0.95, metrics
        assert f"{network}: sparse_categorical_accuracy=" in penguin_run.stdout[0]


def test_second_run_reuses_cached_artifacts_and_publishes_no_duplicate(penguin_run):
    executions = summarize(penguin_run.metadata_path).executions
    for component in UPSTREAM_OF_EVALUATOR:
        assert executions[component] == ["COMPLETE", "CACHED"], (component, executions[component])
    for model in names.SERVED_MODELS:
        assert versions(os.path.join(penguin_run.serving_root, model)) == [1], model


def test_pushed_model_gives_finite_predictions_for_raw_rows_with_missing_values(penguin_run):
    model_dir = penguin_run.first_summary.pushed_to
    rows = read_rows(DEFAULT_DATA)
    assert any(row["sex"] == "" for row in rows) and any(row["bill_length_mm"] == "" for row in rows)
    spec = feature_spec_of(model_dir)
    outputs = tf.saved_model.load(model_dir).signatures[names.SERVING_DEFAULT](
        examples=tf.constant(serialize(rows, spec)))
    for key in ("network_a_raw", "network_b_raw", "network_a_scores", "network_b_scores", "probabilities"):
        value = outputs[key].numpy()
        assert value.shape == (len(rows), 3) and np.isfinite(value).all(), key
    predicted = [p.decode() for p in outputs[names.PREDICTED_LABEL].numpy()]
    assert np.mean([p == row["species"] for p, row in zip(predicted, rows)]) >= 0.95


def test_bulk_inferrer_gives_both_networks_normalized_outputs_per_unlabelled_row(penguin_run):
    from tensorflow_serving.apis import prediction_log_pb2

    folder = penguin_run.first_summary.inference_result
    files = tf.io.gfile.glob(os.path.join(folder, "*.gz"))
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy())
            for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    rows = read_rows(DEFAULT_INFERENCE_DATA)
    assert len(logs) == len(rows) == 12
    served = tf.saved_model.load(penguin_run.first_summary.pushed_to).signatures[names.SERVING_DEFAULT]
    for log in logs:
        example = log.predict_log.request.inputs[names.EXAMPLES_INPUT].string_val[0]
        expected = served(examples=tf.constant([example]))
        for key in ("network_a_scores", "network_b_scores"):
            value = tf.make_ndarray(log.predict_log.response.outputs[key])
            assert value.shape == (1, 3) and np.isfinite(value).all()
            np.testing.assert_allclose(value, expected[key].numpy(), atol=1e-6)


@pytest.fixture(scope="module")
def mode_runs(tmp_path_factory):
    """Every other mode end to end from local_runner.py, in one folder (upstream cached)."""
    run = PipelineRun(str(tmp_path_factory.mktemp("modes")), [])
    run.summaries = {}
    for mode in ("standardize", "shared", "population"):
        run.run("--normalization", mode, "--loss", "cross_entropy")
        run.summaries[mode] = summarize(run.metadata_path)
        run.summaries[mode].trainer_model = run.artifact_dir("Trainer", "model")
    return run


@pytest.mark.parametrize("mode", ["standardize", "shared", "population"])
def test_every_mode_runs_end_to_end_and_both_networks_reach_the_bar(mode_runs, mode, tmp_path):
    summary = mode_runs.summaries[mode]
    for network in names.NETWORKS:
        assert summary.metrics[network]["sparse_categorical_accuracy"] >= 0.95, (mode, summary.metrics)
    assert f"normalization '{mode}'" in "".join(mode_runs.stdout)
    examples = mode_runs.eval_examples()[:16]
    trained = mode_runs.summaries[mode].trainer_model  # this mode's own model, blessed or not
    network_a = os.path.join(trained, names.NETWORK_MODELS_DIR, names.NETWORK_A)
    out = run_tf1_session(network_a, names.SERVING_DEFAULT, {"examples": examples}, str(tmp_path))
    assert np.isfinite(out["network_a_scores"]).all()
    # Network A served alone (in `shared` mode it carries network B too) scores as the combined model does.
    combined = run_tf1_session(os.path.join(trained, "Format-Serving"), names.SERVING_DEFAULT,
                               {"examples": examples}, str(tmp_path))
    np.testing.assert_allclose(out["network_a_scores"], combined["network_a_scores"], atol=1e-6)
