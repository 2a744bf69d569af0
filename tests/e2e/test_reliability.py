"""Faults never cost the served model: bad data, a worse model, SIGKILL mid-run, bad serving requests."""

import csv
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

import numpy as np
import pytest
import tensorflow as tf

from components.pusher import CONFIG_FILE, versions
from components.report.component import JSON_FILE
from modules import names
from modules.paths import OutputLayout
from pipeline.config import DEFAULT_DATA, DEFAULT_SCHEMA, REPO_ROOT
from pipeline.output_lock import LOCK_FILE
from pipeline.summary import executions_by_component, open_store, summarize
from tests.pipeline_runs import (
    PipelineRun,
    checkpoint_steps,
    kill_when,
    logged_steps,
    recorded_checkpoint_steps,
    run_cli,
    snapshot,
    wait_for,
)

pytestmark = pytest.mark.slow
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
UPSTREAM_OF_GATE = ("CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator")


def penguin_rows() -> list:
    with open(DEFAULT_DATA, newline="") as handle:
        return list(csv.reader(handle))


def emperors(rows, count: int):
    """`count` rows of a species the curated schema does not list."""
    for row in range(50, 50 + count):
        rows = set_cell(rows, row, "species", "Emperor")
    return rows


def write_csv(path, rows) -> str:
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def set_cell(rows, row: int, column: str, value: str) -> list:
    rows = [list(r) for r in rows]
    rows[row][rows[0].index(column)] = value
    return rows


def drop_column(rows, column: str) -> list:
    index = rows[0].index(column)
    return [r[:index] + r[index + 1 :] for r in rows]


@pytest.fixture(scope="module")
def served(penguin_run, tmp_path_factory):
    """A copy of the default run's output folder (one blessed, pushed version) to break things in."""
    folder = str(tmp_path_factory.mktemp("served") / "tfx_runs")
    shutil.copytree(penguin_run.output_dir, folder)
    run = PipelineRun(folder, [])
    assert snapshot(run.serving_root), "the copy serves nothing"
    return run


BAD_DATA = [
    # name, rows -> bad rows, exit code, what the one message must name
    (
        "wrong_type",
        lambda r: set_cell(r, 10, "bill_length_mm", "abc"),
        3,
        [
            "column 'bill_length_mm'",
            "Unexpected data type",
            "Expected data of type: FLOAT but got STRING",
        ],
    ),
    (
        "missing_column",
        lambda r: drop_column(r, "bill_depth_mm"),
        3,
        ["column 'bill_depth_mm'", "Column dropped"],
    ),
    (
        "inf",
        lambda r: set_cell(r, 20, "bill_length_mm", "inf"),
        3,
        ["column 'bill_length_mm'", "Inf"],
    ),
    (
        "nan",
        lambda r: set_cell(r, 30, "bill_depth_mm", "NaN"),
        3,
        ["column 'bill_depth_mm'", "NaN"],
    ),
    (
        "unseen_category",
        lambda r: set_cell(r, 40, "island", "Atlantis"),
        3,
        ["column 'island'", "Unexpected string values", "Atlantis"],
    ),
    (
        "unseen_label",
        lambda r: emperors(r, 5),  # 5 rows: over the up-front rare-class bar (test_config)
        3,
        ["column 'species'", "Unexpected string values", "Emperor"],
    ),
    ("header_only", lambda r: r[:1], 2, ["has a header but no data rows"]),
    ("empty_file", lambda r: [], 2, ["is empty: expected a header line"]),
]


@pytest.mark.parametrize(
    "name, breakage, code, expected", BAD_DATA, ids=[case[0] for case in BAD_DATA]
)
def test_bad_data_stops_before_transform_and_the_served_version_stays(
    served, tmp_path, name, breakage, code, expected
):
    before = snapshot(served.serving_root)
    transforms = executions_by_component(open_store(served.metadata_path))["Transform"]
    data = write_csv(tmp_path / f"{name}.csv", breakage(penguin_rows()))
    result = run_cli(served.output_dir, "--data", data, "--schema", DEFAULT_SCHEMA)
    assert result.returncode == code, result.stderr[-3000:]
    message = result.stderr.strip().splitlines()
    message = "\n".join(message[next(i for i, line in enumerate(message) if data in line) :])
    for part in expected:
        assert part in message, (part, message)
    assert "Traceback" not in result.stderr
    assert snapshot(served.serving_root) == before
    assert executions_by_component(open_store(served.metadata_path))["Transform"] == transforms


def test_warn_mode_lets_the_run_go_on_with_the_anomaly_reported(served, tmp_path):
    """Stops at the Evaluator's bar (2 training steps learn too little) so the served version stays
    for the tests after."""
    before = snapshot(served.serving_root)
    data = write_csv(tmp_path / "warn.csv", set_cell(penguin_rows(), 40, "island", "Atlantis"))
    result = run_cli(
        served.output_dir,
        "--data",
        data,
        "--schema",
        DEFAULT_SCHEMA,
        "--on-anomaly",
        "warn",
        "--train-steps",
        "2",
    )
    assert result.returncode == 4, result.stderr[-3000:]  # ran, not blessed
    assert "1 anomaly" in result.stdout or "anomalies" in result.stdout, result.stdout
    store = open_store(served.metadata_path)
    assert executions_by_component(store)["Trainer"][-1] == "COMPLETE"
    checked = max(
        (a for a in store.get_artifacts_by_type("ExampleAnomalies") if "/DataGate/" in a.uri),
        key=lambda a: a.id,
    )
    with open(os.path.join(checked.uri, "report.txt")) as handle:
        assert "column 'island': Unexpected string values" in handle.read()
    assert snapshot(served.serving_root) == before


def test_a_worse_model_is_not_blessed_and_not_pushed(served, tmp_path):
    """Labels shuffled across rows: the data is valid, the model learns nothing."""
    rows = penguin_rows()
    labels = [r[rows[0].index("species")] for r in rows[1:]]
    random.Random(7).shuffle(labels)
    shuffled = [rows[0]] + [
        set_cell([rows[0], r], 1, "species", label)[1]
        for r, label in zip(rows[1:], labels, strict=False)
    ]
    before = snapshot(served.serving_root)
    result = run_cli(
        served.output_dir,
        "--data",
        write_csv(tmp_path / "shuffled.csv", shuffled),
        "--schema",
        DEFAULT_SCHEMA,
    )
    # Ran to the end but not blessed: its own exit code, and each failed bar with bound and value.
    assert result.returncode == 4, result.stderr[-3000:]
    summary = summarize(served.metadata_path)
    assert summary.blessed is False and summary.pushed_to is None
    console = result.stdout.splitlines()
    assert any("finished in" in line and "NOT blessed" in line for line in console), console
    eval_labels = [
        tf.train.Example.FromString(e).features.feature["species"].bytes_list.value[0]
        for e in served.eval_examples()
    ]
    for network in names.NETWORKS:
        values = summary.metrics[network]
        p_value, accuracy = values[names.SKILL_P_VALUE], values["sparse_categorical_accuracy"]
        majority = values[names.trivial_metric(names.ACCURACY)]
        assert p_value >= 0.01
        assert majority == pytest.approx(max(Counter(eval_labels).values()) / len(eval_labels))
        assert (  # the default bar, with our figure beside the majority class's on those rows
            f"  failed: {network} skill_p_value = {p_value:.4g}, above the bar 0.01: accuracy "
            f"{accuracy:.4g}, the best constant predictor's {majority:.4g} (one-sided binomial "
            "test on the eval rows)"
        ) in console, console
    assert snapshot(served.serving_root) == before
    with open(os.path.join(os.path.dirname(summary.report), JSON_FILE)) as handle:
        report = json.load(handle)  # the run's report says why, against the baseline
    assert (
        report["blessed"] is False
        and report["pushed"]["pushed"] is False
        and not report["thresholds_ok"]
    )
    assert report["served_versions"] == {m: [1] for m in names.SERVED_MODELS}
    for network in names.NETWORKS:
        skill = {
            m: report["metrics"][m][network][names.SKILL] for m in ("candidate", "baseline", "diff")
        }
        # (the baseline is scored on the same shuffled eval rows, so its skill is low too)
        assert skill["diff"] == pytest.approx(skill["candidate"] - skill["baseline"], abs=1e-6)
        assert any(
            f.startswith(f"{network} skill_p_value = ") and "above the bar 0.01: accuracy" in f
            for f in report["threshold_failures"]
        ), report["threshold_failures"]
        assert any(  # against the baseline: the measured change and the allowed one
            f.startswith(f"{network} skill changed by -")
            and f.endswith("beyond the allowed change -0.05")
            for f in report["threshold_failures"]
        ), report["threshold_failures"]


def trained_steps(run) -> int:
    """Steps the default run trained (its budget from the data, or fewer if it stopped early)."""
    with open(os.path.join(run.first_summary.model_run, names.TRAINING_FILE)) as handle:
        return json.load(handle)["steps"]


def mid_training(output_dir: str, total: int) -> bool:
    """A checkpoint before the `total` steps (the first is always saved), and training not yet
    over: the run is killed between checkpoints, with steps left to resume."""
    finished = glob.glob(
        os.path.join(
            OutputLayout(output_dir).component_dir("Trainer", "model_run"), "*", names.TRAINING_FILE
        )
    )
    return not finished and any(0 < step < total for step in checkpoint_steps(output_dir))


def rerun_refusing_a_second_run(output: str) -> subprocess.CompletedProcess:
    """Runs `local_runner.py` into `output`; once it holds the folder's lock, a second run into the
    same folder must be refused within seconds, naming the first."""
    first = subprocess.Popen(
        [sys.executable, "local_runner.py", "--output", output],
        cwd=REPO_ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = os.path.join(output, LOCK_FILE)

    def held() -> bool:
        with open(lock) as handle:
            return f'"pid": {first.pid},' in handle.read()

    wait_for(held, first, "the lock", timeout=120)
    started = time.monotonic()
    second = run_cli(output)
    assert second.returncode == 2, second.stderr[-2000:]
    assert time.monotonic() - started < 60
    assert f"is in use by run pid {first.pid} started " in second.stderr, second.stderr
    assert len(second.stderr.strip().splitlines()) == 1, second.stderr
    stdout, stderr = first.communicate(timeout=1200)
    return subprocess.CompletedProcess(first.args, first.returncode, stdout, stderr)


def test_sigkill_during_transform_and_during_training_then_rerun_matches_an_uninterrupted_run(
    penguin_run, tmp_path
):
    output = str(tmp_path / "tfx_runs")
    os.makedirs(output)
    transform_dir = os.path.join(
        OutputLayout(output).component_dir("Transform", "transform_graph"), "*"
    )
    kill_when(output, lambda: glob.glob(transform_dir), "transform")
    metadata = OutputLayout(output).metadata_path
    assert executions_by_component(open_store(metadata))["Transform"] == [
        "RUNNING"
    ]  # killed inside it

    total = trained_steps(penguin_run)
    kill_when(output, lambda: mid_training(output, total), "trainer")
    killed_at = max(recorded_checkpoint_steps(output).values())
    # At most `total`: killed after the last save, before its record.
    assert 0 < killed_at <= total, killed_at
    after_second = executions_by_component(open_store(metadata))
    assert after_second["Trainer"] == ["RUNNING"]
    assert after_second["Transform"] == ["RUNNING", "COMPLETE"]  # the killed one is never reused
    for component in UPSTREAM_OF_GATE:
        assert after_second[component] == ["COMPLETE", "CACHED"], component

    result = rerun_refusing_a_second_run(output)
    assert result.returncode == 0, result.stderr[-3000:]
    # The killed run's lock was recognized as a dead process's and taken over, and said.
    assert "which is no longer running, was taken over" in result.stdout, result.stdout[:2000]
    assert sorted(os.listdir(OutputLayout(output).serving_root)) == sorted(
        [CONFIG_FILE, *names.SERVED_MODELS]
    )
    for model in names.SERVED_MODELS:  # one version pushed, by the one run that held the folder
        assert versions(os.path.join(OutputLayout(output).serving_root, model)) == [1]
    # The re-run continues from the killed execution's last checkpoint: only the remaining steps.
    log_text = PipelineRun(output, []).newest_log()
    assert f"at step {killed_at}" in log_text and "resuming the killed execution" in log_text
    remaining = list(range(killed_at + 50, total + 1, 50)) + ([total] if total % 50 else [])
    assert logged_steps(log_text) == [s for s in remaining if s > killed_at], logged_steps(log_text)
    store = open_store(metadata)
    final = executions_by_component(store)
    assert final["Transform"] == ["RUNNING", "COMPLETE", "CACHED"]
    assert final["Trainer"] == ["RUNNING", "COMPLETE"]

    # No corrupted artifact: whatever the killed executions started is not LIVE; every LIVE one is on disk.
    killed = [e.id for e in store.get_executions() if e.last_known_state == e.RUNNING]
    killed_outputs = {
        ev.artifact_id for ev in store.get_events_by_execution_ids(killed) if ev.type == ev.OUTPUT
    }
    type_names = {t.id: t.name for t in store.get_artifact_types()}
    for artifact in store.get_artifacts():
        if artifact.id in killed_outputs:
            assert artifact.state != artifact.LIVE, artifact.uri
        if artifact.state == artifact.LIVE:
            assert os.path.exists(artifact.uri), artifact.uri
            if type_names[artifact.type_id] in (
                "Examples",
                "TransformGraph",
                "Model",
                "Schema",
                "ExampleStatistics",
            ):
                assert os.listdir(artifact.uri), artifact.uri

    # Same result as the uninterrupted run: same metrics, same served weights. Usually bit for bit; once
    # 7.7e-7 apart on a loaded machine (likeliest: the re-executed Transform's combiners summed in another order).
    summary = summarize(metadata)
    assert summary.metrics == penguin_run.first_summary.metrics
    reference = tf.train.load_checkpoint(
        os.path.join(penguin_run.first_summary.pushed_to, "variables", "variables")
    )
    rerun = tf.train.load_checkpoint(os.path.join(summary.pushed_to, "variables", "variables"))
    shapes = reference.get_variable_to_shape_map()
    assert shapes == rerun.get_variable_to_shape_map()
    weights = [
        k for k in shapes if "OPTIMIZER" not in k and "_CHECKPOINTABLE_OBJECT_GRAPH" not in k
    ]
    assert weights
    for key in weights:
        np.testing.assert_allclose(
            rerun.get_tensor(key), reference.get_tensor(key), rtol=0, atol=1e-5, err_msg=key
        )


def send(model_dir: str, signature: str, requests: list, tmp: str) -> list:
    """Each request: input key -> list of bytes or NumPy array; all answered by one loaded session."""
    requests_dir = tempfile.mkdtemp(dir=tmp)
    for index, inputs in enumerate(requests):
        folder = os.path.join(requests_dir, str(index))
        os.makedirs(folder)
        numeric = {}
        for key, value in inputs.items():
            if isinstance(value, list):
                with tf.io.TFRecordWriter(os.path.join(folder, f"{key}.tfrecord")) as writer:
                    for item in value:
                        writer.write(item)
            else:
                numeric[key] = value
        np.savez(os.path.join(folder, "numeric.npz"), **numeric)
    out = os.path.join(tmp, "answers.json")
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO_ROOT, "tests", "tf1_requests.py"),
            model_dir,
            signature,
            requests_dir,
            out,
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out) as handle:
        return json.load(handle)


def example(**overrides) -> bytes:
    values = {
        "island": b"Biscoe",
        "bill_length_mm": 45.0,
        "bill_depth_mm": 15.0,
        "flipper_length_mm": 210,
        "body_mass_g": 4500,
        "sex": b"male",
        "year": 2008,
        **overrides,
    }
    features = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bytes):
            features[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        elif isinstance(value, float):
            features[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
        else:
            features[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def raw_columns(rows: int, **overrides) -> dict:
    columns = {
        "island": [b"Biscoe"] * rows,
        "bill_length_mm": np.full(rows, 45.0, np.float32),
        "bill_depth_mm": np.full(rows, 15.0, np.float32),
        "flipper_length_mm": np.full(rows, 210, np.int64),
        "body_mass_g": np.full(rows, 4500, np.int64),
        "sex": [b"male"] * rows,
        "year": np.full(rows, 2008, np.int64),
        **overrides,
    }
    return {k: v for k, v in columns.items() if v is not None}


@pytest.mark.parametrize("model", names.SERVED_MODELS)
def test_bad_requests_get_a_clear_error_and_the_next_request_is_answered(
    penguin_run, tmp_path, model
):
    model_dir = os.path.join(penguin_run.serving_root, model, "1")
    inputs = names.EXAMPLES_INPUT
    answers = send(
        model_dir,
        names.SERVING_DEFAULT,
        [
            {inputs: []},
            {inputs: [example(bill_length_mm=b"abc")]},
            {inputs: [example(island=None)]},
            {inputs: [example(), example()]},
        ],
        str(tmp_path),
    )
    assert [a["ok"] for a in answers] == [False, False, False, True], answers
    assert "empty batch: the request has no examples" in answers[0]["error"]
    assert (
        "bill_length_mm" in answers[1]["error"] and "Data types don't match" in answers[1]["error"]
    )
    assert (
        "island" in answers[2]["error"]
        and "is required but could not be found" in answers[2]["error"]
    )
    assert all(shape[0] == 2 for shape in answers[3]["shapes"].values())

    answers = send(
        model_dir,
        names.SERVING_RAW,
        [
            raw_columns(1, sex=None),
            raw_columns(2, year=np.array([2008], np.int64)),
            raw_columns(0),
            raw_columns(3),
        ],
        str(tmp_path),
    )
    assert [a["ok"] for a in answers] == [False, False, False, True], answers
    assert "sex" in answers[0]["error"]
    assert "must all have the same number of values" in answers[1]["error"]
    assert "empty batch" in answers[2]["error"]
    assert all(shape[0] == 3 for shape in answers[3]["shapes"].values())
