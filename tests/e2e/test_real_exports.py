"""One pipeline run on the penguins as a spreadsheet user exports them, every trait at once
(headers with spaces, brackets, accents, a leading digit and a case twin; a free-text and a date
column; semicolons with decimal commas; gzip; a byte-order mark; a delimiter closing every line;
stray spaces around labels; empty labels), and batch inference on a tab-separated, gzipped file
with a key column named with spaces. Each variant alone is checked before any component in
tests/test_resolution.py; this run proves the whole chain serves what it trained on."""

import csv
import glob
import gzip
import os

import numpy as np
import pytest

from modules import names
from modules.columns import internal_key
from pipeline.summary import summarize
from serving_client import requests
from serving_client.__main__ import feature_spec_of
from serving_client.raw_examples import read_rows, serialize
from tests import exports
from tests.pipeline_runs import PipelineRun
from tests.tf1_subprocess import run_tf1_session

KEY = "Row ID"


def inference_file(folder: str, training: str) -> str:
    """The training rows without their label, with a key column, tab-separated and gzipped."""
    rows = read_rows(training)
    label = exports.SPREADSHEET_NAMES["species"]
    header = [KEY, *(name for name in rows[0] if name != label)]
    path = os.path.join(folder, "new-penguins.tsv.gz")
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(header)
        for number, row in enumerate(rows[:40]):
            writer.writerow([f"P {number}", *(row[name] for name in header[1:])])
    return path


@pytest.fixture(scope="module")
def export_run(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("exports"))
    data, label = exports.all_at_once(folder)
    run = PipelineRun(str(tmp_path_factory.mktemp("tfx_runs")), [])
    inference = inference_file(folder, data)
    run.run("--data", data, "--label", label, "--inference-data", inference, "--key-columns", KEY)
    run.data, run.inference = data, inference
    return run


def test_the_export_is_read_said_and_blessed(export_run):
    console = export_run.stdout[-1]
    assert "Field notes: text" in console and "Observed on: date" in console
    assert "Flossenlänge: numeric" in console and "1st year: numeric" in console
    assert "Sex: categorical, one-hot" in console and "sex: categorical, one-hot" in console
    assert "semicolon-separated" in console and "gzip-compressed" in console
    assert "9 row(s) with an empty label set aside" in console
    assert "blessed, pushed version 1" in console


def test_the_served_model_answers_a_rest_request_built_from_the_users_column_names(
    export_run, tmp_path
):
    model_dir = os.path.join(export_run.serving_root, names.COMBINED, "1")
    rows = read_rows(export_run.inference)[:12]  # the user's own names, as a client reads them
    spec = requests.by_column_names(feature_spec_of(model_dir), list(rows[0]))
    assert "Bill Length (mm)" in spec and "Field notes" in spec
    body = requests.rest_raw_body(rows, spec)
    assert set(body["instances"][0]) == {internal_key(name) for name in spec}
    raw_inputs = {
        key: np.array([instance[key] for instance in body["instances"]], object)
        if isinstance(body["instances"][0][key], str)
        else np.array([instance[key] for instance in body["instances"]], np.float64)
        for key in body["instances"][0]
    }
    raw = run_tf1_session(model_dir, names.SERVING_RAW, raw_inputs, str(tmp_path))
    examples = np.array(serialize(rows, spec), object)
    served = run_tf1_session(
        model_dir, names.SERVING_DEFAULT, {names.EXAMPLES_INPUT: examples}, str(tmp_path)
    )
    probabilities = served[names.PROBABILITIES]
    np.testing.assert_allclose(raw[names.PROBABILITIES], probabilities, atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.isfinite(probabilities).all()


def test_batch_predictions_carry_the_key_column_under_its_own_name(export_run):
    rows = []
    for path in sorted(glob.glob(summarize(export_run.metadata_path).predictions)):
        with open(path, newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    assert sorted(row[KEY] for row in rows) == sorted(f"P {n}" for n in range(40))
    assert all(row["predicted_class"] in {"Adelie", "Chinstrap", "Gentoo"} for row in rows)


def test_the_report_lists_each_column_kind(export_run):
    folder = export_run.artifact_dir("RunReport", "report")
    with open(os.path.join(folder, "report.html"), encoding="utf-8") as handle:
        page = handle.read()
    assert "Columns: what each became, and why" in page
    assert "Field notes" in page and "9 row(s) with an empty label were set aside" in page
