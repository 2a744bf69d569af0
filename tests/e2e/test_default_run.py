"""The whole local pipeline on the embedded penguins, run from the command line."""

import csv
import glob
import os

import numpy as np
import pytest
import tensorflow as tf

from components.pusher import versions
from modules import names
from pipeline.config import DEFAULT_DATA, DEFAULT_INFERENCE_DATA, REPO_ROOT, ROW_KEY
from pipeline.summary import summarize
from serving_client.__main__ import feature_spec_of
from serving_client.raw_examples import read_rows, serialize
from tests.pipeline_runs import PipelineRun
from tests.tf1_subprocess import run_tf1_session

pytestmark = pytest.mark.slow

COMPONENTS = (
    "CsvExampleGen",
    "StatisticsGen",
    "ImportSchemaGen",
    "ExampleValidator",
    "DataGate",
    "Transform",
    "Trainer",
    "latest_blessed_model_resolver",
    "Evaluator",
    "Pusher",
    "RunReport",
    "InferenceExampleGen",
    "BulkInferrer",
    "BatchPredictions",
)
UPSTREAM_OF_EVALUATOR = COMPONENTS[:7]


def test_every_component_ran_and_the_model_was_blessed_and_pushed(penguin_run):
    summary = penguin_run.first_summary
    for component in COMPONENTS:
        assert summary.executions[component] == ["COMPLETE"], (component, summary.executions)
    assert summary.blessed is True
    assert summary.pushed_to == os.path.join(penguin_run.serving_root, names.COMBINED, "1")
    assert os.path.isfile(os.path.join(summary.pushed_to, "saved_model.pb"))
    assert "blessed, pushed version 1" in penguin_run.stdout[0]
    for model in names.SERVED_MODELS:
        assert versions(os.path.join(penguin_run.serving_root, model)) == [1], model


def test_each_network_reaches_the_accuracy_bar(penguin_run):
    metrics = penguin_run.first_summary.metrics
    lines = penguin_run.stdout[0].splitlines()
    for network in names.NETWORKS:
        values = metrics[network]
        assert values["sparse_categorical_accuracy"] >= 0.95, metrics
        assert values[names.SKILL] >= 0.9, metrics  # over the majority class of the eval rows
        (line,) = [x for x in lines if x.startswith(f"  {network}: ")]
        shown = f"sparse_categorical_accuracy={values['sparse_categorical_accuracy']:.6g}"
        assert shown in line and f"{names.SKILL}=" in line, line


def test_second_run_reuses_cached_artifacts_and_publishes_no_duplicate(penguin_run):
    executions = summarize(penguin_run.metadata_path).executions
    for component in UPSTREAM_OF_EVALUATOR:
        assert executions[component] == ["COMPLETE", "CACHED"], (component, executions[component])
    for model in names.SERVED_MODELS:
        assert versions(os.path.join(penguin_run.serving_root, model)) == [1], model


def test_pushed_model_gives_finite_predictions_for_raw_rows_with_missing_values(penguin_run):
    model_dir = penguin_run.first_summary.pushed_to
    rows = read_rows(DEFAULT_DATA)
    assert any(row["sex"] == "" for row in rows) and any(
        row["bill_length_mm"] == "" for row in rows
    )
    spec = feature_spec_of(model_dir)
    outputs = tf.saved_model.load(model_dir).signatures[names.SERVING_DEFAULT](
        examples=tf.constant(serialize(rows, spec))
    )
    for key in (
        "network_a_raw",
        "network_b_raw",
        "network_a_scores",
        "network_b_scores",
        "probabilities",
    ):
        value = outputs[key].numpy()
        assert value.shape == (len(rows), 3) and np.isfinite(value).all(), key
    predicted = [p.decode() for p in outputs[names.PREDICTED_LABEL].numpy()]
    assert np.mean([p == row["species"] for p, row in zip(predicted, rows, strict=False)]) >= 0.95


def test_bulk_inferrer_gives_both_networks_normalized_outputs_per_unlabelled_row(penguin_run):
    from tensorflow_serving.apis import prediction_log_pb2

    folder = penguin_run.first_summary.inference_result
    files = tf.io.gfile.glob(os.path.join(folder, "*.gz"))
    logs = [
        prediction_log_pb2.PredictionLog.FromString(r.numpy())
        for r in tf.data.TFRecordDataset(files, compression_type="GZIP")
    ]
    rows = read_rows(DEFAULT_INFERENCE_DATA)
    assert len(logs) == len(rows) == 12
    served = tf.saved_model.load(penguin_run.first_summary.pushed_to).signatures[
        names.SERVING_DEFAULT
    ]
    for log in logs:
        example = log.predict_log.request.inputs[names.EXAMPLES_INPUT].string_val[0]
        expected = served(examples=tf.constant([example]))
        for key in ("network_a_scores", "network_b_scores"):
            value = tf.make_ndarray(log.predict_log.response.outputs[key])
            assert value.shape == (1, 3) and np.isfinite(value).all()
            np.testing.assert_allclose(value, expected[key].numpy(), atol=1e-6)


def test_each_prediction_row_carries_its_input_row_number_so_it_joins_back(penguin_run):
    """No --key-columns: every row of the prediction CSV names its row of the inference data,
    and its class is what the pushed model serves for that row."""
    rows = []
    for path in sorted(glob.glob(penguin_run.first_summary.predictions)):
        with open(path, newline="") as handle:
            rows += list(csv.DictReader(handle))
    inputs = read_rows(DEFAULT_INFERENCE_DATA)
    assert sorted(int(row[ROW_KEY]) for row in rows) == list(range(1, len(inputs) + 1))
    model_dir = penguin_run.first_summary.pushed_to
    spec = feature_spec_of(model_dir)
    served = tf.saved_model.load(model_dir).signatures[names.SERVING_DEFAULT](
        examples=tf.constant(serialize(inputs, spec))
    )
    classes = [c.decode() for c in served[names.PREDICTED_LABEL].numpy()]
    for row in rows:
        assert row["predicted_class"] == classes[int(row[ROW_KEY]) - 1], row


@pytest.fixture(scope="module")
def mode_runs(tmp_path_factory):
    """Every other mode end to end from local_runner.py, in one folder (upstream cached)."""
    folder = tmp_path_factory.mktemp("modes")
    run = PipelineRun(str(folder), [])
    run.summaries = {}
    for mode in ("standardize", "shared"):
        run.run("--normalization", mode, "--loss", "cross_entropy")
        run.summaries[mode] = summarize(run.metadata_path)
        run.summaries[mode].trainer_model = run.artifact_dir("Trainer", "model")
    # population from a config file that sets both networks (flags could not)
    config = folder / "population.yaml"
    config.write_text(POPULATION_CONFIG)
    run.run("--config", str(config))
    run.summaries["population"] = summarize(run.metadata_path)
    run.summaries["population"].trainer_model = run.artifact_dir("Trainer", "model")
    return run


POPULATION_CONFIG = """
trainer:
  normalization: population
  loss: cross_entropy
  network_a: {hidden_units: [48, 24], activation: gelu, dropout: 0.1, learning_rate: 0.01}
  network_b: {hidden_units: [40], activation: tanh, dropout: 0.0, learning_rate: 0.005}
"""


def test_a_config_file_sets_each_networks_layers_in_the_exported_models(mode_runs):
    trained = mode_runs.summaries["population"].trainer_model
    for network, widths in ((names.NETWORK_A, [48, 24]), (names.NETWORK_B, [40])):
        checkpoint = os.path.join(
            trained, names.NETWORK_MODELS_DIR, network, "variables", "variables"
        )
        kernels = [  # the served network's member layers [members, inputs, units], in order
            shape
            for name, shape in sorted(tf.train.list_variables(checkpoint))
            if "/kernel/" in name and len(shape) == 3
        ]
        assert [shape[2] for shape in kernels] == [*widths, 3], (network, kernels)
        assert all(a[2] == b[1] for a, b in zip(kernels[:-1], kernels[1:], strict=True)), kernels


@pytest.mark.parametrize("mode", ["standardize", "shared", "population"])
def test_every_mode_runs_end_to_end_and_both_networks_reach_the_bar(mode_runs, mode, tmp_path):
    summary = mode_runs.summaries[mode]
    for network in names.NETWORKS:
        assert summary.metrics[network]["sparse_categorical_accuracy"] >= 0.95, (
            mode,
            summary.metrics,
        )
    assert f"normalization '{mode}'" in "".join(mode_runs.stdout)
    examples = mode_runs.eval_examples()[:16]
    trained = mode_runs.summaries[mode].trainer_model  # this mode's own model, blessed or not
    network_a = os.path.join(trained, names.NETWORK_MODELS_DIR, names.NETWORK_A)
    out = run_tf1_session(network_a, names.SERVING_DEFAULT, {"examples": examples}, str(tmp_path))
    assert np.isfinite(out["network_a_scores"]).all()
    # Network A served alone (in `shared` mode it carries network B too) scores as the combined model does.
    combined = run_tf1_session(
        os.path.join(trained, "Format-Serving"),
        names.SERVING_DEFAULT,
        {"examples": examples},
        str(tmp_path),
    )
    np.testing.assert_allclose(out["network_a_scores"], combined["network_a_scores"], atol=1e-6)


def multi_target_csv(path: str, rows: int = 450) -> str:
    """Three numeric targets on very different scales, one feature with empty cells."""
    rng = np.random.default_rng(1)
    with open(path, "w") as handle:
        handle.write("x1,x2,group,y_small,y_big,y_neg\n")
        for i in range(rows):
            x1, x2, group = rng.normal(), rng.normal(), "abc"[i % 3]
            signal = x1 + 0.5 * x2 + (group == "a")
            handle.write(
                f"{x1:.4f},{'' if i % 11 == 0 else f'{x2:.4f}'},{group},"
                f"{0.01 * signal + rng.normal() * 0.002:.5f},{5e5 + 2e5 * signal + rng.normal() * 2e4:.1f},"
                f"{-30 + 4 * x1 * x2 + rng.normal():.3f}\n"
            )
    return path


OTHER_DATA = {  # name -> (CSV, label, task, mode that auto must pick)
    "binary": (
        os.path.join(REPO_ROOT, "data", "binary", "breast_cancer.csv"),
        "malignant",
        "classification",
        "population",
    ),
    "regression": (
        os.path.join(REPO_ROOT, "data", "regression", "diabetes.csv"),
        "progression",
        "regression",
        "population",
    ),
    "multi_target": (None, "y_small,y_big,y_neg", "regression", "population"),
}


@pytest.fixture(scope="module", params=sorted(OTHER_DATA))
def other_run(request, tmp_path_factory):
    """The pipeline on data it was not built on, with nothing but --data and --label."""
    folder = tmp_path_factory.mktemp(request.param)
    data, label, task, mode = OTHER_DATA[request.param]
    data = data or multi_target_csv(str(folder / "targets.csv"))
    run = PipelineRun(str(folder / "tfx_runs"), [])
    run.run("--data", data, "--label", label)
    run.name, run.data, run.label, run.task, run.mode = request.param, data, label, task, mode
    run.summary = summarize(run.metadata_path)
    return run


def test_other_data_runs_to_a_blessed_push_by_data_and_label_alone(other_run):
    summary = other_run.summary
    assert f"({other_run.task}, normalization '{other_run.mode}'" in other_run.stdout[0]
    assert summary.blessed is True and summary.pushed_to, (other_run.name, summary.metrics)
    for model in names.SERVED_MODELS:
        assert versions(os.path.join(other_run.serving_root, model)) == [1], model


def test_other_data_is_served_as_probabilities_or_values_in_the_label_units(other_run):
    model = tf.saved_model.load(other_run.summary.pushed_to)
    rows = read_rows(other_run.data)
    labels = [c.strip() for c in other_run.label.split(",")]
    outputs = model.signatures[names.SERVING_DEFAULT](
        examples=tf.constant(serialize(rows, feature_spec_of(other_run.summary.pushed_to)))
    )
    if other_run.task == "classification":
        probabilities = outputs[names.PROBABILITIES].numpy()
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        predicted = [p.decode() for p in outputs[names.PREDICTED_LABEL].numpy()]
        assert (
            np.mean([p == row[labels[0]] for p, row in zip(predicted, rows, strict=False)]) >= 0.9
        )
        return
    values = outputs[names.VALUES].numpy().reshape(len(rows), -1)
    truth = np.array([[float(row[c]) for c in labels] for row in rows])
    assert values.shape == truth.shape
    for j, column in enumerate(labels):
        assert np.mean((values[:, j] - truth[:, j]) ** 2) <= 0.75 * np.var(truth[:, j]), column
        assert abs(values[:, j].mean() - truth[:, j].mean()) < 0.2 * truth[:, j].std(), column
