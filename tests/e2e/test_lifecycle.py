"""Run after run on one output folder: the first run's schema is kept and checks later data, drift
against the last blessed run stops a run, metrics per slice, a tuned Trainer, a warm start."""

import csv
import json
import os
import shutil
import statistics

import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from components import drift
from components.data_gate import DRIFT_FILE
from components.report.component import JSON_FILE
from modules import names
from pipeline.config import DEFAULT_DATA
from pipeline.summary import executions_by_component, open_store
from tests.pipeline_runs import PipelineRun, run_cli, snapshot

pytestmark = pytest.mark.slow
# --transform-statistics: Transform writes statistics of the same examples too; the drift baseline
# must stay StatisticsGen's.
FLAGS = (
    "--slice-by",
    "island",
    "--tune",
    "3",
    "--drift",
    "--transform-statistics",
    "--inference-data",
    "none",
)
ISLANDS = ("Biscoe", "Dream", "Torgersen")


def read_rows(path: str) -> list:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: str, rows: list) -> str:
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory):
    """Run 1 on a copy of the penguins without a curated schema (kept schema, tuning, slices, drift
    with no baseline yet); blessed and pushed."""
    folder = tmp_path_factory.mktemp("lifecycle")
    data = shutil.copy(DEFAULT_DATA, folder / "penguins.csv")
    run = PipelineRun(str(folder / "tfx_runs"), [])
    run.data = str(data)
    run.run("--data", run.data, *FLAGS)
    run.served = snapshot(run.serving_root)
    assert run.served, "run 1 pushed nothing"
    return run


def gate_stopped(run, result, *expected: str) -> str:
    """Exit 3, the one message names every expected part, and the served files are unchanged."""
    assert result.returncode == 3, result.stderr[-3000:]
    message = result.stderr
    for part in expected:
        assert part in message, (part, message)
    assert snapshot(run.serving_root) == run.served
    return message


def test_the_first_run_keeps_its_inferred_schema_for_later_runs(lifecycle):
    kept = lifecycle.outputs.kept_schema
    with open(kept) as handle:
        schema = text_format.Parse(handle.read(), schema_pb2.Schema())
    domains = {d.name: set(d.value) for d in schema.string_domain}
    island = next(f for f in schema.feature if f.name == "island")
    assert domains[island.domain] == set(ISLANDS)
    assert f"schema kept: {kept}" in lifecycle.stdout[0]


def test_new_data_with_an_unseen_category_and_text_in_a_number_column_stops_before_transform(
    lifecycle, tmp_path
):
    rows = read_rows(lifecycle.data)
    header = rows[0]
    rows[40][header.index("island")] = "Atlantis"
    rows[10][header.index("bill_length_mm")] = "abc"
    data = write_rows(str(tmp_path / "penguins.csv"), rows)
    before = executions_by_component(open_store(lifecycle.metadata_path))["Transform"]
    result = run_cli(lifecycle.output_dir, "--data", data, *FLAGS)
    gate_stopped(
        lifecycle,
        result,
        f"checked against the schema {lifecycle.outputs.kept_schema}",
        "column 'island': Unexpected string values",
        "Atlantis",
        "column 'bill_length_mm': Unexpected data type",
        "Expected data of type: FLOAT but got STRING",
    )
    assert executions_by_component(open_store(lifecycle.metadata_path))["Transform"] == before


def test_a_column_shifted_by_three_standard_deviations_is_drift_that_stops_the_run(
    lifecycle, tmp_path
):
    rows = read_rows(lifecycle.data)
    column = rows[0].index("body_mass_g")
    values = [float(r[column]) for r in rows[1:] if r[column]]
    shift = round(3 * statistics.pstdev(values))
    for row in rows[1:]:
        if row[column]:
            row[column] = str(int(row[column]) + shift)
    data = write_rows(str(tmp_path / "penguins.csv"), rows)
    result = run_cli(lifecycle.output_dir, "--data", data, *FLAGS)
    message = gate_stopped(
        lifecycle,
        result,
        "split train vs the last blessed run, column 'body_mass_g'",
        "Jensen-Shannon",
        "above the threshold 0.1",
    )
    drifted = validator_distances(lifecycle)  # the failed gate's own output is not kept
    measured = drifted["train"]["body_mass_g"]
    assert measured["jensen_shannon_divergence"] > 0.5, measured
    assert measured["jensen_shannon_divergence_threshold"] == pytest.approx(0.1)
    assert f"{measured['jensen_shannon_divergence']:.6g}"[:4] in message
    others = [c for c in drifted["train"] if c != "body_mass_g"]
    assert others and all(  # other rows hash to other splits, so the rest moves a little
        value <= drifted["train"][c][f"{kind}_threshold"]
        for c in others
        for kind, value in drifted["train"][c].items()
        if not kind.endswith("threshold")
    ), drifted


def validator_distances(run) -> dict:
    """split -> column -> distances, from the newest DistributionValidator output."""
    folder = run.artifact_dir("DistributionValidator", "anomalies")
    result = {}
    for split in ("train", "eval"):
        anomalies = anomalies_pb2.Anomalies()
        with open(os.path.join(folder, f"SplitPair-{split}_{split}", "SchemaDiff.pb"), "rb") as f:
            anomalies.ParseFromString(f.read())
        result[split] = drift.measurements(anomalies)
    return result


def baseline_statistics_uri(run) -> str:
    """The statistics the newest DistributionValidator execution that read a baseline compared
    against (a cached execution records no inputs)."""
    store = open_store(run.metadata_path)
    context = store.get_context_by_type_and_name("node", "twinnorm.DistributionValidator")
    for execution in sorted(store.get_executions_by_context(context.id), key=lambda e: -e.id):
        baseline = [
            e.artifact_id
            for e in store.get_events_by_execution_ids([execution.id])
            if e.type == e.INPUT and e.path.steps[0].key == "baseline_statistics"
        ]
        if baseline:
            return store.get_artifacts_by_id(baseline)[0].uri
    raise AssertionError("no DistributionValidator execution read a baseline")


def newest_gate_file(run) -> str:
    return os.path.join(run.artifact_dir("DataGate", "checked"), DRIFT_FILE)


def test_metrics_per_island_for_network_a_network_b_and_the_combined_model(lifecycle):
    with open(os.path.join(lifecycle.artifact_dir("RunReport", "report"), JSON_FILE)) as handle:
        report = json.load(handle)
    slices = report["slices"]
    assert sorted(slices) == [f"island={i}" for i in ISLANDS]
    counts = [outputs["all"]["example_count"] for outputs in slices.values()]
    overall = report["metrics"]["candidate"]
    assert sum(counts) == overall["all"]["example_count"]
    # The islands partition the eval rows: their accuracies, weighted by their sizes, give the
    # overall accuracy of each model.
    for model in names.SERVED_MODELS:
        weighted = sum(
            outputs[model]["sparse_categorical_accuracy"] * count
            for outputs, count in zip(slices.values(), counts, strict=True)
        )
        assert weighted / sum(counts) == pytest.approx(
            overall[model]["sparse_categorical_accuracy"], abs=1e-6
        ), model


def test_three_tuning_trials_ran_and_the_trainer_took_the_best_trials_sizes(lifecycle):
    with open(
        os.path.join(lifecycle.artifact_dir("Tuner", "tuner_results"), "tuner_results.json")
    ) as handle:
        trials = json.load(handle)
    assert len(trials) == 3
    best = min(trials, key=lambda t: t["score"])
    model = lifecycle.artifact_dir("Trainer", "model")
    for network in names.NETWORKS:
        checkpoint = os.path.join(
            model, names.NETWORK_MODELS_DIR, network, "variables", "variables"
        )
        kernels = [
            shape
            for name, shape in sorted(tf.train.list_variables(checkpoint))
            if "/kernel/" in name and len(shape) == 3  # [members, inputs, units]
        ]
        units = best[f"{network}_units"]
        assert [shape[2] for shape in kernels] == [units, units // 2, 3], (network, kernels)


def test_unshifted_data_passes_drift_and_a_warm_start_begins_at_the_blessed_model(lifecycle):
    blessed = lifecycle.artifact_dir("Trainer", "model")
    lifecycle.run("--data", lifecycle.data, *FLAGS, "--warm-start", "a")
    with open(newest_gate_file(lifecycle)) as handle:
        drifted = json.load(handle)
    assert set(drifted) == set(names.SPLITS)
    assert all(
        value == 0
        for split in drifted.values()
        for measured in split.values()
        for key, value in measured.items()
        if not key.endswith("threshold")
    ), drifted
    with open(os.path.join(lifecycle.artifact_dir("RunReport", "report"), JSON_FILE)) as handle:
        reported = json.load(handle)["data_checks"]["drift"]  # the report lists every distance
    assert reported == drifted
    assert "/StatisticsGen/" in baseline_statistics_uri(lifecycle)
    log = lifecycle.newest_log()
    assert f"warm start: network_a initialized from the blessed model {blessed}" in log
    assert "warm start: network_b" not in log
    assert "blessed, pushed version 2" in lifecycle.stdout[-1]


def test_a_dropped_column_accepted_by_reinferring_the_schema_is_blessed_without_the_baseline(
    lifecycle, tmp_path
):
    """Runs last: it replaces the kept schema. The blessed model parses `sex`, which the new data
    lacks, so the Evaluator could not feed it; the run says so and uses its own bars."""
    rows = read_rows(lifecycle.data)
    column = rows[0].index("sex")
    data = write_rows(str(tmp_path / "no_sex.csv"), [r[:column] + r[column + 1 :] for r in rows])
    stdout = lifecycle.run("--data", data, "--reinfer-schema", "--inference-data", "none")
    assert "the blessed model reads column(s) sex, which this data lacks" in stdout, stdout
    assert "blessed, pushed version 3" in stdout, stdout
    with open(os.path.join(lifecycle.artifact_dir("RunReport", "report"), JSON_FILE)) as handle:
        report = json.load(handle)
    assert "baseline" not in report["metrics"] and "sex" in report["config"]["baseline_note"]
